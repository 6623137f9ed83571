// Bidirectional (unmasked) multi-head attention over F32 rows, for encoders (bert): every
// query of a sequence sees every key of the same sequence and nothing else, so several
// sequences packed back to back into one batch attend exactly as they would one at a time.
// No KV cache: an encoder runs each input once, so keys and values stay in the F32 rows the
// projections wrote.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/thread_pool.h"

namespace hearth {

struct DenseAttentionParams {
  int64_t n_head = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // multiplies q·k, usually 1/sqrt(head_dim)
};

// q, k, v: (n_tokens, n_head * head_dim) row-major; out: same shape. starts: the first row of
// each sequence followed by n_tokens (so sequence i is rows [starts[i], starts[i+1])).
// scores: scratch, grown to pool.size() * the longest sequence.
void attention_dense(ThreadPool& pool, const DenseAttentionParams& p, const float* q,
                     const float* k, const float* v, std::span<const int64_t> starts, float* out,
                     std::vector<float>& scores);

}  // namespace hearth
