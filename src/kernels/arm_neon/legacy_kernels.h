// Dot kernels of the 32-element "legacy" formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 with 8-bit
// activations (Q8_0, or Q8_1 for the formats with an offset m), as templates over a Dot policy
// (see arm_common.h): compiled with NeonDot for the Cortex-A72 and with SdotDot for the A76.
//
// Layout: one weight block is one 16-byte load of nibbles (element j low, j+16 high), unpacked
// to two int8x16 that line up with the activation block's two 16-byte halves, so no shuffles are
// needed. 5-bit formats add their qh word as 32 byte masks (expand_bits32). The block's integer
// sum is exact; it is scaled in float by d_w·d_a (plus m_w·s_a for Q4_1/Q5_1, where Q8_1's
// s = d_a·Σa folds the weight offset in) exactly as the formats define. Two blocks per iteration
// with separate accumulators keep both NEON pipes busy across the horizontal add's latency.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm_neon/arm_common.h"
#include "quant/blocks.h"

namespace hearth::arm {
namespace {

template <class Dot>
float vec_dot_q4_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ4_0*>(vw);
  const auto* a = static_cast<const BlockQ8_0*>(va);
  const int8x16_t k8 = vdupq_n_s8(8);
  return sum_blocks(n / kQK4_0, [&](int64_t i) {
    const uint8x16_t q = vld1q_u8(w[i].qs);
    const int8x16_t w0 = vsubq_s8(low_nibbles(q), k8);
    const int8x16_t w1 = vsubq_s8(high_nibbles(q), k8);
    const int32x4_t s = Dot::template sum32<8>(w0, vld1q_s8(a[i].qs), w1, vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s);
  });
}

template <class Dot>
float vec_dot_q4_1(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ4_1*>(vw);
  const auto* a = static_cast<const BlockQ8_1*>(va);
  return sum_blocks(n / kQK4_1, [&](int64_t i) {
    const uint8x16_t q = vld1q_u8(w[i].qs);
    const int32x4_t s = Dot::template sum32<15>(low_nibbles(q), vld1q_s8(a[i].qs), high_nibbles(q),
                                                vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s) + h2f(w[i].m) * h2f(a[i].s);
  });
}

template <class Dot>
float vec_dot_q5_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ5_0*>(vw);
  const auto* a = static_cast<const BlockQ8_0*>(va);
  const uint8x16_t k16 = vdupq_n_u8(16);
  return sum_blocks(n / kQK5_0, [&](int64_t i) {
    const uint8x16_t q = vld1q_u8(w[i].qs);
    const Bits32 hb = expand_bits32(w[i].qh);
    // q - 16 with the 5th bit: subtract 16 exactly where the bit is clear.
    const int8x16_t w0 = vsubq_s8(low_nibbles(q), vreinterpretq_s8_u8(vbicq_u8(k16, hb.m0)));
    const int8x16_t w1 = vsubq_s8(high_nibbles(q), vreinterpretq_s8_u8(vbicq_u8(k16, hb.m1)));
    const int32x4_t s = Dot::template sum32<16>(w0, vld1q_s8(a[i].qs), w1, vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s);
  });
}

template <class Dot>
float vec_dot_q5_1(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ5_1*>(vw);
  const auto* a = static_cast<const BlockQ8_1*>(va);
  const uint8x16_t k16 = vdupq_n_u8(16);
  return sum_blocks(n / kQK5_1, [&](int64_t i) {
    const uint8x16_t q = vld1q_u8(w[i].qs);
    const Bits32 hb = expand_bits32(w[i].qh);
    const int8x16_t w0 = vorrq_s8(low_nibbles(q), vreinterpretq_s8_u8(vandq_u8(k16, hb.m0)));
    const int8x16_t w1 = vorrq_s8(high_nibbles(q), vreinterpretq_s8_u8(vandq_u8(k16, hb.m1)));
    const int32x4_t s = Dot::template sum32<31>(w0, vld1q_s8(a[i].qs), w1, vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s) + h2f(w[i].m) * h2f(a[i].s);
  });
}

template <class Dot>
float vec_dot_q8_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ8_0*>(vw);
  const auto* a = static_cast<const BlockQ8_0*>(va);
  return sum_blocks(n / kQK8_0, [&](int64_t i) {
    // A file may hold -128 weights: the bound 128 makes NeonDot widen every product.
    const int32x4_t s = Dot::template sum32<128>(vld1q_s8(w[i].qs), vld1q_s8(a[i].qs),
                                                 vld1q_s8(w[i].qs + 16), vld1q_s8(a[i].qs + 16));
    return h2f(w[i].d) * h2f(a[i].d) * block_sum(s);
  });
}

}  // namespace
}  // namespace hearth::arm
