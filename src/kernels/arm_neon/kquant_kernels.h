// Dot kernels of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K with Q8_K activations (256-element
// super-blocks), as templates over a Dot policy (arm_common.h): NeonDot for the Cortex-A72,
// SdotDot for the A76.
//
// Layout: each format stores its low bits so that one 16- or 32-byte load, shifted or masked,
// gives the weights of a whole 16- or 32-element sub-block in activation order; the kernels walk
// the super-block in that order and apply each sub-block's integer scale to its exact int32 sum
// (Dot::sum16 / sum32 per sub-block, then ADDP rounds gather 4 sub-block totals per vector so the
// scales multiply four at a time). Scales are unpacked with 32-bit word arithmetic. The "- min"
// of Q2_K/Q4_K/Q5_K never touches the weights: Σ min·x = min·Σ a, and Q8_K carries Σ a per 16
// elements (bsums), so the mins cost one small int16×int16 dot per super-block. Q3_K's "- 4 where
// the hmask bit is clear" and Q6_K's "- 32" are applied to the int8 weights (one SUB per 16
// weights) so their signed ranges stay small for NeonDot's int16 chains. The super-block's integer
// total is scaled once in float by d_w·d_a (and dmin_w·d_a).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arm_neon/arm_common.h"
#include "quant/blocks.h"

namespace hearth::arm {
namespace {

// Σ_g mins[g] · bsums[g] over 16 sub-blocks of 16 (Q2_K).
inline int32_t mins_dot16(uint8x16_t mins, const int16_t* bsums) {
  const int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mins)));
  const int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(mins));
  const int16x8_t b0 = vld1q_s16(bsums);
  const int16x8_t b1 = vld1q_s16(bsums + 8);
  int32x4_t s = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
  s = vmlal_high_s16(s, m0, b0);
  s = vmlal_s16(s, vget_low_s16(m1), vget_low_s16(b1));
  s = vmlal_high_s16(s, m1, b1);
  return vaddvq_s32(s);
}

// Σ_j mins[j] · (bsums[2j] + bsums[2j+1]) over 8 sub-blocks of 32 (Q4_K, Q5_K). The pair sums
// are widened first, so any bsums (not only consistent ones) give the exact result.
inline int32_t mins_dot8(uint8x8_t mins, const int16_t* bsums) {
  const int32x4_t p0 = vpaddlq_s16(vld1q_s16(bsums));
  const int32x4_t p1 = vpaddlq_s16(vld1q_s16(bsums + 8));
  const int16x8_t m = vreinterpretq_s16_u16(vmovl_u8(mins));
  int32x4_t s = vmulq_s32(p0, vmovl_s16(vget_low_s16(m)));
  s = vmlaq_s32(s, p1, vmovl_high_s16(m));
  return vaddvq_s32(s);
}

// Q4_K/Q5_K: 8 six-bit scales and 8 six-bit mins packed in 12 bytes. Sub-blocks 0-3 keep both
// in the low 6 bits of bytes 0-3 / 4-7; sub-blocks 4-7 take their low 4 bits from bytes 8-11
// and their top 2 bits from the spare top bits of bytes 0-3 / 4-7.
struct ScalesMins8 {
  int16x8_t scales;
  uint8x8_t mins;
};
inline ScalesMins8 unpack_scales_mins8(const uint8_t* packed) {
  uint32_t u[3];
  std::memcpy(u, packed, 12);
  const uint32_t sc_lo = u[0] & 0x3f3f3f3f;
  const uint32_t m_lo = u[1] & 0x3f3f3f3f;
  const uint32_t sc_hi = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
  const uint8x8_t sc = vcreate_u8(uint64_t{sc_hi} << 32 | sc_lo);
  return {vreinterpretq_s16_u16(vmovl_u8(sc)), vcreate_u8(uint64_t{m_hi} << 32 | m_lo)};
}

// Q3_K: 16 six-bit signed scales (stored + 32) in 12 bytes: low 4 bits in bytes 0-7 (low nibble
// for sub-blocks 0-7, high nibble for 8-15), top 2 bits of sub-block g in byte 8 + g%4 at bit
// 2·(g/4).
inline int8x16_t unpack_scales_q3_k(const uint8_t* packed) {
  uint32_t u[3];
  std::memcpy(u, packed, 12);
  const uint32_t s[4] = {
      (u[0] & 0x0f0f0f0f) | ((u[2] & 0x03030303) << 4),
      (u[1] & 0x0f0f0f0f) | (((u[2] >> 2) & 0x03030303) << 4),
      ((u[0] >> 4) & 0x0f0f0f0f) | (((u[2] >> 4) & 0x03030303) << 4),
      ((u[1] >> 4) & 0x0f0f0f0f) | (((u[2] >> 6) & 0x03030303) << 4),
  };
  return vsubq_s8(vreinterpretq_s8_u32(vld1q_u32(s)), vdupq_n_s8(32));
}

// Bits (v >> shift) & mask, shift at run time (USHL by a negative count shifts right).
inline uint8x16_t bits_at(uint8x16_t v, int shift, uint8x16_t mask) {
  return vandq_u8(vshlq_u8(v, vdupq_n_s8(static_cast<int8_t>(-shift))), mask);
}

inline int16x8_t widen_low(int8x16_t v) { return vmovl_s8(vget_low_s8(v)); }
inline int16x8_t widen_high(int8x16_t v) { return vmovl_high_s8(v); }

template <class Dot>
float vec_dot_q2_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ2_K*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  const uint8x16_t k3 = vdupq_n_u8(3);
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockQ2_K& b = w[i];
    const BlockQ8_K& x = a[i];
    const uint8x16_t packed = vld1q_u8(b.scales);
    const int32_t mins = mins_dot16(vshrq_n_u8(packed, 4), x.bsums);
    const int8x16_t scales = vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F)));
    int32x4_t acc = vdupq_n_s32(0);
    // Two halves of 128; in each, 2-bit field j of qs[0..31] is elements 32j..32j+31.
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t q0 = vld1q_u8(b.qs + 32 * h);
      const uint8x16_t q1 = vld1q_u8(b.qs + 32 * h + 16);
      int32x4_t s[8];
      for (int j = 0; j < 4; ++j) {
        const int8_t* ap = x.qs + 128 * h + 32 * j;
        s[2 * j] =
            Dot::template sum16<3>(vreinterpretq_s8_u8(bits_at(q0, 2 * j, k3)), vld1q_s8(ap));
        s[2 * j + 1] =
            Dot::template sum16<3>(vreinterpretq_s8_u8(bits_at(q1, 2 * j, k3)), vld1q_s8(ap + 16));
      }
      acc = add_scaled8(acc, s, h == 0 ? widen_low(scales) : widen_high(scales));
    }
    return x.d * h2f(b.d) * block_sum(acc) - x.d * h2f(b.dmin) * static_cast<float>(mins);
  });
}

template <class Dot>
float vec_dot_q3_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ3_K*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  const uint8x16_t k3 = vdupq_n_u8(3);
  const uint8x16_t k4 = vdupq_n_u8(4);
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockQ3_K& b = w[i];
    const BlockQ8_K& x = a[i];
    const int8x16_t scales = unpack_scales_q3_k(b.scales);
    const uint8x16_t hm0 = vld1q_u8(b.hmask);
    const uint8x16_t hm1 = vld1q_u8(b.hmask + 16);
    int32x4_t acc = vdupq_n_s32(0);
    // As Q2_K for the low 2 bits; hmask bit 4h+j of byte l is the high bit of the same weights.
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t q0 = vld1q_u8(b.qs + 32 * h);
      const uint8x16_t q1 = vld1q_u8(b.qs + 32 * h + 16);
      int32x4_t s[8];
      for (int j = 0; j < 4; ++j) {
        const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + j)));
        // q - 4 where the high bit is clear, q where it is set: range [-4, 3].
        const int8x16_t w0 =
            vreinterpretq_s8_u8(vsubq_u8(bits_at(q0, 2 * j, k3), vbicq_u8(k4, vtstq_u8(hm0, bit))));
        const int8x16_t w1 =
            vreinterpretq_s8_u8(vsubq_u8(bits_at(q1, 2 * j, k3), vbicq_u8(k4, vtstq_u8(hm1, bit))));
        const int8_t* ap = x.qs + 128 * h + 32 * j;
        s[2 * j] = Dot::template sum16<4>(w0, vld1q_s8(ap));
        s[2 * j + 1] = Dot::template sum16<4>(w1, vld1q_s8(ap + 16));
      }
      acc = add_scaled8(acc, s, h == 0 ? widen_low(scales) : widen_high(scales));
    }
    return x.d * h2f(b.d) * block_sum(acc);
  });
}

// Q4_K and Q5_K share one body: each 32 bytes of qs hold two 32-element sub-blocks (low
// nibbles, then high nibbles); Q5_K adds the 5th bit from qh, where bit 2g of byte l tops the
// low nibble of qs[32g + l] and bit 2g+1 the high one.
template <class Dot, bool kQ5>
int32x4_t kquant4_5_sums(const uint8_t* qs, const uint8_t* qh, const int8_t* act,
                         int16x8_t scales) {
  const uint8x16_t k16 = vdupq_n_u8(16);
  uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
  if constexpr (kQ5) {
    h0 = vld1q_u8(qh);
    h1 = vld1q_u8(qh + 16);
  }
  const auto top = [&](uint8x16_t h, int bit) {
    return vandq_u8(vtstq_u8(h, vdupq_n_u8(static_cast<uint8_t>(1u << bit))), k16);
  };
  int32x4_t s[8];
  for (int g = 0; g < 4; ++g) {
    const uint8x16_t q0 = vld1q_u8(qs + 32 * g);
    const uint8x16_t q1 = vld1q_u8(qs + 32 * g + 16);
    int8x16_t l0 = low_nibbles(q0), l1 = low_nibbles(q1);
    int8x16_t u0 = high_nibbles(q0), u1 = high_nibbles(q1);
    if constexpr (kQ5) {
      l0 = vorrq_s8(l0, vreinterpretq_s8_u8(top(h0, 2 * g)));
      l1 = vorrq_s8(l1, vreinterpretq_s8_u8(top(h1, 2 * g)));
      u0 = vorrq_s8(u0, vreinterpretq_s8_u8(top(h0, 2 * g + 1)));
      u1 = vorrq_s8(u1, vreinterpretq_s8_u8(top(h1, 2 * g + 1)));
    }
    constexpr int kMaxW = kQ5 ? 31 : 15;
    const int8_t* ap = act + 64 * g;
    s[2 * g] = Dot::template sum32<kMaxW>(l0, vld1q_s8(ap), l1, vld1q_s8(ap + 16));
    s[2 * g + 1] = Dot::template sum32<kMaxW>(u0, vld1q_s8(ap + 32), u1, vld1q_s8(ap + 48));
  }
  return add_scaled8(vdupq_n_s32(0), s, scales);
}

template <class Dot>
float vec_dot_q4_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ4_K*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockQ4_K& b = w[i];
    const BlockQ8_K& x = a[i];
    const ScalesMins8 sm = unpack_scales_mins8(b.scales);
    const int32_t mins = mins_dot8(sm.mins, x.bsums);
    const int32x4_t acc = kquant4_5_sums<Dot, false>(b.qs, nullptr, x.qs, sm.scales);
    return x.d * h2f(b.d) * block_sum(acc) - x.d * h2f(b.dmin) * static_cast<float>(mins);
  });
}

template <class Dot>
float vec_dot_q5_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockQ5_K& b = w[i];
    const BlockQ8_K& x = a[i];
    const ScalesMins8 sm = unpack_scales_mins8(b.scales);
    const int32_t mins = mins_dot8(sm.mins, x.bsums);
    const int32x4_t acc = kquant4_5_sums<Dot, true>(b.qs, b.qh, x.qs, sm.scales);
    return x.d * h2f(b.d) * block_sum(acc) - x.d * h2f(b.dmin) * static_cast<float>(mins);
  });
}

template <class Dot>
float vec_dot_q6_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const BlockQ6_K*>(vw);
  const auto* a = static_cast<const BlockQ8_K*>(va);
  const uint8x16_t k30 = vdupq_n_u8(0x30);
  const int8x16_t k32 = vdupq_n_s8(32);
  const auto weights = [&](int8x16_t nib, uint8x16_t top) {
    return vsubq_s8(vorrq_s8(nib, vreinterpretq_s8_u8(vandq_u8(top, k30))), k32);
  };
  return sum_superblocks(n / kQK_K, [&](int64_t i) {
    const BlockQ6_K& b = w[i];
    const BlockQ8_K& x = a[i];
    const int8x16_t scales = vld1q_s8(b.scales);
    int32x4_t acc = vdupq_n_s32(0);
    // Per half of 128: ql[0..31] low/high nibbles are elements 0-31 / 64-95, ql[32..63] are
    // 32-63 / 96-127; the 2-bit fields 0..3 of qh[0..31] top them in that order. Sub-block
    // (16 elements) 2k + p of the half is part k (of 4) from bytes 16p..16p+15.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* ap = x.qs + 128 * h;
      int32x4_t s[8];
      for (int p = 0; p < 2; ++p) {
        const uint8x16_t l0 = vld1q_u8(ql + 16 * p);
        const uint8x16_t l1 = vld1q_u8(ql + 32 + 16 * p);
        const uint8x16_t hb = vld1q_u8(qh + 16 * p);
        const int o = 16 * p;
        s[p] =
            Dot::template sum16<32>(weights(low_nibbles(l0), vshlq_n_u8(hb, 4)), vld1q_s8(ap + o));
        s[2 + p] = Dot::template sum16<32>(weights(low_nibbles(l1), vshlq_n_u8(hb, 2)),
                                           vld1q_s8(ap + 32 + o));
        s[4 + p] = Dot::template sum16<32>(weights(high_nibbles(l0), hb), vld1q_s8(ap + 64 + o));
        s[6 + p] = Dot::template sum16<32>(weights(high_nibbles(l1), vshrq_n_u8(hb, 2)),
                                           vld1q_s8(ap + 96 + o));
      }
      acc = add_scaled8(acc, s, h == 0 ? widen_low(scales) : widen_high(scales));
    }
    return x.d * h2f(b.d) * block_sum(acc);
  });
}

}  // namespace
}  // namespace hearth::arm
