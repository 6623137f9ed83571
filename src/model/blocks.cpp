// See blocks.h.
#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/fp16.h"
#include "kernels/repack.h"
#include "ops/activations.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace hearth {
namespace {

template <class Vector>
void grow(Vector& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
}

RopeParams rope_params(const ForwardContext& ctx, const SeqSegment& seg) {
  const ModelConfig& c = ctx.config();
  const ModelWeights& w = ctx.weights();
  RopeParams p;
  p.type = c.rope_type;
  p.n_rot = c.rope_dims;
  p.freq_base = c.rope_freq_base;
  p.freq_scale = c.rope_freq_scale;
  p.attn_factor = c.rope_attn_factor;
  p.freq_factors = w.rope_freqs;
  // LongRoPE (phi3 128k): the long factors once the context exceeds the trained one.
  if (w.rope_factors_short != nullptr || w.rope_factors_long != nullptr) {
    const bool long_ctx = seg.kv->n_ctx() > c.rope_ctx_orig;
    p.freq_factors = long_ctx && w.rope_factors_long ? w.rope_factors_long : w.rope_factors_short;
    if (p.freq_factors == nullptr) p.freq_factors = w.rope_factors_long;
  }
  return p;
}

}  // namespace

void ForwardScratch::ensure(const ModelConfig& c, int64_t n, int64_t n_out, int64_t n_logits, int64_t n_ctx,
                            int n_threads) {
  grow(x, n * c.n_embd);
  grow(xn, n * c.n_embd);
  grow(qkv, n * (c.n_embd_q() + 2 * c.n_embd_kv()));
  grow(q, n * c.n_embd_q());
  grow(k, n * c.n_embd_kv());
  grow(v, n * c.n_embd_kv());
  grow(attn, n * c.n_embd_q());
  grow(proj, n * c.n_embd);
  grow(attn_out, n * c.n_embd);
  grow(ffn_gate, n * 2 * c.n_ff);
  grow(ffn_up, n * c.n_ff);
  grow(rope_cos, n * c.rope_dims / 2);
  grow(rope_sin, n * c.rope_dims / 2);
  grow(scores, static_cast<int64_t>(n_threads) * n_ctx);
  grow(out_norm, n_out * c.n_embd);
  grow(logits, n_logits * c.n_vocab);
  grow(positions, n);
}

void capture(ForwardContext& ctx, std::string_view name, int64_t layer, const float* data,
             int64_t cols) {
  if (ctx.capture != nullptr && *ctx.capture) (*ctx.capture)(name, layer, data, ctx.n_tokens(), cols);
}

Status embed_tokens(ForwardContext& ctx, float* x) {
  const ModelConfig& c = ctx.config();
  const gguf::TensorInfo& e = *ctx.weights().token_embd;
  const TypeTraits& tt = type_traits(e.type);
  const size_t row = *row_bytes(e.type, c.n_embd);
  // A tied embedding's mapped pages were dropped when the output copy was repacked
  // (model/repack.h): its rows come from that copy, so they do not fault back in.
  const void* tied_packed = c.tied_output ? ctx.weights().output.packed : nullptr;
  for (int64_t t = 0; t < ctx.n_tokens(); ++t) {
    const int32_t id = ctx.tokens[static_cast<size_t>(t)];
    if (id < 0 || id >= c.n_vocab)
      return Error{"token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                   std::to_string(c.n_vocab - 1) + ")"};
    if (tied_packed != nullptr)
      dequantize_packed_row(e.type, c.n_embd, tied_packed, id, x + t * c.n_embd);
    else
      tt.dequantize(e.data + static_cast<size_t>(id) * row, x + t * c.n_embd, c.n_embd);
  }
  capture(ctx, "inp_embd", -1, x, c.n_embd);
  return {};
}

void norm(ForwardContext& ctx, const float* weight, const float* bias, const float* in, float* out) {
  const ModelConfig& c = ctx.config();
  if (c.norm_type == NormType::kRms)
    rms_norm(in, weight, ctx.n_tokens(), c.n_embd, c.norm_eps, out);
  else
    layer_norm(in, weight, bias, ctx.n_tokens(), c.n_embd, c.norm_eps, out);
}

Status linear(ForwardContext& ctx, const WeightMatrix& w, const float* bias, const float* in,
              float* out) {
  if (Status s = matmul(ctx.model.kernels(), ctx.pool, w, in, ctx.n_tokens(), out, ctx.s.act); !s)
    return s;
  if (bias != nullptr) add_bias(out, bias, ctx.n_tokens(), w.nrows);
  return {};
}

Status self_attention(ForwardContext& ctx, int64_t layer, float* q, int64_t q_stride, float* k,
                      const float* v, int64_t kv_stride, float scale, float* out) {
  const ModelConfig& c = ctx.config();
  const int64_t n = ctx.n_tokens();
  ForwardScratch& s = ctx.s;
  const int64_t half = c.rope_dims / 2;

  // Rotate the first rope_dims dimensions of every query and key head by its position.
  // The cos/sin table depends only on positions (and, for LongRoPE, on each sequence's
  // context size): built once per pass, at layer 0, a segment at a time.
  if (layer == 0) {
    for (const SeqSegment& seg : ctx.segments)
      rope_cache(rope_params(ctx, seg), s.positions.data() + seg.row0, seg.n_rows,
                 s.rope_cos.data() + seg.row0 * half, s.rope_sin.data() + seg.row0 * half);
  }
  const RopeParams rp = rope_params(ctx, ctx.segments.front());  // pairing only: same for all
  rope_apply(rp, s.rope_cos.data(), s.rope_sin.data(), q, n, q_stride, c.n_head, c.head_dim);
  rope_apply(rp, s.rope_cos.data(), s.rope_sin.data(), k, n, kv_stride, c.n_head_kv, c.head_dim);
  capture(ctx, "Qcur_rope", layer, q, q_stride);
  capture(ctx, "Kcur_rope", layer, k, kv_stride);

  // Append each segment's keys and values to its cache, in the cache's types (F16 or Q8_0).
  for (const SeqSegment& seg : ctx.segments)
    for (int64_t t = 0; t < seg.n_rows; ++t)
      seg.kv->store(layer, seg.n_past + t, k + (seg.row0 + t) * kv_stride,
                    v + (seg.row0 + t) * kv_stride);

  // Queries are packed (n, n_embd_q) for the attention op.
  const int64_t n_q = c.n_embd_q();
  const float* q_packed = q;
  if (q_stride != n_q) {
    for (int64_t t = 0; t < n; ++t)
      std::memcpy(s.q.data() + t * n_q, q + t * q_stride, sizeof(float) * static_cast<size_t>(n_q));
    q_packed = s.q.data();
  }
  AttentionParams ap;
  ap.n_head = c.n_head;
  ap.n_head_kv = c.n_head_kv;
  ap.head_dim = c.head_dim;
  ap.scale = scale;
  ap.sliding_window = c.sliding_window;
  // Each sequence sees only its own cache: one attention call per segment.
  for (const SeqSegment& seg : ctx.segments)
    attention(ctx.model.kernels(), ctx.pool, ap, seg.kv->view(layer, seg.n_past + seg.n_rows),
              q_packed + seg.row0 * n_q, s.positions.data() + seg.row0, seg.n_rows,
              s.scores.data(), out + seg.row0 * n_q);
  capture(ctx, "kqv_out", layer, out, n_q);
  return {};
}

Status attention_block(ForwardContext& ctx, int64_t layer, const LayerWeights& l, const float* in,
                       float* out) {
  const ModelConfig& c = ctx.config();
  ForwardScratch& s = ctx.s;
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  float* q = s.q.data();  // (n, n_embd_q)
  float* k = s.k.data();  // (n, n_embd_kv)
  float* v = s.v.data();  // (n, n_embd_kv)
  int64_t q_stride = c.n_embd_q();
  int64_t kv_stride = c.n_embd_kv();
  if (l.wqkv.nrows > 0) {
    // Fused: (n, n_qkv) rows of q | k | v; the views keep the fused row stride.
    const int64_t n_qkv = c.n_embd_q() + 2 * c.n_embd_kv();
    if (Status st = linear(ctx, l.wqkv, nullptr, in, s.qkv.data()); !st) return st;
    q = s.qkv.data();
    k = q + c.n_embd_q();
    v = k + c.n_embd_kv();
    q_stride = kv_stride = n_qkv;
  } else {
    if (Status st = linear(ctx, l.wq, l.bq, in, q); !st) return st;
    if (Status st = linear(ctx, l.wk, l.bk, in, k); !st) return st;
    if (Status st = linear(ctx, l.wv, l.bv, in, v); !st) return st;
  }
  if (Status st = self_attention(ctx, layer, q, q_stride, k, v, kv_stride, kq_scale, s.attn.data());
      !st)
    return st;                                                   // (n, n_embd_q)
  return linear(ctx, l.wo, nullptr, s.attn.data(), out);         // (n, n_embd)
}

Status ffn_swiglu(ForwardContext& ctx, const LayerWeights& l, const float* in, float* out) {
  const ModelConfig& c = ctx.config();
  ForwardScratch& s = ctx.s;
  const int64_t n = ctx.n_tokens();
  if (l.ffn_gate.nrows == 0) {
    // Fused: (n, 2 n_ff) = gate | up
    if (Status st = linear(ctx, l.ffn_up, nullptr, in, s.ffn_gate.data()); !st) return st;
    swiglu(s.ffn_gate.data(), 2 * c.n_ff, s.ffn_gate.data() + c.n_ff, 2 * c.n_ff, n, c.n_ff,
           s.ffn_up.data());
  } else {
    if (Status st = linear(ctx, l.ffn_gate, nullptr, in, s.ffn_gate.data()); !st) return st;  // (n, n_ff)
    if (Status st = linear(ctx, l.ffn_up, nullptr, in, s.ffn_up.data()); !st) return st;      // (n, n_ff)
    // In place over up: one (n, n_ff) buffer fewer in the resident set.
    swiglu(s.ffn_gate.data(), c.n_ff, s.ffn_up.data(), c.n_ff, n, c.n_ff, s.ffn_up.data());
  }
  return linear(ctx, l.ffn_down, nullptr, s.ffn_up.data(), out);  // (n, n_embd)
}

Status output_logits(ForwardContext& ctx) {
  const ModelConfig& c = ctx.config();
  const ModelWeights& w = ctx.weights();
  ForwardScratch& s = ctx.s;
  // Only the rows whose logits are wanted go through the (large) output matrix: every row of
  // an all_logits segment, else its last. Norms are per row, so gathering changes nothing.
  int64_t n_out = 0;
  for (const SeqSegment& seg : ctx.segments) {
    const int64_t first = seg.row0 + seg.n_rows - seg.n_out();
    const float* x = s.x.data() + first * c.n_embd;
    float* y = s.out_norm.data() + n_out * c.n_embd;
    if (c.norm_type == NormType::kRms)
      rms_norm(x, w.output_norm, seg.n_out(), c.n_embd, c.norm_eps, y);
    else
      layer_norm(x, w.output_norm, w.output_norm_b, seg.n_out(), c.n_embd, c.norm_eps, y);
    n_out += seg.n_out();
  }
  if (ctx.capture != nullptr && *ctx.capture)
    (*ctx.capture)("result_norm", -1, s.out_norm.data(), n_out, c.n_embd);
  if (!ctx.logits) return {};
  Status st = matmul(ctx.model.kernels(), ctx.pool, w.output, s.out_norm.data(), n_out,
                     s.logits.data(), s.act);
  if (st && ctx.capture != nullptr && *ctx.capture)
    (*ctx.capture)("result_output", -1, s.logits.data(), n_out, c.n_vocab);
  return st;
}

Status run_forward(const Model& model, ThreadPool& pool, ForwardScratch& s,
                   std::span<const int32_t> tokens, std::span<const SeqSegment> segments,
                   const CaptureFn* capture, ForwardOutput output) {
  if (segments.empty() || tokens.empty()) return Error{"forward: no tokens"};
  int64_t row = 0, n_kv_max = 0, n_out = 0;
  for (const SeqSegment& seg : segments) {
    // Our own bookkeeping, but cheap to check and fatal to get wrong.
    if (seg.kv == nullptr || seg.row0 != row || seg.n_rows <= 0 ||
        seg.n_past + seg.n_rows > seg.kv->reserved())
      return Error{"forward: inconsistent sequence segments"};
    row += seg.n_rows;
    n_out += seg.n_out();
    n_kv_max = std::max(n_kv_max, seg.kv->reserved());  // scores follow the filled context
  }
  if (row != static_cast<int64_t>(tokens.size())) return Error{"forward: segments do not cover the batch"};
  const bool logits = output == ForwardOutput::kLogits;
  s.ensure(model.config(), row, n_out, logits ? n_out : 0, n_kv_max, pool.size());
  for (const SeqSegment& seg : segments)
    for (int64_t t = 0; t < seg.n_rows; ++t)
      s.positions[static_cast<size_t>(seg.row0 + t)] = static_cast<int32_t>(seg.n_past + t);
  ForwardContext ctx{model, pool, s, tokens, segments, capture, logits};
  return model.forward()(ctx);
}

}  // namespace hearth
