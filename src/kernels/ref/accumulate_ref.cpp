// Reference weighted row sums (AccumulateFn) for the KV cache formats: y += Σ_r w_r · row_r,
// every element's rows added in order r = 0, 1, ... A SIMD kernel keeps that order and may
// differ only by fusing the multiply-add (one rounding instead of two).
//
// Q8_0 rows dequantize as llama.cpp's flash-attention path does (value = d · q in float, then
// times the weight), so the product is rounded the same way before it is added.
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref_kernels.h"
#include "quant/blocks.h"

namespace hearth::ref {

void accumulate_f32(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y) {
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = base + r * row_stride;
    for (int64_t i = 0; i < n; ++i) {
      float x;
      std::memcpy(&x, row + 4 * i, 4);
      y[i] += weights[r] * x;
    }
  }
}

void accumulate_f16(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y) {
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = base + r * row_stride;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, row + 2 * i, 2);
      y[i] += weights[r] * fp16_to_f32(h);
    }
  }
}

void accumulate_q8_0(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                     int64_t n, float* y) {
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = base + r * row_stride;
    for (int64_t b = 0; b < n / kQK8_0; ++b) {
      BlockQ8_0 blk;
      std::memcpy(&blk, row + b * static_cast<int64_t>(sizeof(BlockQ8_0)), sizeof blk);
      const float d = fp16_to_f32(blk.d);
      for (int64_t j = 0; j < kQK8_0; ++j)
        y[b * kQK8_0 + j] += weights[r] * (d * static_cast<float>(blk.qs[j]));
    }
  }
}

}  // namespace hearth::ref
