// Q2_K and Q3_K weights with Q8_K activations, AVX2. Both are 2-bit planes: element
// 128h + 32j + l sits at bits 2j of qs[32h + l], so one 32-byte load serves four 32-element
// chunks by shifting. Quants go in unsigned (Q2_K 0..3, Q3_K 0..7 = value + 4); maddubs pair
// sums then madd with the int16 scales of the two 16-element groups of the chunk (low lane,
// high lane) keep the block's Σ scale·Σ q·a exact in int32. The Q2_K mins and the Q3_K -4
// offset are one madd of the scales (or mins) with the activation bsums.
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

using namespace x86;

inline __m256i group_scales(const int16_t* s, int g) {
  return _mm256_set_m128i(_mm_set1_epi16(s[g + 1]), _mm_set1_epi16(s[g]));
}

float dot_q2_k(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i three = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  float acc_mins = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_weights(x + i, sizeof(x[i]));
    const __m128i packed = load128(x[i].scales);
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, _mm_set1_epi8(0x0F)));
    const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
    const int32_t mins = hsum(_mm256_madd_epi16(mn16, load256(y[i].bsums)));
    acc_mins += y[i].d * half_to_f32(x[i].dmin) * static_cast<float>(mins);
    alignas(32) int16_t sc[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sc), sc16);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i plane = load256(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(plane, 2 * j), three);
        const __m256i p = _mm256_maddubs_epi16(q, load256(y[i].qs + 128 * h + 32 * j));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, group_scales(sc, 8 * h + 2 * j)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half_to_f32(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_mins;
}

// Sixteen 6-bit scales minus 32 (layout in kernels/ref/unpack.h).
inline void q3_k_scales(const uint8_t* p, int16_t* sc) {
  for (int g = 0; g < 16; ++g) {
    const int low = g < 8 ? (p[g] & 0xF) : (p[g - 8] >> 4);
    const int high = (p[8 + g % 4] >> (2 * (g / 4))) & 3;
    sc[g] = static_cast<int16_t>((low | high << 4) - 32);
  }
}

// Q3_K: the third bit of element 128h + 32j + l is bit 4h + j of hmask[l].
float dot_q3_k(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i three = _mm256_set1_epi8(3);
  const __m256i one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_weights(x + i, sizeof(x[i]));
    alignas(32) int16_t sc[16];
    q3_k_scales(x[i].scales, sc);
    const __m256i sc16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(sc));
    const __m256i offset = _mm256_madd_epi16(sc16, load256(y[i].bsums));  // × 4 below
    const __m256i hmask = load256(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i plane = load256(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(plane, 2 * j), three);
        const __m256i hbit = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + j), one);
        const __m256i q = _mm256_or_si256(low, _mm256_slli_epi16(hbit, 2));
        const __m256i p = _mm256_maddubs_epi16(q, load256(y[i].qs + 128 * h + 32 * j));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, group_scales(sc, 8 * h + 2 * j)));
      }
    }
    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 2));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half_to_f32(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

}  // namespace

void fill_avx2_kquants_low(KernelTable& t) {
  t.of(GgmlType::Q2_K).vec_dot = dot_q2_k;
  t.of(GgmlType::Q3_K).vec_dot = dot_q3_k;
}

}  // namespace hearth
