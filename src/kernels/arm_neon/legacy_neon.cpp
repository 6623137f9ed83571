// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 dot kernels instantiated for the Cortex-A72 (NeonDot: ARMv8.0
// widening multiplies). The kernel bodies and their design note are in arm_neon/legacy_kernels.h.
#include "kernels/arm_neon/legacy_kernels.h"
#include "kernels/arm_neon/neon_dot.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_neon_legacy(KernelTable& t) {
  using arm::NeonDot;
  t.of(GgmlType::Q4_0).act_type = GgmlType::Q8_0;
  t.of(GgmlType::Q4_0).vec_dot = &arm::vec_dot_q4_0<NeonDot>;
  t.of(GgmlType::Q4_1).act_type = GgmlType::Q8_1;
  t.of(GgmlType::Q4_1).vec_dot = &arm::vec_dot_q4_1<NeonDot>;
  t.of(GgmlType::Q5_0).act_type = GgmlType::Q8_0;
  t.of(GgmlType::Q5_0).vec_dot = &arm::vec_dot_q5_0<NeonDot>;
  t.of(GgmlType::Q5_1).act_type = GgmlType::Q8_1;
  t.of(GgmlType::Q5_1).vec_dot = &arm::vec_dot_q5_1<NeonDot>;
  t.of(GgmlType::Q8_0).act_type = GgmlType::Q8_0;
  t.of(GgmlType::Q8_0).vec_dot = &arm::vec_dot_q8_0<NeonDot>;
}

}  // namespace hearth
