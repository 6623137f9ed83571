// The quantization mixes of llama.cpp's llama-quantize (llama_tensor_get_type in
// src/llama-quant.cpp at commit c392e509), restated: which tensors get more bits than the
// mix's base type. The rules are heuristics its authors tuned by perplexity; we reproduce them
// so a file quantized here has the same tensor types as llama.cpp's.
#include "tools/quant_mix.h"

#include <algorithm>
#include <cctype>

#include "quant/ggml_type.h"

namespace hearth {
namespace {

// llama_ftype values, as written to general.file_type.
enum Ftype : uint32_t {
  kAllF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ4_NL = 25,
  kIQ4_XS = 30,
  kBF16 = 32,
};

struct MixRow {
  std::string_view name;
  GgmlType base;
  uint32_t file_type;
};

using T = GgmlType;
constexpr MixRow kMixes[] = {
    {"F32", T::F32, kAllF32},      {"F16", T::F16, kF16},         {"BF16", T::BF16, kBF16},
    {"Q4_0", T::Q4_0, kQ4_0},      {"Q4_1", T::Q4_1, kQ4_1},      {"Q5_0", T::Q5_0, kQ5_0},
    {"Q5_1", T::Q5_1, kQ5_1},      {"Q8_0", T::Q8_0, kQ8_0},      {"Q2_K", T::Q2_K, kQ2_K},
    {"Q3_K_S", T::Q3_K, kQ3_K_S},  {"Q3_K_M", T::Q3_K, kQ3_K_M},  {"Q3_K_L", T::Q3_K, kQ3_K_L},
    {"Q4_K_S", T::Q4_K, kQ4_K_S},  {"Q4_K_M", T::Q4_K, kQ4_K_M},  {"Q5_K_S", T::Q5_K, kQ5_K_S},
    {"Q5_K_M", T::Q5_K, kQ5_K_M},  {"Q6_K", T::Q6_K, kQ6_K},      {"IQ4_NL", T::IQ4_NL, kIQ4_NL},
    {"IQ4_XS", T::IQ4_XS, kIQ4_XS},
    // llama-quantize's aliases: the bare K names mean the _M mixes.
    {"Q3_K", T::Q3_K, kQ3_K_M},    {"Q4_K", T::Q4_K, kQ4_K_M},    {"Q5_K", T::Q5_K, kQ5_K_M},
};
constexpr size_t kPrimaryMixes = 19;  // the rows before the aliases

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool is_quantized(GgmlType t) {
  return t != T::F32 && t != T::F16 && t != T::BF16 && t != T::I8 && t != T::I16 && t != T::I32 &&
         t != T::I64 && t != T::F64;
}

// Layer number of "blk.N....", or -1.
int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int v = 0;
  size_t i = 4;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
    v = v * 10 + (name[i] - '0');
    if (v > 1000000) return -1;
    ++i;
  }
  return (i < name.size() && name[i] == '.') ? v : -1;
}

int n_dims(const std::vector<int64_t>& ne) {
  int dims = 1;
  for (size_t i = 1; i < ne.size(); ++i)
    if (ne[i] > 1) dims = int(i) + 1;
  return dims;
}

// Layers 0..n/8-1, the last eighth, and every third layer between get more bits.
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

int64_t block_size(GgmlType t) { return type_traits(t).block_size; }

// The mix's rule for one quantizable tensor, before the shape fallback.
GgmlType mix_rule(const QuantMix& mix, const TensorSite& s, int kind_index) {
  const uint32_t ft = mix.file_type;
  const std::string_view name = s.name;
  const bool falcon = s.architecture == "falcon";
  const int n_gqa = s.n_head_kv > 0 ? s.n_head / s.n_head_kv : 0;
  // llama.cpp sizes a llama with 80 layers and grouped KV heads as 70B.
  const bool is_70b = s.architecture == "llama" && s.n_layer == 80 && s.n_head != s.n_head_kv;
  const int layer = kind_index >= 0 ? kind_index : std::max(0, layer_of(name));
  // Experts' FFNs are not in layer order in the file, so MoE models use the name's layer.
  const int ffn_layer = s.n_expert > 1 ? std::max(0, layer_of(name)) : layer;
  const int n_layer = s.n_layer;
  GgmlType t = mix.base;

  if (name == "output.weight" || (s.tied_output && name == "token_embd.weight")) {
    // The output matrix decides the logits: Q6_K unless the mix is Q8_0 already.
    if (falcon || s.ne[0] % block_size(t) != 0) return T::Q8_0;
    return t != T::Q8_0 ? T::Q6_K : t;
  }
  if (name == "token_embd.weight") return t;
  if (contains(name, "attn_v.weight")) {
    const int n_wv = s.n_attention_wv >= 0 ? s.n_attention_wv : n_layer;
    if (ft == kQ2_K) t = n_gqa >= 4 ? T::Q4_K : T::Q3_K;
    else if (ft == kQ3_K_M) t = layer < 2 ? T::Q5_K : T::Q4_K;
    else if (ft == kQ3_K_L) t = T::Q5_K;
    else if ((ft == kIQ4_NL || ft == kIQ4_XS) && n_gqa >= 4) t = T::Q5_K;
    else if ((ft == kQ4_K_M || ft == kQ5_K_M) && use_more_bits(layer, n_wv)) t = T::Q6_K;
    else if (ft == kQ4_K_S && layer < 4) t = T::Q5_K;
    // 70B shares each attn_v among 8 query heads: it is 8x smaller than attn_q, so more bits are cheap.
    if (is_70b && (t == T::Q3_K || t == T::Q4_K)) t = T::Q5_K;
    if (s.n_expert == 8) t = T::Q8_0;
    return t;
  }
  if (contains(name, "attn_k.weight")) return s.n_expert == 8 ? T::Q8_0 : t;
  if (contains(name, "attn_q.weight")) return t;
  if (contains(name, "ffn_down")) {
    const int i = ffn_layer;
    if (ft == kQ2_K) t = T::Q3_K;
    else if (ft == kQ3_K_M)
      t = i < n_layer / 16 ? T::Q5_K : (!falcon || use_more_bits(i, n_layer)) ? T::Q4_K : T::Q3_K;
    else if (ft == kQ3_K_L) t = falcon ? T::Q4_K : T::Q5_K;
    else if (ft == kQ4_K_M) {
      if (falcon)
        t = i < n_layer / 16 ? T::Q6_K : use_more_bits(i, n_layer) ? T::Q5_K : T::Q4_K;
      else if (use_more_bits(i, n_layer))
        t = T::Q6_K;
    } else if (i < n_layer / 8 && (ft == kIQ4_NL || ft == kIQ4_XS)) t = T::Q5_K;  // no imatrix here
    else if (ft == kQ5_K_M && use_more_bits(i, n_layer)) t = T::Q6_K;
    else if (ft == kQ4_K_S && !falcon && i < n_layer / 8) t = T::Q5_K;
    return t;
  }
  if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (s.n_expert == 8) {
        if (ft == kQ2_K || ft == kQ3_K_S || ft == kQ3_K_M || ft == kIQ4_NL || ft == kQ4_K_S ||
            ft == kQ4_K_M || ft == kIQ4_XS)
          t = T::Q5_K;
      } else if (ft == kQ2_K) t = T::Q3_K;
      else if (ft == kQ3_K_M) t = T::Q4_K;
      else if (ft == kQ3_K_L) t = T::Q5_K;
    } else if (ft == kQ3_K_L) {
      t = T::Q4_K;
    }
    return t;
  }
  if (contains(name, "attn_qkv.weight")) {
    if (ft == kQ3_K_M || ft == kQ3_K_L) t = T::Q4_K;
    else if (ft == kQ4_K_M) t = T::Q5_K;
    else if (ft == kQ5_K_M) t = T::Q6_K;
    return t;
  }
  return t;
}

// A row length that is not whole blocks of the chosen type falls back to a 32-block type of
// similar size, or F16 if even that does not fit.
GgmlType shape_fallback(GgmlType t, int64_t row) {
  if (row % block_size(t) == 0) return t;
  switch (t) {
    case T::TQ1_0:
    case T::TQ2_0: t = T::Q4_0; break;
    case T::Q2_K:
    case T::Q3_K:
    case T::IQ2_XXS:
    case T::IQ2_XS:
    case T::IQ2_S:
    case T::IQ3_XXS:
    case T::IQ3_S:
    case T::IQ1_S:
    case T::IQ1_M:
    case T::IQ4_XS: t = T::IQ4_NL; break;
    case T::Q4_K: t = T::Q5_0; break;
    case T::Q5_K: t = T::Q5_1; break;
    case T::Q6_K: t = T::Q8_0; break;
    default: return T::F16;
  }
  return row % block_size(t) == 0 ? t : T::F16;
}

}  // namespace

std::optional<QuantMix> parse_quant_mix(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const MixRow& row : kMixes)
    if (row.name == upper) return QuantMix{upper, row.base, row.file_type};
  return std::nullopt;
}

std::vector<std::string> quant_mix_names() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kPrimaryMixes; ++i) names.emplace_back(kMixes[i].name);
  return names;
}

bool tensor_is_quantizable(const TensorSite& s) {
  const std::string_view name = s.name;
  if (s.ne.empty() || n_dims(s.ne) < 2) return false;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  static constexpr std::string_view kNever[] = {
      "_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d", "shortconv.conv.weight", "attn_rel_b.weight",
      "altup", "laurel", "per_layer_model_proj", "time_mix_first.weight", "time_mix_w0.weight",
      "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
      "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
      "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
      "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight"};
  for (std::string_view part : kNever)
    if (contains(name, part)) return false;
  // Position tables and BERT's token types are added to activations directly.
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  return true;
}

GgmlType tensor_type_for(const QuantMix& mix, const TensorSite& site) {
  const GgmlType source = site.source_type.value_or(T::F32);
  if (!tensor_is_quantizable(site)) return source;
  if (!is_quantized(mix.base)) return mix.base;
  const GgmlType t = mix_rule(mix, site, site.kind_index);
  return shape_fallback(t, site.ne[0]);
}

bool tensor_name_less(std::string_view a, std::string_view b) {
  const int la = layer_of(a), lb = layer_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

std::vector<GgmlType> tensor_types_for_model(const QuantMix& mix, std::vector<TensorSite> sites) {
  int n_wv = 0;
  for (const TensorSite& s : sites)
    if (contains(s.name, "attn_v.weight") || contains(s.name, "attn_qkv.weight") ||
        contains(s.name, "attn_kv_b.weight"))
      ++n_wv;
  std::vector<size_t> order(sites.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensor_name_less(sites[a].name, sites[b].name); });
  // Count as llama.cpp does: only tensors that reach its per-kind branches advance a count.
  int i_wv = 0, i_down = 0;
  for (size_t k : order) {
    TensorSite& s = sites[k];
    s.n_attention_wv = n_wv;
    if (!tensor_is_quantizable(s)) continue;
    if (s.name == "output.weight" || s.name == "token_embd.weight") continue;
    if (contains(s.name, "attn_v.weight")) s.kind_index = i_wv++;
    else if (contains(s.name, "attn_k.weight") || contains(s.name, "attn_q.weight")) continue;
    else if (contains(s.name, "ffn_down")) s.kind_index = i_down++;
  }
  std::vector<GgmlType> types;
  types.reserve(sites.size());
  for (const TensorSite& s : sites) types.push_back(tensor_type_for(mix, s));
  return types;
}

}  // namespace hearth
