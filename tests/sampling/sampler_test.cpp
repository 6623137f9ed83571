#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace hearth::sampling {
namespace {

std::vector<Candidate> make(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0});
  return c;
}

std::set<int32_t> ids(const std::vector<Candidate>& c) {
  std::set<int32_t> s;
  for (const auto& x : c) s.insert(x.id);
  return s;
}

TEST(SamplerRng, KnownSequenceForSeed) {
  // Pinned values: any change to the generator or its seeding changes every seeded run.
  Rng a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 4; ++i) {
    va.push_back(a.next_u64());
    vb.push_back(b.next_u64());
    vc.push_back(c.next_u64());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  Rng d(0);
  for (int i = 0; i < 1000; ++i) {
    const double u = d.next_double();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(SamplerSoftmax, ProbabilitiesAndOrder) {
  auto c = make({1.0f, 3.0f, 2.0f});
  softmax(c);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_EQ(c[1].id, 2);
  EXPECT_EQ(c[2].id, 0);
  const double z = std::exp(0.0) + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(c[0].p, 1.0 / z, 1e-6);
  EXPECT_NEAR(c[1].p, std::exp(-1.0) / z, 1e-6);
  EXPECT_NEAR(c[2].p, std::exp(-2.0) / z, 1e-6);
}

TEST(SamplerSoftmax, AllMinusInfinityIsUniform) {
  auto c = make({-INFINITY, -INFINITY});
  softmax(c);
  EXPECT_FLOAT_EQ(c[0].p, 0.5f);
  EXPECT_FLOAT_EQ(c[1].p, 0.5f);
}

TEST(SamplerPenalties, RepeatDividesPositiveMultipliesNegative) {
  auto c = make({2.0f, -2.0f, 1.0f, 0.0f});
  const std::vector<int32_t> recent = {0, 1, 3};
  apply_penalties(c, recent, 2.0f, 0.0f, 0.0f);
  EXPECT_FLOAT_EQ(c[0].logit, 1.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -4.0f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);  // not in the window
  EXPECT_FLOAT_EQ(c[3].logit, 0.0f);
}

TEST(SamplerPenalties, FrequencyAndPresence) {
  auto c = make({5.0f, 5.0f, 5.0f});
  const std::vector<int32_t> recent = {0, 0, 0, 1};
  apply_penalties(c, recent, 1.0f, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(c[0].logit, 5.0f - 1.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[1].logit, 5.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[2].logit, 5.0f);
}

TEST(SamplerPenalties, WindowLimitsHistory) {
  SamplerParams params;
  params.temperature = 0.0f;
  params.repeat_penalty = 100.0f;
  params.penalty_last_n = 2;
  Sampler s(params);
  s.accept(0);  // falls out of the window after two more tokens
  s.accept(1);
  s.accept(2);
  const std::vector<float> logits = {3.0f, 2.9f, 2.8f, 1.0f};
  auto r = s.sample(logits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  s.accept(5);
  s.accept(0);  // now 0 is recent again; 1 and 2 have left the window
  auto r2 = s.sample(logits);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 1);
}

TEST(SamplerTopK, KeepsKHighestTiesToLowerId) {
  auto c = make({1.0f, 4.0f, 4.0f, 3.0f, 0.5f});
  apply_top_k(c, 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_EQ(c[1].id, 2);
  auto d = make({1.0f, 2.0f});
  apply_top_k(d, 0);  // off
  EXPECT_EQ(d.size(), 2u);
  apply_top_k(d, 10);
  EXPECT_EQ(d.size(), 2u);
}

TEST(SamplerTopP, SmallestPrefixReachingP) {
  // Probabilities 0.5, 0.25, 0.125, 0.125 (logits are their logs).
  auto c = make({std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)});
  apply_top_p(c, 0.7f);
  EXPECT_EQ(ids(c), (std::set<int32_t>{0, 1}));
  auto d = make({std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)});
  apply_top_p(d, 0.76f);
  EXPECT_EQ(ids(d), (std::set<int32_t>{0, 1, 2}));
  auto e = make({std::log(0.5f), std::log(0.5f)});
  apply_top_p(e, 0.1f);  // always one survivor
  EXPECT_EQ(ids(e), (std::set<int32_t>{0}));
  auto f = make({0.0f, 0.0f, 0.0f});
  apply_top_p(f, 1.0f);  // off
  EXPECT_EQ(f.size(), 3u);
}

TEST(SamplerMinP, RelativeToMostLikely) {
  // p relative to max: 1, 0.5, 0.1, 0.01
  auto c = make({0.0f, std::log(0.5f), std::log(0.1f), std::log(0.01f)});
  apply_min_p(c, 0.09f);
  EXPECT_EQ(ids(c), (std::set<int32_t>{0, 1, 2}));
  auto d = make({0.0f, std::log(0.5f), std::log(0.1f), std::log(0.01f)});
  apply_min_p(d, 0.6f);
  EXPECT_EQ(ids(d), (std::set<int32_t>{0}));
}

TEST(SamplerTemperature, ScalesLogits) {
  auto c = make({2.0f, -1.0f});
  apply_temperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c[0].logit, 4.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f);
  softmax(c);
  EXPECT_NEAR(c[0].p, 1.0 / (1.0 + std::exp(-6.0)), 1e-6);
}

TEST(SamplerGreedy, ArgmaxTiesToLowestId) {
  SamplerParams params;
  params.temperature = 0.0f;
  Sampler s(params);
  const std::vector<float> logits = {0.1f, 0.7f, 0.3f, 0.7f};
  auto r = s.sample(logits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
}

TEST(SamplerChain, SurvivorsOfFullChain) {
  // 6 tokens; penalties demote token 0, top-k 4 keeps {1,2,3,0'}, top-p and min-p cut further.
  SamplerParams params;
  params.repeat_penalty = 4.0f;
  params.top_k = 4;
  params.top_p = 0.9f;
  params.min_p = 0.2f;
  params.temperature = 1.0f;
  Sampler s(params);
  s.accept(0);
  // after penalty: 0 -> 1.0; order 1 (3.0), 2 (2.5), 0 (1.0), 3 (0.5) ...
  const std::vector<float> logits = {4.0f, 3.0f, 2.5f, 0.5f, 0.2f, -1.0f};
  auto r = s.sample(logits);
  ASSERT_TRUE(r.ok());
  // softmax over {3, 2.5, 1, 0.5}: 0.5465, 0.3315, 0.0740, 0.0449 → top-p 0.9 keeps {1, 2, 0};
  // min-p 0.2: exp(1-3)=0.135 < 0.2 drops 0 → {1, 2}.
  EXPECT_EQ(ids(s.last_candidates()), (std::set<int32_t>{1, 2}));
  EXPECT_TRUE(*r == 1 || *r == 2);
  const auto& last = s.last_candidates();
  EXPECT_NEAR(last[0].p, 1.0 / (1.0 + std::exp(-0.5)), 1e-6);
}

TEST(SamplerChain, FilterMasksTokens) {
  SamplerParams params;
  params.temperature = 0.0f;
  Sampler s(params);
  s.set_filter([](int32_t id) { return id % 2 == 0; });
  const std::vector<float> logits = {0.0f, 9.0f, 1.0f, 8.0f};
  auto r = s.sample(logits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  s.set_filter([](int32_t) { return false; });
  EXPECT_FALSE(s.sample(logits).ok());
  EXPECT_FALSE(s.sample({}).ok());
}

TEST(SamplerChain, NanLogitsNeverChosen) {
  SamplerParams params;
  params.temperature = 1.0f;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  Sampler s(params);
  const std::vector<float> logits = {NAN, 0.0f, NAN};
  for (int i = 0; i < 50; ++i) {
    auto r = s.sample(logits);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 1);
  }
}

std::vector<int32_t> run(uint64_t seed, int n) {
  SamplerParams params;
  params.seed = seed;
  params.top_k = 0;
  params.min_p = 0.0f;
  params.temperature = 1.0f;
  Sampler s(params);
  std::vector<float> logits(32);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 7) * 0.3f;
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    auto r = s.sample(logits);
    EXPECT_TRUE(r.ok());
    out.push_back(*r);
  }
  return out;
}

TEST(SamplerReproducible, SameSeedSameTokens) {
  EXPECT_EQ(run(1234, 200), run(1234, 200));
  EXPECT_NE(run(1234, 200), run(1235, 200));
}

TEST(SamplerReproducible, ResetRestartsTheSequence) {
  SamplerParams params;
  params.seed = 7;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  Sampler s(params);
  const std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f};
  std::vector<int32_t> a, b;
  for (int i = 0; i < 50; ++i) a.push_back(*s.sample(logits));
  s.reset();
  for (int i = 0; i < 50; ++i) b.push_back(*s.sample(logits));
  EXPECT_EQ(a, b);
}

TEST(SamplerReproducible, PinnedDrawsForSeed) {
  // Guards cross-platform identity: these ids were produced on x86-64 and must not change on
  // aarch64 or with another standard library.
  const std::vector<int32_t> got = run(42, 12);
  const std::vector<int32_t> pinned = {13, 12, 3, 8, 0, 24, 17, 16, 24, 18, 3, 5};
  EXPECT_EQ(got, pinned);
}

TEST(SamplerStatistics, FrequenciesFollowProbabilities) {
  SamplerParams params;
  params.seed = 99;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.temperature = 1.0f;
  Sampler s(params);
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  const int n = 20000;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i) ++counts[*s.sample(logits)];
  // 5 standard deviations of a binomial: a failure means a bias, not bad luck.
  const double expected[3] = {0.5, 0.3, 0.2};
  for (int k = 0; k < 3; ++k) {
    const double sd = std::sqrt(n * expected[k] * (1 - expected[k]));
    EXPECT_NEAR(counts[k], n * expected[k], 5 * sd) << "token " << k;
  }
}

TEST(SamplerStatistics, LowTemperatureConcentrates) {
  SamplerParams params;
  params.seed = 5;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.temperature = 0.05f;
  Sampler s(params);
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f};
  int top = 0;
  for (int i = 0; i < 1000; ++i) top += *s.sample(logits) == 0;
  EXPECT_GE(top, 995);  // p(token 0) = 1/(1+e^-10+e^-20) > 0.9999
}

}  // namespace
}  // namespace hearth::sampling
