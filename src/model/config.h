// Model hyperparameters read from GGUF metadata (`<arch>.*` keys): runtime data, never template
// parameters (STYLE habit 4). Every key the forward pass depends on is checked here, once, so
// the architecture files can trust the numbers.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "gguf/reader.h"
#include "ops/rope.h"

namespace hearth {

enum class Arch { kLlama, kQwen2, kPhi3, kStableLm, kBert };

// How an embedding model turns its per-token hidden states into one vector (the GGUF
// `<arch>.pooling_type` values, as llama.cpp numbers them).
enum class Pooling { kNone = 0, kMean = 1, kCls = 2, kLast = 3 };

enum class NormType { kRms, kLayer };  // RMSNorm (weight only) or LayerNorm (weight + bias)

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string arch_name;       // general.architecture
  int64_t n_embd = 0;          // model width
  int64_t n_layer = 0;
  int64_t n_head = 0;          // query heads
  int64_t n_head_kv = 0;       // key/value heads (< n_head: grouped-query attention)
  int64_t head_dim = 0;        // n_embd / n_head unless attention.key_length says otherwise
  int64_t n_ff = 0;            // feed-forward hidden width
  int64_t n_vocab = 0;
  int64_t context_length = 0;  // training context
  NormType norm_type = NormType::kRms;
  float norm_eps = 1e-5f;

  // RoPE: theta(pos, i) = pos * freq_scale * freq_base^(-2i / rope_dims) / factor_i, applied to
  // the first rope_dims dimensions of each head (partial rotary when < head_dim).
  RopeType rope_type = RopeType::kNormal;
  int64_t rope_dims = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;   // 1 / rope.scaling.factor for linear scaling
  float rope_attn_factor = 1.0f;  // multiplies cos/sin (phi3 LongRoPE's attention factor)
  int64_t rope_ctx_orig = 0;      // rope.scaling.original_context_length (LongRoPE switch point)

  int64_t sliding_window = 0;  // 0: attend to the whole context
  bool tied_output = false;    // logits through token_embd (no output.weight)

  // Embedding models (bert): no logits, only hidden states pooled per `pooling`.
  bool embedding_only = false;
  Pooling pooling = Pooling::kMean;  // bert: <arch>.pooling_type; decoders: asked per request

  int64_t n_embd_q() const { return n_head * head_dim; }
  int64_t n_embd_kv() const { return n_head_kv * head_dim; }
};

// Reads and validates the hyperparameters; an unknown architecture or a missing or
// out-of-range key is an Error naming it.
Result<ModelConfig> load_config(const gguf::File& file);

}  // namespace hearth
