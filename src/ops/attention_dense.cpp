// See attention_dense.h. One task per (query row, head): scores against the sequence's keys,
// softmax in F32 (max subtracted), then the weighted sum of value rows. Plain loops: an
// encoder's sequences are short (≤ 512 for MiniLM/bge), and this is a few percent of a pass
// next to the matmuls.
#include "ops/attention_dense.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hearth {

void attention_dense(ThreadPool& pool, const DenseAttentionParams& p, const float* q,
                     const float* k, const float* v, std::span<const int64_t> starts, float* out,
                     std::vector<float>& scores) {
  if (starts.size() < 2) return;
  const int64_t n_tokens = starts.back();
  const int64_t width = p.n_head * p.head_dim;
  int64_t longest = 0;
  for (size_t i = 0; i + 1 < starts.size(); ++i) longest = std::max(longest, starts[i + 1] - starts[i]);
  const size_t need = static_cast<size_t>(pool.size()) * static_cast<size_t>(longest);
  if (scores.size() < need) scores.resize(need);

  // A row's sequence: a binary search in starts (rows are in sequence order).
  pool.parallel_for(n_tokens * p.n_head, [&](int64_t task, int thread) {
    const int64_t row = task / p.n_head;
    const int64_t h = task % p.n_head;
    const auto seq = std::upper_bound(starts.begin(), starts.end(), row) - starts.begin() - 1;
    const int64_t first = starts[static_cast<size_t>(seq)];
    const int64_t n_kv = starts[static_cast<size_t>(seq) + 1] - first;
    float* s = scores.data() + static_cast<size_t>(thread) * static_cast<size_t>(longest);
    const float* qh = q + row * width + h * p.head_dim;  // (head_dim)
    float max_s = -INFINITY;
    for (int64_t j = 0; j < n_kv; ++j) {
      const float* kh = k + (first + j) * width + h * p.head_dim;
      float dot = 0.0f;
      for (int64_t d = 0; d < p.head_dim; ++d) dot += qh[d] * kh[d];
      s[j] = dot * p.scale;
      max_s = std::max(max_s, s[j]);
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < n_kv; ++j) {
      s[j] = std::exp(s[j] - max_s);
      sum += s[j];
    }
    const float inv = 1.0f / sum;
    float* oh = out + row * width + h * p.head_dim;
    std::memset(oh, 0, sizeof(float) * static_cast<size_t>(p.head_dim));
    for (int64_t j = 0; j < n_kv; ++j) {
      const float w = s[j] * inv;
      const float* vh = v + (first + j) * width + h * p.head_dim;
      for (int64_t d = 0; d < p.head_dim; ++d) oh[d] += w * vh[d];
    }
  });
}

}  // namespace hearth
