// See repack_kquants.h.
#include "kernels/repack_kquants.h"

#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/unpack.h"
#include "kernels/tile.h"
#include "quant/blocks.h"

namespace hearth::kpack {
namespace {

// Unsigned q, scales and mins of one superblock, whatever the format.
struct Superblock {
  uint8_t q[kQK_K];
  int sc[16];  // per 32 (Q4_K, Q5_K: 8 used) or per 16 (Q6_K)
  int m[8];
  uint16_t d = 0, dmin = 0;
};

// Decodes one superblock straight from its bit layout (the generic ref::unpack is four times
// slower, and this runs over every weight at load).
void read_block(GgmlType type, const uint8_t* block, Superblock& s) {
  if (type == GgmlType::Q6_K) {
    const auto& b = *reinterpret_cast<const BlockQ6_K*>(block);
    // Element 128h + 32k + l: nibble k / 2 of ql[64h + 32(k % 2) + l], top bits 2k of qh[32h + l].
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo0 = b.ql[64 * h + l], lo1 = b.ql[64 * h + 32 + l], hi = b.qh[32 * h + l];
        uint8_t* q = s.q + 128 * h + l;
        q[0] = static_cast<uint8_t>((lo0 & 0x0F) | (hi & 3) << 4);
        q[32] = static_cast<uint8_t>((lo1 & 0x0F) | ((hi >> 2) & 3) << 4);
        q[64] = static_cast<uint8_t>((lo0 >> 4) | ((hi >> 4) & 3) << 4);
        q[96] = static_cast<uint8_t>((lo1 >> 4) | ((hi >> 6) & 3) << 4);
      }
    for (int g = 0; g < 16; ++g) s.sc[g] = b.scales[g];
    s.d = b.d;
    return;
  }
  // Q4_K, Q5_K: element 64c + 32k + l is nibble k of qs[32c + l]; Q5_K's fifth bit is bit
  // 2c + k of qh[l].
  const bool q5 = type == GgmlType::Q5_K;
  const auto& b4 = *reinterpret_cast<const BlockQ4_K*>(block);
  const auto& b5 = *reinterpret_cast<const BlockQ5_K*>(block);
  const uint8_t* qs = q5 ? b5.qs : b4.qs;
  const uint8_t* scales = q5 ? b5.scales : b4.scales;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      uint8_t* q = s.q + 64 * c + l;
      q[0] = qs[32 * c + l] & 0x0F;
      q[32] = qs[32 * c + l] >> 4;
      if (q5) {
        q[0] = static_cast<uint8_t>(q[0] | ((b5.qh[l] >> (2 * c)) & 1) << 4);
        q[32] = static_cast<uint8_t>(q[32] | ((b5.qh[l] >> (2 * c + 1)) & 1) << 4);
      }
    }
  for (int g = 0; g < 8; ++g) ref::kquant_scale_min(scales, g, s.sc[g], s.m[g]);
  s.d = q5 ? b5.d : b4.d;
  s.dmin = q5 ? b5.dmin : b4.dmin;
}

size_t block_bytes(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K: return sizeof(BlockQ4_K);
    case GgmlType::Q5_K: return sizeof(BlockQ5_K);
    default: return sizeof(BlockQ6_K);
  }
}

// Unsigned q of element e (0..255) of row r, read back from a unit.
int read_q(GgmlType type, const uint8_t* unit, int r, int e) {
  const Layout l = layout(type);
  const int s = e / 32, k = (e % 32) / 4, b = e % 4;
  const uint8_t* sub = unit + l.quants + s * l.sub;
  const uint8_t lo = sub[4 * (kPackRows * (k % 4) + r) + b];
  int q = k < 4 ? lo & 0x0F : lo >> 4;
  if (type == GgmlType::Q5_K) q |= ((sub[256 + 4 * r + b] >> k) & 1) << 4;
  if (type == GgmlType::Q6_K)
    q |= ((sub[256 + 64 * (k / 4) + 4 * r + b] >> (2 * (k % 4))) & 3) << 4;
  return q;
}

uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Row r's 256 unsigned q into the unit's sub-blocks, four bytes at a time (load time is part
// of the time to first token, and this runs over every weight).
void write_quants(GgmlType type, const Layout& l, const uint8_t* q, int r, uint8_t* unit) {
  for (int s = 0; s < 8; ++s) {
    const uint8_t* qs = q + 32 * s;
    uint8_t* sub = unit + l.quants + s * l.sub;
    for (int i = 0; i < 4; ++i) {
      const uint32_t w =
          (load4(qs + 4 * i) & 0x0F0F0F0Fu) | (load4(qs + 16 + 4 * i) & 0x0F0F0F0Fu) << 4;
      std::memcpy(sub + 4 * (kPackRows * i + r), &w, 4);
    }
    if (type == GgmlType::Q5_K) {
      uint32_t hi = 0;  // byte b, bit k: bit 4 of element 4k + b
      for (int k = 0; k < 8; ++k) hi |= ((load4(qs + 4 * k) >> 4) & 0x01010101u) << k;
      std::memcpy(sub + 256 + 4 * r, &hi, 4);
    } else if (type == GgmlType::Q6_K) {
      for (int plane = 0; plane < 2; ++plane) {
        uint32_t hi = 0;  // byte b, bits 2t..2t+1: bits 4..5 of element 4(4 plane + t) + b
        for (int t = 0; t < 4; ++t)
          hi |= ((load4(qs + 4 * (4 * plane + t)) >> 4) & 0x03030303u) << (2 * t);
        std::memcpy(sub + 256 + 64 * plane + 4 * r, &hi, 4);
      }
    }
  }
}

}  // namespace

void repack(GgmlType type, const void* src, size_t row_stride, int64_t ne0, int64_t nrows,
            void* dst) {
  const Layout l = layout(type);
  const auto* in = static_cast<const uint8_t*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  const int64_t nb = ne0 / kQK_K;
  Superblock sb;
  for (int64_t g = 0; g < nrows / kPackRows; ++g)
    for (int64_t j = 0; j < nb; ++j, out += l.unit) {
      std::memset(out, 0, l.quants);  // the header's padding; the quants are all written
      for (int r = 0; r < kPackRows; ++r) {
        read_block(type, in + static_cast<size_t>(kPackRows * g + r) * row_stride +
                             static_cast<size_t>(j) * block_bytes(type),
                   sb);
        std::memcpy(out + l.d + 2 * r, &sb.d, 2);
        if (type == GgmlType::Q6_K) {
          for (int s = 0; s < 8; ++s)
            for (int h = 0; h < 2; ++h)
              out[l.scales + 32 * s + 2 * r + h] = static_cast<uint8_t>(sb.sc[2 * s + h]);
        } else {
          std::memcpy(out + l.dmin + 2 * r, &sb.dmin, 2);
          for (int s = 0; s < 8; ++s) {
            out[l.scales + kPackRows * s + r] = static_cast<uint8_t>(sb.sc[s]);
            out[l.mins + 32 * (s / 2) + 2 * r + s % 2] = static_cast<uint8_t>(sb.m[s]);
          }
        }
        write_quants(type, l, sb.q, r, out);
      }
    }
}

void dequantize_row(GgmlType type, int64_t ne0, const void* packed, int64_t row, float* out) {
  const Layout l = layout(type);
  const int64_t nb = ne0 / kQK_K;
  const int r = static_cast<int>(row % kPackRows);
  const auto* base = static_cast<const uint8_t*>(packed) +
                     static_cast<size_t>(row / kPackRows * nb) * l.unit;
  for (int64_t j = 0; j < nb; ++j, out += kQK_K) {
    const uint8_t* unit = base + static_cast<size_t>(j) * l.unit;
    uint16_t dh;
    std::memcpy(&dh, unit + l.d + 2 * r, 2);
    const float d = fp16_to_f32(dh);
    // The float operations in the order of the formats' own dequantizers, so the values are
    // bit-identical to theirs.
    if (type == GgmlType::Q6_K) {
      for (int e = 0; e < kQK_K; ++e) {
        const auto sc = static_cast<int8_t>(unit[l.scales + 32 * (e / 32) + 2 * r + (e % 32) / 16]);
        out[e] = d * sc * (read_q(type, unit, r, e) - 32);
      }
      continue;
    }
    uint16_t mh;
    std::memcpy(&mh, unit + l.dmin + 2 * r, 2);
    const float dmin = fp16_to_f32(mh);
    for (int s = 0; s < 8; ++s) {
      const float d1 = d * unit[l.scales + kPackRows * s + r];
      const float m1 = dmin * unit[l.mins + 32 * (s / 2) + 2 * r + s % 2];
      for (int e = 32 * s; e < 32 * s + 32; ++e) out[e] = d1 * read_q(type, unit, r, e) - m1;
    }
  }
}

void gemm_ref(GgmlType type, int64_t ne0, const void* packed, int64_t g0, int64_t g1,
              const uint8_t* act, size_t act_stride, int n_act, float* y, size_t y_stride) {
  const Layout l = layout(type);
  const int64_t nb = ne0 / kQK_K;
  const auto* base = static_cast<const uint8_t*>(packed);
  for (int64_t g = g0; g < g1; ++g)
    for (int a = 0; a < n_act; ++a)
      for (int r = 0; r < kPackRows; ++r) {
        float sum = 0.0f;
        for (int64_t j = 0; j < nb; ++j) {
          const uint8_t* unit = base + static_cast<size_t>(g * nb + j) * l.unit;
          const auto& blk = reinterpret_cast<const BlockQ8_K*>(act + a * act_stride)[j];
          uint16_t dh;
          std::memcpy(&dh, unit + l.d + 2 * r, 2);
          if (type == GgmlType::Q6_K) {
            int64_t isum = 0;
            for (int e = 0; e < kQK_K; ++e) {
              const int sc = static_cast<int8_t>(unit[l.scales + 32 * (e / 32) + 2 * r + (e % 32) / 16]);
              isum += static_cast<int64_t>(sc) * (read_q(type, unit, r, e) - 32) * blk.qs[e];
            }
            sum += fp16_to_f32(dh) * blk.d * static_cast<float>(isum);
          } else {
            uint16_t mh;
            std::memcpy(&mh, unit + l.dmin + 2 * r, 2);
            int64_t qsum = 0, msum = 0;
            for (int e = 0; e < kQK_K; ++e) {
              const int s = e / 32;
              const int sc = unit[l.scales + kPackRows * s + r];
              const int m = unit[l.mins + 32 * (s / 2) + 2 * r + s % 2];
              qsum += static_cast<int64_t>(sc) * read_q(type, unit, r, e) * blk.qs[e];
              msum += static_cast<int64_t>(m) * blk.qs[e];
            }
            sum += blk.d * (fp16_to_f32(dh) * static_cast<float>(qsum) -
                            fp16_to_f32(mh) * static_cast<float>(msum));
          }
        }
        y[a * y_stride + kPackRows * g + r] = sum;
      }
}

void pair_sums(const void* q8k_row, int64_t nb, int32_t* out) {
  const auto* blocks = static_cast<const BlockQ8_K*>(q8k_row);
  for (int64_t j = 0; j < nb; ++j)
    for (int p = 0; p < 4; ++p) {
      const int16_t* bs = blocks[j].bsums + 4 * p;
      const auto lo = static_cast<uint16_t>(bs[0] + bs[1]);
      const auto hi = static_cast<uint16_t>(bs[2] + bs[3]);
      out[4 * j + p] = static_cast<int32_t>(static_cast<uint32_t>(lo) | static_cast<uint32_t>(hi) << 16);
    }
}

}  // namespace hearth::kpack
