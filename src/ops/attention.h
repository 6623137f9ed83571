// Causal multi-head attention of a batch of query rows over a KV cache, with grouped-query
// heads (n_head query heads share n_head_kv key/value heads: query head h reads kv head
// h / (n_head / n_head_kv)). The cache stores F16 or Q8_0 rows in chunks of positions; the op
// sees it through a view so it knows nothing of how the cache grows.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "quant/ggml_type.h"
#include "runtime/thread_pool.h"

namespace hearth {

// 16-bit units that n elements of a KV cache type take: n halves (F16), or n / 32 Q8_0 blocks
// of 17 units (34 bytes) each.
constexpr int64_t kv_row_units(GgmlType type, int64_t n) {
  return type == GgmlType::Q8_0 ? n / 32 * 17 : n;
}

// Rows of K and V for positions [0, n_kv): position p's K row starts at
// k_chunks[p / chunk_len] + (p % chunk_len) * k_stride (16-bit units; k_stride == row_len for
// F16), row_len = n_head_kv * head_dim elements; likewise V.
struct KvLayerView {
  const uint16_t* const* k_chunks = nullptr;
  const uint16_t* const* v_chunks = nullptr;
  int64_t chunk_len = 0;
  int64_t row_len = 0;
  int64_t n_kv = 0;  // positions filled, including the current batch's
  GgmlType k_type = GgmlType::F16;
  GgmlType v_type = GgmlType::F16;
  int64_t k_stride = 0, v_stride = 0;  // 16-bit units per position; 0: row_len (F16)

  const uint16_t* k_at(int64_t pos) const {
    return k_chunks[pos / chunk_len] + (pos % chunk_len) * (k_stride > 0 ? k_stride : row_len);
  }
  const uint16_t* v_at(int64_t pos) const {
    return v_chunks[pos / chunk_len] + (pos % chunk_len) * (v_stride > 0 ? v_stride : row_len);
  }
};

inline constexpr int64_t kMaxHeadDim = 512;

struct AttentionParams {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;        // <= kMaxHeadDim; a multiple of 32 with a Q8_0 K or V
  float scale = 1.0f;          // applied to q·k, usually 1/sqrt(head_dim)
  int64_t sliding_window = 0;  // > 0: key p is hidden from query q when q - p >= window
};

// q: (n_tokens, n_head * head_dim); positions: the position of each query row; out: same shape
// as q. `scores` is scratch of pool.size() * kv.n_kv floats. Query at position p attends to
// keys 0..p (causal mask).
void attention(const KernelTable& kernels, ThreadPool& pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, const int32_t* positions, int64_t n_tokens,
               float* scores, float* out);

}  // namespace hearth
