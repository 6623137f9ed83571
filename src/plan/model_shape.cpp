#include "plan/model_shape.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>

#include "gguf/reader.h"
#include "model/config.h"
#include "quant/ggml_type.h"

namespace hearth::plan {
namespace {

// Average bits per weight of llama.cpp's quantization presets over a whole model (Llama-class
// 7B–8B; token embedding and output tensors included, which some presets keep at higher
// precision). From `llama-quantize --help` sizes and published GGUF file sizes ÷ parameters.
constexpr std::array<QuantMix, 20> kQuants{{
    {"f32", 32.0, DotKind::kF32},    {"f16", 16.0, DotKind::kF16},
    {"bf16", 16.0, DotKind::kF16},   {"q8_0", 8.50, DotKind::kInt8},
    {"q6_k", 6.56, DotKind::kInt8},  {"q5_k_m", 5.69, DotKind::kInt8},
    {"q5_k_s", 5.54, DotKind::kInt8}, {"q5_1", 6.04, DotKind::kInt8},
    {"q5_0", 5.54, DotKind::kInt8},  {"q4_k_m", 4.85, DotKind::kInt8},
    {"q4_k_s", 4.58, DotKind::kInt8}, {"q4_1", 5.04, DotKind::kInt8},
    {"q4_0", 4.55, DotKind::kInt8},  {"iq4_nl", 4.55, DotKind::kInt8},
    {"iq4_xs", 4.32, DotKind::kInt8}, {"q3_k_l", 4.27, DotKind::kInt8},
    {"q3_k_m", 3.91, DotKind::kInt8}, {"q3_k_s", 3.50, DotKind::kInt8},
    {"q2_k", 3.35, DotKind::kInt8},  {"q4_k", 4.85, DotKind::kInt8},
}};

// Shapes of common models (their config.json / GGUF metadata). Gemma is left out on purpose:
// its 256k vocabulary and head sizes make the nearest-shape guess misleading.
constexpr std::array<ShapeEntry, 10> kShapes{{
    // name                 params  layers heads kv  head  embd  vocab   ctx     tied
    {"Qwen2.5 0.5B",        0.494e9, 24, 14, 2, 64, 896, 151936, 32768, true},
    {"TinyLlama 1.1B",      1.100e9, 22, 32, 4, 64, 2048, 32000, 2048, false},
    {"Llama 3.2 1B",        1.236e9, 16, 32, 8, 64, 2048, 128256, 131072, true},
    {"Qwen2.5 1.5B",        1.544e9, 28, 12, 2, 128, 1536, 151936, 32768, true},
    {"Qwen2.5 3B",          3.086e9, 36, 16, 2, 128, 2048, 151936, 32768, true},
    {"Llama 3.2 3B",        3.213e9, 28, 24, 8, 128, 3072, 128256, 131072, true},
    {"Phi-3 mini 3.8B",     3.821e9, 32, 32, 32, 96, 3072, 32064, 4096, false},
    {"Mistral 7B",          7.242e9, 32, 32, 8, 128, 4096, 32000, 32768, false},
    {"Qwen2.5 7B",          7.616e9, 28, 28, 4, 128, 3584, 152064, 32768, false},
    {"Llama 3.1 8B",        8.030e9, 32, 32, 8, 128, 4096, 128256, 131072, false},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

DotKind dot_of(GgmlType type) {
  if (type == GgmlType::F32) return DotKind::kF32;
  if (type == GgmlType::F16 || type == GgmlType::BF16) return DotKind::kF16;
  return DotKind::kInt8;
}

}  // namespace

std::span<const QuantMix> quant_table() { return kQuants; }
std::span<const ShapeEntry> shape_table() { return kShapes; }

const QuantMix* find_quant(std::string_view name) {
  const std::string n = lower(name);
  for (const QuantMix& q : kQuants)
    if (q.name == n) return &q;
  return nullptr;
}

const ShapeEntry& nearest_shape(double params) {
  const ShapeEntry* best = &kShapes[0];
  for (const ShapeEntry& s : kShapes)
    if (std::abs(std::log(s.params / params)) < std::abs(std::log(best->params / params))) best = &s;
  return *best;
}

Result<ModelShape> shape_from_params(double params, std::string_view quant) {
  const QuantMix* q = find_quant(quant);
  if (q == nullptr) {
    std::string known;
    for (const QuantMix& m : kQuants) known += (known.empty() ? "" : ", ") + std::string(m.name);
    return Error{"unknown quant '" + std::string(quant) + "' (known: " + known + ")"};
  }
  const ShapeEntry& s = nearest_shape(params);
  ModelShape m;
  m.description = std::string(s.name) + " shape (nearest in the table)";
  m.quant = std::string(q->name);
  m.params = params;
  m.dot = q->dot;
  m.n_layer = s.n_layer;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.head_dim = s.head_dim;
  m.n_embd = s.n_embd;
  m.n_vocab = s.n_vocab;
  m.context_length = s.context_length;
  const double bytes_per_weight = q->bits_per_weight / 8;
  m.weight_bytes = static_cast<uint64_t>(params * bytes_per_weight);
  // An untied embedding is a table look-up (one row per token), not a matmul.
  const double embedding = s.tied_output ? 0 : double(s.n_vocab) * double(s.n_embd);
  const double streamed = std::max(params - embedding, params * 0.5);
  m.bytes_read_per_token = static_cast<uint64_t>(streamed * bytes_per_weight);
  m.ops_per_token = 2 * streamed;
  return m;
}

Result<ModelShape> shape_from_gguf(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error{path.string() + ": no such file"};
  Result<gguf::File> file = gguf::File::open(path);
  if (!file) return file.error();
  Result<ModelConfig> config = load_config(*file);
  if (!config) return config.error();
  ModelShape m;
  Result<std::string> name = file->get_string("general.name");
  m.description = name ? *name : path.filename().string();
  m.n_layer = config->n_layer;
  m.n_head = config->n_head;
  m.n_head_kv = config->n_head_kv;
  m.head_dim = config->head_dim;
  m.n_embd = config->n_embd;
  m.n_vocab = config->n_vocab;
  m.context_length = config->context_length;

  const bool has_output = file->find_tensor("output.weight") != nullptr;
  std::map<GgmlType, uint64_t> matrix_bytes;  // which type carries most of the matmul bytes
  double streamed_elements = 0, streamed_bytes = 0;
  for (const gguf::TensorInfo& t : file->tensors()) {
    m.weight_bytes += t.nbytes;
    m.params += double(t.n_elements());
    if (t.name == "token_embd.weight" && has_output) continue;  // a row look-up per token
    streamed_bytes += double(t.nbytes);
    if (t.ne.size() >= 2 && t.n_rows() > 1) {
      streamed_elements += double(t.n_elements());
      matrix_bytes[t.type] += t.nbytes;
    }
  }
  m.bytes_read_per_token = static_cast<uint64_t>(streamed_bytes);
  m.ops_per_token = 2 * streamed_elements;
  GgmlType dominant = GgmlType::F32;
  uint64_t most = 0;
  for (const auto& [type, bytes] : matrix_bytes)
    if (bytes > most) most = bytes, dominant = type;
  m.dot = dot_of(dominant);
  m.quant = lower(type_traits(dominant).name);
  if (m.n_layer <= 0 || m.weight_bytes == 0) return Error{path.string() + ": no weights found"};
  return m;
}

}  // namespace hearth::plan
