// One weight block written out as small integers, so every integer-dot format reads as one
// formula. The reference kernels (and the tests' tolerance bounds) use this form; the SIMD
// kernels never do: they work on the packed bits directly.
//
//   x[i] = d * scale[g] * q[i] - dmin * min[g],   g = i / group
//
// Legacy formats (32-element blocks) have one group with scale 1 and min 0, except Q4_1 and
// Q5_1 (x = d * q + m), written as dmin = -m, min = 1. IQ4_NL/IQ4_XS store the codebook value
// kIQ4NLValues[code] as q.
#pragma once

#include <cstdint>

#include "quant/blocks.h"

namespace hearth::ref {

struct UnpackedBlock {
  int n = 0;       // elements: 32 or 256
  int group = 0;   // elements per scale/min: 16, 32 or n
  int8_t q[kQK_K];
  int16_t scale[kQK_K / 16];
  int16_t min[kQK_K / 16];
  float d = 0.0f;
  float dmin = 0.0f;
};

void unpack(const BlockQ4_0& b, UnpackedBlock& u);
void unpack(const BlockQ4_1& b, UnpackedBlock& u);
void unpack(const BlockQ5_0& b, UnpackedBlock& u);
void unpack(const BlockQ5_1& b, UnpackedBlock& u);
void unpack(const BlockQ8_0& b, UnpackedBlock& u);
void unpack(const BlockIQ4_NL& b, UnpackedBlock& u);
void unpack(const BlockQ2_K& b, UnpackedBlock& u);
void unpack(const BlockQ3_K& b, UnpackedBlock& u);
void unpack(const BlockQ4_K& b, UnpackedBlock& u);
void unpack(const BlockQ5_K& b, UnpackedBlock& u);
void unpack(const BlockQ6_K& b, UnpackedBlock& u);
void unpack(const BlockIQ4_XS& b, UnpackedBlock& u);

// The 6-bit scale and min of sub-block j (0..7) of Q4_K/Q5_K, from their 12 packed bytes:
// j < 4 sit in the low 6 bits of bytes j and j+4; j >= 4 take their low 4 bits from byte j+4
// and their top 2 bits from the spare top bits of bytes j-4 and j.
void kquant_scale_min(const uint8_t* packed, int j, int& scale, int& min);

}  // namespace hearth::ref
