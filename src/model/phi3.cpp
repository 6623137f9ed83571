// phi3: Phi-3 / Phi-3.5 Mini. The llama block with two fused projections: attn_qkv produces
// q | k | v in one matrix (rows [0, n_embd_q) are q, then n_embd_kv of k, then v), and ffn_up
// produces gate | up (2 n_ff rows, gate first). NEOX-style RoPE; the 128k variants carry
// LongRoPE short/long frequency factors (chosen in blocks.cpp by the context size).
#include <cmath>

#include "model/blocks.h"
#include "ops/activations.h"

namespace hearth {

Status load_phi3_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  const int64_t n_qkv = c.n_embd_q() + 2 * c.n_embd_kv();
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    auto name = [&](const char* s) { return layer_tensor(il, s); };
#define LOAD(dst, expr)           \
  do {                            \
    auto r_ = (expr);             \
    if (!r_) return r_.error();   \
    (dst) = *r_;                  \
  } while (0)
    LOAD(l.attn_norm, ld.vector(name("attn_norm.weight"), c.n_embd));
    LOAD(l.wqkv, ld.matrix(name("attn_qkv.weight"), c.n_embd, n_qkv));
    LOAD(l.wo, ld.matrix(name("attn_output.weight"), c.n_embd_q(), c.n_embd));
    LOAD(l.ffn_norm, ld.vector(name("ffn_norm.weight"), c.n_embd));
    LOAD(l.ffn_up, ld.matrix(name("ffn_up.weight"), c.n_embd, 2 * c.n_ff));
    LOAD(l.ffn_down, ld.matrix(name("ffn_down.weight"), c.n_ff, c.n_embd));
#undef LOAD
  }
  return {};
}

Status forward_phi3(ForwardContext& ctx) {
  const ModelConfig& c = ctx.config();
  const ModelWeights& w = ctx.weights();
  ForwardScratch& s = ctx.s;
  const int64_t n = ctx.n_tokens();
  const int64_t n_qkv = c.n_embd_q() + 2 * c.n_embd_kv();
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  if (Status st = embed_tokens(ctx, s.x.data()); !st) return st;  // (n, n_embd)
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    norm(ctx, l.attn_norm, nullptr, s.x.data(), s.xn.data());  // (n, n_embd)
    capture(ctx, "attn_norm", il, s.xn.data(), c.n_embd);
    if (Status st = linear(ctx, l.wqkv, nullptr, s.xn.data(), s.qkv.data()); !st) return st;  // (n, n_qkv)
    float* q = s.qkv.data();                            // (n, n_embd_q), row stride n_qkv
    float* k = q + c.n_embd_q();                        // (n, n_embd_kv), row stride n_qkv
    const float* v = k + c.n_embd_kv();                 // (n, n_embd_kv), row stride n_qkv
    if (Status st = self_attention(ctx, il, q, n_qkv, k, v, n_qkv, kq_scale, s.attn.data()); !st)
      return st;                                                                        // (n, n_embd_q)
    if (Status st = linear(ctx, l.wo, nullptr, s.attn.data(), s.proj.data()); !st) return st;  // (n, n_embd)
    add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);  // residual
    capture(ctx, "ffn_inp", il, s.x.data(), c.n_embd);

    norm(ctx, l.ffn_norm, nullptr, s.x.data(), s.xn.data());  // (n, n_embd)
    if (Status st = ffn_swiglu(ctx, l, s.xn.data(), s.proj.data()); !st) return st;  // fused gate|up
    add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);  // residual
    capture(ctx, "l_out", il, s.x.data(), c.n_embd);
  }
  return output_logits(ctx);
}

}  // namespace hearth
