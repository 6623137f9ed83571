// The 8-bit block formats. Q8_0 is a weight format (bit-identical with llama.cpp's quantizer:
// d = amax/127, q = round-half-away(x/d)); Q8_0, Q8_1 and Q8_K are also what activations are
// quantised to before an integer dot product with quantised weights.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/formats.h"

namespace hearth {

void dequantize_row_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK8_0; ++j) dst[i * kQK8_0 + j] = b[i].qs[j] * d;
  }
}

void dequantize_row_q8_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK8_1; ++j) dst[i * kQK8_1 + j] = b[i].qs[j] * d;
  }
}

void dequantize_row_q8_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i)
    for (int j = 0; j < kQK_K; ++j) dst[i * kQK_K + j] = b[i].qs[j] * b[i].d;
}

void quantize_row_q8_0(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* x = src + i * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) b[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void quantize_row_q8_1(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float* x = src + i * kQK8_1;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      b[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += b[i].qs[j];
    }
    b[i].d = f32_to_fp16(d);
    b[i].s = f32_to_fp16(static_cast<float>(sum) * d);
  }
}

// Symmetric: the largest magnitude maps to ±127, so every q fits int8 without clamping.
// bsums hold the sum of each 16 quants, which the K-quant dots use for their mins.
void quantize_row_q8_k(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    float amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = 127.0f / amax;
    for (int j = 0; j < kQK_K; ++j) {
      const float v = std::nearbyint(iscale * x[j]);
      b[i].qs[j] = static_cast<int8_t>(std::fmin(127.0f, std::fmax(-127.0f, v)));
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b[i].qs[g * 16 + j];
      b[i].bsums[g] = static_cast<int16_t>(sum);
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace hearth
