// IQ4_XS weights with Q8_K activations, AVX2. Each 32-element sub-block is laid out like an
// IQ4_NL block: nibbles index the 16-entry codebook with one pshufb (both lanes hold the
// table). Codebook values are signed (-127..113), so the dot uses the sign trick, and the
// 6-bit sub-block scale (stored + 32) multiplies the maddubs pair sums through madd, keeping
// the super-block sum exact in int32 (|pair| ≤ 2·127·127 = 32258 fits int16).
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

using namespace x86;

float dot_iq4_xs(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i table = _mm256_broadcastsi128_si256(load128(kIQ4NLValues));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_weights(x + i, sizeof(x[i]));
    __m256i sumi = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      const int ls = (((x[i].scales_l[g / 2] >> (4 * (g % 2))) & 0xF) |
                      (((x[i].scales_h >> (2 * g)) & 3) << 4)) - 32;
      const __m256i v = _mm256_shuffle_epi8(table, nibbles32(x[i].qs + 16 * g));
      const __m256i a = load256(y[i].qs + 32 * g);
      const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(a, v));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16(static_cast<int16_t>(ls))));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half_to_f32(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

}  // namespace

void fill_avx2_iq4_xs(KernelTable& t) { t.of(GgmlType::IQ4_XS).vec_dot = dot_iq4_xs; }

}  // namespace hearth
