// `hearth synth`: every preset × {F16, Q4_K_M, Q4_0} is written and read back, and checked
// against an expected tensor list written out here by hand from each real model's published
// shapes (not from synth's own tables): every name, shape and type; the metadata keys, their
// types and values; tokenizer keys identical to the vocab file's; bytes that depend only on
// the seed, not on the thread count; weight statistics; llama3's rope factors.
//
// Files are kept small with --layers 1 and, for the preset matrix, a vocab cut to the first
// 512 tokens of ggml-vocab-llama-spm.gguf (every tokenizer array truncated alike): the
// embeddings then take little time, while every layer tensor keeps its real width. One test
// uses the whole llama-spm vocab to check the vocab-size rule.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "quant/ggml_type.h"
#include "test_data.h"
#include "tools/quant_mix.h"
#include "tools/synth.h"

namespace hearth {
namespace {

using gguf::Value;
using gguf::ValueType;

std::filesystem::path spm_vocab() { return test::models_dir() / "vocab" / "ggml-vocab-llama-spm.gguf"; }

// scripts/test.sh runs the arm64 tests under qemu with QEMU_CPU set. There one layer of the
// bigger presets (45M to 113M weights to draw and quantize) takes minutes, so only qwen2's
// files run: they cover the same code on arm64.
bool emulated() {
  const char* cpu = std::getenv("QEMU_CPU");
  return cpu != nullptr && *cpu != '\0';
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/hearth-synth-XXXXXX";
    path = ::mkdtemp(tmpl) ? std::filesystem::path(tmpl) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  if (a.type != ValueType::kArray) return a.data == b.data;
  const gguf::Array* x = a.as_array();
  const gguf::Array* y = b.as_array();
  if (x->element_type != y->element_type || x->items.size() != y->items.size()) return false;
  for (size_t i = 0; i < x->items.size(); ++i)
    if (!same_value(x->items[i], y->items[i])) return false;
  return true;
}

// The llama-spm tokenizer cut to its first n tokens: arrays of the token count are truncated.
std::filesystem::path write_cut_vocab(const std::filesystem::path& dir, size_t n) {
  auto src = gguf::File::open(spm_vocab());
  EXPECT_TRUE(src.ok()) << src.error().message;
  if (!src.ok()) return {};
  const size_t n_tokens = (*src->get_array("tokenizer.ggml.tokens"))->items.size();
  gguf::Writer w;
  for (const auto& [key, value] : src->metadata()) {
    const gguf::Array* a = value.as_array();
    if (a && a->items.size() == n_tokens) {
      std::vector<Value> items(a->items.begin(), a->items.begin() + long(n));
      w.set(key, Value::array(a->element_type, std::move(items)));
    } else {
      w.set(key, value);
    }
  }
  const auto path = dir / "vocab-cut.gguf";
  const Status s = w.write(path);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return path;
}

// The expected tensors of each real model, from its config.json: name -> ne (row length first).
struct Shape {
  int64_t embd, heads, kv_heads, head_dim, ff, rope_freqs;
  bool bias, tied, fused;
  int64_t q() const { return heads * head_dim; }      // rows of attn_q
  int64_t kv() const { return kv_heads * head_dim; }  // rows of attn_k and attn_v
};
Shape shape_of(std::string_view preset) {
  if (preset == "tinyllama-1.1b") return {2048, 32, 4, 64, 5632, 0, false, false, false};
  if (preset == "qwen2-0.5b") return {896, 14, 2, 64, 4864, 0, true, true, false};
  if (preset == "phi3-mini") return {3072, 32, 32, 96, 8192, 0, false, false, true};
  return {2048, 32, 8, 64, 8192, 32, false, true, false};  // llama3.2-1b
}

std::map<std::string, std::vector<int64_t>> expected_tensors(std::string_view preset, int layers, int64_t vocab) {
  const Shape s = shape_of(preset);
  std::map<std::string, std::vector<int64_t>> t;
  t["token_embd.weight"] = {s.embd, vocab};
  t["output_norm.weight"] = {s.embd};
  if (!s.tied) t["output.weight"] = {s.embd, vocab};
  if (s.rope_freqs) t["rope_freqs.weight"] = {s.rope_freqs};
  for (int i = 0; i < layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t[b + "attn_norm.weight"] = {s.embd};
    t[b + "ffn_norm.weight"] = {s.embd};
    t[b + "attn_output.weight"] = {s.q(), s.embd};
    t[b + "ffn_down.weight"] = {s.ff, s.embd};
    if (s.fused) {
      t[b + "attn_qkv.weight"] = {s.embd, s.q() + 2 * s.kv()};
      t[b + "ffn_up.weight"] = {s.embd, 2 * s.ff};
    } else {
      t[b + "attn_q.weight"] = {s.embd, s.q()};
      t[b + "attn_k.weight"] = {s.embd, s.kv()};
      t[b + "attn_v.weight"] = {s.embd, s.kv()};
      t[b + "ffn_gate.weight"] = {s.embd, s.ff};
      t[b + "ffn_up.weight"] = {s.embd, s.ff};
    }
    if (s.bias) {
      t[b + "attn_q.bias"] = {s.q()};
      t[b + "attn_k.bias"] = {s.kv()};
      t[b + "attn_v.bias"] = {s.kv()};
    }
  }
  return t;
}

// Keys as convert_hf_to_gguf.py writes them for each model, with their values.
struct Key {
  std::string name;
  ValueType type;
  double value;
};
std::vector<Key> expected_keys(std::string_view preset, int layers, int64_t vocab) {
  using VT = ValueType;
  const VT u = VT::kUint32, f = VT::kFloat32;
  if (preset == "tinyllama-1.1b")
    return {{"llama.block_count", u, double(layers)}, {"llama.context_length", u, 2048},
            {"llama.embedding_length", u, 2048}, {"llama.feed_forward_length", u, 5632},
            {"llama.attention.head_count", u, 32}, {"llama.attention.head_count_kv", u, 4},
            {"llama.rope.freq_base", f, 10000}, {"llama.attention.layer_norm_rms_epsilon", f, 1e-5},
            {"llama.vocab_size", u, double(vocab)}, {"llama.rope.dimension_count", u, 64}};
  if (preset == "qwen2-0.5b")
    return {{"qwen2.block_count", u, double(layers)}, {"qwen2.context_length", u, 32768},
            {"qwen2.embedding_length", u, 896}, {"qwen2.feed_forward_length", u, 4864},
            {"qwen2.attention.head_count", u, 14}, {"qwen2.attention.head_count_kv", u, 2},
            {"qwen2.rope.freq_base", f, 1e6}, {"qwen2.attention.layer_norm_rms_epsilon", f, 1e-6}};
  if (preset == "phi3-mini")
    return {{"phi3.block_count", u, double(layers)}, {"phi3.context_length", u, 4096},
            {"phi3.rope.scaling.original_context_length", u, 4096}, {"phi3.embedding_length", u, 3072},
            {"phi3.feed_forward_length", u, 8192}, {"phi3.attention.head_count", u, 32},
            {"phi3.attention.head_count_kv", u, 32}, {"phi3.attention.layer_norm_rms_epsilon", f, 1e-5},
            {"phi3.rope.dimension_count", u, 96}, {"phi3.rope.freq_base", f, 10000},
            {"phi3.sliding_window", u, 2047}};
  return {{"llama.block_count", u, double(layers)}, {"llama.context_length", u, 131072},
          {"llama.embedding_length", u, 2048}, {"llama.feed_forward_length", u, 8192},
          {"llama.attention.head_count", u, 32}, {"llama.attention.head_count_kv", u, 8},
          {"llama.rope.freq_base", f, 500000}, {"llama.attention.layer_norm_rms_epsilon", f, 1e-5},
          {"llama.attention.key_length", u, 64}, {"llama.attention.value_length", u, 64},
          {"llama.vocab_size", u, double(vocab)}, {"llama.rope.dimension_count", u, 64}};
}

std::string arch_of(std::string_view preset) {
  if (preset == "qwen2-0.5b") return "qwen2";
  if (preset == "phi3-mini") return "phi3";
  return "llama";
}

Result<SynthSummary> synth(const std::string& preset, int layers, const std::string& type,
                           const std::filesystem::path& vocab, const std::filesystem::path& out, int threads = 2,
                           uint64_t seed = kSynthDefaultSeed, std::vector<std::string>* notes = nullptr) {
  SynthOptions o;
  o.architecture = arch_of(preset);
  o.preset = preset;
  o.layers = layers;
  o.type = type;
  o.vocab = vocab;
  o.output = out;
  o.threads = threads;
  o.seed = seed;
  if (notes) o.on_note = [notes](std::string_view n) { notes->emplace_back(n); };
  return synth_model(o);
}

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Everything a file of `preset` under `type` must be, against the hand-written lists.
void check_file(const gguf::File& f, const gguf::File& vocab, std::string_view preset, std::string_view type,
                int layers) {
  const int64_t n_vocab = int64_t((*vocab.get_array("tokenizer.ggml.tokens"))->items.size());
  const Shape s = shape_of(preset);
  EXPECT_EQ(*f.get_string("general.architecture"), arch_of(preset));
  EXPECT_TRUE(f.get_string("general.name").ok());
  EXPECT_EQ(*f.get_uint("general.quantization_version"), 2u);
  EXPECT_EQ(f.find("general.file_type")->type, ValueType::kUint32);
  EXPECT_EQ(*f.get_uint("general.file_type"), parse_quant_mix(type)->file_type);
  for (const Key& k : expected_keys(preset, layers, n_vocab)) {
    const Value* v = f.find(k.name);
    ASSERT_NE(v, nullptr) << preset << ": missing " << k.name;
    EXPECT_EQ(v->type, k.type) << k.name;
    EXPECT_FLOAT_EQ(float(*v->as_f64()), float(k.value)) << k.name;
  }
  // Keys the real files do not have.
  const std::string a = arch_of(preset);
  if (preset == "qwen2-0.5b") {
    EXPECT_EQ(f.find("qwen2.rope.dimension_count"), nullptr);
    EXPECT_EQ(f.find("qwen2.vocab_size"), nullptr);
  }
  if (preset == "tinyllama-1.1b") {
    EXPECT_EQ(f.find("llama.attention.key_length"), nullptr);
  }
  EXPECT_EQ(f.find(a + ".rope.scaling.type"), nullptr);

  // Tokenizer: the vocab file's keys, all of them, unchanged; nothing else under tokenizer.
  size_t n_tok_keys = 0;
  for (const auto& [key, value] : vocab.metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    ++n_tok_keys;
    const Value* v = f.find(key);
    ASSERT_NE(v, nullptr) << "tokenizer key not copied: " << key;
    EXPECT_TRUE(same_value(*v, value)) << key;
  }
  size_t n_ours = 0;
  for (const auto& kv : f.metadata()) n_ours += kv.first.rfind("tokenizer.", 0) == 0;
  EXPECT_EQ(n_ours, n_tok_keys);

  // Tensors: exactly the expected set, each with its shape and type.
  const auto expected = expected_tensors(preset, layers, n_vocab);
  ASSERT_EQ(f.tensors().size(), expected.size()) << preset;
  const auto mix = parse_quant_mix(type);
  std::vector<TensorSite> sites;
  for (const gguf::TensorInfo& t : f.tensors()) {
    const auto it = expected.find(t.name);
    ASSERT_NE(it, expected.end()) << "unexpected tensor " << t.name;
    EXPECT_EQ(t.ne, it->second) << t.name;
    TensorSite site;
    site.name = t.name;
    site.ne = t.ne;
    site.architecture = a;
    site.n_layer = layers;
    site.n_head = int(s.heads);
    site.n_head_kv = int(s.kv_heads);
    site.tied_output = s.tied;
    sites.push_back(site);
  }
  // llama.cpp's order: outside-layer tensors first, then layer by layer.
  for (size_t i = 1; i < f.tensors().size(); ++i)
    EXPECT_TRUE(tensor_name_less(f.tensors()[i - 1].name, f.tensors()[i].name)) << f.tensors()[i].name;
  const std::vector<GgmlType> mix_types = tensor_types_for_model(*mix, sites);
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const gguf::TensorInfo& t = f.tensors()[i];
    const std::string_view got = type_traits(t.type).name;
    if (t.ne.size() == 1) {
      EXPECT_EQ(got, "F32") << t.name << ": 1-D tensors stay F32";
      continue;
    }
    const bool is_output = t.name == "output.weight" || (s.tied && t.name == "token_embd.weight");
    if (type == "F16") {
      EXPECT_EQ(got, "F16") << t.name;
    } else if (type == "Q4_0") {
      // llama-quantize gives the output matrix Q6_K, or Q8_0 when rows are not 256-multiples.
      const std::string_view want = is_output ? (t.ne[0] % 256 == 0 ? "Q6_K" : "Q8_0") : "Q4_0";
      EXPECT_EQ(got, want) << t.name;
    } else {
      EXPECT_EQ(got, type_traits(mix_types[i]).name) << t.name;
    }
  }
  if (type == "Q4_K_M" && s.embd % 256 == 0) {
    // A few of llama.cpp's Q4_K_M choices spelled out: with one layer it is an "edge" layer.
    EXPECT_EQ(type_traits(f.find_tensor("blk.0.ffn_down.weight")->type).name, "Q6_K");
    EXPECT_EQ(type_traits(f.find_tensor(s.fused ? "blk.0.attn_qkv.weight" : "blk.0.attn_q.weight")->type).name,
              s.fused ? "Q5_K" : "Q4_K");
    EXPECT_EQ(type_traits(f.find_tensor("token_embd.weight")->type).name, s.tied ? "Q6_K" : "Q4_K");
  }
}

class SynthPresetTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(SynthPresetTest, TensorsMetadataAndTokenizerAreTheRealModels) {
  const std::string preset = std::get<0>(GetParam());
  const std::string type = std::get<1>(GetParam());
  HEARTH_REQUIRE_FILE(spm_vocab());
  if (emulated() && preset != "qwen2-0.5b")
    GTEST_SKIP() << "under emulation (QEMU_CPU set) only qwen2-0.5b's files are written; " << preset
                 << " runs natively";
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto vocab_path = write_cut_vocab(tmp.path, 512);
  const auto out = tmp.path / "out.gguf";
  const auto r = synth(preset, 1, type, vocab_path, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto f = gguf::File::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto vocab = gguf::File::open(vocab_path);
  ASSERT_TRUE(vocab.ok());
  check_file(*f, *vocab, preset, type, 1);
  EXPECT_EQ(r->n_tensors, f->tensors().size());
  uint64_t bytes = 0;
  for (const auto& t : f->tensors()) bytes += t.nbytes;
  EXPECT_EQ(r->bytes, bytes);
}

INSTANTIATE_TEST_SUITE_P(AllPresets, SynthPresetTest,
                         ::testing::Combine(::testing::Values("tinyllama-1.1b", "qwen2-0.5b", "phi3-mini",
                                                              "llama3.2-1b"),
                                            ::testing::Values("F16", "Q4_K_M", "Q4_0")),
                         [](const auto& info) {
                           std::string n = std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(SynthTest, TwoLayersAndTheWholeSpmVocab) {
  HEARTH_REQUIRE_FILE(spm_vocab());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto out = tmp.path / "qwen2.gguf";
  std::vector<std::string> notes;
  const auto r = synth("qwen2-0.5b", 2, "F16", spm_vocab(), out, 2, kSynthDefaultSeed, &notes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Qwen2's own vocab has 151936 entries; llama-spm's 32000 wins, with a note saying so.
  EXPECT_EQ(r->n_vocab, 32000);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("32000"), std::string::npos) << notes[0];
  auto f = gguf::File::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto vocab = gguf::File::open(spm_vocab());
  ASSERT_TRUE(vocab.ok());
  check_file(*f, *vocab, "qwen2-0.5b", "F16", 2);
  EXPECT_EQ(f->find_tensor("token_embd.weight")->ne, (std::vector<int64_t>{896, 32000}));
}

TEST(SynthTest, BytesDependOnTheSeedNotOnTheThreadCount) {
  HEARTH_REQUIRE_FILE(spm_vocab());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto vocab = write_cut_vocab(tmp.path, 512);
  std::string first;
  for (int threads : {1, 2, 3}) {
    const auto out = tmp.path / ("t" + std::to_string(threads) + ".gguf");
    const auto r = synth("qwen2-0.5b", 1, "Q4_K_M", vocab, out, threads);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const std::string bytes = file_bytes(out);
    ASSERT_GT(bytes.size(), 1000000u);
    if (first.empty()) first = bytes;
    else EXPECT_TRUE(bytes == first) << threads << " threads wrote other bytes than 1 thread";
  }
  const auto other = tmp.path / "seed.gguf";
  ASSERT_TRUE(synth("qwen2-0.5b", 1, "Q4_K_M", vocab, other, 2, kSynthDefaultSeed + 1).ok());
  const std::string bytes = file_bytes(other);
  ASSERT_EQ(bytes.size(), first.size());  // same header, same sizes
  auto a = gguf::File::open(tmp.path / "t1.gguf");
  auto b = gguf::File::open(other);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto& t : a->tensors()) {
    const gguf::TensorInfo* u = b->find_tensor(t.name);
    EXPECT_NE(std::memcmp(t.data, u->data, t.nbytes), 0) << t.name << " did not change with the seed";
  }
}

TEST(SynthTest, WeightStatisticsAndRopeFactors) {
  HEARTH_REQUIRE_FILE(spm_vocab());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto vocab = write_cut_vocab(tmp.path, 512);
  const auto out = tmp.path / "f32.gguf";
  const auto r = synth("llama3.2-1b", 1, "F32", vocab, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto f = gguf::File::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto stats = [&](const char* name, double& mean, double& sd) {
    const gguf::TensorInfo* t = f->find_tensor(name);
    ASSERT_NE(t, nullptr) << name;
    ASSERT_EQ(t->type, GgmlType::F32);
    const float* x = reinterpret_cast<const float*>(t->data);
    double s = 0, s2 = 0;
    const int64_t n = t->n_elements();
    for (int64_t i = 0; i < n; ++i) {
      s += x[i];
      s2 += double(x[i]) * x[i];
    }
    mean = s / double(n);
    sd = std::sqrt(s2 / double(n) - mean * mean);
  };
  double mean, sd;
  stats("blk.0.ffn_up.weight", mean, sd);  // 16.8M samples: tight bounds
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR(sd, 0.02, 2e-4);
  stats("blk.0.attn_norm.weight", mean, sd);  // 2048 samples
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_GT(sd, 0.0);
  EXPECT_LT(sd, 0.2);

  // rope_freqs: Llama 3's frequency scaling (factor 32, low 1, high 4, original context 8192)
  // computed in double here; the converter's float32 arithmetic differs by rounding only.
  const gguf::TensorInfo* rf = f->find_tensor("rope_freqs.weight");
  ASSERT_NE(rf, nullptr);
  ASSERT_EQ(rf->ne, (std::vector<int64_t>{32}));
  const float* got = reinterpret_cast<const float*>(rf->data);
  for (int i = 0; i < 32; ++i) {
    const double freq = 1.0 / std::pow(500000.0, 2.0 * i / 64.0);
    const double wavelen = 2 * std::numbers::pi / freq;
    double want;
    if (wavelen < 8192.0 / 4) want = 1;
    else if (wavelen > 8192.0 / 1) want = 32;
    else {
      const double smooth = (8192.0 / wavelen - 1) / (4 - 1);
      want = 1 / ((1 - smooth) / 32 + smooth);
    }
    EXPECT_NEAR(got[i], want, 1e-4 * want) << i;
  }
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[31], 32.0f);
}

TEST(SynthTest, ErrorsAreClear) {
  HEARTH_REQUIRE_FILE(spm_vocab());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto out = tmp.path / "x.gguf";
  SynthOptions o;
  o.architecture = "qwen2";
  o.preset = "tinyllama-1.1b";
  o.type = "F16";
  o.vocab = spm_vocab();
  o.output = out;
  auto r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("llama model"), std::string::npos) << r.error().message;

  o.architecture = "llama";
  o.preset = "gpt-5";
  r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("llama3.2-1b"), std::string::npos) << r.error().message;

  o.preset = "llama3.2-1b";
  o.type = "Q9_X";
  r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Q4_K_M"), std::string::npos) << r.error().message;

  o.type = "F16";
  o.vocab = tmp.path / "absent.gguf";
  r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("absent.gguf"), std::string::npos) << r.error().message;

  // A model file with no tokenizer is no vocab file.
  gguf::Writer w;
  w.set("general.architecture", Value::string("llama"));
  ASSERT_TRUE(w.write(tmp.path / "notok.gguf").ok());
  o.vocab = tmp.path / "notok.gguf";
  r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.tokens"), std::string::npos) << r.error().message;

  o.vocab = spm_vocab();
  o.output = tmp.path / "no-such-dir" / "x.gguf";
  r = synth_model(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(SynthTest, CommandLine) {
  HEARTH_REQUIRE_FILE(spm_vocab());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto vocab = write_cut_vocab(tmp.path, 512);
  const auto out = tmp.path / "cli.gguf";
  const auto err = tmp.path / "stderr.txt";
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string(HEARTH_BINARY) + " synth " + args + " >/dev/null 2>" + err.string();
    const int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  ASSERT_EQ(run("--arch qwen2 --preset qwen2-0.5b --layers 1 --type Q4_0 --threads 2 --vocab-from " +
                vocab.string() + " " + out.string()),
            0)
      << file_bytes(err);
  EXPECT_NE(file_bytes(err).find("note:"), std::string::npos) << "no vocab-size note: " << file_bytes(err);
  auto f = gguf::File::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f->get_uint("qwen2.block_count"), 1u);
  // The library call with the same arguments writes the same bytes.
  const auto lib = tmp.path / "lib.gguf";
  ASSERT_TRUE(synth("qwen2-0.5b", 1, "Q4_0", vocab, lib, 1).ok());
  EXPECT_TRUE(file_bytes(lib) == file_bytes(out));

  EXPECT_EQ(run("--arch phi3 --preset llama3.2-1b --type F16 --vocab-from " + vocab.string() + " " +
                (tmp.path / "bad.gguf").string()),
            1);
  EXPECT_NE(file_bytes(err).find("does not match"), std::string::npos) << file_bytes(err);
}

}  // namespace
}  // namespace hearth
