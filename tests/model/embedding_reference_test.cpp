// bert embeddings against llama.cpp's (../shared/reference/embeddings-*.json, tolerances from
// the README there): tokens exact, cosine ≥ 0.999 for every item. Also the pooling variants,
// packing (several inputs in one pass = one at a time), and decoder-model embeddings.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/embed.h"
#include "runtime/thread_pool.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth {
namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<tokenizer::Vocab> vocab;
};

// Loads a synth model and its vocabulary, or leaves both null (the caller skips).
Loaded load(const std::string& name) {
  Loaded l;
  auto model = Model::load(test::models_dir() / "synth" / (name + ".gguf"), *choose_kernels().table);
  EXPECT_TRUE(model) << (model ? "" : model.error().message);
  if (!model) return l;
  auto vocab = tokenizer::Vocab::load((*model)->file());
  EXPECT_TRUE(vocab) << (vocab ? "" : vocab.error().message);
  if (!vocab) return l;
  l.model = *model;
  l.vocab = std::make_unique<tokenizer::Vocab>(std::move(*vocab));
  return l;
}

class EmbeddingReference : public ::testing::TestWithParam<const char*> {};

TEST_P(EmbeddingReference, TokensExactAndCosineAtLeast0999) {
  const std::string name = GetParam();
  const auto model_path = test::models_dir() / "synth" / (name + ".gguf");
  const auto ref_path = test::reference_dir() / ("embeddings-" + name + ".json");
  HEARTH_REQUIRE_FILE(model_path);
  HEARTH_REQUIRE_FILE(ref_path);
  std::ifstream in(ref_path);
  const nlohmann::json ref = nlohmann::json::parse(in);
  Loaded l = load(name);
  ASSERT_TRUE(l.model);
  EXPECT_EQ(l.model->config().pooling, Pooling::kMean);

  std::vector<std::vector<int32_t>> inputs;
  for (const auto& item : ref["items"]) {
    const std::string text = item["text"];
    std::vector<int32_t> ids = tokenizer::tokenize(*l.vocab, text);
    EXPECT_EQ(ids, item["tokens"].get<std::vector<int32_t>>()) << text;
    inputs.push_back(std::move(ids));
  }
  ASSERT_FALSE(inputs.empty());
  ThreadPool pool(2);
  Embedder embedder(l.model);
  auto out = embedder.embed(pool, inputs);  // all items in one packed pass, as the reference
  ASSERT_TRUE(out) << out.error().message;
  double worst = 1.0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto want = ref["items"][i]["embedding"].get<std::vector<float>>();
    ASSERT_EQ((*out)[i].values.size(), want.size());
    const double cos = cosine((*out)[i].values, want);
    worst = std::min(worst, cos);
    EXPECT_GE(cos, 0.999) << ref["items"][i]["text"];
  }
  std::printf("[ %s ] worst cosine vs llama.cpp over %zu items: %.7f\n", name.c_str(), inputs.size(), worst);
}

INSTANTIATE_TEST_SUITE_P(Synth, EmbeddingReference,
                         ::testing::Values("synth-bert-tiny-F16", "synth-bert-tiny-Q8_0"));

class BertEmbedding : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = test::models_dir() / "synth" / "synth-bert-tiny-F16.gguf";
    HEARTH_REQUIRE_FILE(path);
    l_ = load("synth-bert-tiny-F16");
    ASSERT_TRUE(l_.model);
    for (const char* t : {"A cat sat on the mat.", "How do I reset my router?", "x",
                          "The Raspberry Pi 4 has 8 GB of RAM."})
      inputs_.push_back(tokenizer::tokenize(*l_.vocab, t));
  }
  Loaded l_;
  std::vector<std::vector<int32_t>> inputs_;
};

TEST_F(BertEmbedding, PackedEqualsOneAtATime) {
  ThreadPool pool(2);
  Embedder embedder(l_.model);
  auto packed = embedder.embed(pool, inputs_);
  ASSERT_TRUE(packed) << packed.error().message;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    auto alone = embedder.embed(pool, std::span(&inputs_[i], 1));
    ASSERT_TRUE(alone) << alone.error().message;
    const auto& a = (*packed)[i].values;
    const auto& b = (*alone)[0].values;
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-6) << "input " << i << " dim " << j;
  }
  // A batch limit smaller than the inputs splits them over several passes, same result.
  EmbedOptions small;
  small.batch_tokens = 4;
  auto split = embedder.embed(pool, inputs_, small);
  ASSERT_TRUE(split) << split.error().message;
  for (size_t i = 0; i < inputs_.size(); ++i)
    for (size_t j = 0; j < (*split)[i].values.size(); ++j)
      EXPECT_NEAR((*split)[i].values[j], (*packed)[i].values[j], 1e-6);
}

TEST_F(BertEmbedding, PoolingVariants) {
  ThreadPool pool(1);
  Embedder embedder(l_.model);
  const int64_t d = embedder.dim();
  EmbedOptions none;
  none.pooling = Pooling::kNone;
  none.normalize = false;
  auto tokens = embedder.embed(pool, inputs_, none);
  ASSERT_TRUE(tokens) << tokens.error().message;
  for (Pooling p : {Pooling::kMean, Pooling::kCls, Pooling::kLast}) {
    EmbedOptions o;
    o.pooling = p;
    auto pooled = embedder.embed(pool, inputs_, o);
    ASSERT_TRUE(pooled) << pooled.error().message;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const Embedding& t = (*tokens)[i];
      ASSERT_EQ(t.n_rows, static_cast<int64_t>(inputs_[i].size()));
      // The expected vector from the per-token rows, then L2-normalised.
      std::vector<float> want(static_cast<size_t>(d), 0.0f);
      for (int64_t j = 0; j < d; ++j) {
        if (p == Pooling::kMean) {
          double s = 0;
          for (int64_t r = 0; r < t.n_rows; ++r) s += t.values[size_t(r * d + j)];
          want[size_t(j)] = float(s / double(t.n_rows));
        } else {
          const int64_t r = p == Pooling::kCls ? 0 : t.n_rows - 1;
          want[size_t(j)] = t.values[size_t(r * d + j)];
        }
      }
      l2_normalize(want);
      const auto& got = (*pooled)[i].values;
      ASSERT_EQ(got.size(), want.size());
      double norm = 0;
      for (size_t j = 0; j < got.size(); ++j) {
        EXPECT_NEAR(got[j], want[j], 1e-6) << pooling_name(p) << " input " << i;
        norm += double(got[j]) * got[j];
      }
      EXPECT_NEAR(norm, 1.0, 1e-5);
    }
  }
}

TEST_F(BertEmbedding, BadInputsAreErrorsNamingTheInput) {
  ThreadPool pool(1);
  Embedder embedder(l_.model);
  std::vector<std::vector<int32_t>> bad = {inputs_[0], std::vector<int32_t>(embedder.context_length() + 1, 1000)};
  auto r = embedder.embed(pool, bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("input 1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("context"), std::string::npos) << r.error().message;
  bad = {{101, 99999, 102}};
  r = embedder.embed(pool, bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside the vocabulary"), std::string::npos) << r.error().message;
  bad = {{}};
  EXPECT_FALSE(embedder.embed(pool, bad));
}

TEST(DecoderEmbedding, MeanAndLastPoolingOfALlamaModel) {
  const auto path = test::models_dir() / "synth" / "synth-llama-tiny-F16.gguf";
  HEARTH_REQUIRE_FILE(path);
  Loaded l = load("synth-llama-tiny-F16");
  ASSERT_TRUE(l.model);
  std::vector<std::vector<int32_t>> inputs = {tokenizer::tokenize(*l.vocab, "Once upon a time"),
                                              tokenizer::tokenize(*l.vocab, "a little robot")};
  ThreadPool pool(2);
  Embedder embedder(l.model);
  EXPECT_EQ(embedder.default_pooling(), Pooling::kMean);
  for (Pooling p : {Pooling::kMean, Pooling::kLast}) {
    EmbedOptions o;
    o.pooling = p;
    auto packed = embedder.embed(pool, inputs, o);
    ASSERT_TRUE(packed) << packed.error().message;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto alone = embedder.embed(pool, std::span(&inputs[i], 1), o);
      ASSERT_TRUE(alone) << alone.error().message;
      ASSERT_EQ((*packed)[i].values.size(), size_t(l.model->config().n_embd));
      EXPECT_GT(cosine((*packed)[i].values, (*alone)[0].values), 0.99999);
    }
    EXPECT_LT(cosine((*packed)[0].values, (*packed)[1].values), 0.999);  // different texts differ
  }
}

}  // namespace
}  // namespace hearth
