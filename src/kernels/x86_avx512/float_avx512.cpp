// F32, F16 and BF16 weights with F32 activations at 512 bits: four 16-lane FMA accumulators,
// halves through vcvtph2ps (exact), bf16 by zero-extend and shift. A tail of fewer than 16
// elements runs under a load mask rather than a scalar loop.
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"

namespace hearth {
namespace {

struct F32Load {
  static __m512 load(const uint8_t* w, int64_t i) { return _mm512_loadu_ps(w + 4 * i); }
  static __m512 load_masked(const uint8_t* w, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, w + 4 * i);
  }
};
struct F16Load {
  static __m512 load(const uint8_t* w, int64_t i) { return _mm512_cvtph_ps(x86::load256(w + 2 * i)); }
  static __m512 load_masked(const uint8_t* w, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + 2 * i));
  }
};
struct BF16Load {
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const uint8_t* w, int64_t i) { return widen(x86::load256(w + 2 * i)); }
  static __m512 load_masked(const uint8_t* w, int64_t i, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, w + 2 * i));
  }
};

template <class Load>
float dot_float(int64_t n, const void* wv, const void* act) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const float*>(act);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k)
      acc[k] = _mm512_fmadd_ps(Load::load(w, i + 16 * k), _mm512_loadu_ps(x + i + 16 * k), acc[k]);
  for (; i + 16 <= n; i += 16)
    acc[0] = _mm512_fmadd_ps(Load::load(w, i), _mm512_loadu_ps(x + i), acc[0]);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc[1] = _mm512_fmadd_ps(Load::load_masked(w, i, m), _mm512_maskz_loadu_ps(m, x + i), acc[1]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

void fill_avx512_float(KernelTable& t) {
  t.of(GgmlType::F32).vec_dot = dot_float<F32Load>;
  t.of(GgmlType::F16).vec_dot = dot_float<F16Load>;
  t.of(GgmlType::BF16).vec_dot = dot_float<BF16Load>;
}

}  // namespace hearth
