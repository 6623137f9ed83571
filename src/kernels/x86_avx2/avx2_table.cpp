// The AVX2 level (Intel Haswell 2013+, AMD Zen 1+): AVX2 + FMA + F16C. Every format gets a
// 256-bit vec_dot and every integer-dot format a SIMD activation quantizer, bit-identical
// with the scalar one. Design notes per family in the kernel files and docs/kernels.md.
#include "kernels/x86_avx2/avx2_kernels.h"

namespace hearth {

void fill_kernels_avx2(KernelTable& t) {
  fill_avx2_float(t);
  fill_avx2_legacy(t);
  fill_avx2_kquants(t);
  fill_avx2_kquants_low(t);
  fill_avx2_iq4_xs(t);
  fill_avx2_quantize_act(t);
  fill_avx2_accumulate(t);
}

}  // namespace hearth
