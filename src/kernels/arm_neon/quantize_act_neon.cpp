// Activation quantizers Q8_0, Q8_1, Q8_K on ARMv8.0 Advanced SIMD.
//
// Bit-identical with the scalar quantizers in quant/q8_formats.cpp, so a NEON run and a scalar
// run feed the dot kernels the same bytes: the block maximum is FMAXNMV over |x| (ignores NaN
// like std::fmax), the products x·(1/d) are the same single float multiplies, FCVTAS rounds
// half away from zero (std::round, Q8_0/Q8_1) and FCVTNS half to even (std::nearbyint in the
// default rounding mode, Q8_K); the fp16 scales go through the same f32_to_fp16. Saturating
// narrows (SQXTN) stand in for the scalar casts, which never see values past ±127 anyway.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "kernels/arm_neon/neon_kernels.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

// max |x[j]| over 32·k floats (k = 1 for a 32 block, 8 for a 256 block).
float abs_max(const float* x, int count) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int j = 0; j < count; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + j)));
  return vmaxnmvq_f32(m);
}

// 16 floats times s, rounded by Round, narrowed with saturation to 16 int8.
template <class Round>
int8x16_t scale_round16(const float* x, float s, Round round) {
  const int32x4_t q0 = round(vmulq_n_f32(vld1q_f32(x), s));
  const int32x4_t q1 = round(vmulq_n_f32(vld1q_f32(x + 4), s));
  const int32x4_t q2 = round(vmulq_n_f32(vld1q_f32(x + 8), s));
  const int32x4_t q3 = round(vmulq_n_f32(vld1q_f32(x + 12), s));
  const int16x8_t h0 = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
  const int16x8_t h1 = vcombine_s16(vqmovn_s32(q2), vqmovn_s32(q3));
  return vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1));
}

const auto kRoundAway = [](float32x4_t v) { return vcvtaq_s32_f32(v); };

}  // namespace

void quantize_act_q8_0_neon(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(vy);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* xb = x + i * kQK8_0;
    const float d = abs_max(xb, kQK8_0) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    vst1q_s8(y[i].qs, scale_round16(xb, id, kRoundAway));
    vst1q_s8(y[i].qs + 16, scale_round16(xb + 16, id, kRoundAway));
  }
}

void quantize_act_q8_1_neon(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(vy);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float* xb = x + i * kQK8_1;
    const float d = abs_max(xb, kQK8_1) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const int8x16_t q0 = scale_round16(xb, id, kRoundAway);
    const int8x16_t q1 = scale_round16(xb + 16, id, kRoundAway);
    vst1q_s8(y[i].qs, q0);
    vst1q_s8(y[i].qs + 16, q1);
    const int sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);
    y[i].d = f32_to_fp16(d);
    y[i].s = f32_to_fp16(static_cast<float>(sum) * d);
  }
}

void quantize_act_q8_k_neon(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(vy);
  const int32x4_t lo = vdupq_n_s32(-127);
  const int32x4_t hi = vdupq_n_s32(127);
  const auto round_clamp = [&](float32x4_t v) {
    return vminq_s32(vmaxq_s32(vcvtnq_s32_f32(v), lo), hi);
  };
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    const float amax = abs_max(xb, kQK_K);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = 127.0f / amax;
    for (int g = 0; g < kQK_K / 16; ++g) {
      const int8x16_t q = scale_round16(xb + 16 * g, iscale, round_clamp);
      vst1q_s8(y[i].qs + 16 * g, q);
      y[i].bsums[g] = static_cast<int16_t>(vaddlvq_s8(q));
    }
    y[i].d = 1.0f / iscale;
  }
}

}  // namespace hearth
