// See matmul.h. Work split: weight rows are cut into bands of consecutive rows (several bands
// per thread so uneven progress balances); within a band, activation rows are taken in tiles
// small enough that the band's weights stay in L1/L2 while the tile's activations stream by.
// Where the ISA has a tile kernel for the format (kernels/tile.h), each weight row is dotted
// with kTileActs activation rows per call, unpacking its blocks once for all of them; the
// results are bit-identical with vec_dot per pair, which is the fallback.
#include "ops/matmul.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/repack_kquants.h"
#include "kernels/tile.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

constexpr int64_t kBandsPerThread = 4;
constexpr int64_t kActTile = 16;  // activation rows per pass over a band

size_t act_row_bytes(GgmlType act_type, int64_t n) {
  if (act_type == GgmlType::F32) return static_cast<size_t>(n) * sizeof(float);
  return *row_bytes(act_type, n);
}

Status check(const KernelTable& kernels, const WeightMatrix& w) {
  const TypeTraits& tt = type_traits(w.type);
  const FormatKernels& k = kernels.of(w.type);
  if (k.vec_dot == nullptr || k.quantize_act == nullptr)
    return Error{"matmul: no kernel for " + std::string(tt.name) + " weights (ISA " +
                 std::string(isa_name(kernels.isa)) + ")"};
  if (w.ne0 <= 0 || w.nrows < 0)
    return Error{"matmul: bad shape " + std::to_string(w.ne0) + " x " + std::to_string(w.nrows)};
  if (w.ne0 % tt.block_size != 0)
    return Error{"matmul: row length " + std::to_string(w.ne0) + " is not a whole number of " +
                 std::string(tt.name) + " blocks of " + std::to_string(tt.block_size)};
  const TypeTraits& at = type_traits(k.act_type);
  if (w.ne0 % at.block_size != 0)
    return Error{"matmul: row length " + std::to_string(w.ne0) + " is not a whole number of " +
                 std::string(at.name) + " activation blocks"};
  if (w.row_stride < *row_bytes(w.type, w.ne0))
    return Error{"matmul: row stride " + std::to_string(w.row_stride) + " is shorter than a row"};
  if (w.data == nullptr && w.nrows > 0) return Error{"matmul: no weight data"};
  return {};
}

// Packed weights (Q8_0 activations, Q8_K for the K-quants): each activation row is quantised
// once together with the sums of its 32-quant blocks; a task takes a band of 16-row groups and
// runs it against kTileActs activation rows at a time, so the band (a few hundred KB) stays in L2 while the
// activations stream through L1. Decode is the same loop with one activation row.
Status matmul_packed(const FormatKernels& k, ThreadPool& pool, const WeightMatrix& w,
                     PackedGemmFn packed, const float* x, int64_t n_batch, float* y,
                     std::vector<uint8_t>& act_storage) {
  const int64_t ne0 = w.ne0;
  const bool q8k = k.act_type == GgmlType::Q8_K;
  const int64_t nb = q8k ? 4 * (ne0 / kQK_K) : ne0 / 32;  // int32 sums per activation row
  const size_t act_bytes = act_row_bytes(k.act_type, ne0);
  const size_t sums_offset = (act_bytes * static_cast<size_t>(n_batch) + 63) & ~size_t{63};
  const size_t need = sums_offset + sizeof(int32_t) * static_cast<size_t>(nb * n_batch);
  if (act_storage.size() < need) act_storage.resize(need);
  uint8_t* act = act_storage.data();
  auto* sums = reinterpret_cast<int32_t*>(act + sums_offset);
  pool.parallel_for(n_batch, [&](int64_t b, int) {
    uint8_t* row = act + static_cast<size_t>(b) * act_bytes;
    k.quantize_act(x + b * ne0, row, ne0);
    if (q8k) return kpack::pair_sums(row, ne0 / kQK_K, sums + b * nb);
    const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
    for (int64_t j = 0; j < nb; ++j) {
      int32_t s = 0;
      for (int i = 0; i < 32; ++i) s += blocks[j].qs[i];
      sums[b * nb + j] = s;
    }
  });

  const int64_t n_groups = w.nrows / kPackRows;
  const int64_t n_bands = std::min(n_groups, kBandsPerThread * pool.size());
  const int64_t band_groups = (n_groups + n_bands - 1) / n_bands;
  pool.parallel_for(n_bands, [&](int64_t band, int) {
    const int64_t g0 = band * band_groups;
    const int64_t g1 = std::min(n_groups, g0 + band_groups);
    for (int64_t b = 0; b < n_batch; b += kTileActs) {
      PackedActs acts;
      acts.q = act + static_cast<size_t>(b) * act_bytes;
      acts.q_stride = act_bytes;
      acts.sums = sums + b * nb;
      acts.sums_stride = static_cast<size_t>(nb);
      acts.n = static_cast<int>(std::min<int64_t>(kTileActs, n_batch - b));
      packed(ne0, w.packed, g0, g1, acts, y + b * w.nrows, static_cast<size_t>(w.nrows));
    }
  });
  return {};
}

}  // namespace

Status matmul(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              int64_t n_batch, float* y) {
  std::vector<uint8_t> act_storage;
  return matmul(kernels, pool, w, x, n_batch, y, act_storage);
}

Status matmul(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              int64_t n_batch, float* y, std::vector<uint8_t>& act_storage) {
  if (Status s = check(kernels, w); !s) return s;
  if (n_batch <= 0 || w.nrows == 0) return {};
  const FormatKernels& k = kernels.of(w.type);
  const int64_t ne0 = w.ne0;

  const bool packed_acts = k.act_type == (kpack::has_layout(w.type) ? GgmlType::Q8_K : GgmlType::Q8_0);
  const PackedGemmFn packed = w.packed != nullptr && packed_acts
                                  ? tile_kernels(kernels.isa).packed_of(w.type)
                                  : nullptr;
  if (packed != nullptr) return matmul_packed(k, pool, w, packed, x, n_batch, y, act_storage);

  // Quantise each activation row once (F32 activations are used in place).
  const size_t act_bytes = act_row_bytes(k.act_type, ne0);
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  if (k.act_type != GgmlType::F32) {
    if (act_storage.size() < act_bytes * static_cast<size_t>(n_batch))
      act_storage.resize(act_bytes * static_cast<size_t>(n_batch));
    uint8_t* out = act_storage.data();
    pool.parallel_for(n_batch, [&](int64_t b, int) {
      k.quantize_act(x + b * ne0, out + static_cast<size_t>(b) * act_bytes, ne0);
    });
    act = act_storage.data();
  }

  const int64_t n_bands = std::min(w.nrows, kBandsPerThread * pool.size());
  const int64_t band_rows = (w.nrows + n_bands - 1) / n_bands;
  const auto* weights = static_cast<const uint8_t*>(w.data);
  const VecDotFn vec_dot = k.vec_dot;
  const TileDotFn tile_dot = n_batch > 1 ? tile_kernels(kernels.isa).of(w.type) : nullptr;
  const size_t y_stride = static_cast<size_t>(w.nrows);
  pool.parallel_for(n_bands, [&](int64_t band, int) {
    const int64_t r0 = band * band_rows;
    const int64_t r1 = std::min(w.nrows, r0 + band_rows);
    for (int64_t b0 = 0; b0 < n_batch; b0 += kActTile) {
      const int64_t b1 = std::min(n_batch, b0 + kActTile);
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = weights + static_cast<size_t>(r) * w.row_stride;
        if (tile_dot != nullptr) {
          for (int64_t b = b0; b < b1; b += kTileActs)
            tile_dot(ne0, row, act + static_cast<size_t>(b) * act_bytes, act_bytes,
                     static_cast<int>(std::min<int64_t>(kTileActs, b1 - b)), y + b * w.nrows + r,
                     y_stride);
        } else {
          for (int64_t b = b0; b < b1; ++b)
            y[b * w.nrows + r] = vec_dot(ne0, row, act + static_cast<size_t>(b) * act_bytes);
        }
      }
    }
  });
  return {};
}

Status matvec(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              float* y) {
  return matmul(kernels, pool, w, x, 1, y);
}

}  // namespace hearth
