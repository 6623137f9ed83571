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

void read_block(GgmlType type, const uint8_t* block, Superblock& s) {
  ref::UnpackedBlock u;
  if (type == GgmlType::Q4_K) {
    const auto& b = *reinterpret_cast<const BlockQ4_K*>(block);
    ref::unpack(b, u);
    s.d = b.d;
    s.dmin = b.dmin;
  } else if (type == GgmlType::Q5_K) {
    const auto& b = *reinterpret_cast<const BlockQ5_K*>(block);
    ref::unpack(b, u);
    s.d = b.d;
    s.dmin = b.dmin;
  } else {
    const auto& b = *reinterpret_cast<const BlockQ6_K*>(block);
    ref::unpack(b, u);
    s.d = b.d;
  }
  const int offset = type == GgmlType::Q6_K ? 32 : 0;
  for (int i = 0; i < kQK_K; ++i) s.q[i] = static_cast<uint8_t>(u.q[i] + offset);
  for (int g = 0; g < kQK_K / u.group; ++g) {
    s.sc[g] = u.scale[g];
    if (g < 8) s.m[g] = u.min[g];
  }
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
      std::memset(out, 0, l.unit);
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
        for (int e = 0; e < kQK_K; ++e) {
          const int s = e / 32, k = (e % 32) / 4, b = e % 4;
          uint8_t* sub = out + l.quants + s * l.sub;
          const int q = sb.q[e];
          sub[4 * (kPackRows * (k % 4) + r) + b] |= static_cast<uint8_t>((q & 0x0F) << (k < 4 ? 0 : 4));
          if (type == GgmlType::Q5_K) sub[256 + 4 * r + b] |= static_cast<uint8_t>(((q >> 4) & 1) << k);
          if (type == GgmlType::Q6_K)
            sub[256 + 64 * (k / 4) + 4 * r + b] |= static_cast<uint8_t>(((q >> 4) & 3) << (2 * (k % 4)));
        }
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
