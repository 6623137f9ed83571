// See repack.h.
#include "kernels/repack.h"

#include <cstring>

#include "core/fp16.h"
#include "kernels/repack_kquants.h"
#include "kernels/tile.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

// Words of 4 quant bytes per block and the per-byte transform of each format.
int words_of(GgmlType type) { return type == GgmlType::Q4_0 ? 4 : 8; }

size_t unit_bytes(GgmlType type) { return 2 * kPackRows + 4 * kPackRows * words_of(type); }

}  // namespace

std::optional<size_t> packed_bytes(GgmlType type, int64_t ne0, int64_t nrows) {
  if (kpack::has_layout(type)) {
    if (nrows <= 0 || nrows % kPackRows != 0 || ne0 <= 0 || ne0 % kQK_K != 0) return std::nullopt;
    return kpack::layout(type).unit * static_cast<size_t>(ne0 / kQK_K) *
           static_cast<size_t>(nrows / kPackRows);
  }
  if (type != GgmlType::Q4_0 && type != GgmlType::Q8_0) return std::nullopt;
  if (nrows <= 0 || nrows % kPackRows != 0 || ne0 <= 0 || ne0 % 32 != 0) return std::nullopt;
  return unit_bytes(type) * static_cast<size_t>(ne0 / 32) * static_cast<size_t>(nrows / kPackRows);
}

void repack_rows(GgmlType type, const void* src, size_t row_stride, int64_t ne0, int64_t nrows,
                 void* dst) {
  if (kpack::has_layout(type)) return kpack::repack(type, src, row_stride, ne0, nrows, dst);
  const auto* in = static_cast<const uint8_t*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  const int64_t nb = ne0 / 32;
  const int words = words_of(type);
  const size_t block_bytes = type == GgmlType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  const size_t quant_offset = 2;  // both blocks: uint16 d, then the quants
  for (int64_t g = 0; g < nrows / kPackRows; ++g)
    for (int64_t j = 0; j < nb; ++j) {
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* block = in + static_cast<size_t>(16 * g + r) * row_stride + j * block_bytes;
        std::memcpy(out + 2 * r, block, 2);
        for (int i = 0; i < words; ++i) {
          uint8_t* word = out + 2 * kPackRows + 4 * (kPackRows * i + r);
          std::memcpy(word, block + quant_offset + 4 * i, 4);
          if (type == GgmlType::Q8_0)
            for (int b = 0; b < 4; ++b) word[b] ^= 0x80;  // int8 q -> uint8 q + 128
        }
      }
      out += unit_bytes(type);
    }
}

void packed_gemm_ref(GgmlType type, int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                     const uint8_t* act, size_t act_stride, int n_act, float* y, size_t y_stride) {
  if (kpack::has_layout(type))
    return kpack::gemm_ref(type, ne0, packed, g0, g1, act, act_stride, n_act, y, y_stride);
  const int64_t nb = ne0 / 32;
  const int words = words_of(type);
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
          int32_t isum = 0;
          for (int i = 0; i < words; ++i) {
            const uint8_t* word = unit + 2 * kPackRows + 4 * (kPackRows * i + r);
            for (int b = 0; b < 4; ++b) {
              if (type == GgmlType::Q4_0) {
                isum += ((word[b] & 0x0F) - 8) * blk->qs[4 * i + b];
                isum += ((word[b] >> 4) - 8) * blk->qs[16 + 4 * i + b];
              } else {
                isum += (static_cast<int32_t>(word[b]) - 128) * blk->qs[4 * i + b];
              }
            }
          }
          sum += fp16_to_f32(dw) * fp16_to_f32(blk->d) * static_cast<float>(isum);
        }
        y[a * y_stride + 16 * g + r] = sum;
      }
}

}  // namespace hearth
