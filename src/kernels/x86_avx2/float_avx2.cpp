// F32, F16 and BF16 weights with F32 activations. Four 8-lane FMA accumulators: FMA latency
// 4 cycles × 2 ports needs 8 in flight to saturate, but these loops are bound by loads (two
// streams) long before that, and four keep the tail short. Halves convert with F16C
// (vcvtph2ps, exact); bf16 is the top half of a float, so a zero-extend and shift.
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"

namespace hearth {
namespace {

using x86::hsum;

struct F32Load {
  static __m256 load(const uint8_t* w, int64_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
  }
  static float one(const uint8_t* w, int64_t i) {
    float v;
    std::memcpy(&v, w + 4 * i, 4);
    return v;
  }
};
struct F16Load {
  static __m256 load(const uint8_t* w, int64_t i) { return _mm256_cvtph_ps(x86::load128(w + 2 * i)); }
  static float one(const uint8_t* w, int64_t i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    return x86::half_to_f32(h);
  }
};
struct BF16Load {
  static __m256 load(const uint8_t* w, int64_t i) {
    const __m256i wide = _mm256_cvtepu16_epi32(x86::load128(w + 2 * i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(const uint8_t* w, int64_t i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    const uint32_t bits = uint32_t{h} << 16;
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
};

template <class Load>
float dot_float(int64_t n, const void* wv, const void* act) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const float*>(act);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k)
      acc[k] = _mm256_fmadd_ps(Load::load(w, i + 8 * k), _mm256_loadu_ps(x + i + 8 * k), acc[k]);
  for (; i + 8 <= n; i += 8)
    acc[0] = _mm256_fmadd_ps(Load::load(w, i), _mm256_loadu_ps(x + i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += Load::one(w, i) * x[i];
  return sum;
}

}  // namespace

void fill_avx2_float(KernelTable& t) {
  t.of(GgmlType::F32).vec_dot = dot_float<F32Load>;
  t.of(GgmlType::F16).vec_dot = dot_float<F16Load>;
  t.of(GgmlType::BF16).vec_dot = dot_float<BF16Load>;
}

}  // namespace hearth
