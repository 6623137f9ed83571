// phi3: Phi-3 / Phi-3.5 Mini. The llama block with two fused projections: attn_qkv produces
// q | k | v in one matrix (rows [0, n_embd_q) are q, then n_embd_kv of k, then v), and ffn_up
// produces gate | up (2 n_ff rows, gate first). NEOX-style RoPE; the 128k variants carry
// LongRoPE short/long frequency factors (chosen in blocks.cpp by the context size).
#include "model/blocks.h"

namespace hearth {

Status load_phi3_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  const int64_t n_qkv = c.n_embd_q() + 2 * c.n_embd_kv();
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    auto name = [&](const char* s) { return layer_tensor(il, s); };
    HEARTH_LOAD(l.attn_norm, ld.vector(name("attn_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.wqkv, ld.matrix(name("attn_qkv.weight"), c.n_embd, n_qkv));
    HEARTH_LOAD(l.wo, ld.matrix(name("attn_output.weight"), c.n_embd_q(), c.n_embd));
    HEARTH_LOAD(l.ffn_norm, ld.vector(name("ffn_norm.weight"), c.n_embd));
    HEARTH_LOAD(l.ffn_up, ld.matrix(name("ffn_up.weight"), c.n_embd, 2 * c.n_ff));
    HEARTH_LOAD(l.ffn_down, ld.matrix(name("ffn_down.weight"), c.n_ff, c.n_embd));
  }
  return {};
}

// The llama graph: attention_block and ffn_swiglu take the fused projections as they are.
Status forward_phi3(ForwardContext& ctx) { return forward_llama(ctx); }

}  // namespace hearth
