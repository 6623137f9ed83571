// The forward pass of every synthetic model against llama.cpp's logits
// (../shared/reference/logits/, tolerances from the README there): every prompt position with
// the prompt in one batch and token by token, then teacher forcing of the greedy tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "test_data.h"

namespace hearth {
namespace {

const char* const kModels[] = {
    "synth-llama-tiny-F32",     "synth-llama-tiny-F16",     "synth-llama-tiny-BF16",
    "synth-llama-tiny-Q8_0",    "synth-llama-tiny-Q4_0",    "synth-llama-tiny-Q4_1",
    "synth-llama-tiny-Q5_0",    "synth-llama-tiny-Q5_1",    "synth-llama-tiny-Q2_K",
    "synth-llama-tiny-Q3_K_M",  "synth-llama-tiny-Q4_K_S",  "synth-llama-tiny-Q4_K_M",
    "synth-llama-tiny-Q5_K_M",  "synth-llama-tiny-Q6_K",    "synth-llama-tiny-IQ4_NL",
    "synth-llama-tiny-IQ4_XS",  "synth-llama3-tiny-F16",    "synth-llama3-tiny-Q8_0",
    "synth-llama3-tiny-Q4_K_M", "synth-qwen2-tiny-F16",     "synth-qwen2-tiny-Q8_0",
    "synth-qwen2-tiny-Q4_K_M",  "synth-phi3-tiny-F16",      "synth-phi3-tiny-Q8_0",
    "synth-phi3-tiny-Q4_K_M",   "synth-stablelm-tiny-F16",  "synth-stablelm-tiny-Q8_0",
    "synth-stablelm-tiny-Q4_K_M",
};

bool is_float_model(const std::string& name) {
  return name.ends_with("-F32") || name.ends_with("-F16") || name.ends_with("-BF16");
}

double mean_std(const std::vector<float>& v, double* mean_out = nullptr) {
  double m = 0;
  for (float x : v) m += x;
  m /= double(v.size());
  double s = 0;
  for (float x : v) s += (x - m) * (x - m);
  if (mean_out) *mean_out = m;
  return std::sqrt(s / double(v.size()));
}

class ForwardReference : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    name_ = GetParam();
    const auto model_path = test::models_dir() / "synth" / (name_ + ".gguf");
    const auto ref_path = test::reference_dir() / "logits" / (name_ + ".json");
    HEARTH_REQUIRE_FILE(model_path);
    HEARTH_REQUIRE_FILE(ref_path);
    std::ifstream in(ref_path);
    ref_ = nlohmann::json::parse(in);
    auto model = Model::load(model_path, *choose_kernels().table);
    ASSERT_TRUE(model.ok()) << model.error().message;
    model_ = *model;
    tolerance_ = is_float_model(name_) ? 0.01 : 0.03;
    tokens_ = ref_["prompt_tokens"].get<std::vector<int32_t>>();
  }

  // Runs the prompt in decode calls of `batch` tokens; returns the logits of every position.
  std::vector<std::vector<float>> run_prompt(Session& session, size_t batch) {
    std::vector<std::vector<float>> out;
    const auto n_vocab = static_cast<size_t>(model_->config().n_vocab);
    for (size_t i = 0; i < tokens_.size(); i += batch) {
      const size_t m = std::min(batch, tokens_.size() - i);
      auto logits = session.decode(std::span<const int32_t>(tokens_.data() + i, m), true);
      EXPECT_TRUE(logits.ok()) << logits.error().message;
      if (!logits.ok()) return out;
      for (size_t t = 0; t < m; ++t)
        out.emplace_back(logits->begin() + t * n_vocab, logits->begin() + (t + 1) * n_vocab);
    }
    return out;
  }

  void check_prompt(const std::vector<std::vector<float>>& got) {
    const auto& want = ref_["prompt_logits"];
    ASSERT_EQ(got.size(), want.size());
    for (size_t p = 0; p < got.size(); ++p) {
      const auto ref = want[p].get<std::vector<float>>();
      ASSERT_EQ(got[p].size(), ref.size());
      double sq = 0;
      for (size_t i = 0; i < ref.size(); ++i) sq += (got[p][i] - ref[i]) * double(got[p][i] - ref[i]);
      const double rms = std::sqrt(sq / double(ref.size()));
      const double sd = mean_std(ref);
      EXPECT_LE(rms, tolerance_ * sd) << name_ << " position " << p << ": RMS " << rms
                                      << " vs std " << sd;
    }
  }

  std::string name_;
  nlohmann::json ref_;
  std::shared_ptr<const Model> model_;
  std::vector<int32_t> tokens_;
  double tolerance_ = 0;
};

TEST_P(ForwardReference, PromptOneBatch) {
  ThreadPool pool(2);
  auto session = Session::create(model_, pool, {.n_ctx = 512});
  ASSERT_TRUE(session.ok()) << session.error().message;
  check_prompt(run_prompt(*session, tokens_.size()));
}

TEST_P(ForwardReference, PromptTokenByToken) {
  ThreadPool pool(2);
  auto session = Session::create(model_, pool, {.n_ctx = 512});
  ASSERT_TRUE(session.ok()) << session.error().message;
  check_prompt(run_prompt(*session, 1));
}

TEST_P(ForwardReference, PromptUnevenBatches) {
  ThreadPool pool(1);
  auto session = Session::create(model_, pool, {.n_ctx = 512});
  ASSERT_TRUE(session.ok()) << session.error().message;
  check_prompt(run_prompt(*session, 7));
}

TEST_P(ForwardReference, TeacherForcedGreedy) {
  ThreadPool pool(2);
  auto session = Session::create(model_, pool, {.n_ctx = 512});
  ASSERT_TRUE(session.ok()) << session.error().message;
  auto last = session->decode(tokens_, false);
  ASSERT_TRUE(last.ok()) << last.error().message;
  std::vector<float> logits(last->begin(), last->end());
  int step = 0;
  for (const auto& g : ref_["greedy"]) {
    const double sd = mean_std(logits);
    double sq = 0;
    for (const auto& top : g["top"]) {
      const double d = logits[top[0].get<size_t>()] - top[1].get<double>();
      sq += d * d;
    }
    const double rms = std::sqrt(sq / double(g["top"].size()));
    EXPECT_LE(rms, tolerance_ * sd) << name_ << " greedy step " << step;
    const int32_t want = g["token"].get<int32_t>();
    if (g["margin"].get<double>() > 0.05 * sd) {
      const auto argmax = std::max_element(logits.begin(), logits.end()) - logits.begin();
      EXPECT_EQ(argmax, want) << name_ << " greedy step " << step << " margin " << g["margin"];
    }
    auto next = session->decode(std::span<const int32_t>(&want, 1), false);
    ASSERT_TRUE(next.ok()) << next.error().message;
    logits.assign(next->begin(), next->end());
    ++step;
  }
}

INSTANTIATE_TEST_SUITE_P(Synth, ForwardReference, ::testing::ValuesIn(kModels),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
}  // namespace hearth
