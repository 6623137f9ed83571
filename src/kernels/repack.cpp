// See repack.h.
#include "kernels/repack.h"

#include <cstring>

#include "core/fp16.h"
#include "kernels/repack_kquants.h"
#include "kernels/tile.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

bool has_block_layout(GgmlType type) {
  return type == GgmlType::Q4_0 || type == GgmlType::Q5_0 || type == GgmlType::Q8_0;
}

// Words of 4 quant bytes per block (Q5_0: its low nibbles as Q4_0, then one word of fifth bits).
int words_of(GgmlType type) { return type == GgmlType::Q8_0 ? 8 : type == GgmlType::Q5_0 ? 5 : 4; }

size_t unit_bytes(GgmlType type) { return 2 * kPackRows + 4 * kPackRows * words_of(type); }

size_t block_bytes_of(GgmlType type) {
  return type == GgmlType::Q4_0 ? sizeof(BlockQ4_0)
         : type == GgmlType::Q5_0 ? sizeof(BlockQ5_0)
                                  : sizeof(BlockQ8_0);
}

// Q5_0's fifth bits regrouped so that byte b, bit k holds element 4k + b's: the bits that
// complete packed word k then sit at bit k of every byte, one shift away from bit 4.
uint32_t spread_high_bits(uint32_t qh) {
  uint32_t out = 0;
  for (int b = 0; b < 4; ++b) {
    // Bits b, b+4, ..., b+28 gathered into one byte, two at a time, then four, then eight.
    uint32_t x = (qh >> b) & 0x11111111u;
    x = (x | x >> 3) & 0x03030303u;
    x = (x | x >> 6) & 0x000F000Fu;
    x = (x | x >> 12) & 0xFFu;
    out |= x << (8 * b);
  }
  return out;
}

}  // namespace

std::optional<size_t> packed_bytes(GgmlType type, int64_t ne0, int64_t nrows) {
  if (kpack::has_layout(type)) {
    if (nrows <= 0 || nrows % kPackRows != 0 || ne0 <= 0 || ne0 % kQK_K != 0) return std::nullopt;
    return kpack::layout(type).unit * static_cast<size_t>(ne0 / kQK_K) *
           static_cast<size_t>(nrows / kPackRows);
  }
  if (!has_block_layout(type)) return std::nullopt;
  if (nrows <= 0 || nrows % kPackRows != 0 || ne0 <= 0 || ne0 % 32 != 0) return std::nullopt;
  return unit_bytes(type) * static_cast<size_t>(ne0 / 32) * static_cast<size_t>(nrows / kPackRows);
}

void repack_rows(GgmlType type, const void* src, size_t row_stride, int64_t ne0, int64_t nrows,
                 void* dst) {
  if (kpack::has_layout(type)) return kpack::repack(type, src, row_stride, ne0, nrows, dst);
  const auto* in = static_cast<const uint8_t*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  const int64_t nb = ne0 / 32;
  const bool q5 = type == GgmlType::Q5_0;
  const int quant_words = q5 ? 4 : words_of(type);
  const size_t block_bytes = block_bytes_of(type);
  // Every block starts with uint16 d; Q5_0 has its 4 bytes of fifth bits before the nibbles.
  const size_t quant_offset = q5 ? 6 : 2;
  // Q8_0: int8 q -> uint8 q + 128, four at a time.
  const uint32_t flip = type == GgmlType::Q8_0 ? 0x80808080u : 0u;
  for (int64_t g = 0; g < nrows / kPackRows; ++g)
    for (int64_t j = 0; j < nb; ++j) {
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* block = in + static_cast<size_t>(16 * g + r) * row_stride + j * block_bytes;
        std::memcpy(out + 2 * r, block, 2);
        for (int i = 0; i < quant_words; ++i) {
          uint32_t word;
          std::memcpy(&word, block + quant_offset + 4 * i, 4);
          word ^= flip;
          std::memcpy(out + 2 * kPackRows + 4 * (kPackRows * i + r), &word, 4);
        }
        if (q5) {
          uint32_t qh;
          std::memcpy(&qh, block + 2, 4);
          const uint32_t spread = spread_high_bits(qh);
          std::memcpy(out + 2 * kPackRows + 4 * (kPackRows * 4 + r), &spread, 4);
        }
      }
      out += unit_bytes(type);
    }
}

void dequantize_packed_row(GgmlType type, int64_t ne0, const void* packed, int64_t row,
                           float* out) {
  if (kpack::has_layout(type)) return kpack::dequantize_row(type, ne0, packed, row, out);
  const int64_t nb = ne0 / 32;
  const int r = static_cast<int>(row % kPackRows);
  const auto* unit = static_cast<const uint8_t*>(packed) +
                     static_cast<size_t>(row / kPackRows * nb) * unit_bytes(type);
  for (int64_t j = 0; j < nb; ++j, unit += unit_bytes(type), out += 32) {
    uint16_t dh;
    std::memcpy(&dh, unit + 2 * r, 2);
    const float d = fp16_to_f32(dh);
    const auto word_of = [&](int i) { return unit + 2 * kPackRows + 4 * (kPackRows * i + r); };
    // Element 4k + b sits in byte b of word k (Q8_0), or in the low (k < 4) or high nibble
    // of word k % 4 with its fifth bit at bit k of byte b of word 4 (Q5_0); the products are
    // the dequantizers' own, so the floats match them bit for bit.
    for (int k = 0; k < 8; ++k)
      for (int b = 0; b < 4; ++b) {
        if (type == GgmlType::Q8_0) {
          out[4 * k + b] = static_cast<int8_t>(word_of(k)[b] ^ 0x80) * d;
          continue;
        }
        const uint8_t byte = word_of(k % 4)[b];
        int q = k < 4 ? byte & 0x0F : byte >> 4;
        if (type == GgmlType::Q5_0) q |= ((word_of(4)[b] >> k) & 1) << 4;
        out[4 * k + b] = float(q - (type == GgmlType::Q5_0 ? 16 : 8)) * d;
      }
  }
}

void packed_gemm_ref(GgmlType type, int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                     const uint8_t* act, size_t act_stride, int n_act, float* y, size_t y_stride) {
  if (kpack::has_layout(type))
    return kpack::gemm_ref(type, ne0, packed, g0, g1, act, act_stride, n_act, y, y_stride);
  const int64_t nb = ne0 / 32;
  const auto* base = static_cast<const uint8_t*>(packed);
  for (int64_t g = g0; g < g1; ++g)
    for (int a = 0; a < n_act; ++a)
      for (int r = 0; r < kPackRows; ++r) {
        float sum = 0.0f;
        for (int64_t j = 0; j < nb; ++j) {
          const uint8_t* unit = base + (g * nb + j) * unit_bytes(type);
          const auto* blk = reinterpret_cast<const BlockQ8_0*>(act + a * act_stride) + j;
          uint16_t dw;
          std::memcpy(&dw, unit + 2 * r, 2);
          const auto word_of = [&](int i) {
            return unit + 2 * kPackRows + 4 * (kPackRows * i + r);
          };
          int32_t isum = 0;
          if (type == GgmlType::Q8_0) {
            for (int i = 0; i < 8; ++i)
              for (int b = 0; b < 4; ++b)
                isum += (static_cast<int32_t>(word_of(i)[b]) - 128) * blk->qs[4 * i + b];
          } else {
            // Element 4k + b: nibble of word k % 4 (low for k < 4), fifth bit at byte b, bit k.
            const uint8_t* high = type == GgmlType::Q5_0 ? word_of(4) : nullptr;
            const int offset = high != nullptr ? 16 : 8;
            for (int k = 0; k < 8; ++k)
              for (int b = 0; b < 4; ++b) {
                const uint8_t byte = word_of(k % 4)[b];
                int q = k < 4 ? byte & 0x0F : byte >> 4;
                if (high != nullptr) q |= ((high[b] >> k) & 1) << 4;
                isum += (q - offset) * blk->qs[4 * k + b];
              }
          }
          sum += fp16_to_f32(dw) * fp16_to_f32(blk->d) * static_cast<float>(isum);
        }
        y[a * y_stride + 16 * g + r] = sum;
      }
}

}  // namespace hearth
