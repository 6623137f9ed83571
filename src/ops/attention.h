// Causal multi-head attention of a batch of query rows over a KV cache, with grouped-query
// heads (n_head query heads share n_head_kv key/value heads: query head h reads kv head
// h / (n_head / n_head_kv)). The cache stores F16 rows in chunks of positions; the op sees it
// through a view so it knows nothing of how the cache grows.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "runtime/thread_pool.h"

namespace hearth {

// Rows of F16 K and V for positions [0, n_kv): position p's row is at
// k_chunks[p / chunk_len] + (p % chunk_len) * row_len, row_len = n_head_kv * head_dim halves.
struct KvLayerView {
  const uint16_t* const* k_chunks = nullptr;
  const uint16_t* const* v_chunks = nullptr;
  int64_t chunk_len = 0;
  int64_t row_len = 0;
  int64_t n_kv = 0;  // positions filled, including the current batch's
};

inline constexpr int64_t kMaxHeadDim = 512;

struct AttentionParams {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;        // <= kMaxHeadDim
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
