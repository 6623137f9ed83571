// stablelm: StableLM 2 (1.6B, Zephyr) and StableLM 3B. LayerNorm with bias instead of RMSNorm,
// partial rotary embeddings (NEOX pairing over the first rope_dims dimensions of each head,
// the rest pass through), optional q/k/v biases. Without ffn_norm the block is the
// parallel-residual form: attention and feed-forward both read the same normalised input.
//
//   h = x + Wo · attention(rope(Wq · ln(x) + bq), rope(Wk · ln(x) + bk), Wv · ln(x) + bv)
//   y = h + W_down · (silu(W_gate · ln(h)) ⊙ W_up · ln(h))
#include "model/blocks.h"
#include "ops/activations.h"

namespace hearth {

Status load_stablelm_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    auto name = [&](const char* s) { return layer_tensor(il, s); };
    if (ld.has(name("attn_q_norm.weight")) || ld.has(name("attn_k_norm.weight")))
      return Error{ld.file().name() + ": per-head q/k norms (" + name("attn_q_norm.weight") +
                   ", StableLM 2 12B) are not supported"};
    HEARTH_LOAD(l.attn_norm, ld.vector(name("attn_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.attn_norm_b, ld.vector(name("attn_norm.bias"), c.n_embd));
    HEARTH_LOAD(l.wq, ld.matrix(name("attn_q.weight"), c.n_embd, c.n_embd_q()));
    HEARTH_LOAD(l.wk, ld.matrix(name("attn_k.weight"), c.n_embd, c.n_embd_kv()));
    HEARTH_LOAD(l.wv, ld.matrix(name("attn_v.weight"), c.n_embd, c.n_embd_kv()));
    HEARTH_LOAD(l.bq, ld.optional_vector(name("attn_q.bias"), c.n_embd_q()));
    HEARTH_LOAD(l.bk, ld.optional_vector(name("attn_k.bias"), c.n_embd_kv()));
    HEARTH_LOAD(l.bv, ld.optional_vector(name("attn_v.bias"), c.n_embd_kv()));
    HEARTH_LOAD(l.wo, ld.matrix(name("attn_output.weight"), c.n_embd_q(), c.n_embd));
    HEARTH_LOAD(l.ffn_norm, ld.optional_vector(name("ffn_norm.weight"), c.n_embd));
    if (l.ffn_norm != nullptr) HEARTH_LOAD(l.ffn_norm_b, ld.vector(name("ffn_norm.bias"), c.n_embd));
    HEARTH_LOAD(l.ffn_gate, ld.matrix(name("ffn_gate.weight"), c.n_embd, c.n_ff));
    HEARTH_LOAD(l.ffn_up, ld.matrix(name("ffn_up.weight"), c.n_embd, c.n_ff));
    HEARTH_LOAD(l.ffn_down, ld.matrix(name("ffn_down.weight"), c.n_ff, c.n_embd));
  }
  if (c.norm_type != NormType::kLayer || w.output_norm_b == nullptr)
    return Error{ld.file().name() + ": tensor output_norm.bias is missing"};
  return {};
}

Status forward_stablelm(ForwardContext& ctx) {
  const ModelConfig& c = ctx.config();
  const ModelWeights& w = ctx.weights();
  ForwardScratch& s = ctx.s;
  const int64_t n = ctx.n_tokens();

  if (Status st = embed_tokens(ctx, s.x.data()); !st) return st;  // (n, n_embd)
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    norm(ctx, l.attn_norm, l.attn_norm_b, s.x.data(), s.xn.data());  // (n, n_embd) LayerNorm
    capture(ctx, "attn_norm", il, s.xn.data(), c.n_embd);
    float* attn_out = s.attn_out.data();  // (n, n_embd), kept apart: the parallel form adds it last
    if (Status st = attention_block(ctx, il, l, s.xn.data(), attn_out); !st) return st;

    if (l.ffn_norm == nullptr) {
      // Parallel residual: the feed-forward reads the same ln(x) as attention.
      if (Status st = ffn_swiglu(ctx, l, s.xn.data(), s.proj.data()); !st) return st;
      add_inplace(s.x.data(), attn_out, n * c.n_embd);
      add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);
    } else {
      add_inplace(s.x.data(), attn_out, n * c.n_embd);  // residual
      capture(ctx, "ffn_inp", il, s.x.data(), c.n_embd);
      norm(ctx, l.ffn_norm, l.ffn_norm_b, s.x.data(), s.xn.data());  // (n, n_embd) LayerNorm
      if (Status st = ffn_swiglu(ctx, l, s.xn.data(), s.proj.data()); !st) return st;
      add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);  // residual
    }
    capture(ctx, "l_out", il, s.x.data(), c.n_embd);
  }
  return output_logits(ctx);
}

}  // namespace hearth
