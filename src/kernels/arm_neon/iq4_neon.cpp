// IQ4_NL (Q8_0 activations) and IQ4_XS (Q8_K activations) dot kernels instantiated for
// the Cortex-A72 (NeonDot: ARMv8.0 widening multiplies).
// The kernel bodies and their design note are in arm_neon/iq4_kernels.h.
#include "kernels/arm_neon/iq4_kernels.h"
#include "kernels/arm_neon/neon_dot.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_neon_iq4(KernelTable& t) {
  using arm::NeonDot;
  t.of(GgmlType::IQ4_NL).act_type = GgmlType::Q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = &arm::vec_dot_iq4_nl<NeonDot>;
  t.of(GgmlType::IQ4_XS).act_type = GgmlType::Q8_K;
  t.of(GgmlType::IQ4_XS).vec_dot = &arm::vec_dot_iq4_xs<NeonDot>;
}

}  // namespace hearth
