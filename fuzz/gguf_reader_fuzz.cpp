// libFuzzer target for the GGUF reader (and the inspect reports built on it): any byte string must parse or fail with an Error, never
// crash or read out of bounds. libFuzzer hands us a buffer of exactly `size` bytes, so ASan
// flags any read past the end; on success every parsed value and every tensor's first and last
// byte are touched to prove the pointers the reader hands out are in bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gguf/reader.h"
#include "tools/inspect_report.h"

namespace {

uint64_t walk(const hearth::gguf::Value& v, int depth) {
  using hearth::gguf::ValueType;
  uint64_t h = static_cast<uint64_t>(v.type) + hearth::gguf::value_type_name(v.type).size();
  if (auto u = v.as_u64()) h += *u;
  if (auto i = v.as_i64()) h += static_cast<uint64_t>(*i);
  if (auto d = v.as_f64()) h += *d == *d ? 1 : 2;
  if (auto b = v.as_bool()) h += *b;
  if (const std::string* s = v.as_string()) h += s->empty() ? 0 : static_cast<uint8_t>(s->back());
  if (const hearth::gguf::Array* a = v.as_array()) {
    for (const auto& item : a->items) {
      if (item.type != a->element_type) __builtin_trap();  // reader broke its own invariant
      h += walk(item, depth + 1);
    }
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = hearth::gguf::File::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!file) return file.error().message.empty() ? 1 : 0;
  volatile uint64_t sink = 0;
  for (const auto& [key, value] : file->metadata()) {
    sink = sink + walk(value, 0) + key.size();
    if (file->find(key) != &value) __builtin_trap();
  }
  (void)file->get_string("general.architecture");
  (void)file->get_uint("general.alignment");
  (void)file->get_float("general.alignment");
  (void)file->get_bool("general.alignment");
  (void)file->get_array("tokenizer.ggml.tokens");
  for (const auto& t : file->tensors()) {
    if (file->find_tensor(t.name) != &t) __builtin_trap();
    sink = sink + t.data[0] + t.data[t.nbytes - 1] + static_cast<uint64_t>(t.n_rows());
    if (t.offset % file->alignment() != 0) __builtin_trap();
    // `inspect --values` on every tensor: row 0 through the dequantizer must stay inside the
    // bytes the reader vouched for (bounded so huge rows do not slow the fuzzer down).
    if (t.ne[0] <= 4096 && hearth::type_traits(t.type).dequantize != nullptr) {
      auto values = hearth::tools::tensor_values(*file, t.name, 4096);
      if (!values) __builtin_trap();
    }
  }
  // The inspect reports must cope with any metadata the reader accepts.
  const auto summary = hearth::tools::summarize(*file, std::nullopt);
  sink = sink + hearth::tools::render_text(*file, summary).size();
  sink = sink + hearth::tools::render_json(*file, summary)
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    .size();
  return 0;
}
