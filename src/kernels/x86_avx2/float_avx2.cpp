// F32, F16 and BF16 weights with F32 activations. Four 8-lane FMA accumulators: FMA latency
// 4 cycles × 2 ports needs 8 in flight to saturate, but these loops are bound by loads (two
// streams) long before that, and four keep the tail short. Halves convert with F16C
// (vcvtph2ps, exact); bf16 is the top half of a float, so a zero-extend and shift.
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/tile.h"
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

// Dots of one weight row with NA activation rows: each weight vector is loaded and widened once
// for all NA rows. Every row's operations are those of the one-row form (the vec_dot), in the
// same order, so a tile result is bit-identical with vec_dot. NA = 2 keeps the 8 accumulators,
// the weight and an activation within the 16 ymm registers.
template <class Load, int NA>
void dot_rows(int64_t n, const uint8_t* w, const float* const* x, float* out) {
  __m256 acc[NA][4];
  for (auto& a : acc)
    for (__m256& v : a) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) {
      const __m256 wv = Load::load(w, i + 8 * k);
      for (int a = 0; a < NA; ++a)
        acc[a][k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[a] + i + 8 * k), acc[a][k]);
    }
  for (; i + 8 <= n; i += 8) {
    const __m256 wv = Load::load(w, i);
    for (int a = 0; a < NA; ++a) acc[a][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[a] + i), acc[a][0]);
  }
  for (int a = 0; a < NA; ++a)
    out[a] = hsum(_mm256_add_ps(_mm256_add_ps(acc[a][0], acc[a][1]), _mm256_add_ps(acc[a][2], acc[a][3])));
  for (; i < n; ++i) {
    const float wi = Load::one(w, i);
    for (int a = 0; a < NA; ++a) out[a] += wi * x[a][i];
  }
}

template <class Load>
float dot_float(int64_t n, const void* wv, const void* act) {
  const float* x[1] = {static_cast<const float*>(act)};
  float out;
  dot_rows<Load, 1>(n, static_cast<const uint8_t*>(wv), x, &out);
  return out;
}

template <class Load, int NA>
void tile_rows(int64_t n, const uint8_t* w, const uint8_t* act, size_t act_stride, float* y,
               size_t y_stride) {
  const float* x[NA];
  for (int a = 0; a < NA; ++a) x[a] = reinterpret_cast<const float*>(act + a * act_stride);
  float out[NA];
  dot_rows<Load, NA>(n, w, x, out);
  for (int a = 0; a < NA; ++a) y[a * y_stride] = out[a];
}

// Activation rows two at a time (the register budget of dot_rows), then a last single one.
template <class Load>
void tile_float(int64_t n, const void* wv, const void* act, size_t act_stride, int n_act, float* y,
                size_t y_stride) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* base = static_cast<const uint8_t*>(act);
  int a = 0;
  for (; a + 2 <= n_act; a += 2)
    tile_rows<Load, 2>(n, w, base + a * act_stride, act_stride, y + a * y_stride, y_stride);
  if (a < n_act) tile_rows<Load, 1>(n, w, base + a * act_stride, act_stride, y + a * y_stride, y_stride);
}

}  // namespace

void fill_avx2_float(KernelTable& t) {
  t.of(GgmlType::F32).vec_dot = dot_float<F32Load>;
  t.of(GgmlType::F16).vec_dot = dot_float<F16Load>;
  t.of(GgmlType::BF16).vec_dot = dot_float<BF16Load>;
}

void fill_tiles_avx2_float(TileKernels& t) {
  t.of(GgmlType::F32) = tile_float<F32Load>;
  t.of(GgmlType::F16) = tile_float<F16Load>;
  t.of(GgmlType::BF16) = tile_float<BF16Load>;
}

}  // namespace hearth
