// Matrix × vector and matrix × matrix over quantised weights: the hot loop of inference
// (more than 90% of a token's time is here). Ops know nothing of ISAs: the kernel table
// decides how a row is dotted, the pool how rows are spread over threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "kernels/kernels.h"
#include "quant/ggml_type.h"
#include "runtime/thread_pool.h"

namespace hearth {

// A weight matrix as a GGUF tensor stores it: nrows rows of ne0 elements, row r at
// data + r * row_stride bytes (row_stride >= the row's size; equal for a whole tensor).
struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  int64_t ne0 = 0;    // row length in elements (the input dimension)
  int64_t nrows = 0;  // the output dimension
  const void* data = nullptr;
  size_t row_stride = 0;
  // The same rows repacked for the packed GEMM kernels (kernels/repack.h), or null. Set at
  // load (model/repack.h) only where the ISA has a packed kernel for the type; `data` stays
  // valid for anything that does not use it.
  const void* packed = nullptr;
  std::shared_ptr<const void> packed_storage;  // owns `packed`
};

// y = W x: x holds ne0 floats, y receives nrows floats.
Status matvec(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              float* y);

// Y = X Wᵀ for a batch: x is (n_batch, ne0) row-major, y (n_batch, nrows) row-major, i.e.
// y[b * nrows + r] = dot(row r of W, row b of x). Each activation row is quantised once; each
// task then dots a band of weight rows with every activation row, so a batch reads the
// weights from memory once rather than n_batch times.
Status matmul(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              int64_t n_batch, float* y);

// As above, with the quantised activations kept in `act_scratch` (grown when too small), so a
// caller that owns a scratch buffer makes no allocation per call.
Status matmul(const KernelTable& kernels, ThreadPool& pool, const WeightMatrix& w, const float* x,
              int64_t n_batch, float* y, std::vector<uint8_t>& act_scratch);

}  // namespace hearth
