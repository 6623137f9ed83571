// Block layouts → UnpackedBlock (see unpack.h). Element order is the order the format's
// dequantizer writes; each loop names where element i's bits live.
#include "kernels/ref/unpack.h"

#include "core/fp16.h"

namespace hearth::ref {
namespace {

void one_group(UnpackedBlock& u, int n, float d) {
  u.n = n;
  u.group = n;
  u.scale[0] = 1;
  u.min[0] = 0;
  u.d = d;
  u.dmin = 0.0f;
}

// Legacy 4-bit nibbles: element j is the low nibble of qs[j], element j+16 the high one.
int nibble32(const uint8_t* qs, int i) { return i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4); }

// Q5 high bits: bit i of the 32-bit little-endian qh.
int high_bit32(const uint8_t* qh, int i) { return (qh[i / 8] >> (i % 8)) & 1; }

}  // namespace

void unpack(const BlockQ4_0& b, UnpackedBlock& u) {
  one_group(u, kQK4_0, fp16_to_f32(b.d));
  for (int i = 0; i < kQK4_0; ++i) u.q[i] = static_cast<int8_t>(nibble32(b.qs, i) - 8);
}

void unpack(const BlockQ4_1& b, UnpackedBlock& u) {
  one_group(u, kQK4_1, fp16_to_f32(b.d));
  u.dmin = -fp16_to_f32(b.m);
  u.min[0] = 1;
  for (int i = 0; i < kQK4_1; ++i) u.q[i] = static_cast<int8_t>(nibble32(b.qs, i));
}

void unpack(const BlockQ5_0& b, UnpackedBlock& u) {
  one_group(u, kQK5_0, fp16_to_f32(b.d));
  for (int i = 0; i < kQK5_0; ++i)
    u.q[i] = static_cast<int8_t>((nibble32(b.qs, i) | high_bit32(b.qh, i) << 4) - 16);
}

void unpack(const BlockQ5_1& b, UnpackedBlock& u) {
  one_group(u, kQK5_1, fp16_to_f32(b.d));
  u.dmin = -fp16_to_f32(b.m);
  u.min[0] = 1;
  for (int i = 0; i < kQK5_1; ++i)
    u.q[i] = static_cast<int8_t>(nibble32(b.qs, i) | high_bit32(b.qh, i) << 4);
}

void unpack(const BlockQ8_0& b, UnpackedBlock& u) {
  one_group(u, kQK8_0, fp16_to_f32(b.d));
  for (int i = 0; i < kQK8_0; ++i) u.q[i] = b.qs[i];
}

void unpack(const BlockIQ4_NL& b, UnpackedBlock& u) {
  one_group(u, kQK4_NL, fp16_to_f32(b.d));
  for (int i = 0; i < kQK4_NL; ++i) u.q[i] = kIQ4NLValues[nibble32(b.qs, i)];
}

// Q2_K: element i = 128h + 32j + l (h 0..1, j 0..3, l 0..31) is bits 2j..2j+1 of
// qs[32h + l]; sub-block i/16 has scale = low nibble, min = high nibble of scales[i/16].
void unpack(const BlockQ2_K& b, UnpackedBlock& u) {
  u.n = kQK_K;
  u.group = 16;
  u.d = fp16_to_f32(b.d);
  u.dmin = fp16_to_f32(b.dmin);
  for (int g = 0; g < 16; ++g) {
    u.scale[g] = b.scales[g] & 0xF;
    u.min[g] = b.scales[g] >> 4;
  }
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, j = (i % 128) / 32, l = i % 32;
    u.q[i] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * j)) & 3);
  }
}

// Q3_K: as Q2_K for the low 2 bits; the third bit of element i = 128h + 32j + l is bit 4h + j
// of hmask[l], and q = low2 - 4 when that bit is clear. Sixteen 6-bit scales (stored + 32):
// low 4 bits in scales[g % 8] (low nibble for g < 8), top 2 bits in scales[8 + g % 4] at
// bit 2 * (g / 4).
void unpack(const BlockQ3_K& b, UnpackedBlock& u) {
  u.n = kQK_K;
  u.group = 16;
  u.d = fp16_to_f32(b.d);
  u.dmin = 0.0f;
  for (int g = 0; g < 16; ++g) {
    const int low = g < 8 ? (b.scales[g] & 0xF) : (b.scales[g - 8] >> 4);
    const int high = (b.scales[8 + g % 4] >> (2 * (g / 4))) & 3;
    u.scale[g] = static_cast<int16_t>((low | high << 4) - 32);
    u.min[g] = 0;
  }
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, j = (i % 128) / 32, l = i % 32;
    const int low2 = (b.qs[32 * h + l] >> (2 * j)) & 3;
    const bool high = (b.hmask[l] >> (4 * h + j)) & 1;
    u.q[i] = static_cast<int8_t>(low2 - (high ? 0 : 4));
  }
}

void kquant_scale_min(const uint8_t* packed, int j, int& scale, int& min) {
  if (j < 4) {
    scale = packed[j] & 63;
    min = packed[j + 4] & 63;
  } else {
    scale = (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4);
    min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

namespace {

// Q4_K/Q5_K low 4 bits: element i = 64c + 32k + l is nibble k (low, high) of qs[32c + l].
int kquant_nibble(const uint8_t* qs, int i) {
  const int c = i / 64, k = (i % 64) / 32, l = i % 32;
  return (qs[32 * c + l] >> (4 * k)) & 0xF;
}

void kquant_groups32(const uint8_t* packed, UnpackedBlock& u) {
  u.n = kQK_K;
  u.group = 32;
  for (int g = 0; g < 8; ++g) {
    int scale, min;
    kquant_scale_min(packed, g, scale, min);
    u.scale[g] = static_cast<int16_t>(scale);
    u.min[g] = static_cast<int16_t>(min);
  }
}

}  // namespace

void unpack(const BlockQ4_K& b, UnpackedBlock& u) {
  kquant_groups32(b.scales, u);
  u.d = fp16_to_f32(b.d);
  u.dmin = fp16_to_f32(b.dmin);
  for (int i = 0; i < kQK_K; ++i) u.q[i] = static_cast<int8_t>(kquant_nibble(b.qs, i));
}

// Q5_K: the fifth bit of element i is bit i / 32 of qh[i % 32].
void unpack(const BlockQ5_K& b, UnpackedBlock& u) {
  kquant_groups32(b.scales, u);
  u.d = fp16_to_f32(b.d);
  u.dmin = fp16_to_f32(b.dmin);
  for (int i = 0; i < kQK_K; ++i) {
    const int high = (b.qh[i % 32] >> (i / 32)) & 1;
    u.q[i] = static_cast<int8_t>(kquant_nibble(b.qs, i) | high << 4);
  }
}

// Q6_K: element i = 128h + 32k + l: low 4 bits are nibble k / 2 of ql[64h + 32(k % 2) + l],
// top 2 bits are bits 2k..2k+1 of qh[32h + l]; q = that - 32; int8 scale per 16.
void unpack(const BlockQ6_K& b, UnpackedBlock& u) {
  u.n = kQK_K;
  u.group = 16;
  u.d = fp16_to_f32(b.d);
  u.dmin = 0.0f;
  for (int g = 0; g < 16; ++g) {
    u.scale[g] = b.scales[g];
    u.min[g] = 0;
  }
  for (int i = 0; i < kQK_K; ++i) {
    const int h = i / 128, k = (i % 128) / 32, l = i % 32;
    const int low4 = (b.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
    const int high2 = (b.qh[32 * h + l] >> (2 * k)) & 3;
    u.q[i] = static_cast<int8_t>((low4 | high2 << 4) - 32);
  }
}

// IQ4_XS: eight sub-blocks of 32, each laid out like an IQ4_NL block; 6-bit scale
// (stored + 32) = low nibble k of scales_l[g / 2] | bits 2g..2g+1 of scales_h << 4.
void unpack(const BlockIQ4_XS& b, UnpackedBlock& u) {
  u.n = kQK_K;
  u.group = 32;
  u.d = fp16_to_f32(b.d);
  u.dmin = 0.0f;
  for (int g = 0; g < 8; ++g) {
    const int low = (b.scales_l[g / 2] >> (4 * (g % 2))) & 0xF;
    const int high = (b.scales_h >> (2 * g)) & 3;
    u.scale[g] = static_cast<int16_t>((low | high << 4) - 32);
    u.min[g] = 0;
  }
  for (int i = 0; i < kQK_K; ++i)
    u.q[i] = kIQ4NLValues[nibble32(b.qs + 16 * (i / 32), i % 32)];
}

}  // namespace hearth::ref
