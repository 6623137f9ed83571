// The quant-mix chooser against llama.cpp: for every quantized synth file, each tensor's type
// as our chooser gives it (from the source file's names, shapes and hyperparameters) equals the
// type in llama.cpp's file. Then the rules the tiny models cannot reach (deep models, GQA,
// MoE, odd row lengths), from llama_tensor_get_type at commit c392e509.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "test_data.h"
#include "tools/quant_mix.h"

namespace hearth {
namespace {

std::string type_name(GgmlType t) { return std::string(type_traits(t).name); }

// The hyperparameters and tensors of a source file, as quantize reads them.
std::vector<TensorSite> sites_of(const gguf::File& f) {
  const std::string arch = f.get_string("general.architecture").ok() ? *f.get_string("general.architecture") : "";
  auto get = [&](const std::string& key, int fallback) {
    auto v = f.get_uint(key);
    return v.ok() ? int(*v) : fallback;
  };
  std::vector<TensorSite> sites;
  for (const gguf::TensorInfo& t : f.tensors()) {
    TensorSite s;
    s.name = t.name;
    s.ne = t.ne;
    s.architecture = arch;
    s.n_layer = get(arch + ".block_count", 0);
    s.n_head = get(arch + ".attention.head_count", 0);
    s.n_head_kv = get(arch + ".attention.head_count_kv", s.n_head);
    s.n_expert = get(arch + ".expert_count", 0);
    s.tied_output = f.find_tensor("output.weight") == nullptr;
    s.source_type = t.type;
    sites.push_back(std::move(s));
  }
  return sites;
}

struct Case {
  const char* source;
  const char* quantized;
  const char* mix;
};

// Every synth file that llama-quantize wrote, with the file it was made from.
const Case kCases[] = {
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q2_K", "Q2_K"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q3_K_M", "Q3_K_M"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q4_K_M", "Q4_K_M"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q4_K_S", "Q4_K_S"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q5_K_M", "Q5_K_M"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q6_K", "Q6_K"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q4_0", "Q4_0"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q4_1", "Q4_1"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q5_0", "Q5_0"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q5_1", "Q5_1"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-Q8_0", "Q8_0"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-IQ4_NL", "IQ4_NL"},
    {"synth-llama-tiny-F32", "synth-llama-tiny-IQ4_XS", "IQ4_XS"},
    {"synth-llama3-tiny-F16", "synth-llama3-tiny-Q4_K_M", "Q4_K_M"},
    {"synth-llama3-tiny-F16", "synth-llama3-tiny-Q8_0", "Q8_0"},
    {"synth-qwen2-tiny-F16", "synth-qwen2-tiny-Q4_K_M", "Q4_K_M"},
    {"synth-qwen2-tiny-F16", "synth-qwen2-tiny-Q8_0", "Q8_0"},
    {"synth-phi3-tiny-F16", "synth-phi3-tiny-Q4_K_M", "Q4_K_M"},
    {"synth-phi3-tiny-F16", "synth-phi3-tiny-Q8_0", "Q8_0"},
    {"synth-stablelm-tiny-F16", "synth-stablelm-tiny-Q4_K_M", "Q4_K_M"},
    {"synth-stablelm-tiny-F16", "synth-stablelm-tiny-Q8_0", "Q8_0"},
    {"synth-bert-tiny-F16", "synth-bert-tiny-Q8_0", "Q8_0"},
};

TEST(QuantMixFiles, EveryTensorTypeMatchesLlamaCpp) {
  const auto dir = test::models_dir() / "synth";
  HEARTH_REQUIRE_FILE(dir / "synth-llama-tiny-F32.gguf");
  int compared = 0;
  for (const Case& c : kCases) {
    const auto src_path = dir / (std::string(c.source) + ".gguf");
    const auto q_path = dir / (std::string(c.quantized) + ".gguf");
    if (!std::filesystem::exists(src_path) || !std::filesystem::exists(q_path)) continue;
    auto src = gguf::File::open(src_path);
    auto quant = gguf::File::open(q_path);
    ASSERT_TRUE(src.ok()) << src.error().message;
    ASSERT_TRUE(quant.ok()) << quant.error().message;
    const auto mix = parse_quant_mix(c.mix);
    ASSERT_TRUE(mix.has_value()) << c.mix;
    const auto sites = sites_of(*src);
    const auto types = tensor_types_for_model(*mix, sites);
    ASSERT_EQ(sites.size(), quant->tensors().size()) << c.quantized;
    for (size_t i = 0; i < sites.size(); ++i) {
      const gguf::TensorInfo* theirs = quant->find_tensor(sites[i].name);
      ASSERT_NE(theirs, nullptr) << c.quantized << " lacks " << sites[i].name;
      EXPECT_EQ(type_name(types[i]), type_name(theirs->type)) << c.quantized << " " << sites[i].name;
      ++compared;
    }
    // general.file_type is the llama_ftype of the mix.
    auto ft = quant->get_uint("general.file_type");
    ASSERT_TRUE(ft.ok()) << c.quantized;
    EXPECT_EQ(*ft, mix->file_type) << c.quantized;
  }
  EXPECT_GT(compared, 300);
}

// ---- rules the tiny files do not reach -------------------------------------------------------

struct Model {
  std::string arch = "llama";
  int n_layer = 32, n_head = 32, n_head_kv = 32, n_expert = 0;
  int64_t n_embd = 4096, n_ff = 11008;
  bool tied = false;
};


std::map<std::string, std::string> choose(const Model& m, const char* mix_name) {
  const auto mix = parse_quant_mix(mix_name);
  EXPECT_TRUE(mix.has_value()) << mix_name;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  names.push_back("token_embd.weight");
  shapes.push_back({m.n_embd, 32000});
  if (!m.tied) {
    names.push_back("output.weight");
    shapes.push_back({m.n_embd, 32000});
  }
  names.push_back("output_norm.weight");
  shapes.push_back({m.n_embd});
  const int64_t kv = m.n_embd / m.n_head * m.n_head_kv;
  for (int i = 0; i < m.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    for (auto [n, rows] : {std::pair{"attn_q", m.n_embd}, {"attn_k", kv}, {"attn_v", kv}, {"attn_output", m.n_embd},
                           {"ffn_gate", m.n_ff}, {"ffn_up", m.n_ff}}) {
      names.push_back(p + n + ".weight");
      shapes.push_back({m.n_embd, rows});
    }
    names.push_back(p + "ffn_down.weight");
    shapes.push_back({m.n_ff, m.n_embd});
    names.push_back(p + "attn_norm.weight");
    shapes.push_back({m.n_embd});
  }
  std::vector<TensorSite> sites;
  for (size_t i = 0; i < names.size(); ++i) {
    TensorSite s;
    s.name = names[i];
    s.ne = shapes[i];
    s.architecture = m.arch;
    s.n_layer = m.n_layer;
    s.n_head = m.n_head;
    s.n_head_kv = m.n_head_kv;
    s.n_expert = m.n_expert;
    s.tied_output = m.tied;
    s.source_type = shapes[i].size() == 1 ? GgmlType::F32 : GgmlType::F16;
    sites.push_back(s);
  }
  const auto types = tensor_types_for_model(*mix, sites);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < names.size(); ++i) out[names[i]] = type_name(types[i]);
  return out;
}

TEST(QuantMix, Q4KMUsesMoreBitsOnEdgeAndEveryThirdLayer) {
  const auto t = choose(Model{}, "Q4_K_M");
  // 32 layers: n/8 = 4, 7n/8 = 28; layers 0-3, 28-31 and (i - 4) % 3 == 2 get Q6_K.
  for (int i = 0; i < 32; ++i) {
    const bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
    const std::string p = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(t.at(p + "attn_v.weight"), more ? "Q6_K" : "Q4_K") << i;
    EXPECT_EQ(t.at(p + "ffn_down.weight"), more ? "Q6_K" : "Q4_K") << i;
    EXPECT_EQ(t.at(p + "attn_q.weight"), "Q4_K");
    EXPECT_EQ(t.at(p + "attn_norm.weight"), "F32");
  }
  EXPECT_EQ(t.at("output.weight"), "Q6_K");
  EXPECT_EQ(t.at("token_embd.weight"), "Q4_K");
}

TEST(QuantMix, LayerCountFollowsNumbersNotNames) {
  // llama.cpp orders blk.10 after blk.9, so the 11th attn_v is layer 10, not layer 2.
  Model m;
  m.n_layer = 12;
  const auto t = choose(m, "Q3_K_M");
  EXPECT_EQ(t.at("blk.0.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.1.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.2.attn_v.weight"), "Q4_K");
  EXPECT_EQ(t.at("blk.10.attn_v.weight"), "Q4_K");
  EXPECT_EQ(t.at("blk.0.ffn_down.weight"), "Q4_K");  // 12/16 = 0: no Q5_K layers
  EXPECT_EQ(t.at("blk.0.attn_output.weight"), "Q4_K");
}

TEST(QuantMix, Q2KWithGqaAndSmallMixes) {
  Model m;
  m.n_head_kv = 8;  // GQA 4
  auto t = choose(m, "Q2_K");
  EXPECT_EQ(t.at("blk.5.attn_v.weight"), "Q4_K");
  EXPECT_EQ(t.at("blk.5.ffn_down.weight"), "Q3_K");
  EXPECT_EQ(t.at("blk.5.attn_output.weight"), "Q3_K");
  EXPECT_EQ(t.at("blk.5.ffn_up.weight"), "Q2_K");
  t = choose(m, "Q4_K_S");
  EXPECT_EQ(t.at("blk.3.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.4.attn_v.weight"), "Q4_K");
  EXPECT_EQ(t.at("blk.3.ffn_down.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.4.ffn_down.weight"), "Q4_K");
  t = choose(m, "Q3_K_L");
  EXPECT_EQ(t.at("blk.9.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.9.ffn_down.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.9.attn_output.weight"), "Q5_K");
  t = choose(m, "IQ4_NL");
  EXPECT_EQ(t.at("blk.9.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.0.ffn_down.weight"), "Q5_K");
  EXPECT_EQ(t.at("blk.9.ffn_down.weight"), "IQ4_NL");
  t = choose(m, "Q5_K_S");
  EXPECT_EQ(t.at("blk.0.attn_v.weight"), "Q5_K");
  EXPECT_EQ(t.at("output.weight"), "Q6_K");
  t = choose(m, "Q8_0");
  EXPECT_EQ(t.at("output.weight"), "Q8_0");
  t = choose(m, "F16");
  EXPECT_EQ(t.at("output.weight"), "F16");
  EXPECT_EQ(t.at("output_norm.weight"), "F32");
}

TEST(QuantMix, MixtureOfEightExpertsAnd70B) {
  Model moe;
  moe.n_expert = 8;
  auto t = choose(moe, "Q4_K_M");
  EXPECT_EQ(t.at("blk.7.attn_v.weight"), "Q8_0");
  EXPECT_EQ(t.at("blk.7.attn_k.weight"), "Q8_0");
  EXPECT_EQ(t.at("blk.7.attn_output.weight"), "Q5_K");
  Model big;
  big.n_layer = 80;
  big.n_embd = 8192;
  big.n_head = 64;
  big.n_head_kv = 8;
  big.n_ff = 28672;
  t = choose(big, "Q4_K_S");
  EXPECT_EQ(t.at("blk.40.attn_v.weight"), "Q5_K");  // Q4_K raised for 70B
}

TEST(QuantMix, TiedEmbeddingIsTreatedAsOutput) {
  Model m;
  m.tied = true;
  EXPECT_EQ(choose(m, "Q4_K_M").at("token_embd.weight"), "Q6_K");
  EXPECT_EQ(choose(m, "Q8_0").at("token_embd.weight"), "Q8_0");
  EXPECT_EQ(choose(m, "Q4_0").at("token_embd.weight"), "Q6_K");
}

TEST(QuantMix, RowsThatAreNotWholeSuperBlocksFallBack) {
  Model m;
  m.n_embd = 3200;  // 12.5 super-blocks: phi-2 / openllama-3b width
  m.n_ff = 8640;
  m.n_head = 32;
  m.n_head_kv = 32;
  auto t = choose(m, "Q4_K_M");
  EXPECT_EQ(t.at("output.weight"), "Q8_0");
  EXPECT_EQ(t.at("blk.5.attn_q.weight"), "Q5_0");
  EXPECT_EQ(t.at("blk.0.attn_v.weight"), "Q8_0");  // Q6_K -> Q8_0
  t = choose(m, "Q5_K_M");
  EXPECT_EQ(t.at("blk.5.attn_q.weight"), "Q5_1");
  t = choose(m, "Q3_K_M");
  EXPECT_EQ(t.at("blk.5.attn_q.weight"), "IQ4_NL");
  t = choose(m, "Q4_0");
  EXPECT_EQ(t.at("blk.5.attn_q.weight"), "Q4_0");

  TensorSite odd;
  odd.name = "blk.0.attn_q.weight";
  odd.ne = {100, 64};
  odd.architecture = "llama";
  odd.n_layer = 1;
  EXPECT_EQ(type_name(tensor_type_for(*parse_quant_mix("Q4_K_M"), odd)), "F16");
  EXPECT_EQ(type_name(tensor_type_for(*parse_quant_mix("Q4_0"), odd)), "F16");
}

TEST(QuantMix, NotQuantized) {
  TensorSite s;
  s.architecture = "bert";
  s.n_layer = 2;
  for (const char* name : {"token_types.weight", "position_embd.weight", "blk.0.attn_norm.weight",
                           "blk.0.ffn_gate_inp.weight", "blk.0.attn_q.bias"}) {
    s.name = name;
    s.ne = {256, 256};
    s.source_type = GgmlType::F16;
    EXPECT_FALSE(tensor_is_quantizable(s)) << name;
    EXPECT_EQ(tensor_type_for(*parse_quant_mix("Q4_K_M"), s), GgmlType::F16) << name;
  }
  s.name = "blk.0.attn_q.weight";
  s.ne = {256, 1};  // a trailing 1 makes it 1-D
  EXPECT_FALSE(tensor_is_quantizable(s));
}

TEST(QuantMix, NamesAndFileTypes) {
  const std::map<std::string, uint32_t> expected = {
      {"F32", 0},     {"F16", 1},     {"Q4_0", 2},    {"Q4_1", 3},    {"Q8_0", 7},
      {"Q5_0", 8},    {"Q5_1", 9},    {"Q2_K", 10},   {"Q3_K_S", 11}, {"Q3_K_M", 12},
      {"Q3_K_L", 13}, {"Q4_K_S", 14}, {"Q4_K_M", 15}, {"Q5_K_S", 16}, {"Q5_K_M", 17},
      {"Q6_K", 18},   {"IQ4_NL", 25}, {"IQ4_XS", 30}, {"BF16", 32}};
  const auto names = quant_mix_names();
  EXPECT_EQ(names.size(), expected.size());
  for (const std::string& n : names) {
    ASSERT_TRUE(expected.count(n)) << n;
    EXPECT_EQ(parse_quant_mix(n)->file_type, expected.at(n)) << n;
  }
  EXPECT_EQ(parse_quant_mix("q4_k_m")->file_type, 15u);
  EXPECT_EQ(parse_quant_mix("q4_k_m")->name, "Q4_K_M");
  EXPECT_EQ(parse_quant_mix("Q4_K")->file_type, 15u);  // llama-quantize's alias
  EXPECT_FALSE(parse_quant_mix("Q4_K_X").has_value());
  EXPECT_FALSE(parse_quant_mix("").has_value());
}

}  // namespace
}  // namespace hearth
