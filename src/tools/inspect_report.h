// What `hearth inspect` reports about a GGUF file: a summary (architecture, hyperparameters,
// tokenizer, parameter count, bytes per type, RAM for weights + KV cache), rendered as text or
// JSON, and the first dequantized values of one tensor.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/reader.h"

namespace hearth::tools {

struct TypeUsage {
  int64_t tensors = 0;
  int64_t params = 0;
  uint64_t bytes = 0;
};

struct ModelSummary {
  std::string architecture;                                   // "" if general.architecture is absent
  std::vector<std::pair<std::string, const gguf::Value*>> hyperparameters;  // "{arch}.*" keys
  std::string tokenizer_model;                                // tokenizer.ggml.model
  uint64_t tokenizer_size = 0;                                // tokens in tokenizer.ggml.tokens
  int64_t params = 0;
  uint64_t weight_bytes = 0;
  std::map<std::string, TypeUsage> per_type;                  // by GGUF type name
  // KV cache (F16 K and V) at `ctx`; zero when the file lacks the attention keys.
  int64_t ctx = 0;
  int64_t n_layer = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  uint64_t kv_bytes = 0;
};

// `ctx` overrides the context used for the KV estimate; by default the model's context_length
// capped at 4096.
ModelSummary summarize(const gguf::File& file, std::optional<int64_t> ctx);

std::string render_text(const gguf::File& file, const ModelSummary& summary);
nlohmann::json render_json(const gguf::File& file, const ModelSummary& summary);

// A metadata value for display: arrays longer than `max_inline` are summarised.
std::string value_text(const gguf::Value& value, size_t max_inline = 16);
nlohmann::json value_json(const gguf::Value& value, size_t max_inline = 16);

// The first `count` dequantized values of a tensor in storage order (row 0 first).
Result<std::vector<float>> tensor_values(const gguf::File& file, std::string_view name, int64_t count);

}  // namespace hearth::tools
