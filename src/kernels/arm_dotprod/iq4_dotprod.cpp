// IQ4_NL (Q8_0 activations) and IQ4_XS (Q8_K activations) dot kernels instantiated for
// the Cortex-A76 (SdotDot: SDOT, compiled with -march=armv8.2-a+dotprod).
// The kernel bodies and their design note are in arm_neon/iq4_kernels.h.
#include "kernels/arm_dotprod/sdot_dot.h"
#include "kernels/arm_neon/iq4_kernels.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_dotprod_iq4(KernelTable& t) {
  using arm::SdotDot;
  t.of(GgmlType::IQ4_NL).act_type = GgmlType::Q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = &arm::vec_dot_iq4_nl<SdotDot>;
  t.of(GgmlType::IQ4_XS).act_type = GgmlType::Q8_K;
  t.of(GgmlType::IQ4_XS).vec_dot = &arm::vec_dot_iq4_xs<SdotDot>;
}

}  // namespace hearth
