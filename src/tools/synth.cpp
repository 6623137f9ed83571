// The engine of `hearth synth` (see synth.h). Where the shapes and keys come from: the
// presets are the models' config.json values; which keys each architecture gets follows
// llama.cpp's convert_hf_to_gguf.py (TextModel.set_gguf_parameters plus LlamaModel's
// vocab_size and rope.dimension_count, Phi3MiniModel's own list with sliding_window and
// rope.scaling.original_context_length); "llama3" rope scaling is not written as keys by the
// converter, only baked into rope_freqs.weight, so neither do we.
//
// Random numbers: a counter-based stream per row (SplitMix64 over a key made of the seed, the
// tensor name and the row number) and the Marsaglia polar method for normals. A row's values
// depend on nothing else, so any split of rows over threads writes the same bytes.
#include "tools/synth.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numbers>
#include <thread>

#include <fmt/format.h>

#include "core/output_path.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "runtime/thread_pool.h"
#include "tools/quant_mix.h"

namespace hearth {
namespace {

using Clock = std::chrono::steady_clock;
using gguf::Value;

// Elements per task: big enough that handing out tasks costs nothing, small enough that a
// 2-row tensor still splits and progress reports come often.
constexpr int64_t kTaskElements = 256 * 1024;

// Scales: weights as a trained model's initialiser draws them (std 0.02), RMS-norm gains
// around 1, biases small. Quantizers then see realistic block statistics.
constexpr float kWeightStd = 0.02f;
constexpr float kNormStd = 0.05f;
constexpr float kBiasStd = 0.05f;

constexpr SynthPreset kPresets[] = {
    // TinyLlama/TinyLlama-1.1B-Chat-v1.0
    {.name = "tinyllama-1.1b", .architecture = "llama", .model_name = "TinyLlama 1.1B (synthetic weights)",
     .n_embd = 2048, .n_ff = 5632, .n_layer = 22, .n_head = 32, .n_head_kv = 4, .n_vocab = 32000,
     .n_ctx = 2048, .rope_freq_base = 10000.0f, .norm_rms_eps = 1e-5f},
    // Qwen/Qwen2.5-0.5B (Qwen2-0.5B has the same tensors)
    {.name = "qwen2-0.5b", .architecture = "qwen2", .model_name = "Qwen2 0.5B (synthetic weights)",
     .n_embd = 896, .n_ff = 4864, .n_layer = 24, .n_head = 14, .n_head_kv = 2, .n_vocab = 151936,
     .n_ctx = 32768, .rope_freq_base = 1000000.0f, .norm_rms_eps = 1e-6f, .qkv_bias = true,
     .tied_output = true},
    // microsoft/Phi-3-mini-4k-instruct
    {.name = "phi3-mini", .architecture = "phi3", .model_name = "Phi 3 Mini 4k (synthetic weights)",
     .n_embd = 3072, .n_ff = 8192, .n_layer = 32, .n_head = 32, .n_head_kv = 32, .n_vocab = 32064,
     .n_ctx = 4096, .rope_freq_base = 10000.0f, .norm_rms_eps = 1e-5f, .phi3_original_ctx = 4096,
     .phi3_sliding_window = 2047},
    // meta-llama/Llama-3.2-1B
    {.name = "llama3.2-1b", .architecture = "llama", .model_name = "Llama 3.2 1B (synthetic weights)",
     .n_embd = 2048, .n_ff = 8192, .n_layer = 16, .n_head = 32, .n_head_kv = 8, .n_vocab = 128256,
     .n_ctx = 131072, .rope_freq_base = 500000.0f, .norm_rms_eps = 1e-5f, .tied_output = true,
     .head_dim_in_config = true, .llama3_factor = 32.0f, .llama3_low_freq_factor = 1.0f,
     .llama3_high_freq_factor = 4.0f, .llama3_original_ctx = 8192},
};

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001B3ull;
  return h;
}

// SplitMix64: one 64-bit state per row, seeded from (tensor key, row).
class RowRandom {
 public:
  RowRandom(uint64_t tensor_key, uint64_t row) : state_(mix64(tensor_key ^ mix64(row + 0x632BE59BD9B4E019ull))) {}
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return mix64(state_);
  }

 private:
  uint64_t state_;
};

// mean + stddev * N(0,1), Marsaglia's polar method: two normals per accepted pair, no trig.
void fill_normal(RowRandom& rng, float* out, int64_t n, float mean, float stddev) {
  int64_t i = 0;
  while (i < n) {
    const uint64_t r = rng.next();
    const float u = float(int32_t(uint32_t(r))) * 0x1p-31f;  // [-1, 1]
    const float v = float(int32_t(uint32_t(r >> 32))) * 0x1p-31f;
    const float s = u * u + v * v;
    if (s >= 1.0f || s == 0.0f) continue;
    const float m = std::sqrt(-2.0f * std::log(s) / s);
    out[i++] = mean + stddev * (u * m);
    if (i < n) out[i++] = mean + stddev * (v * m);
  }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// State shared by the fill callbacks, which the writer calls one tensor at a time, in order.
struct Run {
  const SynthOptions* options;
  ThreadPool* pool;
  std::vector<std::vector<float>> row_buffers;  // one per pool thread
  size_t n_tensors = 0;
  uint64_t elements_total = 0;
  uint64_t elements_done = 0;
  Clock::time_point start;
};

void report(Run& run, size_t index, const SynthTensorSpec& spec, GgmlType type, bool done, uint64_t elements_done) {
  if (!run.options->on_progress) return;
  SynthProgress p;
  p.tensor_index = index;
  p.n_tensors = run.n_tensors;
  p.name = spec.name;
  p.type = type;
  p.tensor_done = done;
  p.elements_done = elements_done;
  p.elements_total = run.elements_total;
  p.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
  run.options->on_progress(p);
}

Status fill_tensor(Run& run, size_t index, const SynthTensorSpec& spec, GgmlType type, std::span<uint8_t> out) {
  const TypeTraits& traits = type_traits(type);
  const int64_t n_per_row = spec.ne[0];
  int64_t n_rows = 1;
  for (size_t d = 1; d < spec.ne.size(); ++d) n_rows *= spec.ne[d];
  const auto row = row_bytes(type, n_per_row);
  if (!row || uint64_t(*row) * uint64_t(n_rows) != out.size())
    return Error{fmt::format("tensor {}: {} rows of {} elements do not fill {} bytes of {}", spec.name, n_rows,
                             n_per_row, out.size(), traits.name)};

  if (spec.rope_freqs) {
    // Not random: the factors are what an engine multiplies rope frequencies by.
    std::vector<float> factors = llama3_rope_factors(*find_synth_preset(run.options->preset));
    if (int64_t(factors.size()) != n_per_row * n_rows)
      return Error{fmt::format("tensor {}: {} factors for {} elements", spec.name, factors.size(), n_per_row)};
    traits.quantize(factors.data(), out.data(), n_per_row, nullptr);
  } else {
    const uint64_t key = mix64(run.options->seed ^ mix64(fnv1a(spec.name)));
    const int64_t rows_per_task = std::max<int64_t>(1, kTaskElements / n_per_row);
    const int64_t n_tasks = (n_rows + rows_per_task - 1) / rows_per_task;
    std::atomic<int64_t> rows_done{0};
    auto last_report = Clock::now();
    run.pool->parallel_for(n_tasks, [&](int64_t task, int thread) {
      float* buf = run.row_buffers[size_t(thread)].data();
      const int64_t r0 = task * rows_per_task;
      const int64_t r1 = std::min(n_rows, r0 + rows_per_task);
      for (int64_t r = r0; r < r1; ++r) {
        RowRandom rng(key, uint64_t(r));
        fill_normal(rng, buf, n_per_row, spec.mean, spec.stddev);
        traits.quantize(buf, out.data() + uint64_t(r) * *row, n_per_row, nullptr);
      }
      const int64_t done = rows_done.fetch_add(r1 - r0) + (r1 - r0);
      // Thread 0 is the caller's thread, the only one that may call back.
      if (thread == 0 && Clock::now() - last_report > std::chrono::milliseconds(200)) {
        last_report = Clock::now();
        report(run, index, spec, type, false, run.elements_done + uint64_t(done) * uint64_t(n_per_row));
      }
    });
  }
  run.elements_done += uint64_t(n_per_row) * uint64_t(n_rows);
  report(run, index, spec, type, true, run.elements_done);
  return {};
}

}  // namespace

std::span<const SynthPreset> synth_presets() { return kPresets; }

const SynthPreset* find_synth_preset(std::string_view name) {
  for (const SynthPreset& p : kPresets)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<SynthTensorSpec> synth_tensor_specs(const SynthPreset& p, int64_t n_layer, int64_t n_vocab) {
  const int64_t E = p.n_embd, F = p.n_ff, D = p.head_dim();
  const int64_t q_rows = p.n_head * D, kv_rows = p.n_head_kv * D;
  const bool fused = p.architecture == "phi3";
  std::vector<SynthTensorSpec> specs;
  auto weight = [&](std::string name, int64_t cols, int64_t rows) {
    specs.push_back({std::move(name), {cols, rows}, 0.0f, kWeightStd, false});
  };
  auto norm = [&](std::string name, int64_t n) { specs.push_back({std::move(name), {n}, 1.0f, kNormStd, false}); };
  auto bias = [&](std::string name, int64_t n) { specs.push_back({std::move(name), {n}, 0.0f, kBiasStd, false}); };

  weight("token_embd.weight", E, n_vocab);        // (n_vocab, n_embd)
  norm("output_norm.weight", E);
  if (!p.tied_output) weight("output.weight", E, n_vocab);  // (n_vocab, n_embd)
  if (p.llama3_factor > 0) specs.push_back({"rope_freqs.weight", {D / 2}, 0.0f, 0.0f, true});
  for (int64_t i = 0; i < n_layer; ++i) {
    const std::string b = fmt::format("blk.{}.", i);
    norm(b + "attn_norm.weight", E);
    if (fused) {
      weight(b + "attn_qkv.weight", E, q_rows + 2 * kv_rows);  // (q | k | v rows, n_embd)
    } else {
      weight(b + "attn_q.weight", E, q_rows);   // (n_head * head_dim, n_embd)
      weight(b + "attn_k.weight", E, kv_rows);  // (n_head_kv * head_dim, n_embd)
      weight(b + "attn_v.weight", E, kv_rows);
    }
    if (p.qkv_bias) {
      bias(b + "attn_q.bias", q_rows);
      bias(b + "attn_k.bias", kv_rows);
      bias(b + "attn_v.bias", kv_rows);
    }
    weight(b + "attn_output.weight", q_rows, E);  // (n_embd, n_head * head_dim)
    norm(b + "ffn_norm.weight", E);
    if (fused) {
      weight(b + "ffn_up.weight", E, 2 * F);  // gate rows then up rows: (2 * n_ff, n_embd)
    } else {
      weight(b + "ffn_gate.weight", E, F);  // (n_ff, n_embd)
      weight(b + "ffn_up.weight", E, F);
    }
    weight(b + "ffn_down.weight", F, E);  // (n_embd, n_ff)
  }
  std::stable_sort(specs.begin(), specs.end(), [](const SynthTensorSpec& a, const SynthTensorSpec& b) {
    return tensor_name_less(a.name, b.name);
  });
  return specs;
}

std::vector<std::pair<std::string, Value>> synth_metadata(const SynthPreset& p, int64_t n_layer, int64_t n_vocab,
                                                          uint32_t file_type) {
  const std::string a(p.architecture);
  std::vector<std::pair<std::string, Value>> kv;
  auto u32 = [&](std::string key, int64_t v) { kv.emplace_back(std::move(key), Value::u32(uint32_t(v))); };
  auto f32 = [&](std::string key, float v) { kv.emplace_back(std::move(key), Value::f32(v)); };
  kv.emplace_back("general.architecture", Value::string(a));
  kv.emplace_back("general.type", Value::string("model"));
  kv.emplace_back("general.name", Value::string(std::string(p.model_name)));
  kv.emplace_back("general.description",
                  Value::string(fmt::format("hearth synth --preset {}: random weights with the real model's "
                                            "shapes, for testing; not a language model",
                                            p.name)));
  if (p.architecture == "phi3") {
    // Phi3MiniModel.set_gguf_parameters, in its order.
    u32(a + ".context_length", p.n_ctx);
    u32(a + ".rope.scaling.original_context_length", p.phi3_original_ctx);
    u32(a + ".embedding_length", p.n_embd);
    u32(a + ".feed_forward_length", p.n_ff);
    u32(a + ".block_count", n_layer);
    u32(a + ".attention.head_count", p.n_head);
    u32(a + ".attention.head_count_kv", p.n_head_kv);
    f32(a + ".attention.layer_norm_rms_epsilon", p.norm_rms_eps);
    u32(a + ".rope.dimension_count", p.head_dim());
    f32(a + ".rope.freq_base", p.rope_freq_base);
    u32("general.file_type", file_type);
    u32(a + ".sliding_window", p.phi3_sliding_window);
  } else {
    // TextModel.set_gguf_parameters, then LlamaModel's additions.
    u32(a + ".block_count", n_layer);
    u32(a + ".context_length", p.n_ctx);
    u32(a + ".embedding_length", p.n_embd);
    u32(a + ".feed_forward_length", p.n_ff);
    u32(a + ".attention.head_count", p.n_head);
    u32(a + ".attention.head_count_kv", p.n_head_kv);
    f32(a + ".rope.freq_base", p.rope_freq_base);
    f32(a + ".attention.layer_norm_rms_epsilon", p.norm_rms_eps);
    if (p.head_dim_in_config) {
      u32(a + ".attention.key_length", p.head_dim());
      u32(a + ".attention.value_length", p.head_dim());
    }
    u32("general.file_type", file_type);
    if (p.architecture == "llama") {
      u32(a + ".vocab_size", n_vocab);
      u32(a + ".rope.dimension_count", p.head_dim());
    }
  }
  return kv;
}

std::vector<float> llama3_rope_factors(const SynthPreset& p) {
  std::vector<float> out;
  if (p.llama3_factor <= 0) return out;
  // Float arithmetic throughout, as the converter's torch float32 tensors do it.
  const int64_t dim = p.head_dim();
  const float orig = float(p.llama3_original_ctx);
  const float low_wavelen = orig / p.llama3_low_freq_factor;
  const float high_wavelen = orig / p.llama3_high_freq_factor;
  for (int64_t i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(p.rope_freq_base, float(i) / float(dim));
    const float wavelen = float(2.0 * std::numbers::pi) / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(p.llama3_factor);
    } else {
      const float smooth = (orig / wavelen - p.llama3_low_freq_factor) /
                           (p.llama3_high_freq_factor - p.llama3_low_freq_factor);
      out.push_back(1.0f / ((1.0f - smooth) / p.llama3_factor + smooth));
    }
  }
  return out;
}

Result<SynthSummary> synth_model(const SynthOptions& options) {
  const SynthPreset* preset = find_synth_preset(options.preset);
  if (!preset) {
    std::vector<std::string> names;
    for (const SynthPreset& p : kPresets) names.emplace_back(p.name);
    return Error{fmt::format("unknown preset '{}'; valid presets: {}", options.preset, join(names, ", "))};
  }
  if (options.architecture != preset->architecture)
    return Error{fmt::format("--arch {} does not match --preset {}, which is a {} model (use --arch {})",
                             options.architecture, preset->name, preset->architecture, preset->architecture)};
  if (options.layers < 0 || options.layers > 4096)
    return Error{fmt::format("--layers {}: expected 1 to 4096 (0 or absent: the preset's {})", options.layers,
                             preset->n_layer)};
  const int64_t n_layer = options.layers > 0 ? options.layers : preset->n_layer;
  const auto mix = parse_quant_mix(options.type);
  if (!mix)
    return Error{fmt::format("unknown type '{}'; valid types: {}", options.type, join(quant_mix_names(), ", "))};

  // The tokenizer: every tokenizer.* key of the vocab file, in its order.
  const std::string vocab_name = options.vocab.string();
  std::error_code ec;
  if (!std::filesystem::exists(options.vocab, ec))
    return Error{fmt::format("cannot read vocab file {}: no such file", vocab_name)};
  auto vocab = gguf::File::open(options.vocab);
  if (!vocab) return Error{fmt::format("cannot read vocab file {}: {}", vocab_name, vocab.error().message)};
  const auto tokens = vocab->get_array("tokenizer.ggml.tokens");
  if (!tokens) return Error{fmt::format("vocab file {}: {}", vocab_name, tokens.error().message)};
  if ((*tokens)->element_type != gguf::ValueType::kString || (*tokens)->items.empty())
    return Error{fmt::format("vocab file {}: tokenizer.ggml.tokens is not a non-empty array of strings",
                             vocab_name)};
  const int64_t n_vocab = int64_t((*tokens)->items.size());
  if (n_vocab != preset->n_vocab && options.on_note)
    options.on_note(fmt::format("the vocab file has {} tokens and {} has {}: token_embd{} get {} rows", n_vocab,
                                preset->name, preset->n_vocab, preset->tied_output ? "" : " and output",
                                n_vocab));
  if (Status s = check_output_path(options.output, options.vocab, "vocab"); !s.ok()) return s.error();

  // Tensors and their types under the mix, as llama-quantize would choose them.
  const std::vector<SynthTensorSpec> specs = synth_tensor_specs(*preset, n_layer, n_vocab);
  std::vector<TensorSite> sites;
  for (const SynthTensorSpec& spec : specs) {
    TensorSite s;
    s.name = spec.name;
    s.ne = spec.ne;
    s.architecture = preset->architecture;
    s.n_layer = int(n_layer);
    s.n_head = int(preset->n_head);
    s.n_head_kv = int(preset->n_head_kv);
    s.tied_output = preset->tied_output;
    s.source_type = GgmlType::F32;
    sites.push_back(std::move(s));
  }
  const std::vector<GgmlType> types = tensor_types_for_model(*mix, sites);

  gguf::Writer writer;
  for (auto& [key, value] : synth_metadata(*preset, n_layer, n_vocab, mix->file_type)) writer.set(key, value);
  for (const auto& [key, value] : vocab->metadata())
    if (key.rfind("tokenizer.", 0) == 0) writer.set(key, value);
  writer.set("general.quantization_version", Value::u32(2));

  const int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads, /*spin_us=*/0);  // tasks are long: idle threads may sleep at once
  Run run;
  run.options = &options;
  run.pool = &pool;
  run.n_tensors = specs.size();
  int64_t widest = 1;
  SynthSummary summary;
  summary.n_layer = n_layer;
  summary.n_vocab = n_vocab;
  summary.file_type = mix->file_type;
  for (size_t i = 0; i < specs.size(); ++i) {
    const SynthTensorSpec& spec = specs[i];
    const GgmlType type = types[i];
    if (!type_traits(type).quantize)
      return Error{fmt::format("tensor {}: hearth cannot write type {}", spec.name, type_traits(type).name)};
    widest = std::max(widest, spec.ne[0]);
    uint64_t n = 1;
    for (int64_t d : spec.ne) n *= uint64_t(d);
    run.elements_total += n;
    summary.n_params += n;
    Status added = writer.add_tensor(spec.name, type, spec.ne, [&run, &spec, i, type](std::span<uint8_t> out) {
      return fill_tensor(run, i, spec, type, out);
    });
    if (!added.ok()) return Error{fmt::format("tensor {}: {}", spec.name, added.error().message)};
    summary.bytes += *row_bytes(type, spec.ne[0]) * (n / uint64_t(spec.ne[0]));
  }
  summary.n_tensors = specs.size();
  run.row_buffers.assign(size_t(pool.size()), std::vector<float>(size_t(widest)));
  run.start = Clock::now();
  if (Status s = writer.write(options.output); !s.ok())
    return Error{fmt::format("cannot write {}: {}", options.output.string(), s.error().message)};
  return summary;
}

}  // namespace hearth
