// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K dot kernels (Q8_K activations) instantiated for
// the Cortex-A76 (SdotDot: SDOT, compiled with -march=armv8.2-a+dotprod).
// The kernel bodies and their design note are in arm_neon/kquant_kernels.h.
#include "kernels/arm_dotprod/sdot_dot.h"
#include "kernels/arm_neon/kquant_kernels.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_dotprod_kquants(KernelTable& t) {
  using arm::SdotDot;
  for (GgmlType type :
       {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
    t.of(type).act_type = GgmlType::Q8_K;
  t.of(GgmlType::Q2_K).vec_dot = &arm::vec_dot_q2_k<SdotDot>;
  t.of(GgmlType::Q3_K).vec_dot = &arm::vec_dot_q3_k<SdotDot>;
  t.of(GgmlType::Q4_K).vec_dot = &arm::vec_dot_q4_k<SdotDot>;
  t.of(GgmlType::Q5_K).vec_dot = &arm::vec_dot_q5_k<SdotDot>;
  t.of(GgmlType::Q6_K).vec_dot = &arm::vec_dot_q6_k<SdotDot>;
}

}  // namespace hearth
