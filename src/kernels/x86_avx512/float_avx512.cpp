// F32, F16 and BF16 weights with F32 activations at 512 bits: four 16-lane FMA accumulators,
// halves through vcvtph2ps (exact), bf16 by zero-extend and shift. A tail of fewer than 16
// elements runs under a load mask rather than a scalar loop. The tile form (kernels/tile.h) widens
// each weight vector once for up to four activation rows.
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/tile.h"
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

// Dots of one weight row with NA activation rows: each weight vector is loaded and widened once
// for all NA rows. Every row's operations are those of the one-row form (the vec_dot), in the
// same order, so a tile result is bit-identical with vec_dot. NA = 4 is 16 accumulators of the
// 32 zmm registers.
template <class Load, int NA>
void dot_rows(int64_t n, const uint8_t* w, const float* const* x, float* out) {
  __m512 acc[NA][4];
  for (auto& a : acc)
    for (__m512& v : a) v = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k) {
      const __m512 wv = Load::load(w, i + 16 * k);
      for (int a = 0; a < NA; ++a)
        acc[a][k] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x[a] + i + 16 * k), acc[a][k]);
    }
  for (; i + 16 <= n; i += 16) {
    const __m512 wv = Load::load(w, i);
    for (int a = 0; a < NA; ++a) acc[a][0] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x[a] + i), acc[a][0]);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 wv = Load::load_masked(w, i, m);
    for (int a = 0; a < NA; ++a)
      acc[a][1] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x[a] + i), acc[a][1]);
  }
  for (int a = 0; a < NA; ++a)
    out[a] = _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(acc[a][0], acc[a][1]), _mm512_add_ps(acc[a][2], acc[a][3])));
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

template <class Load>
void tile_float(int64_t n, const void* wv, const void* act, size_t act_stride, int n_act, float* y,
                size_t y_stride) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* a = static_cast<const uint8_t*>(act);
  switch (n_act) {
    case 1: return tile_rows<Load, 1>(n, w, a, act_stride, y, y_stride);
    case 2: return tile_rows<Load, 2>(n, w, a, act_stride, y, y_stride);
    case 3: return tile_rows<Load, 3>(n, w, a, act_stride, y, y_stride);
    default: return tile_rows<Load, 4>(n, w, a, act_stride, y, y_stride);
  }
}

}  // namespace

void fill_avx512_float(KernelTable& t) {
  t.of(GgmlType::F32).vec_dot = dot_float<F32Load>;
  t.of(GgmlType::F16).vec_dot = dot_float<F16Load>;
  t.of(GgmlType::BF16).vec_dot = dot_float<BF16Load>;
}

void fill_tiles_avx512_float(TileKernels& t) {
  static_assert(kTileActs == 4, "tile_float handles up to four activation rows");
  t.of(GgmlType::F32) = tile_float<F32Load>;
  t.of(GgmlType::F16) = tile_float<F16Load>;
  t.of(GgmlType::BF16) = tile_float<BF16Load>;
}

}  // namespace hearth
