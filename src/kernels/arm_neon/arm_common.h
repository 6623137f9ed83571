// Shared pieces of the arm64 kernels: scale conversion, nibble/bit unpacking, and the contract of
// the int8 "Dot" policy that the quant kernel templates are written against.
//
// Design: a quant kernel is unpacking (nibbles, high bits, scales: identical on every ARMv8 CPU)
// plus int8×int8 products summed to int32 (the part that differs). The kernel bodies in
// *_kernels.h are templates over a Dot policy and are compiled twice: with NeonDot (ARMv8.0
// widening multiplies, arm_neon/neon_dot.h) for the Pi 4's Cortex-A72, and with SdotDot
// (SDOT, arm_dotprod/sdot_dot.h) for the Pi 5's Cortex-A76, each in its own folder with its own
// -march. Everything here sits in an unnamed namespace so each translation unit keeps its own
// copy: the linker must never merge an inline function compiled with +dotprod into the NEON
// path (a Cortex-A72 would fault on an SDOT it picked up that way).
//
// Dot policy contract (a: any int8 including -128; w: |w| <= kMaxW, a compile-time bound that
// lets NeonDot chain more products in int16 before widening; which lane of the int32x4 result
// holds which products is unspecified, only the lane total counts):
//   sum16<kMaxW>(w, a)                 Σ w·a over 16 lanes
//   sum32<kMaxW>(w0, a0, w1, a1)       Σ w0·a0 + Σ w1·a1
// All sums are exact: every kernel's integer part equals the scalar definition bit for bit.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace hearth::arm {
namespace {

// IEEE half -> float with the FCVT instruction (ARMv8.0): exact, subnormals included.
inline float h2f(uint16_t h) {
  __fp16 f;
  std::memcpy(&f, &h, sizeof f);
  return static_cast<float>(f);
}

inline int8x16_t low_nibbles(uint8x16_t v) {
  return vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
}
inline int8x16_t high_nibbles(uint8x16_t v) { return vreinterpretq_s8_u8(vshrq_n_u8(v, 4)); }

// The 32 bits of a Q5_0/Q5_1 qh word as 32 bytes, 0xFF where the bit is set: bit j -> byte j of
// m0 (j < 16) or of m1 (j >= 16). TBL spreads each source byte over 8 lanes, TST picks one bit.
struct Bits32 {
  uint8x16_t m0, m1;
};
inline Bits32 expand_bits32(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  static constexpr uint8_t kSpread0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  static constexpr uint8_t kSpread1[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t word = vreinterpretq_u8_u32(vdupq_n_u32(bits));
  const uint8x16_t bit = vld1q_u8(kBit);
  return {vtstq_u8(vqtbl1q_u8(word, vld1q_u8(kSpread0)), bit),
          vtstq_u8(vqtbl1q_u8(word, vld1q_u8(kSpread1)), bit)};
}

// Σ of the four int32 lanes, then one float multiply-add per block: the scale is applied to the
// exact block sum, as the format defines.
inline float block_sum(int32x4_t v) { return static_cast<float>(vaddvq_s32(v)); }

// Lane totals of four vectors, {Σs0, Σs1, Σs2, Σs3}, in two rounds of ADDP. The super-block
// kernels gather their sub-block sums this way so that the scales multiply four at a time.
inline int32x4_t lane_totals4(int32x4_t s0, int32x4_t s1, int32x4_t s2, int32x4_t s3) {
  return vpaddq_s32(vpaddq_s32(s0, s1), vpaddq_s32(s2, s3));
}

// acc + Σ_k s[k] · scales[k] for 8 sub-block sums and their 8 scales.
inline int32x4_t add_scaled8(int32x4_t acc, const int32x4_t s[8], int16x8_t scales) {
  acc = vmlaq_s32(acc, lane_totals4(s[0], s[1], s[2], s[3]), vmovl_s16(vget_low_s16(scales)));
  return vmlaq_s32(acc, lane_totals4(s[4], s[5], s[6], s[7]), vmovl_high_s16(scales));
}

// Runs body(i) -> float for every 32-element block i and sums the results in two interleaved
// chains: a block is short, so two in flight hide the latency of its horizontal add and scale.
template <class Body>
inline float sum_blocks(int64_t nb, Body body) {
  float s0 = 0.0f, s1 = 0.0f;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    s0 += body(i);
    s1 += body(i + 1);
  }
  if (i < nb) s0 += body(i);
  return s0 + s1;
}

// The same for 256-element super-blocks, one at a time: each already holds 8-16 independent
// sub-block sums, and interleaving two would only spill NEON registers.
template <class Body>
inline float sum_superblocks(int64_t nb, Body body) {
  float s = 0.0f;
  for (int64_t i = 0; i < nb; ++i) s += body(i);
  return s;
}

}  // namespace
}  // namespace hearth::arm
