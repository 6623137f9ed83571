// See matmul.h. Work split: weight rows are cut into bands of consecutive rows (several bands
// per thread so uneven progress balances); within a band, activation rows are taken in tiles
// small enough that the band's weights stay in L1/L2 while the tile's activations stream by.
#include "ops/matmul.h"

#include <algorithm>
#include <string>
#include <vector>

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
  pool.parallel_for(n_bands, [&](int64_t band, int) {
    const int64_t r0 = band * band_rows;
    const int64_t r1 = std::min(w.nrows, r0 + band_rows);
    for (int64_t b0 = 0; b0 < n_batch; b0 += kActTile) {
      const int64_t b1 = std::min(n_batch, b0 + kActTile);
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = weights + static_cast<size_t>(r) * w.row_stride;
        for (int64_t b = b0; b < b1; ++b)
          y[b * w.nrows + r] = vec_dot(ne0, row, act + static_cast<size_t>(b) * act_bytes);
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
