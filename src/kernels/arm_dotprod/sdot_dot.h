// SdotDot: int8 dot products with SDOT (ARMv8.2 dot-product extension), for the Raspberry Pi 5's
// Cortex-A76.
//
// One SDOT multiplies 16 int8 pairs and adds each group of 4 products into one int32 lane: 16
// products per instruction, exact for any inputs (including -128·-128), against the 8 products
// of an A72 SMULL plus the SADALP it needs to widen. So the weight-magnitude bound that NeonDot
// uses to chain int16 products is irrelevant here. Only compiled in this folder
// (-march=armv8.2-a+dotprod) and only reached when the CPU reports ASIMDDP.
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace hearth::arm {
namespace {

struct SdotDot {
  template <int kMaxW>
  static int32x4_t sum16(int8x16_t w, int8x16_t a) {
    return vdotq_s32(vdupq_n_s32(0), w, a);
  }

  template <int kMaxW>
  static int32x4_t sum32(int8x16_t w0, int8x16_t a0, int8x16_t w1, int8x16_t a1) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, a0), w1, a1);
  }
};

}  // namespace
}  // namespace hearth::arm
