// See attention.h. One task per (query row, head): dot the query with every visible key,
// softmax, then sum the value rows weighted by the probabilities — both products through the
// kernel table (vec_dot for the scores, accumulate for the values), so they run at the ISA's
// speed. Numerically this follows llama.cpp's CPU graph for each cache type:
// - F16 K: the query is rounded to F16 (ggml converts the F32 operand of an F16 matmul), then
//   dotted in F32. Q8_0 K: the query is quantised to Q8_0 and dotted with the Q8_0 kernel,
//   as ggml's matmul (and its flash attention) does with a Q8_0 cache.
// - F32 scores and softmax.
// - F16 V (llama.cpp without flash attention): the normalised probabilities are rounded to F16
//   before they meet the F16 rows. Q8_0 V (llama.cpp needs flash attention for it): rows are
//   dequantised to F32 and summed with the unnormalised exp(s - max) weights in F32, then
//   divided by their sum.
// Rounding the query and probabilities like the reference costs nothing measurable and halves
// the distance to it on quantised models, whose 8-bit activation rounding amplifies any
// difference upstream.
#include "ops/attention.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/fp16.h"

namespace hearth {

void attention(const KernelTable& kernels, ThreadPool& pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, const int32_t* positions, int64_t n_tokens,
               float* scores, float* out) {
  assert(p.head_dim <= kMaxHeadDim);
  assert((kv.k_type == GgmlType::F16 || p.head_dim % 32 == 0) &&
         (kv.v_type == GgmlType::F16 || p.head_dim % 32 == 0));
  const FormatKernels& k_kernels = kernels.of(kv.k_type);
  const AccumulateFn accumulate = kernels.of(kv.v_type).accumulate;
  const bool k_f16 = kv.k_type == GgmlType::F16;
  const bool v_f16 = kv.v_type == GgmlType::F16;
  const int64_t v_stride_bytes = 2 * (kv.v_stride > 0 ? kv.v_stride : kv.row_len);
  const int64_t group = p.n_head / p.n_head_kv;
  const int64_t q_stride = p.n_head * p.head_dim;
  pool.parallel_for(n_tokens * p.n_head, [&](int64_t task, int thread) {
    const int64_t t = task / p.n_head;
    const int64_t h = task % p.n_head;
    const int64_t kv_head = h / group;
    const int64_t k_offset = kv_row_units(kv.k_type, kv_head * p.head_dim);
    const int64_t v_offset = kv_row_units(kv.v_type, kv_head * p.head_dim);
    const float* qh = q + t * q_stride + h * p.head_dim;
    float* oh = out + t * q_stride + h * p.head_dim;
    float* s = scores + static_cast<int64_t>(thread) * kv.n_kv;

    // The query in the activation format of the K kernel.
    alignas(64) float q_act[kMaxHeadDim];  // F16-rounded floats, or Q8_0 blocks (fewer bytes)
    if (k_f16) {
      for (int64_t d = 0; d < p.head_dim; ++d) q_act[d] = fp16_to_f32(f32_to_fp16(qh[d]));
    } else {
      k_kernels.quantize_act(qh, q_act, p.head_dim);
    }

    const int64_t last = std::min<int64_t>(positions[t], kv.n_kv - 1);
    const int64_t first =
        p.sliding_window > 0 ? std::max<int64_t>(0, positions[t] - p.sliding_window + 1) : 0;
    float max_score = -INFINITY;
    for (int64_t j = first; j <= last; ++j) {
      s[j] = k_kernels.vec_dot(p.head_dim, kv.k_at(j) + k_offset, q_act) * p.scale;
      max_score = std::max(max_score, s[j]);
    }

    // The value weights, in place of the scores; `out_scale` undoes what they leave out.
    float out_scale = 1.0f;
    if (v_f16) {
      double sum = 0.0;
      for (int64_t j = first; j <= last; ++j) {
        s[j] = std::exp(s[j] - max_score);
        sum += s[j];
      }
      const float inv_sum = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;
      for (int64_t j = first; j <= last; ++j) s[j] = fp16_to_f32(f32_to_fp16(s[j] * inv_sum));
    } else {
      float sum = 0.0f;
      for (int64_t j = first; j <= last; ++j) {
        s[j] = std::exp(s[j] - max_score);
        sum += s[j];
      }
      out_scale = sum > 0.0f ? 1.0f / sum : 0.0f;
    }

    // Weighted sum of the value rows, a run of consecutive positions per chunk.
    std::memset(oh, 0, sizeof(float) * static_cast<size_t>(p.head_dim));
    for (int64_t j = first; j <= last;) {
      const int64_t run = std::min(last + 1 - j, kv.chunk_len - j % kv.chunk_len);
      accumulate(run, s + j, kv.v_at(j) + v_offset, v_stride_bytes, p.head_dim, oh);
      j += run;
    }
    if (out_scale != 1.0f)
      for (int64_t d = 0; d < p.head_dim; ++d) oh[d] *= out_scale;
  });
}

}  // namespace hearth
