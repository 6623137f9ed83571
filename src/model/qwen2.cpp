// qwen2: Qwen 1.5 / 2 / 2.5. The llama graph with biases on the q, k and v projections,
// NEOX-style RoPE (halves, not adjacent pairs; set in the config), and usually an output
// matrix tied to the token embedding (handled by load_common_weights).
#include "model/blocks.h"

namespace hearth {

Status load_qwen2_weights(const WeightLoader& ld, const ModelConfig& c, ModelWeights& w) {
  if (Status s = load_llama_weights(ld, c, w); !s) return s;
  for (int64_t il = 0; il < c.n_layer; ++il) {
    // The biases are part of the architecture: absent ones are a broken file.
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    Result<const float*> bq = ld.vector(layer_tensor(il, "attn_q.bias"), c.n_embd_q());
    if (!bq) return bq.error();
    Result<const float*> bk = ld.vector(layer_tensor(il, "attn_k.bias"), c.n_embd_kv());
    if (!bk) return bk.error();
    Result<const float*> bv = ld.vector(layer_tensor(il, "attn_v.bias"), c.n_embd_kv());
    if (!bv) return bv.error();
    l.bq = *bq;
    l.bk = *bk;
    l.bv = *bv;
  }
  return {};
}

Status forward_qwen2(ForwardContext& ctx) { return forward_llama(ctx); }

}  // namespace hearth
