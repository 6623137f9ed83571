// Dot kernels of the non-linear 4-bit formats: IQ4_NL (32-element blocks, Q8_0 activations) and
// IQ4_XS (256-element super-blocks with 6-bit sub-block scales, Q8_K activations), as templates
// over a Dot policy (arm_common.h).
//
// Layout: the 16 levels fit one 128-bit register, so a nibble becomes its level with one TBL
// (vqtbl1q_s8) per 16 weights: the lookup costs the same as Q4_0's "- 8". Levels reach ±127, so
// NeonDot may chain only 2 products per int16 lane (bound 127) before widening. IQ4_XS scales
// (ls - 32, 6 bits) multiply each 32-element sub-block's int32 sum; the super-block's integer
// total is scaled once by d_w·d_a in float.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm_neon/arm_common.h"
#include "quant/blocks.h"

namespace hearth::arm {
namespace {

template <class Dot>
float vec_dot_iq4_nl(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockIQ4_NL*>(vw);
  const auto* a = static_cast<const BlockQ8_0*>(va);
  const int8x16_t levels = vld1q_s8(kIQ4NLValues);
  return sum_blocks(n / kQK4_NL, [&](int64_t i) {
    const uint8x16_t q = vld1q_u8(w[i].qs);
    const int8x16_t w0 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(low_nibbles(q)));
    const int8x16_t w1 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(high_nibbles(q)));
    const int32x4_t s = Dot::template sum32<127>(w0, vld1q_s8(a[i].qs), w1, vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s);
  });
}

template <class Dot>
float vec_dot_iq4_xs(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  const int8x16_t levels = vld1q_s8(kIQ4NLValues);
  return sum_blocks(n / kQK_K, [&](int64_t i) {
    const BlockIQ4_XS& b = w[i];
    int32x4_t acc = vdupq_n_s32(0);
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int ls =
          ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.scales_h >> (2 * ib)) & 3) << 4);
      const uint8x16_t q = vld1q_u8(b.qs + 16 * ib);
      const int8x16_t w0 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(low_nibbles(q)));
      const int8x16_t w1 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(high_nibbles(q)));
      const int8_t* ap = a[i].qs + 32 * ib;
      acc = Dot::template dot32_scaled<127>(acc, w0, vld1q_s8(ap), w1, vld1q_s8(ap + 16),
                                            static_cast<int16_t>(ls - 32));
    }
    return h2f(b.d) * a[i].d * block_sum(acc);
  });
}

}  // namespace
}  // namespace hearth::arm
