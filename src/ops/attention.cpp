// See attention.h. One task per (query row, head): dot the query with every visible key
// (the F16 kernel of the table, F32 activations), softmax in place, then accumulate the
// value rows weighted by the probabilities. Numerically this is llama.cpp's graph without
// flash attention: F32 scores and softmax, F16 operands in both products.
#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"

namespace hearth {

void attention(const KernelTable& kernels, ThreadPool& pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, const int32_t* positions, int64_t n_tokens,
               float* scores, float* out) {
  const VecDotFn dot_f16 = kernels.of(GgmlType::F16).vec_dot;
  const int64_t group = p.n_head / p.n_head_kv;
  const int64_t q_stride = p.n_head * p.head_dim;
  pool.parallel_for(n_tokens * p.n_head, [&](int64_t task, int thread) {
    const int64_t t = task / p.n_head;
    const int64_t h = task % p.n_head;
    const int64_t kv_head = h / group;
    const float* qh = q + t * q_stride + h * p.head_dim;
    float* oh = out + t * q_stride + h * p.head_dim;
    float* s = scores + static_cast<int64_t>(thread) * kv.n_kv;
    // The query and the probabilities are rounded to F16 before they meet the F16 cache, as
    // in llama.cpp's CPU graph (ggml converts the F32 operand of an F16 matmul to F16). It
    // costs nothing measurable and halves the distance to the reference on quantised models,
    // whose 8-bit activation rounding amplifies any difference upstream.
    float q_rounded[kMaxHeadDim];
    for (int64_t d = 0; d < p.head_dim; ++d) q_rounded[d] = fp16_to_f32(f32_to_fp16(qh[d]));
    qh = q_rounded;

    const int64_t last = std::min<int64_t>(positions[t], kv.n_kv - 1);
    const int64_t first =
        p.sliding_window > 0 ? std::max<int64_t>(0, positions[t] - p.sliding_window + 1) : 0;
    float max_score = -INFINITY;
    for (int64_t j = first; j <= last; ++j) {
      const uint16_t* k = kv.k_chunks[j / kv.chunk_len] + (j % kv.chunk_len) * kv.row_len +
                          kv_head * p.head_dim;
      s[j] = dot_f16(p.head_dim, k, qh) * p.scale;
      max_score = std::max(max_score, s[j]);
    }
    double sum = 0.0;
    for (int64_t j = first; j <= last; ++j) {
      s[j] = std::exp(s[j] - max_score);
      sum += s[j];
    }
    const float inv_sum = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;

    std::memset(oh, 0, sizeof(float) * static_cast<size_t>(p.head_dim));
    for (int64_t j = first; j <= last; ++j) {
      const uint16_t* v = kv.v_chunks[j / kv.chunk_len] + (j % kv.chunk_len) * kv.row_len +
                          kv_head * p.head_dim;
      const float w = fp16_to_f32(f32_to_fp16(s[j] * inv_sum));
      for (int64_t d = 0; d < p.head_dim; ++d) oh[d] += w * fp16_to_f32(v[d]);
    }
  });
}

}  // namespace hearth
