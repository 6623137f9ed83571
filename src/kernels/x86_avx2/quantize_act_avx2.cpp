// Activation quantizers (Q8_0, Q8_1, Q8_K), AVX2, bit-identical with quant/q8_formats.cpp so
// the ISA level never changes which integers the dots see. That pins the arithmetic: the same
// float operations in the same order per element (d = amax / 127, id = 1 / d, x · id), and the
// scalar rounding rules — std::round (half away from zero) for Q8_0/Q8_1, which no x86
// rounding mode does, rebuilt as trunc plus a step where the exact remainder reaches one half;
// std::nearbyint (half to even, the default mode) for Q8_K. Halves are stored through F16C
// (round to nearest even, like f32_to_fp16).
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

using namespace x86;

inline uint16_t f32_to_half(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Round half away from zero, exactly: x - trunc(x) is exact for floats, so comparing it with
// 0.5 decides ties the way std::round does.
inline __m256 round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = abs_ps(_mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
  return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

// Four vectors of 8 integral floats in [-127, 127] -> 32 int8 in element order.
inline __m256i pack_to_i8(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256i ab = _mm256_packs_epi32(_mm256_cvtps_epi32(a), _mm256_cvtps_epi32(b));
  const __m256i cd = _mm256_packs_epi32(_mm256_cvtps_epi32(c), _mm256_cvtps_epi32(d));
  // packs interleaves 128-bit lanes: undo with a dword permute.
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// One 32-element Q8_0/Q8_1 block: returns the int8s, and d (before rounding to half).
inline __m256i quantize32(const float* x, float& d_out) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, abs_ps(v[k]));
  }
  const float d = hmax(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  for (int k = 0; k < 4; ++k) v[k] = round_away(_mm256_mul_ps(v[k], vid));
  d_out = d;
  return pack_to_i8(v[0], v[1], v[2], v[3]);
}

void quantize_q8_0(const float* x, void* y, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(y);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    float d;
    const __m256i q = quantize32(x + i * kQK8_0, d);
    b[i].d = f32_to_half(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), q);
  }
}

void quantize_q8_1(const float* x, void* y, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(y);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    float d;
    const __m256i q = quantize32(x + i * kQK8_1, d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), q);
    const int32_t sum = hsum(_mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q),
                                               _mm256_set1_epi16(1)));
    b[i].d = f32_to_half(d);
    b[i].s = f32_to_half(static_cast<float>(sum) * d);
  }
}

void quantize_q8_k(const float* x, void* y, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(y);
  const __m256 lim = _mm256_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    __m256 vmax = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) vmax = _mm256_max_ps(vmax, abs_ps(_mm256_loadu_ps(xb + k)));
    const float amax = hmax(vmax);
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = 127.0f / amax;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256 v[4];
      for (int j = 0; j < 4; ++j) {
        const __m256 r = _mm256_round_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(xb + k + 8 * j)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[j] = _mm256_min_ps(lim, _mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), lim), r));
      }
      const __m256i q = pack_to_i8(v[0], v[1], v[2], v[3]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + k), q);
      // Two 16-element sums: maddubs by ones gives pair sums, madd by ones sums of 4, then
      // lanes 0-3 and 4-7 of the result hold the first and second 16.
      const __m256i s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
      const __m128i s8 = _mm_hadd_epi32(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
      const __m128i s16 = _mm_hadd_epi32(s8, s8);
      b[i].bsums[k / 16] = static_cast<int16_t>(_mm_cvtsi128_si32(s16));
      b[i].bsums[k / 16 + 1] = static_cast<int16_t>(_mm_extract_epi32(s16, 1));
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace

void fill_avx2_quantize_act(KernelTable& t) {
  for (FormatKernels& f : t.formats) {
    if (f.vec_dot == nullptr) continue;
    switch (f.act_type) {
      case GgmlType::Q8_0: f.quantize_act = quantize_q8_0; break;
      case GgmlType::Q8_1: f.quantize_act = quantize_q8_1; break;
      case GgmlType::Q8_K: f.quantize_act = quantize_q8_k; break;
      default: break;
    }
  }
}

}  // namespace hearth
