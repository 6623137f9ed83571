// bert: BERT-style post-norm encoders (all-MiniLM-L6-v2, bge). Learned absolute positions,
// token-type embeddings (every token is type 0 for single-sentence embeddings), LayerNorm
// after each residual add rather than before each sub-block, GELU feed-forward with biases,
// and attention without a causal mask, confined to each packed sequence.
//
//   x0 = LN_embd(token_embd[id] + token_types[0] + position_embd[pos])
//   h  = LN_attn(x + Wo · attention(Wq x + bq, Wk x + bk, Wv x + bv) + bo)
//   y  = LN_out(h + W_down · gelu(W_up h + b_up) + b_down)
#include "model/bert.h"

#include <cmath>
#include <string>

#include "model/blocks.h"
#include "ops/activations.h"
#include "ops/attention_dense.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace hearth {
namespace {

template <class T>
void grow(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
}

// out = in Wᵀ + bias: (n, w.ne0) -> (n, w.nrows).
Status linear(const Model& m, ThreadPool& pool, BertScratch& s, const WeightMatrix& w,
              const float* bias, const float* in, int64_t n, float* out) {
  if (Status st = matmul(m.kernels(), pool, w, in, n, out, s.act); !st) return st;
  if (bias != nullptr) add_bias(out, bias, n, w.nrows);
  return {};
}

// Adds row `index` of an embedding table (any readable type) to out: (n_embd).
void add_row(const gguf::TensorInfo& table, int64_t index, int64_t n_embd, float* scratch,
             float* out) {
  const TypeTraits& tt = type_traits(table.type);
  const size_t row = *row_bytes(table.type, n_embd);
  tt.dequantize(table.data + static_cast<size_t>(index) * row, scratch, n_embd);
  for (int64_t i = 0; i < n_embd; ++i) out[i] += scratch[i];
}

}  // namespace

Status load_bert_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  HEARTH_LOAD(w.token_embd, ld.tensor("token_embd.weight", {c.n_embd, c.n_vocab}));
  const gguf::TensorInfo* types = ld.file().find_tensor("token_types.weight");
  if (types == nullptr) return Error{ld.file().name() + ": tensor token_types.weight is missing"};
  if (types->ne.size() != 2 || types->ne[1] < 1)
    return Error{ld.file().name() + ": tensor token_types.weight must be (n_embd, n_types)"};
  HEARTH_LOAD(w.token_types, ld.tensor("token_types.weight", {c.n_embd, types->ne[1]}));
  HEARTH_LOAD(w.position_embd, ld.tensor("position_embd.weight", {c.n_embd, c.context_length}));
  HEARTH_LOAD(w.token_embd_norm, ld.vector("token_embd_norm.weight", c.n_embd));
  HEARTH_LOAD(w.token_embd_norm_b, ld.vector("token_embd_norm.bias", c.n_embd));
  if (c.n_head_kv != c.n_head || c.n_embd_q() != c.n_embd)
    return Error{ld.file().name() + ": bert with grouped-query or resized heads is not supported"};
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    auto name = [&](const char* s) { return layer_tensor(il, s); };
    HEARTH_LOAD(l.wq, ld.matrix(name("attn_q.weight"), c.n_embd, c.n_embd));
    HEARTH_LOAD(l.wk, ld.matrix(name("attn_k.weight"), c.n_embd, c.n_embd));
    HEARTH_LOAD(l.wv, ld.matrix(name("attn_v.weight"), c.n_embd, c.n_embd));
    HEARTH_LOAD(l.bq, ld.vector(name("attn_q.bias"), c.n_embd));
    HEARTH_LOAD(l.bk, ld.vector(name("attn_k.bias"), c.n_embd));
    HEARTH_LOAD(l.bv, ld.vector(name("attn_v.bias"), c.n_embd));
    HEARTH_LOAD(l.wo, ld.matrix(name("attn_output.weight"), c.n_embd, c.n_embd));
    HEARTH_LOAD(l.bo, ld.vector(name("attn_output.bias"), c.n_embd));
    HEARTH_LOAD(l.attn_out_norm, ld.vector(name("attn_output_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.attn_out_norm_b, ld.vector(name("attn_output_norm.bias"), c.n_embd));
    HEARTH_LOAD(l.ffn_up, ld.matrix(name("ffn_up.weight"), c.n_embd, c.n_ff));
    HEARTH_LOAD(l.ffn_up_b, ld.vector(name("ffn_up.bias"), c.n_ff));
    HEARTH_LOAD(l.ffn_down, ld.matrix(name("ffn_down.weight"), c.n_ff, c.n_embd));
    HEARTH_LOAD(l.ffn_down_b, ld.vector(name("ffn_down.bias"), c.n_embd));
    HEARTH_LOAD(l.layer_out_norm, ld.vector(name("layer_output_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.layer_out_norm_b, ld.vector(name("layer_output_norm.bias"), c.n_embd));
  }
  return {};
}

Status forward_bert_logits(ForwardContext& ctx) {
  return Error{ctx.model.file().name() +
               ": a bert model computes embeddings only; it cannot generate text"};
}

// The hot function of embedding: one pass over every packed sequence.
Status encode_bert(const Model& model, ThreadPool& pool, BertScratch& s,
                   std::span<const int32_t> tokens, std::span<const int64_t> starts, float* hidden) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t d = c.n_embd;
  if (n == 0 || starts.size() < 2 || starts.front() != 0 || starts.back() != n)
    return Error{"bert: inconsistent sequence starts"};
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    const int64_t len = starts[i + 1] - starts[i];
    if (len <= 0) return Error{"bert: an empty sequence"};
    if (len > c.context_length)
      return Error{"input of " + std::to_string(len) + " tokens is longer than the model's context of " +
                   std::to_string(c.context_length)};
  }
  grow(s.x, n * d);
  grow(s.q, n * d);
  grow(s.k, n * d);
  grow(s.v, n * d);
  grow(s.attn, n * d);
  grow(s.proj, n * d);
  grow(s.ffn, n * c.n_ff);
  grow(s.row, d);

  // Input embeddings: (n, n_embd), positions restart at 0 in every sequence.
  float* x = s.x.data();
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    for (int64_t r = starts[i]; r < starts[i + 1]; ++r) {
      const int32_t id = tokens[static_cast<size_t>(r)];
      if (id < 0 || id >= c.n_vocab)
        return Error{"token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                     std::to_string(c.n_vocab - 1) + ")"};
      float* xr = x + r * d;
      std::fill(xr, xr + d, 0.0f);
      add_row(*w.token_embd, id, d, s.row.data(), xr);
      add_row(*w.token_types, 0, d, s.row.data(), xr);
      add_row(*w.position_embd, r - starts[i], d, s.row.data(), xr);
    }
  }
  layer_norm(x, w.token_embd_norm, w.token_embd_norm_b, n, d, c.norm_eps, x);

  const DenseAttentionParams ap{c.n_head, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    if (Status st = linear(model, pool, s, l.wq, l.bq, x, n, s.q.data()); !st) return st;  // (n, d)
    if (Status st = linear(model, pool, s, l.wk, l.bk, x, n, s.k.data()); !st) return st;
    if (Status st = linear(model, pool, s, l.wv, l.bv, x, n, s.v.data()); !st) return st;
    attention_dense(pool, ap, s.q.data(), s.k.data(), s.v.data(), starts, s.attn.data(), s.scores);
    if (Status st = linear(model, pool, s, l.wo, l.bo, s.attn.data(), n, s.proj.data()); !st) return st;
    add_inplace(x, s.proj.data(), n * d);  // residual, then post-norm
    layer_norm(x, l.attn_out_norm, l.attn_out_norm_b, n, d, c.norm_eps, x);

    if (Status st = linear(model, pool, s, l.ffn_up, l.ffn_up_b, x, n, s.ffn.data()); !st) return st;  // (n, n_ff)
    gelu_inplace(s.ffn.data(), n * c.n_ff);
    if (Status st = linear(model, pool, s, l.ffn_down, l.ffn_down_b, s.ffn.data(), n, s.proj.data()); !st)
      return st;  // (n, d)
    add_inplace(x, s.proj.data(), n * d);
    layer_norm(x, l.layer_out_norm, l.layer_out_norm_b, n, d, c.norm_eps, x);
  }
  std::copy(x, x + n * d, hidden);
  return {};
}

}  // namespace hearth
