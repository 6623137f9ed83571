// hearth pull's reference forms, the Hub's file list and quantization choice, model names.
#include <gtest/gtest.h>

#include "models/model_ref.h"

namespace hearth::models {
namespace {

constexpr std::string_view kHub = "https://huggingface.co";

TEST(ModelRef, RepoFileForms) {
  for (const char* ref : {"Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
                          "Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf",
                          "hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf",
                          "huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"}) {
    Result<ModelRef> r = parse_model_ref(ref, kHub);
    ASSERT_TRUE(r) << ref << ": " << r.error().message;
    EXPECT_EQ(r->repo, "Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    EXPECT_EQ(r->url, "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf");
    EXPECT_EQ(r->default_name, "qwen2.5-0.5b-instruct-q4_k_m");
    EXPECT_TRUE(r->quant.empty());
  }
  Result<ModelRef> sub = parse_model_ref("o/r/sub dir/x.gguf", kHub);
  EXPECT_FALSE(sub);  // a space
  Result<ModelRef> nested = parse_model_ref("o/r/q4/x+y.gguf", kHub);
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->url, "https://huggingface.co/o/r/resolve/main/q4/x%2By.gguf");
  EXPECT_EQ(nested->default_name, "x+y");
}

TEST(ModelRef, QuantAndUrlForms) {
  Result<ModelRef> q = parse_model_ref("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", kHub);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->repo, "bartowski/Llama-3.2-1B-Instruct-GGUF");
  EXPECT_EQ(q->quant, "Q4_K_M");
  EXPECT_TRUE(q->url.empty());
  Result<ModelRef> dflt = parse_model_ref("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF", kHub);
  ASSERT_TRUE(dflt);
  EXPECT_EQ(dflt->quant, "Q4_K_M");
  Result<ModelRef> url = parse_model_ref("http://127.0.0.1:8000/files/tiny.gguf?download=1", kHub);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->url, "http://127.0.0.1:8000/files/tiny.gguf?download=1");
  EXPECT_EQ(url->default_name, "tiny");
  EXPECT_EQ(hf_tree_url("http://127.0.0.1:9", "o/r"), "http://127.0.0.1:9/api/models/o/r/tree/main?recursive=true");
}

TEST(ModelRef, BadReferencesNameTheProblem) {
  for (const char* ref : {"", "justaname", "o/r:", "../r/x.gguf", "o/../x.gguf", "o/r/../../etc/passwd.gguf",
                          "o/r/x.gguf:Q4_K_M", "http://host", "o/r:Q4 K", "o/r:Q4;rm"}) {
    Result<ModelRef> r = parse_model_ref(ref, kHub);
    EXPECT_FALSE(r) << ref;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(ModelRef, TreeAndQuantChoice) {
  const std::string tree = R"([
    {"type":"directory","path":"q8"},
    {"type":"file","path":"README.md","size":10},
    {"type":"file","path":"m-Q4_K_M.gguf","size":5,"lfs":{"oid":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":700}},
    {"type":"file","path":"m-Q4_K_M_L.gguf","size":5},
    {"type":"file","path":"m-Q8_0.gguf","size":5},
    {"type":"file","path":"big/m-Q6_K-00001-of-00002.gguf","size":5},
    {"type":"file","path":"big/m-Q6_K-00002-of-00002.gguf","size":5}])";
  Result<std::vector<RepoFile>> files = parse_hf_tree(tree);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 6u);
  Result<RepoFile> q4 = choose_quant_file(*files, "q4_k_m", "o/r");
  ASSERT_TRUE(q4) << q4.error().message;
  EXPECT_EQ(q4->path, "m-Q4_K_M.gguf");
  EXPECT_EQ(q4->size, 700u);
  EXPECT_EQ(q4->sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  Result<RepoFile> none = choose_quant_file(*files, "Q2_K", "o/r");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("m-Q8_0.gguf"), std::string::npos) << none.error().message;
  Result<RepoFile> split = choose_quant_file(*files, "Q6_K", "o/r");
  ASSERT_FALSE(split);
  EXPECT_NE(split.error().message.find("split"), std::string::npos);
  EXPECT_FALSE(parse_hf_tree("{\"error\":\"x\"}"));
}

TEST(ModelRef, ModelNames) {
  EXPECT_TRUE(check_model_name("qwen2.5-0.5b-instruct-q4_k_m").ok());
  EXPECT_FALSE(check_model_name("").ok());
  EXPECT_FALSE(check_model_name("../x").ok());
  EXPECT_FALSE(check_model_name(".hidden").ok());
  EXPECT_FALSE(check_model_name("a/b").ok());
  EXPECT_FALSE(check_model_name(std::string(201, 'a')).ok());
  EXPECT_EQ(normalize_model_name("tiny:latest"), "tiny");
  EXPECT_EQ(normalize_model_name("tiny.gguf"), "tiny");
  EXPECT_EQ(normalize_model_name("tiny"), "tiny");
}

}  // namespace
}  // namespace hearth::models
