// Quantization "mixes" as llama.cpp's llama-quantize defines them (Q4_K_M, Q5_K_M, ...):
// which GGUF type each tensor of a model gets. Shared by `hearth quantize` and `hearth synth`,
// so the same tensor always gets the same type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/ggml_type.h"

namespace hearth {

struct QuantMix {
  std::string name;        // as the user wrote it, upper-cased: "Q4_K_M"
  GgmlType base;           // the type most 2-D weights get
  uint32_t file_type;      // general.file_type (llama_ftype) written into the output
};

// Mixes and single types accepted on the command line (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, Q2_K, Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M, Q6_K, IQ4_NL, IQ4_XS); nullopt for others.
std::optional<QuantMix> parse_quant_mix(std::string_view name);
std::vector<std::string> quant_mix_names();

// What the chooser needs to know about one tensor and its model.
struct TensorSite {
  std::string_view name;         // GGUF tensor name, e.g. "blk.3.ffn_down.weight"
  std::vector<int64_t> ne;       // ne[0] = row length
  std::string_view architecture; // general.architecture
  int n_layer = 0;               // {arch}.block_count
  int n_head = 0;                // attention.head_count
  int n_head_kv = 0;             // attention.head_count_kv
  int n_expert = 0;
  bool tied_output = false;      // no output.weight: token_embd doubles as the output matrix
  // The type the tensor has in the source file: tensors that are never quantized (norms,
  // biases, position tables) keep it. Unset: F32.
  std::optional<GgmlType> source_type;
  // llama.cpp counts attn_v and ffn_down tensors as it meets them, in its tensor order
  // (tensors outside layers first, then by layer number, then by name), and some mixes depend
  // on that count. -1: use the layer number in the name (the same for ordinary models).
  // tensor_types_for_model fills these.
  int kind_index = -1;
  int n_attention_wv = -1;       // attn_v / attn_qkv / attn_kv_b tensors in the model; -1: n_layer
};

// The type this tensor gets under `mix` (1-D tensors and norms stay F32; a row length that is
// not a whole number of the chosen type's blocks falls back as llama.cpp does).
GgmlType tensor_type_for(const QuantMix& mix, const TensorSite& site);

// Whether llama.cpp would quantize this tensor at all (2-D+ weights that are not norms,
// position tables, expert routers, ...); the others are copied as they are.
bool tensor_is_quantizable(const TensorSite& site);

// llama.cpp's tensor order: tensors outside layers first (by name), then by layer number, then
// by name. A quantized file lists its tensors in this order.
bool tensor_name_less(std::string_view a, std::string_view b);

// Types for every tensor of a model, in the order given, with the counts llama.cpp keeps.
std::vector<GgmlType> tensor_types_for_model(const QuantMix& mix, std::vector<TensorSite> sites);

}  // namespace hearth
