// Statistics as llama-bench computes them: sample standard deviation (n - 1), tokens per second
// per repetition.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bench/stats.h"

namespace hearth::bench {
namespace {

TEST(BenchStats, MeanAndSampleStddev) {
  const std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(v), 5.0);
  EXPECT_NEAR(stddev(v), std::sqrt(32.0 / 7.0), 1e-12);  // n - 1 in the denominator
}

TEST(BenchStats, FewerThanTwoSamplesHaveNoSpread) {
  EXPECT_DOUBLE_EQ(mean(std::vector<double>{}), 0.0);
  EXPECT_DOUBLE_EQ(stddev(std::vector<double>{}), 0.0);
  EXPECT_DOUBLE_EQ(stddev(std::vector<double>{3.5}), 0.0);
}

TEST(BenchStats, TokensPerSecondPerRepetition) {
  Samples s;
  s.n_tokens = 128;
  s.ns = {1'000'000'000, 2'000'000'000};
  const auto ts = s.tokens_per_s();
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_DOUBLE_EQ(ts[0], 128.0);
  EXPECT_DOUBLE_EQ(ts[1], 64.0);
  EXPECT_DOUBLE_EQ(s.avg_ts(), 96.0);
  EXPECT_NEAR(s.stddev_ts(), std::sqrt(2.0) * 32.0, 1e-9);
  EXPECT_EQ(s.avg_ns(), 1'500'000'000u);
  EXPECT_EQ(s.stddev_ns(), static_cast<uint64_t>(std::llround(std::sqrt(2.0) * 5e8)));
}

TEST(BenchStats, ZeroDurationGivesZeroRateNotInfinity) {
  Samples s;
  s.n_tokens = 4;
  s.ns = {0};
  EXPECT_DOUBLE_EQ(s.avg_ts(), 0.0);
}

}  // namespace
}  // namespace hearth::bench
