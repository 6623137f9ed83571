// NeonDot: int8 dot products on ARMv8.0 Advanced SIMD, for the Raspberry Pi 4's Cortex-A72.
//
// The A72 has no SDOT: its two 128-bit NEON pipes multiply int8 only through the widening
// SMULL/SMLAL (8 products int8×int8 -> int16 per instruction, low or high half), then SADALP
// folds adjacent int16 pairs into int32. The cheapest exact route is to chain as many SMLALs into
// one int16 lane as cannot overflow, and widen once: with |a| <= 128 and |w| <= kMaxW a lane
// holding k products stays exact while k·kMaxW·128 <= 32767. So 4-bit weights (|w| <= 16) chain
// all 4 products of a 32-element block before one SADALP; IQ4 values (|w| <= 127) chain 2; Q8_0
// weights (which a file may set to -128) widen every product. The bound is a template argument,
// so the choice costs nothing at run time.
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace hearth::arm {
namespace {

struct NeonDot {
  // Products of one 16-lane pair that one int16 lane may hold without overflow.
  template <int kMaxW>
  static constexpr int kChain = 32767 / (kMaxW * 128);

  // 16 products into 8 int16 lanes (2 per lane); only when kChain >= 2.
  static int16x8_t mul16(int8x16_t w, int8x16_t a) {
    const int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(a));
    return vmlal_high_s8(p, w, a);
  }

  template <int kMaxW>
  static int32x4_t sum16(int8x16_t w, int8x16_t a) {
    if constexpr (kChain<kMaxW> >= 2) {
      return vpaddlq_s16(mul16(w, a));
    } else {
      const int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a)));
      return vpadalq_s16(s, vmull_high_s8(w, a));
    }
  }

  template <int kMaxW>
  static int32x4_t sum32(int8x16_t w0, int8x16_t a0, int8x16_t w1, int8x16_t a1) {
    if constexpr (kChain<kMaxW> >= 4) {
      int16x8_t p = mul16(w0, a0);
      p = vmlal_s8(p, vget_low_s8(w1), vget_low_s8(a1));
      p = vmlal_high_s8(p, w1, a1);
      return vpaddlq_s16(p);
    } else if constexpr (kChain<kMaxW> >= 2) {
      return vpadalq_s16(vpaddlq_s16(mul16(w0, a0)), mul16(w1, a1));
    } else {
      int32x4_t s = sum16<kMaxW>(w0, a0);
      s = vpadalq_s16(s, vmull_s8(vget_low_s8(w1), vget_low_s8(a1)));
      return vpadalq_s16(s, vmull_high_s8(w1, a1));
    }
  }
};

}  // namespace
}  // namespace hearth::arm
