// ARMv8.0 Advanced SIMD kernel table (Raspberry Pi 4, Cortex-A72: two 128-bit NEON pipes, no
// dot-product instructions). Every format hearth computes gets a NEON vec_dot, and every
// integer-dot format the NEON quantizer of its activation format (bit-identical with the scalar
// quantizers, so NEON and scalar runs quantise activations identically).
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {

void fill_kernels_neon(KernelTable& t) {
  fill_neon_float(t);
  fill_neon_legacy(t);
  fill_neon_kquants(t);
  fill_neon_iq4(t);
  fill_neon_accumulate(t);
  for (FormatKernels& f : t.formats) {
    if (f.vec_dot == nullptr) continue;
    switch (f.act_type) {
      case GgmlType::Q8_0:
        f.quantize_act = &quantize_act_q8_0_neon;
        break;
      case GgmlType::Q8_1:
        f.quantize_act = &quantize_act_q8_1_neon;
        break;
      case GgmlType::Q8_K:
        f.quantize_act = &quantize_act_q8_k_neon;
        break;
      default:
        break;  // F32 activations: the scalar table's entry stays
    }
  }
}

}  // namespace hearth
