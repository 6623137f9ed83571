// The reports behind `hearth inspect`. Everything here reads an already validated gguf::File,
// but metadata is still the file's word: hyperparameters may be absent, of odd types or absurd,
// so each figure is computed defensively (saturating, never dividing by zero).
#include "tools/inspect_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace hearth::tools {
namespace {

using gguf::Value;
using gguf::ValueType;

std::string escape(std::string_view s, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_chars) {
      out += fmt::format("...({} bytes)", s.size());
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

int64_t sat_mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}

// A hyperparameter as a positive integer; arrays (per-layer values) give their largest element.
int64_t positive_int(const gguf::File& f, const std::string& key) {
  const Value* v = f.find(key);
  if (v == nullptr) return 0;
  if (const gguf::Array* a = v->as_array()) {
    int64_t best = 0;
    for (const Value& item : a->items) best = std::max(best, item.as_i64().value_or(0));
    return best;
  }
  return std::max<int64_t>(0, v->as_i64().value_or(0));
}

std::string human_bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (uint64_t{1} << 20)) return fmt::format("{:.1f} KiB", double(n) / 1024);
  if (n < (uint64_t{1} << 30)) return fmt::format("{:.1f} MiB", double(n) / (1 << 20));
  return fmt::format("{:.2f} GiB", double(n) / (1 << 30));
}

std::string human_count(int64_t n) {
  if (n < 1000) return fmt::format("{}", n);
  if (n < 1000000) return fmt::format("{:.2f} K", double(n) / 1e3);
  if (n < 1000000000) return fmt::format("{:.2f} M", double(n) / 1e6);
  return fmt::format("{:.2f} B", double(n) / 1e9);
}

std::string shape_text(const std::vector<int64_t>& ne) {
  std::string s;
  for (size_t i = 0; i < ne.size(); ++i) {
    if (i > 0) s += " × ";
    s += fmt::format("{}", ne[i]);
  }
  return s;
}

}  // namespace

std::string value_text(const Value& v, size_t max_inline) {
  if (const gguf::Array* a = v.as_array()) {
    if (a->items.size() > max_inline)
      return fmt::format("[{} × {}]", gguf::value_type_name(a->element_type), a->items.size());
    std::string s = "[";
    for (size_t i = 0; i < a->items.size(); ++i) {
      if (i > 0) s += ", ";
      s += value_text(a->items[i], max_inline);
    }
    return s + "]";
  }
  if (const std::string* str = v.as_string()) {
    std::string quoted = "\"";
    quoted += escape(*str, 120);
    quoted += '"';
    return quoted;
  }
  if (const auto b = v.as_bool()) return *b ? "true" : "false";
  if (v.type == ValueType::kFloat32) return fmt::format("{}", static_cast<float>(*v.as_f64()));
  if (v.is_float()) return fmt::format("{}", *v.as_f64());
  if (const auto u = v.as_u64()) return fmt::format("{}", *u);
  if (const auto i = v.as_i64()) return fmt::format("{}", *i);
  return "?";
}

nlohmann::json value_json(const Value& v, size_t max_inline) {
  if (const gguf::Array* a = v.as_array()) {
    if (a->items.size() > max_inline) {
      return {{"type", "array"},
              {"element_type", gguf::value_type_name(a->element_type)},
              {"length", a->items.size()}};
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const Value& item : a->items) arr.push_back(value_json(item, max_inline));
    return arr;
  }
  if (const std::string* s = v.as_string()) return *s;
  if (const auto b = v.as_bool()) return *b;
  if (v.is_float()) return *v.as_f64();
  if (const auto u = v.as_u64()) return *u;
  if (const auto i = v.as_i64()) return *i;
  return nullptr;
}

ModelSummary summarize(const gguf::File& f, std::optional<int64_t> ctx) {
  ModelSummary s;
  if (auto arch = f.get_string("general.architecture")) s.architecture = *arch;
  if (!s.architecture.empty()) {
    const std::string prefix = s.architecture + ".";
    for (const auto& [key, value] : f.metadata())
      if (key.starts_with(prefix)) s.hyperparameters.emplace_back(key.substr(prefix.size()), &value);
  }
  if (auto model = f.get_string("tokenizer.ggml.model")) s.tokenizer_model = *model;
  if (auto tokens = f.get_array("tokenizer.ggml.tokens")) s.tokenizer_size = (*tokens)->items.size();

  for (const gguf::TensorInfo& t : f.tensors()) {
    TypeUsage& u = s.per_type[std::string(type_traits(t.type).name)];
    u.tensors += 1;
    u.params += t.n_elements();
    u.bytes += t.nbytes;
    s.params += t.n_elements();
    s.weight_bytes += t.nbytes;
  }

  const std::string& a = s.architecture;
  const int64_t context_length = positive_int(f, a + ".context_length");
  s.ctx = ctx ? std::max<int64_t>(0, *ctx) : (context_length > 0 ? std::min<int64_t>(context_length, 4096) : 4096);
  s.n_layer = positive_int(f, a + ".block_count");
  const int64_t n_head = positive_int(f, a + ".attention.head_count");
  s.n_head_kv = f.find(a + ".attention.head_count_kv") ? positive_int(f, a + ".attention.head_count_kv") : n_head;
  const int64_t n_embd = positive_int(f, a + ".embedding_length");
  const int64_t head_dim = n_head > 0 ? n_embd / n_head : 0;
  s.head_dim_k = f.find(a + ".attention.key_length") ? positive_int(f, a + ".attention.key_length") : head_dim;
  s.head_dim_v = f.find(a + ".attention.value_length") ? positive_int(f, a + ".attention.value_length") : s.head_dim_k;
  // K and V in F16: n_layer × ctx × n_head_kv × (head_dim_k + head_dim_v) × 2 bytes.
  int64_t head_dims = 0;
  if (__builtin_add_overflow(s.head_dim_k, s.head_dim_v, &head_dims)) head_dims = std::numeric_limits<int64_t>::max();
  const int64_t kv = sat_mul(sat_mul(sat_mul(s.n_layer, s.ctx), s.n_head_kv), sat_mul(head_dims, 2));
  s.kv_bytes = static_cast<uint64_t>(kv);
  return s;
}

std::string render_text(const gguf::File& f, const ModelSummary& s) {
  std::string out;
  auto line = [&](std::string text) { out += text + "\n"; };
  line(fmt::format("file            {}", f.name()));
  line(fmt::format("format          GGUF v{}, {} ({} bytes), alignment {}, data at byte {}", f.version(),
                   human_bytes(f.size()), f.size(), f.alignment(), f.data_offset()));
  line(fmt::format("architecture    {}", s.architecture.empty() ? "(none)" : s.architecture));
  if (auto name = f.get_string("general.name")) line(fmt::format("name            {}", escape(*name, 120)));
  if (!s.hyperparameters.empty()) {
    line("hyperparameters");
    for (const auto& [key, value] : s.hyperparameters)
      line(fmt::format("  {:<36} {}", key, value_text(*value)));
  }
  line(fmt::format("tokenizer       {} ({} tokens)", s.tokenizer_model.empty() ? "(none)" : s.tokenizer_model,
                   s.tokenizer_size));
  line("");
  line(fmt::format("metadata ({} keys)", f.metadata().size()));
  for (const auto& [key, value] : f.metadata()) {
    line(fmt::format("  {:<44} {:<8} {}", escape(key, 80), gguf::value_type_name(value.type), value_text(value)));
  }
  line("");
  line(fmt::format("tensors ({})", f.tensors().size()));
  size_t width = 4;
  for (const auto& t : f.tensors()) width = std::max(width, std::min<size_t>(t.name.size(), 64));
  line(fmt::format("  {:<{}}  {:<8} {:<24} {:>12}", "name", width, "type", "shape", "bytes"));
  for (const auto& t : f.tensors()) {
    line(fmt::format("  {:<{}}  {:<8} {:<24} {:>12}", escape(t.name, 64), width, type_traits(t.type).name,
                     shape_text(t.ne), t.nbytes));
  }
  line("");
  line(fmt::format("parameters      {} ({})", s.params, human_count(s.params)));
  line("bytes per type");
  for (const auto& [type, u] : s.per_type) {
    line(fmt::format("  {:<8} {:>5} tensors {:>14} params {:>14} bytes ({}, {:.2f} bits/weight)", type,
                     u.tensors, u.params, u.bytes, human_bytes(u.bytes),
                     u.params > 0 ? 8.0 * double(u.bytes) / double(u.params) : 0.0));
  }
  line(fmt::format("RAM at ctx {}   weights {} + KV cache (F16, {} layers × {} KV heads × {}+{} dims) {} = {}",
                   s.ctx, human_bytes(s.weight_bytes), s.n_layer, s.n_head_kv, s.head_dim_k, s.head_dim_v,
                   human_bytes(s.kv_bytes), human_bytes(s.weight_bytes + std::min(s.kv_bytes, ~s.weight_bytes))));
  return out;
}

nlohmann::json render_json(const gguf::File& f, const ModelSummary& s) {
  nlohmann::json j;
  j["file"] = f.name();
  j["version"] = f.version();
  j["alignment"] = f.alignment();
  j["data_offset"] = f.data_offset();
  j["file_size"] = f.size();
  j["architecture"] = s.architecture;
  nlohmann::json hp = nlohmann::json::object();
  for (const auto& [key, value] : s.hyperparameters) hp[key] = value_json(*value);
  j["hyperparameters"] = hp;
  j["tokenizer"] = {{"model", s.tokenizer_model}, {"size", s.tokenizer_size}};
  // An object keeps its keys sorted; metadata_order keeps the file's order for tools that care.
  nlohmann::json md = nlohmann::json::object();
  nlohmann::json order = nlohmann::json::array();
  for (const auto& [key, value] : f.metadata()) {
    md[key] = value_json(value);
    order.push_back(key);
  }
  j["metadata"] = md;
  j["metadata_order"] = order;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : f.tensors()) {
    tensors.push_back({{"name", t.name},
                       {"type", type_traits(t.type).name},
                       {"ne", t.ne},
                       {"offset", t.offset},
                       {"file_offset", f.data_offset() + t.offset},
                       {"bytes", t.nbytes}});
  }
  j["tensors"] = tensors;
  j["params"] = s.params;
  nlohmann::json per_type = nlohmann::json::object();
  for (const auto& [type, u] : s.per_type)
    per_type[type] = {{"tensors", u.tensors}, {"params", u.params}, {"bytes", u.bytes}};
  j["bytes_per_type"] = per_type;
  uint64_t total = 0;
  if (__builtin_add_overflow(s.weight_bytes, s.kv_bytes, &total)) total = std::numeric_limits<uint64_t>::max();
  j["ram"] = {{"ctx", s.ctx},
              {"n_layer", s.n_layer},
              {"n_head_kv", s.n_head_kv},
              {"head_dim_k", s.head_dim_k},
              {"head_dim_v", s.head_dim_v},
              {"weights_bytes", s.weight_bytes},
              {"kv_cache_bytes", s.kv_bytes},
              {"total_bytes", total}};
  return j;
}

Result<std::vector<float>> tensor_values(const gguf::File& f, std::string_view name, int64_t count) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  if (t == nullptr) return Error{fmt::format("{}: no tensor named \"{}\"", f.name(), escape(name, 120))};
  const TypeTraits& traits = type_traits(t->type);
  if (traits.dequantize == nullptr) {
    return Error{fmt::format("{}: tensor \"{}\" has type {}, which hearth cannot dequantize", f.name(),
                             escape(name, 120), traits.name)};
  }
  count = std::clamp<int64_t>(count, 0, t->n_elements());
  std::vector<float> values;
  values.reserve(static_cast<size_t>(count));
  // The reader checked that rows are whole blocks and that the data lies inside the file.
  const size_t row_size = *row_bytes(t->type, t->ne[0]);
  std::vector<float> row(static_cast<size_t>(t->ne[0]));
  for (int64_t r = 0; static_cast<int64_t>(values.size()) < count; ++r) {
    traits.dequantize(t->data + static_cast<size_t>(r) * row_size, row.data(), t->ne[0]);
    const int64_t take = std::min<int64_t>(t->ne[0], count - static_cast<int64_t>(values.size()));
    values.insert(values.end(), row.begin(), row.begin() + take);
  }
  return values;
}

}  // namespace hearth::tools
