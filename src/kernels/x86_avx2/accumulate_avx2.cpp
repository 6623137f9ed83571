// Weighted row sums for the KV cache formats (attention's value side), AVX2 + FMA + F16C.
//
// The output is cut into tiles of 32 floats held in four ymm accumulators while every row
// streams past, so y is loaded and stored once per call instead of once per row (a row-at-a-
// time axpy would spend as many loads and stores on y as on the rows). Each row contributes one
// vcvtph2ps (F16) or sign-extend + convert + scale (Q8_0) and one FMA per 8 elements; rows are
// touched a tile at a time, so a head of 64-128 elements is re-read from L1, not memory.
// Per element the rows are added in order, as in the reference; the FMA is the only difference.
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"

namespace hearth {
namespace {

void accumulate_f16(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y) {
  const auto* base = static_cast<const uint8_t*>(rows);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 acc0 = _mm256_loadu_ps(y + i), acc1 = _mm256_loadu_ps(y + i + 8);
    __m256 acc2 = _mm256_loadu_ps(y + i + 16), acc3 = _mm256_loadu_ps(y + i + 24);
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      const __m256 w = _mm256_broadcast_ss(weights + r);
      acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(x86::load128(p)), w, acc0);
      acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(x86::load128(p + 16)), w, acc1);
      acc2 = _mm256_fmadd_ps(_mm256_cvtph_ps(x86::load128(p + 32)), w, acc2);
      acc3 = _mm256_fmadd_ps(_mm256_cvtph_ps(x86::load128(p + 48)), w, acc3);
    }
    _mm256_storeu_ps(y + i, acc0);
    _mm256_storeu_ps(y + i + 8, acc1);
    _mm256_storeu_ps(y + i + 16, acc2);
    _mm256_storeu_ps(y + i + 24, acc3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 acc = _mm256_loadu_ps(y + i);
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride)
      acc = _mm256_fmadd_ps(_mm256_cvtph_ps(x86::load128(p)), _mm256_broadcast_ss(weights + r), acc);
    _mm256_storeu_ps(y + i, acc);
  }
  for (; i < n; ++i) {
    float acc = y[i];
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      uint16_t h;
      std::memcpy(&h, p, 2);
      acc = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x86::half_to_f32(h)), _mm_set_ss(weights[r]),
                                       _mm_set_ss(acc)));
    }
    y[i] = acc;
  }
}

// 8 int8 at p -> 8 floats.
inline __m256 int8x8_to_ps(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// One tile is one block (32 elements, 34 bytes: F16 scale then 32 int8).
void accumulate_q8_0(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                     int64_t n, float* y) {
  constexpr int64_t kBlockBytes = 34;
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t b = 0; b < n / 32; ++b) {
    float* yb = y + 32 * b;
    __m256 acc0 = _mm256_loadu_ps(yb), acc1 = _mm256_loadu_ps(yb + 8);
    __m256 acc2 = _mm256_loadu_ps(yb + 16), acc3 = _mm256_loadu_ps(yb + 24);
    const uint8_t* p = base + b * kBlockBytes;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      uint16_t dh;
      std::memcpy(&dh, p, 2);
      const __m256 d = _mm256_set1_ps(x86::half_to_f32(dh));
      const __m256 w = _mm256_broadcast_ss(weights + r);
      const uint8_t* qs = p + 2;
      acc0 = _mm256_fmadd_ps(_mm256_mul_ps(int8x8_to_ps(qs), d), w, acc0);
      acc1 = _mm256_fmadd_ps(_mm256_mul_ps(int8x8_to_ps(qs + 8), d), w, acc1);
      acc2 = _mm256_fmadd_ps(_mm256_mul_ps(int8x8_to_ps(qs + 16), d), w, acc2);
      acc3 = _mm256_fmadd_ps(_mm256_mul_ps(int8x8_to_ps(qs + 24), d), w, acc3);
    }
    _mm256_storeu_ps(yb, acc0);
    _mm256_storeu_ps(yb + 8, acc1);
    _mm256_storeu_ps(yb + 16, acc2);
    _mm256_storeu_ps(yb + 24, acc3);
  }
}

}  // namespace

void fill_avx2_accumulate(KernelTable& t) {
  t.of(GgmlType::F16).accumulate = accumulate_f16;
  t.of(GgmlType::Q8_0).accumulate = accumulate_q8_0;
}

}  // namespace hearth
