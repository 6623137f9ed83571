// Scalar dequantization of the K-quants (256-element super-blocks), bit-exact with the GGUF
// definitions: each value is computed with the same float operations in the same order as
// the reference (scale*int first, then the min subtracted), so results match to the bit.
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/kquants_scales.h"

namespace hearth {

// Q2_K: the 64 qs bytes are two halves of 32; in half h, bits 2j..2j+1 of qs[32h + l] hold
// element 128h + 32j + l (l < 32), and sub-block 8h + 2j covers l < 16, 8h + 2j + 1 the rest.
void dequantize_row_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& x = blocks[b];
    const float d = fp16_to_f32(x.d);
    const float dmin = fp16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = x.qs + 32 * half;
      for (int j = 0; j < 4; ++j) {
        const int shift = 2 * j;
        for (int part = 0; part < 2; ++part) {
          const uint8_t sc = x.scales[8 * half + 2 * j + part];
          const float dl = d * (sc & 0x0F);
          const float ml = dmin * (sc >> 4);
          const uint8_t* qp = q + 16 * part;
          for (int l = 0; l < 16; ++l) *y++ = dl * ((qp[l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

// Q3_K: as Q2_K for the low 2 bits; bit (4h + j) of hmask[l] set means +4 is NOT subtracted.
void dequantize_row_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& x = blocks[b];
    const float d = fp16_to_f32(x.d);
    int8_t scales[16];
    q3k_unpack_scales(x.scales, scales);
    float* y = dst + b * kQK_K;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = x.qs + 32 * half;
      for (int j = 0; j < 4; ++j) {
        const int shift = 2 * j;
        const uint8_t mask = uint8_t(1u << (4 * half + j));
        for (int part = 0; part < 2; ++part) {
          const float dl = d * scales[8 * half + 2 * j + part];
          const uint8_t* qp = q + 16 * part;
          const uint8_t* hm = x.hmask + 16 * part;
          for (int l = 0; l < 16; ++l) {
            const int v = ((qp[l] >> shift) & 3) - ((hm[l] & mask) ? 0 : 4);
            *y++ = dl * v;
          }
        }
      }
    }
  }
}

// Q4_K: four chunks of 64; chunk c's low nibbles of qs[32c + l] are sub-block 2c, highs 2c+1.
void dequantize_row_q4_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4_K& x = blocks[b];
    const float d = fp16_to_f32(x.d);
    const float dmin = fp16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = x.qs + 32 * c;
      uint8_t sc, m;
      kquant_scale_min(2 * c, x.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      kquant_scale_min(2 * c + 1, x.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0x0F) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

// Q5_K: Q4_K plus a 5th bit: bit 2c of qh[l] for sub-block 2c, bit 2c+1 for 2c+1.
void dequantize_row_q5_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ5_K& x = blocks[b];
    const float d = fp16_to_f32(x.d);
    const float dmin = fp16_to_f32(x.dmin);
    float* y = dst + b * kQK_K;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = x.qs + 32 * c;
      const uint8_t u1 = uint8_t(1u << (2 * c)), u2 = uint8_t(2u << (2 * c));
      uint8_t sc, m;
      kquant_scale_min(2 * c, x.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      kquant_scale_min(2 * c + 1, x.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((q[l] & 0x0F) + ((x.qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((q[l] >> 4) + ((x.qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

// Q6_K: two halves of 128; in half h, element 128h + 32k + l (k = 0..3) takes its low 4 bits
// from ql[64h + l + 32*(k&1)] (low nibble for k < 2, high for k >= 2) and its top 2 bits from
// bits 2k..2k+1 of qh[32h + l]; sub-block scale index 8h + 2k + l/16.
void dequantize_row_q6_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& x = blocks[b];
    const float d = fp16_to_f32(x.d);
    float* y = dst + b * kQK_K;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x.ql + 64 * half;
      const uint8_t* qh = x.qh + 32 * half;
      const int8_t* sc = x.scales + 8 * half;
      float* yh = y + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        yh[l + 0] = d * sc[is + 0] * q1;
        yh[l + 32] = d * sc[is + 2] * q2;
        yh[l + 64] = d * sc[is + 4] * q3;
        yh[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

}  // namespace hearth
