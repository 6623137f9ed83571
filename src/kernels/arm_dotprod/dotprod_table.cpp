// NEON + dot-product kernel table (Raspberry Pi 5, Cortex-A76: SDOT multiplies 16 int8 pairs
// into 4 int32 lanes per instruction). Applied on top of the NEON table: the integer-dot formats
// (legacy, K-quants, IQ4) get SDOT kernels; the float formats and the activation quantizers gain
// nothing from SDOT and keep their NEON versions.
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_kernels_dotprod(KernelTable& t) {
  fill_dotprod_legacy(t);
  fill_dotprod_kquants(t);
  fill_dotprod_iq4(t);
}

}  // namespace hearth
