// The shared building blocks of the decoder architectures, and the state a forward pass runs
// in. An architecture file strings these together in the order of its paper; every buffer
// here is (n_tokens, width) row-major F32 and is owned by the Session (or the BatchDecoder of
// several sessions), grown to the largest batch seen, so a decode step allocates nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/uninit_vector.h"
#include "model/model.h"
#include "ops/rope.h"
#include "runtime/kv_cache.h"
#include "runtime/thread_pool.h"

namespace hearth {

// Called with each named intermediate ("attn_norm", layer, data, rows, cols) when set; layer
// is -1 for whole-model tensors ("inp_embd", "result_norm", "result_output").
using CaptureFn = std::function<void(std::string_view name, int64_t layer, const float* data,
                                     int64_t rows, int64_t cols)>;

struct ForwardScratch {
  std::vector<float> x;        // (n, n_embd) the residual stream
  std::vector<float> xn;       // (n, n_embd) normalised input of a sub-block
  // Written before read, and untouched by architectures without the fused or parallel forms.
  UninitVector<float> qkv;     // (n, n_embd_q + 2 n_embd_kv) q | k | v per row
  std::vector<float> q, k, v;  // (n, n_embd_q), (n, n_embd_kv) ×2
  std::vector<float> attn;     // (n, n_embd_q) attention output, before attn_output
  std::vector<float> proj;     // (n, n_embd) output of a sub-block's last projection
  UninitVector<float> attn_out; // (n, n_embd) attention projection (stablelm's parallel form)
  UninitVector<float> ffn_gate; // (n, 2 n_ff) gate (| up when fused)
  std::vector<float> ffn_up;   // (n, n_ff) up, then silu(gate) * up
  std::vector<float> rope_cos, rope_sin;  // (n, rope_dims / 2)
  std::vector<float> scores;   // (threads, positions reserved in the cache) attention weights
  std::vector<float> out_norm; // (n_out, n_embd)
  std::vector<float> logits;   // (n_out, n_vocab)
  std::vector<int32_t> positions;
  std::vector<uint8_t> act;    // quantised activations for matmul

  // n_out: rows whose final norm is taken; n_logits: rows projected to the vocabulary (n_out,
  // or 0 for a hidden-states-only pass) — a prompt's prefill wants one row of logits, and
  // (n_tokens, n_vocab) floats would be 262 MB for 512 tokens of a 128k vocabulary.
  void ensure(const ModelConfig& c, int64_t n_tokens, int64_t n_out, int64_t n_logits, int64_t n_ctx,
              int n_threads);
};

// One sequence's part of a forward pass. A pass runs the rows of one or more sequences
// together (continuous batching): every projection is one matmul over all rows, while RoPE
// positions, the KV cache and attention are per segment.
struct SeqSegment {
  KvCache* kv = nullptr;    // this sequence's cache, reserved for n_past + n_rows positions
  int64_t n_past = 0;       // positions already in kv; row row0 + t is at position n_past + t
  int64_t row0 = 0;         // first row of the batch (segments are consecutive, in order)
  int64_t n_rows = 0;       // > 0
  bool all_logits = false;  // logits for every row, else only the last
  int64_t n_out() const { return all_logits ? n_rows : 1; }
};

struct ForwardContext {
  const Model& model;
  ThreadPool& pool;
  ForwardScratch& s;
  std::span<const int32_t> tokens;        // the rows of every segment, concatenated
  std::span<const SeqSegment> segments;   // cover tokens in order
  const CaptureFn* capture = nullptr;
  bool logits = true;  // false: stop after the final norm (its "result_norm" capture)

  const ModelConfig& config() const { return model.config(); }
  const ModelWeights& weights() const { return model.weights(); }
  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
};

// Runs the model over the segments: sizes the scratch, sets the positions and calls the
// architecture's forward pass. Logits land in s.logits, (Σ n_out, n_vocab) in segment order.
// The caller has reserved every cache; nothing here advances a sequence (the caller does,
// once the pass succeeded), so a failed pass leaves every sequence as it was.
// ForwardOutput::kHiddenOnly skips the output projection: s.logits is left empty and the
// final-norm rows are only seen through the "result_norm" capture (embeddings).
enum class ForwardOutput { kLogits, kHiddenOnly };
Status run_forward(const Model& model, ThreadPool& pool, ForwardScratch& s,
                   std::span<const int32_t> tokens, std::span<const SeqSegment> segments,
                   const CaptureFn* capture = nullptr, ForwardOutput output = ForwardOutput::kLogits);

void capture(ForwardContext& ctx, std::string_view name, int64_t layer, const float* data,
             int64_t cols);

// x = token_embd[tokens]: (n, n_embd). An id outside the vocabulary is an Error.
Status embed_tokens(ForwardContext& ctx, float* x);

// The model's norm (RMSNorm or LayerNorm per config) of n rows: (n, n_embd) -> (n, n_embd).
void norm(ForwardContext& ctx, const float* weight, const float* bias, const float* in, float* out);

// out = in Wᵀ (+ bias): (n, w.ne0) -> (n, w.nrows).
Status linear(ForwardContext& ctx, const WeightMatrix& w, const float* bias, const float* in,
              float* out);

// Rotates q and k, appends k and v to each segment's cache at its positions, and attends
// each segment's queries to its own cache: q (n, n_embd_q), k/v (n, n_embd_kv) with row
// strides q_stride / kv_stride -> out (n, n_embd_q). `scale` multiplies q·k.
Status self_attention(ForwardContext& ctx, int64_t layer, float* q, int64_t q_stride, float* k,
                      const float* v, int64_t kv_stride, float scale, float* out);

// The attention sub-block: q/k/v projections (separate with optional biases, or one fused
// attn_qkv), self_attention with 1/sqrt(head_dim) scaling, then attn_output:
// in (n, n_embd) normalised -> out (n, n_embd).
Status attention_block(ForwardContext& ctx, int64_t layer, const LayerWeights& l, const float* in,
                       float* out);

// SwiGLU feed-forward: down(silu(gate x) * up x): (n, n_embd) -> (n, n_embd). With a fused
// ffn_up (no ffn_gate) the first n_ff output rows are the gate, the rest the up projection.
Status ffn_swiglu(ForwardContext& ctx, const LayerWeights& l, const float* in, float* out);

// Final norm and the output projection of the rows that want logits -> ctx.s.logits.
Status output_logits(ForwardContext& ctx);

}  // namespace hearth
