// See config.h. Key names follow the GGUF spec (`<arch>.attention.head_count`, ...); defaults
// are the ones the format documents (llama.cpp uses the same) for keys converters may omit.
#include "model/config.h"

#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hearth {
namespace {

struct Keys {
  const gguf::File& file;
  const std::string& arch;

  std::string key(std::string_view suffix) const { return arch + "." + std::string(suffix); }

  // A required positive integer.
  Result<int64_t> positive(std::string_view suffix) const {
    const std::string k = key(suffix);
    Result<uint64_t> v = file.get_uint(k);
    if (!v) return Error{file.name() + ": " + v.error().message};
    if (*v == 0 || *v > (uint64_t{1} << 31))
      return Error{file.name() + ": " + k + " = " + std::to_string(*v) + " is out of range"};
    return static_cast<int64_t>(*v);
  }
  Result<int64_t> positive_or(std::string_view suffix, int64_t fallback) const {
    if (file.find(key(suffix)) == nullptr) return fallback;
    return positive(suffix);
  }
  Result<float> real_or(std::string_view suffix, float fallback) const {
    const std::string k = key(suffix);
    if (file.find(k) == nullptr) return fallback;
    Result<double> v = file.get_float(k);
    if (!v) return Error{file.name() + ": " + v.error().message};
    if (!std::isfinite(*v)) return Error{file.name() + ": " + k + " is not finite"};
    return static_cast<float>(*v);
  }
};

Result<Arch> arch_from_name(const gguf::File& file, const std::string& name) {
  if (name == "llama") return Arch::kLlama;
  if (name == "qwen2") return Arch::kQwen2;
  if (name == "phi3") return Arch::kPhi3;
  if (name == "stablelm") return Arch::kStableLm;
  if (name == "bert") return Arch::kBert;
  return Error{file.name() + ": unsupported architecture '" + name +
               "' (hearth runs llama, qwen2, phi3, stablelm, bert)"};
}

}  // namespace

Result<ModelConfig> load_config(const gguf::File& file) {
  Result<std::string> arch_name = file.get_string("general.architecture");
  if (!arch_name) return Error{file.name() + ": " + arch_name.error().message};
  Result<Arch> arch = arch_from_name(file, *arch_name);
  if (!arch) return arch.error();

  ModelConfig c;
  c.arch = *arch;
  c.arch_name = *arch_name;
  const Keys keys{file, c.arch_name};
#define HEARTH_TRY_ASSIGN(dst, expr) \
  do {                               \
    auto r_ = (expr);                \
    if (!r_) return r_.error();      \
    (dst) = *r_;                     \
  } while (0)
  HEARTH_TRY_ASSIGN(c.n_embd, keys.positive("embedding_length"));
  HEARTH_TRY_ASSIGN(c.n_layer, keys.positive("block_count"));
  HEARTH_TRY_ASSIGN(c.n_ff, keys.positive("feed_forward_length"));
  HEARTH_TRY_ASSIGN(c.n_head, keys.positive("attention.head_count"));
  HEARTH_TRY_ASSIGN(c.n_head_kv, keys.positive_or("attention.head_count_kv", c.n_head));
  HEARTH_TRY_ASSIGN(c.context_length, keys.positive("context_length"));
  if (c.n_embd % c.n_head != 0 && file.find(keys.key("attention.key_length")) == nullptr)
    return Error{file.name() + ": embedding_length " + std::to_string(c.n_embd) +
                 " is not a multiple of head_count " + std::to_string(c.n_head)};
  HEARTH_TRY_ASSIGN(c.head_dim, keys.positive_or("attention.key_length", c.n_embd / c.n_head));
  int64_t value_length = 0;
  HEARTH_TRY_ASSIGN(value_length, keys.positive_or("attention.value_length", c.head_dim));
  if (c.head_dim > kMaxHeadDim)
    return Error{file.name() + ": head size " + std::to_string(c.head_dim) + " is over " +
                 std::to_string(kMaxHeadDim)};
  if (value_length != c.head_dim)
    return Error{file.name() + ": attention.value_length != key_length is not supported"};
  if (c.n_head % c.n_head_kv != 0)
    return Error{file.name() + ": head_count " + std::to_string(c.n_head) +
                 " is not a multiple of head_count_kv " + std::to_string(c.n_head_kv)};

  // Vocabulary size: the embedding matrix is the authority (its rows are the tokens).
  const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) return Error{file.name() + ": tensor token_embd.weight is missing"};
  if (embd->ne.size() != 2)
    return Error{file.name() + ": token_embd.weight must be 2-D"};
  c.n_vocab = embd->ne[1];
  c.tied_output = file.find_tensor("output.weight") == nullptr;

  if (c.arch == Arch::kBert) {
    // An encoder: hidden states pooled into one vector. Pooling absent: mean, what the
    // sentence-transformers models (MiniLM, bge) are trained with.
    c.embedding_only = true;
    const std::string pk = keys.key("pooling_type");
    if (file.find(pk) != nullptr) {
      Result<uint64_t> p = file.get_uint(pk);
      if (!p) return Error{file.name() + ": " + p.error().message};
      if (*p > 3)
        return Error{file.name() + ": " + pk + " = " + std::to_string(*p) +
                     " is not supported (0 none, 1 mean, 2 cls, 3 last)"};
      c.pooling = static_cast<Pooling>(*p);
    }
  }

  // Norms: stablelm and bert use LayerNorm (with bias), the others RMSNorm.
  if (c.arch == Arch::kStableLm || c.arch == Arch::kBert) {
    c.norm_type = NormType::kLayer;
    if (file.find(keys.key("attention.layer_norm_epsilon")) == nullptr)
      return Error{file.name() + ": key " + keys.key("attention.layer_norm_epsilon") + " is missing"};
    HEARTH_TRY_ASSIGN(c.norm_eps, keys.real_or("attention.layer_norm_epsilon", 1e-5f));
  } else {
    c.norm_type = NormType::kRms;
    if (file.find(keys.key("attention.layer_norm_rms_epsilon")) == nullptr)
      return Error{file.name() + ": key " + keys.key("attention.layer_norm_rms_epsilon") +
                   " is missing"};
    HEARTH_TRY_ASSIGN(c.norm_eps, keys.real_or("attention.layer_norm_rms_epsilon", 1e-5f));
  }
  if (!(c.norm_eps >= 0.0f)) return Error{file.name() + ": negative norm epsilon"};

  // RoPE. llama/mistral rotate adjacent pairs; the GPT-NeoX-derived families rotate halves.
  c.rope_type = c.arch == Arch::kLlama ? RopeType::kNormal : RopeType::kNeox;
  HEARTH_TRY_ASSIGN(c.rope_dims, keys.positive_or("rope.dimension_count", c.head_dim));
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0)
    return Error{file.name() + ": rope.dimension_count " + std::to_string(c.rope_dims) +
                 " must be even and at most the head size " + std::to_string(c.head_dim)};
  HEARTH_TRY_ASSIGN(c.rope_freq_base, keys.real_or("rope.freq_base", 10000.0f));
  if (!(c.rope_freq_base > 0.0f)) return Error{file.name() + ": rope.freq_base must be positive"};
  std::string scaling = "none";
  if (file.find(keys.key("rope.scaling.type")) != nullptr) {
    Result<std::string> s = file.get_string(keys.key("rope.scaling.type"));
    if (!s) return Error{file.name() + ": " + s.error().message};
    scaling = *s;
  }
  float factor = 1.0f;
  HEARTH_TRY_ASSIGN(factor, keys.real_or("rope.scaling.factor", 1.0f));
  if (scaling == "linear") {
    if (!(factor > 0.0f)) return Error{file.name() + ": rope.scaling.factor must be positive"};
    c.rope_freq_scale = 1.0f / factor;
  } else if (scaling == "yarn") {
    return Error{file.name() + ": rope.scaling.type 'yarn' is not supported"};
  } else if (scaling != "none" && scaling != "longrope" && scaling != "") {
    return Error{file.name() + ": unknown rope.scaling.type '" + scaling + "'"};
  }
  HEARTH_TRY_ASSIGN(c.rope_attn_factor, keys.real_or("rope.scaling.attn_factor", 1.0f));
  HEARTH_TRY_ASSIGN(c.rope_ctx_orig,
                    keys.positive_or("rope.scaling.original_context_length", c.context_length));

  if (c.arch == Arch::kPhi3) {
    if (file.find(keys.key("attention.sliding_window")) != nullptr) {
      Result<uint64_t> w = file.get_uint(keys.key("attention.sliding_window"));
      if (!w) return Error{file.name() + ": " + w.error().message};
      c.sliding_window = static_cast<int64_t>(std::min<uint64_t>(*w, uint64_t{1} << 31));
    }
  }
#undef HEARTH_TRY_ASSIGN
  return c;
}

}  // namespace hearth
