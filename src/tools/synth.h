// `hearth synth`: a GGUF with the exact tensor names, shapes and metadata keys of a real model
// (as llama.cpp's convert_hf_to_gguf.py and llama-quantize write them), random seeded weights
// and a real tokenizer copied from a vocab file — for benchmarks and edge cases where no real
// file fits. Weights are generated per tensor inside the writer's data callbacks, row by row on
// several threads, so memory stays at one output tensor; every row has its own random stream
// (seed, tensor name, row), so the bytes do not depend on the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "quant/ggml_type.h"

namespace hearth {

// The published shape of one real model: Hugging Face config.json values.
struct SynthPreset {
  std::string_view name;          // as given to --preset: "tinyllama-1.1b"
  std::string_view architecture;  // general.architecture: "llama", "qwen2", "phi3"
  std::string_view model_name;    // general.name of the real model
  int64_t n_embd;                 // hidden_size
  int64_t n_ff;                   // intermediate_size
  int64_t n_layer;                // num_hidden_layers
  int64_t n_head;                 // num_attention_heads
  int64_t n_head_kv;              // num_key_value_heads
  int64_t n_vocab;                // vocab_size
  int64_t n_ctx;                  // max_position_embeddings
  float rope_freq_base;           // rope_theta
  float norm_rms_eps;             // rms_norm_eps
  bool qkv_bias = false;          // attn_q/k/v biases (Qwen2)
  bool tied_output = false;       // tie_word_embeddings: no output.weight
  bool head_dim_in_config = false;  // config.json has head_dim: attention.key/value_length written
  // Llama 3.1+ "llama3" rope scaling; converters bake it into rope_freqs.weight.
  float llama3_factor = 0;        // 0: none
  float llama3_low_freq_factor = 0;
  float llama3_high_freq_factor = 0;
  int64_t llama3_original_ctx = 0;
  // Phi-3: rope.scaling.original_context_length and sliding_window are written.
  int64_t phi3_original_ctx = 0;
  int64_t phi3_sliding_window = 0;

  int64_t head_dim() const { return n_embd / n_head; }
};

std::span<const SynthPreset> synth_presets();
const SynthPreset* find_synth_preset(std::string_view name);

// How a tensor's values are drawn: mean + stddev * N(0, 1) per element, or (rope_freqs) the
// llama3 frequency factors, which are computed, not random.
struct SynthTensorSpec {
  std::string name;
  std::vector<int64_t> ne;  // ne[0] is the row length
  float mean = 0;
  float stddev = 0;
  bool rope_freqs = false;
};

// The model's tensors in llama.cpp's order (outside-layer tensors by name, then by layer).
std::vector<SynthTensorSpec> synth_tensor_specs(const SynthPreset& preset, int64_t n_layer, int64_t n_vocab);

// The model's metadata, without tokenizer keys, in the order the converter writes them.
std::vector<std::pair<std::string, gguf::Value>> synth_metadata(const SynthPreset& preset, int64_t n_layer,
                                                                int64_t n_vocab, uint32_t file_type);

// rope_freqs.weight: head_dim/2 factors, as convert_hf_to_gguf.py computes them for "llama3".
std::vector<float> llama3_rope_factors(const SynthPreset& preset);

struct SynthProgress {
  size_t tensor_index = 0;  // 0-based, in file order
  size_t n_tensors = 0;
  std::string_view name;
  GgmlType type = GgmlType::F32;
  bool tensor_done = false;  // false: a report from inside a large tensor
  uint64_t elements_done = 0;  // all tensors
  uint64_t elements_total = 0;
  double seconds = 0;
};

inline constexpr uint64_t kSynthDefaultSeed = 20240229;

struct SynthOptions {
  std::string architecture;  // must match the preset's
  std::string preset;
  int64_t layers = 0;  // 0: the preset's
  std::string type;    // a mix or single type: quant_mix_names()
  std::filesystem::path vocab;
  std::filesystem::path output;
  uint64_t seed = kSynthDefaultSeed;
  int threads = 0;  // 0: all hardware threads
  // Optional; called on the thread that called synth_model.
  std::function<void(const SynthProgress&)> on_progress;
  std::function<void(std::string_view)> on_note;
};

struct SynthSummary {
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t bytes = 0;  // tensor data
  int64_t n_layer = 0;
  int64_t n_vocab = 0;
  uint32_t file_type = 0;
};

Result<SynthSummary> synth_model(const SynthOptions& options);

}  // namespace hearth
