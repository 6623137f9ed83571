// Weighted row sums for the KV cache formats (attention's value side), ARMv8.0 Advanced SIMD.
//
// The output is cut into tiles of 32 floats held in eight float32x4 accumulators (of the 32
// NEON registers) while every row streams past, so y is loaded and stored once per call, not
// once per row. A72: FMLA issues on both NEON pipes, and eight independent accumulators cover
// its latency; F16 widens with FCVTL/FCVTL2 (exact), Q8_0 with SXTL twice and SCVTF, then one
// FMUL by the block scale (the product the reference rounds) before the FMLA by the weight.
// Per element the rows are added in order, as in the reference; the fused multiply-add is the
// only difference.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {
namespace {

inline float32x4_t lo_f16(uint16x8_t h) { return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h))); }
inline float32x4_t hi_f16(uint16x8_t h) { return vcvt_high_f32_f16(vreinterpretq_f16_u16(h)); }

void accumulate_f16(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y) {
  const auto* base = static_cast<const uint8_t*>(rows);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    float32x4_t acc[8];
    for (int k = 0; k < 8; ++k) acc[k] = vld1q_f32(y + i + 4 * k);
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      const float w = weights[r];
      const auto* h = reinterpret_cast<const uint16_t*>(p);
      for (int k = 0; k < 4; ++k) {
        const uint16x8_t v = vld1q_u16(h + 8 * k);
        acc[2 * k] = vfmaq_n_f32(acc[2 * k], lo_f16(v), w);
        acc[2 * k + 1] = vfmaq_n_f32(acc[2 * k + 1], hi_f16(v), w);
      }
    }
    for (int k = 0; k < 8; ++k) vst1q_f32(y + i + 4 * k, acc[k]);
  }
  for (; i + 4 <= n; i += 4) {
    float32x4_t acc = vld1q_f32(y + i);
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      const float16x4_t h = vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p)));
      acc = vfmaq_n_f32(acc, vcvt_f32_f16(h), weights[r]);
    }
    vst1q_f32(y + i, acc);
  }
  for (; i < n; ++i) {
    float acc = y[i];
    const uint8_t* p = base + 2 * i;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      uint16_t h;
      std::memcpy(&h, p, 2);
      acc = std::fma(fp16_to_f32(h), weights[r], acc);  // fused (FMADD), like the lanes above
    }
    y[i] = acc;
  }
}

// One tile is one block (32 elements, 34 bytes: F16 scale then 32 int8).
void accumulate_q8_0(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                     int64_t n, float* y) {
  constexpr int64_t kBlockBytes = 34;
  const auto* base = static_cast<const uint8_t*>(rows);
  for (int64_t b = 0; b < n / 32; ++b) {
    float* yb = y + 32 * b;
    float32x4_t acc[8];
    for (int k = 0; k < 8; ++k) acc[k] = vld1q_f32(yb + 4 * k);
    const uint8_t* p = base + b * kBlockBytes;
    for (int64_t r = 0; r < n_rows; ++r, p += row_stride) {
      uint16_t dh;
      std::memcpy(&dh, p, 2);
      const float d = fp16_to_f32(dh);
      const float w = weights[r];
      const auto* qs = reinterpret_cast<const int8_t*>(p + 2);
      for (int k = 0; k < 2; ++k) {
        const int8x16_t q = vld1q_s8(qs + 16 * k);
        const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
        const int32x4_t q32[4] = {vmovl_s16(vget_low_s16(lo)), vmovl_high_s16(lo),
                                  vmovl_s16(vget_low_s16(hi)), vmovl_high_s16(hi)};
        for (int j = 0; j < 4; ++j) {
          const float32x4_t v = vmulq_n_f32(vcvtq_f32_s32(q32[j]), d);
          acc[4 * k + j] = vfmaq_n_f32(acc[4 * k + j], v, w);
        }
      }
    }
    for (int k = 0; k < 8; ++k) vst1q_f32(yb + 4 * k, acc[k]);
  }
}

}  // namespace

void fill_neon_accumulate(KernelTable& t) {
  t.of(GgmlType::F16).accumulate = accumulate_f16;
  t.of(GgmlType::Q8_0).accumulate = accumulate_q8_0;
}

}  // namespace hearth
