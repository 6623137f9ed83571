// Dot kernels of the non-linear 4-bit formats: IQ4_NL (32-element blocks, Q8_0 activations) and
// IQ4_XS (256-element super-blocks with 6-bit sub-block scales, Q8_K activations), as templates
// over a Dot policy (arm_common.h).
//
// Layout: the 16 levels fit one 128-bit register, so a nibble becomes its level with one TBL
// (vqtbl1q_s8) per 16 weights: the lookup costs the same as Q4_0's "- 8". Levels reach ±127, so
// NeonDot may chain only 2 products per int16 lane (bound 127) before widening. IQ4_XS scales
// (ls - 32, 6 bits) multiply the 32-element sub-blocks' int32 sums four at a time; the
// super-block's integer total is scaled once by d_w·d_a in float.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

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

// The 8 sub-block scales ls - 32 of an IQ4_XS block: the low 4 bits of ls are nibble ib of
// scales_l (low nibble first), the top 2 bits are bits 2ib..2ib+1 of scales_h. TBL spreads the
// source bytes over the 8 lanes, USHL by per-lane counts brings each field down.
inline int16x8_t iq4_xs_scales(const BlockIQ4_XS& b) {
  uint32_t l;
  std::memcpy(&l, b.scales_l, 4);
  static constexpr uint8_t kLowByte[8] = {0, 0, 1, 1, 2, 2, 3, 3};
  static constexpr int8_t kLowShift[8] = {0, -4, 0, -4, 0, -4, 0, -4};
  static constexpr uint8_t kHighByte[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  static constexpr int8_t kHighShift[8] = {0, -2, -4, -6, 0, -2, -4, -6};
  const uint8x8_t low = vand_u8(
      vshl_u8(vtbl1_u8(vcreate_u8(l), vld1_u8(kLowByte)), vld1_s8(kLowShift)), vdup_n_u8(0x0F));
  const uint8x8_t high =
      vand_u8(vshl_u8(vtbl1_u8(vcreate_u8(b.scales_h), vld1_u8(kHighByte)), vld1_s8(kHighShift)),
              vdup_n_u8(3));
  const int8x8_t ls = vreinterpret_s8_u8(vorr_u8(low, vshl_n_u8(high, 4)));
  return vmovl_s8(vsub_s8(ls, vdup_n_s8(32)));
}

template <class Dot>
float vec_dot_iq4_xs(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  const int8x16_t levels = vld1q_s8(kIQ4NLValues);
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockIQ4_XS& b = w[i];
    int32x4_t s[8];
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const uint8x16_t q = vld1q_u8(b.qs + 16 * ib);
      const int8x16_t w0 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(low_nibbles(q)));
      const int8x16_t w1 = vqtbl1q_s8(levels, vreinterpretq_u8_s8(high_nibbles(q)));
      const int8_t* ap = a[i].qs + 32 * ib;
      s[ib] = Dot::template sum32<127>(w0, vld1q_s8(ap), w1, vld1q_s8(ap + 16));
    }
    const int32x4_t acc = add_scaled8(vdupq_n_s32(0), s, iq4_xs_scales(b));
    return h2f(b.d) * a[i].d * block_sum(acc);
  });
}

}  // namespace
}  // namespace hearth::arm
