// Packing of the K-quant sub-block scales, shared by the dequantizers, the quantizers and the
// SIMD kernels (which unpack a block's scales once, then run integer dots per sub-block).
//
// Q4_K / Q5_K: 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min, in 12 bytes:
//   bytes 0..3   low 6 bits: scale of sub-block 0..3;  top 2 bits: high bits of scale 4..7
//   bytes 4..7   low 6 bits: min   of sub-block 0..3;  top 2 bits: high bits of min   4..7
//   bytes 8..11  low nibble: low 4 bits of scale 4..7; high nibble: low 4 bits of min 4..7
// Q3_K: 16 sub-blocks of 16, each with a 6-bit scale stored biased by +32, in 12 bytes:
//   bytes 0..7   low nibble: low 4 bits of scale 0..7; high nibble: low 4 bits of scale 8..15
//   bytes 8..11  2-bit fields: byte 8 + j%4, bits 2*(j/4): high 2 bits of scale j
#pragma once

#include <cstdint>

namespace hearth {

// Scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void kquant_scale_min(int j, const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = uint8_t((packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4));
    *min = uint8_t((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
  }
}

// All 8 scales and mins at once (kernels unpack a block once).
inline void kquant_unpack_scales_mins(const uint8_t* packed, uint8_t scales[8], uint8_t mins[8]) {
  for (int j = 0; j < 8; ++j) kquant_scale_min(j, packed, &scales[j], &mins[j]);
}

// Inverse of kquant_scale_min for all 8 sub-blocks; values must be < 64.
inline void kquant_pack_scales_mins(const uint8_t scales[8], const uint8_t mins[8], uint8_t packed[12]) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = uint8_t(scales[j] | ((scales[j + 4] >> 4) << 6));
    packed[j + 4] = uint8_t(mins[j] | ((mins[j + 4] >> 4) << 6));
    packed[j + 8] = uint8_t((scales[j + 4] & 0x0F) | ((mins[j + 4] & 0x0F) << 4));
  }
}

// The 16 signed Q3_K scales (already un-biased: -32..31).
inline void q3k_unpack_scales(const uint8_t* packed, int8_t scales[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0x0F) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = int8_t((low | (high << 4)) - 32);
  }
}

// Inverse of q3k_unpack_scales; `biased` holds scale + 32, each 0..63.
inline void q3k_pack_scales(const uint8_t biased[16], uint8_t packed[12]) {
  for (int i = 0; i < 12; ++i) packed[i] = 0;
  for (int j = 0; j < 16; ++j) {
    const int v = biased[j];
    if (j < 8)
      packed[j] = uint8_t(packed[j] | (v & 0x0F));
    else
      packed[j - 8] = uint8_t(packed[j - 8] | ((v & 0x0F) << 4));
    packed[8 + j % 4] = uint8_t(packed[8 + j % 4] | ((v >> 4) << (2 * (j / 4))));
  }
}

}  // namespace hearth
