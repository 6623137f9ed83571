// The prompt budget: time-to-first-token target × prefill rate, and chunks fitted so the whole
// prompt never exceeds it.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "rag/context.h"

namespace hearth::rag {
namespace {

SearchHit hit(std::string path, std::string text) {
  SearchHit h;
  h.chunk.path = std::move(path);
  h.chunk.heading = "Section";
  h.chunk.text = std::move(text);
  return h;
}

// A stand-in for template + tokenizer: 40 tokens of template and question, plus one token per
// 4 bytes of sources (the real counter is the model's; the rule only needs a monotone one).
Result<int64_t> fake_count(const std::string& sources) { return 40 + static_cast<int64_t>(sources.size() + 3) / 4; }

TEST(RagBudget, IsTargetTimesRateCappedByContext) {
  BudgetOptions o;
  o.ttft_target_s = 3.0;
  o.context_length = 4096;
  o.answer_tokens = 512;
  EXPECT_EQ(prompt_token_budget(40.0, o), 120);
  EXPECT_EQ(prompt_token_budget(2000.0, o), 4096 - 512);
  EXPECT_EQ(prompt_token_budget(0.0, o), 0);
  o.ttft_target_s = 0.5;
  EXPECT_EQ(prompt_token_budget(33.3, o), 16);
}

TEST(RagBudget, AssembledPromptNeverExceedsTheBudget) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> len(1, 900);
  for (int round = 0; round < 200; ++round) {
    std::vector<SearchHit> hits;
    const int n = 1 + round % 12;
    for (int i = 0; i < n; ++i) hits.push_back(hit("/d/" + std::to_string(i) + ".md", std::string(size_t(len(rng)), 'x')));
    BudgetOptions o;
    o.ttft_target_s = 0.5 + (round % 7);
    o.context_length = 2048;
    o.answer_tokens = 256;
    const double rate = 5.0 + (round * 37) % 400;
    const int64_t budget = prompt_token_budget(rate, o);
    Result<FittedContext> f = fit_to_budget(hits, budget, fake_count);
    if (40 > budget) {
      EXPECT_FALSE(f);
      continue;
    }
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_LE(f->prompt_tokens, budget);
    EXPECT_EQ(*fake_count(f->sources), f->prompt_tokens);
    EXPECT_EQ(static_cast<int64_t>(f->used.size()) + f->dropped, n);
  }
}

TEST(RagBudget, SkipsABigChunkButTakesASmallerOneAfterIt) {
  std::vector<SearchHit> hits = {hit("/a", std::string(200, 'a')), hit("/b", std::string(4000, 'b')),
                                 hit("/c", std::string(100, 'c'))};
  Result<FittedContext> f = fit_to_budget(hits, 200, fake_count);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->used.size(), 2u);
  EXPECT_EQ(f->used[0].chunk.path, "/a");
  EXPECT_EQ(f->used[1].chunk.path, "/c");
  EXPECT_EQ(f->dropped, 1);
}

TEST(RagBudget, AQuestionOverTheBudgetIsAClearError) {
  Result<FittedContext> f = fit_to_budget(std::vector<SearchHit>{hit("/a", "x")}, 10, fake_count);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("over the budget of 10"), std::string::npos) << f.error().message;
}

TEST(RagBudget, SourcesAreNumberedAndListed) {
  std::vector<SearchHit> hits = {hit("/home/me/notes/boiler.md", "Pressure 1.5 bar."), hit("/x/y.txt", "Other.")};
  const std::string m = sources_message(hits);
  EXPECT_NE(m.find("[1] boiler.md — Section\nPressure 1.5 bar."), std::string::npos) << m;
  EXPECT_NE(m.find("[2] y.txt"), std::string::npos);
  EXPECT_EQ(sources_footer(hits), "Sources:\n[1] /home/me/notes/boiler.md — Section\n[2] /x/y.txt — Section");
  EXPECT_EQ(sources_message({}), "");
}

}  // namespace
}  // namespace hearth::rag
