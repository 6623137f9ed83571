// What the planner needs to know about a model: how many bytes its weights take, how many of them
// one generated token reads, how many multiply-adds one token costs, and the attention shape
// that sizes the KV cache. From a GGUF file (real tensor bytes and hyperparameters) or from a
// parameter count and a quant name (bits per weight of llama.cpp's quant mixes, and the shape of
// the nearest common model in a table; see docs/raspberry-pi.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hearth::plan {

// The family of dot kernel a quant runs on: it sets the arithmetic rate of prefill.
enum class DotKind { kInt8, kF16, kF32 };

struct QuantMix {
  std::string_view name;  // as `llama-quantize` spells it, lower case: "q4_k_m"
  double bits_per_weight; // whole-model average, embeddings and output included
  DotKind dot;
};

// Null for a name not in the table (case-insensitive).
const QuantMix* find_quant(std::string_view name);
std::span<const QuantMix> quant_table();

struct ShapeEntry {
  std::string_view name;
  double params;
  int64_t n_layer, n_head, n_head_kv, head_dim, n_embd, n_vocab, context_length;
  bool tied_output;  // logits through token_embd: the embedding is read on every token
};
std::span<const ShapeEntry> shape_table();
// The table entry whose parameter count is nearest (by ratio) to `params`.
const ShapeEntry& nearest_shape(double params);

struct ModelShape {
  std::string description;   // "TinyLlama 1.1B (shape table)", or the GGUF's name
  std::string quant;         // "q8_0", or the dominant tensor type of a GGUF
  double params = 0;
  uint64_t weight_bytes = 0;       // resident: every tensor (mmapped or loaded)
  uint64_t bytes_read_per_token = 0;  // weights streamed per generated token
  double ops_per_token = 0;        // 2 × multiply-adds of the weight matmuls per token
  DotKind dot = DotKind::kInt8;
  int64_t n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_embd = 0, n_vocab = 0;
  int64_t context_length = 0;      // training context: the planner never goes past it
};

Result<ModelShape> shape_from_params(double params, std::string_view quant);
Result<ModelShape> shape_from_gguf(const std::filesystem::path& path);

}  // namespace hearth::plan
