// llama: TinyLlama, Llama 2/3.x, Mistral. Pre-norm decoder with RMSNorm, rotary attention with
// adjacent-pair RoPE (Llama 3.1+ divides the frequencies by `rope_freqs`), grouped-query
// attention, and a SwiGLU feed-forward.
//
//   h = x + Wo · attention(rope(Wq · rms(x)), rope(Wk · rms(x)), Wv · rms(x))
//   y = h + W_down · (silu(W_gate · rms(h)) ⊙ W_up · rms(h))
#include "model/blocks.h"
#include "ops/activations.h"

namespace hearth {

Status load_llama_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    auto name = [&](const char* s) { return layer_tensor(il, s); };
    HEARTH_LOAD(l.attn_norm, ld.vector(name("attn_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.wq, ld.matrix(name("attn_q.weight"), c.n_embd, c.n_embd_q()));
    HEARTH_LOAD(l.wk, ld.matrix(name("attn_k.weight"), c.n_embd, c.n_embd_kv()));
    HEARTH_LOAD(l.wv, ld.matrix(name("attn_v.weight"), c.n_embd, c.n_embd_kv()));
    HEARTH_LOAD(l.wo, ld.matrix(name("attn_output.weight"), c.n_embd_q(), c.n_embd));
    // Some llama-architecture conversions carry attention biases; use them when present.
    HEARTH_LOAD(l.bq, ld.optional_vector(name("attn_q.bias"), c.n_embd_q()));
    HEARTH_LOAD(l.bk, ld.optional_vector(name("attn_k.bias"), c.n_embd_kv()));
    HEARTH_LOAD(l.bv, ld.optional_vector(name("attn_v.bias"), c.n_embd_kv()));
    HEARTH_LOAD(l.ffn_norm, ld.vector(name("ffn_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.ffn_gate, ld.matrix(name("ffn_gate.weight"), c.n_embd, c.n_ff));
    HEARTH_LOAD(l.ffn_up, ld.matrix(name("ffn_up.weight"), c.n_embd, c.n_ff));
    HEARTH_LOAD(l.ffn_down, ld.matrix(name("ffn_down.weight"), c.n_ff, c.n_embd));
  }
  return {};
}

// Also the forward pass of qwen2 and phi3 (same graph: qwen2's q/k/v biases and phi3's fused
// attn_qkv / gate|up projections are in LayerWeights, and the blocks handle both forms).
Status forward_llama(ForwardContext& ctx) {
  const ModelConfig& c = ctx.config();
  const ModelWeights& w = ctx.weights();
  ForwardScratch& s = ctx.s;
  const int64_t n = ctx.n_tokens();

  if (Status st = embed_tokens(ctx, s.x.data()); !st) return st;  // (n, n_embd)
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    norm(ctx, l.attn_norm, nullptr, s.x.data(), s.xn.data());  // (n, n_embd)
    capture(ctx, "attn_norm", il, s.xn.data(), c.n_embd);
    if (Status st = attention_block(ctx, il, l, s.xn.data(), s.proj.data()); !st) return st;  // (n, n_embd)
    add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);  // residual
    capture(ctx, "ffn_inp", il, s.x.data(), c.n_embd);

    norm(ctx, l.ffn_norm, nullptr, s.x.data(), s.xn.data());  // (n, n_embd)
    if (Status st = ffn_swiglu(ctx, l, s.xn.data(), s.proj.data()); !st) return st;  // (n, n_embd)
    add_inplace(s.x.data(), s.proj.data(), n * c.n_embd);  // residual
    capture(ctx, "l_out", il, s.x.data(), c.n_embd);
  }
  return output_logits(ctx);
}

}  // namespace hearth
