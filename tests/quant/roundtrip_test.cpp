// quantize → dequantize for every format of the type table that has both functions: the RMS
// error relative to the data's RMS stays under a per-format bound, all-zero blocks come back
// exactly zero, and no NaN ever appears, for several distributions, row lengths, with and
// without importance weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "quant/ggml_type.h"

namespace hearth {
namespace {

// Bound on RMS(x̂ - x) / RMS(x) over the rows of one distribution.
//
// A uniform grid of step Δ has error RMS Δ/√12. A block whose largest magnitude is amax gets
// Δ = amax/2^(b-1) from a symmetric b-bit grid (levels -2^(b-1)..2^(b-1)-1) and Δ ≈ 2·amax/(2^b-1)
// from an affine one spanning [min, max] ≈ [-amax, amax]. The test data have amax/σ ≤ ~4 in a
// block of 16 or 32 (Gaussian: ~2.4 for 32 samples; Laplace: ~2.9; the outlier rows more) and
// ≤ ~10 over 256 (Q8_K has one scale per 256). Bound = (amax/σ)·Δ/amax/√12:
//   Q8_0, Q8_1  8-bit symmetric   Δ = amax/127    4·0.00227 -> 0.009    (measured 0.0069)
//   Q8_K        same, 256 wide                   10·0.00227 -> 0.023   (0.0166)
//   Q6_K        6-bit symmetric   Δ = amax/32     4·0.0090  -> 0.036    (0.024)
//   Q5_0        5-bit symmetric   Δ = amax/16     4·0.018   -> 0.072    (0.054)
//   Q5_1, Q5_K  5-bit affine      Δ = 2·amax/31   4·0.0186  -> 0.075    (0.044)
//   Q4_0        4-bit symmetric   Δ = amax/8      4·0.036   -> 0.145    (0.103)
//   IQ4_NL/XS   16 levels over [-127, 113]·d, mean step 16·d ≈ amax/8: as Q4_0 (0.094)
//   Q4_1, Q4_K  4-bit affine      Δ = 2·amax/15   4·0.0385  -> 0.155    (0.092)
//   Q3_K        3-bit symmetric   Δ = amax/4      4·0.072   -> 0.29     (0.179)
//   Q2_K        4 levels: the step is near σ and errors are no longer uniform over it; the
//               best 4-level quantizer of a Gaussian (Lloyd-Max) has relative RMS error 0.34,
//               ~0.42 for a Laplacian; per-16 scale and min adapt to each block -> 0.45 (0.344)
// F16 keeps 11 significant bits: Δ = 2^-10 relative to the leading power of two, RMS over a
// binade ≈ 2^-10/√12/1.44 = 2.0e-4 -> 3e-4 (2.2e-4); BF16 keeps 8: 1.6e-3 -> 2.5e-3 (1.8e-3).
// F32 is a copy: 0. Measured figures are the largest over the distributions, with and without
// importance weights; the test prints them.
double error_bound(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0.0;
    case GgmlType::F16: return 3e-4;
    case GgmlType::BF16: return 2.5e-3;
    case GgmlType::Q8_0: case GgmlType::Q8_1: return 0.009;
    case GgmlType::Q8_K: return 0.023;
    case GgmlType::Q6_K: return 0.036;
    case GgmlType::Q5_0: return 0.072;
    case GgmlType::Q5_1: case GgmlType::Q5_K: return 0.075;
    case GgmlType::Q4_0: case GgmlType::IQ4_NL: case GgmlType::IQ4_XS: return 0.145;
    case GgmlType::Q4_1: case GgmlType::Q4_K: return 0.155;
    case GgmlType::Q3_K: return 0.29;
    case GgmlType::Q2_K: return 0.45;
    default: return -1.0;  // a format added to the table without a justified bound
  }
}

std::vector<GgmlType> formats_with_both_functions() {
  std::vector<GgmlType> out;
  for (uint32_t id = 0; id < kGgmlTypeIdLimit; ++id) {
    const TypeTraits* tt = type_traits(id);
    if (tt && tt->dequantize && tt->quantize) out.push_back(tt->type);
  }
  return out;
}

enum class Dist { kGaussian, kUniform, kLaplace, kOutliers, kShifted };
const char* dist_name(Dist d) {
  switch (d) {
    case Dist::kGaussian: return "gaussian";
    case Dist::kUniform: return "uniform";
    case Dist::kLaplace: return "laplace";
    case Dist::kOutliers: return "outliers";
    case Dist::kShifted: return "shifted";
  }
  return "?";
}

// Each row gets its own scale (1e-3 .. 30) so the fp16 scales of the formats are exercised over
// a wide range; the relative error does not depend on it.
std::vector<float> make_row(Dist d, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::exponential_distribution<float> expo(1.0f);
  std::uniform_real_distribution<float> log_scale(std::log(1e-3f), std::log(30.0f));
  const float scale = std::exp(log_scale(rng));
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) {
    switch (d) {
      case Dist::kGaussian: v = normal(rng); break;
      case Dist::kUniform: v = unit(rng); break;
      case Dist::kLaplace: v = (rng() & 1 ? 1.0f : -1.0f) * expo(rng); break;
      case Dist::kOutliers: v = normal(rng) * (rng() % 200 == 0 ? 8.0f : 1.0f); break;
      case Dist::kShifted: v = 0.5f + 0.3f * normal(rng); break;  // a bias-like, one-signed row
    }
    v *= scale;
  }
  return x;
}

std::vector<float> roundtrip(const TypeTraits& tt, const std::vector<float>& x, const float* imp) {
  const int64_t n = int64_t(x.size());
  std::vector<uint8_t> q(*row_bytes(tt.type, n));
  tt.quantize(x.data(), q.data(), n, imp);
  std::vector<float> y(x.size(), -12345.0f);
  tt.dequantize(q.data(), y.data(), n);
  return y;
}

class Roundtrip : public testing::TestWithParam<GgmlType> {};

TEST_P(Roundtrip, ErrorWithinBound) {
  const TypeTraits& tt = type_traits(GetParam());
  const double bound = error_bound(tt.type);
  ASSERT_GE(bound, 0.0) << "no error bound for " << tt.name << ": add one to error_bound()";
  const int64_t bs = tt.block_size;
  const std::vector<int64_t> lengths =
      bs == 1 ? std::vector<int64_t>{1, 7, 64, 1000} : std::vector<int64_t>{bs, 3 * bs, 16 * bs};
  std::mt19937 rng(1234 + uint32_t(tt.type));
  std::uniform_real_distribution<float> spread(-2.0f, 2.0f);
  double worst = 0.0;
  for (const bool with_importance : {false, true}) {
    for (Dist d : {Dist::kGaussian, Dist::kUniform, Dist::kLaplace, Dist::kOutliers, Dist::kShifted}) {
      double rel_sum = 0.0;
      int rows = 0;
      for (int64_t n : lengths) {
        for (int rep = 0; rep < 6; ++rep) {
          const std::vector<float> x = make_row(d, n, rng);
          std::vector<float> imp(x.size());
          for (auto& v : imp) v = std::exp(spread(rng));
          const std::vector<float> y = roundtrip(tt, x, with_importance ? imp.data() : nullptr);
          double se = 0.0, sx = 0.0;
          for (size_t i = 0; i < x.size(); ++i) {
            ASSERT_FALSE(std::isnan(y[i])) << tt.name << " " << dist_name(d) << " n=" << n;
            ASSERT_TRUE(std::isfinite(y[i])) << tt.name << " " << dist_name(d) << " n=" << n;
            se += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
            sx += double(x[i]) * x[i];
          }
          // Rows are compared relative to their own RMS, so the scale drawn for each row
          // does not weigh in the mean.
          rel_sum += se / sx;
          ++rows;
        }
      }
      const double rel = std::sqrt(rel_sum / rows);
      worst = std::max(worst, rel);
      EXPECT_LE(rel, bound) << tt.name << " " << dist_name(d)
                            << (with_importance ? " with importance" : "");
    }
  }
  std::printf("  %-7s worst relative RMS error %.4g (bound %.4g)\n", std::string(tt.name).c_str(),
              worst, bound);
}

// A zero block, alone or between non-zero blocks, dequantizes to exact zeros.
TEST_P(Roundtrip, ZeroBlocksStayZero) {
  const TypeTraits& tt = type_traits(GetParam());
  const int64_t bs = std::max<int64_t>(tt.block_size, 32);
  std::mt19937 rng(99);
  std::vector<float> imp(size_t(3 * bs), 1.0f);
  for (const float* w : {static_cast<const float*>(nullptr), static_cast<const float*>(imp.data())}) {
    const std::vector<float> zeros(size_t(bs), 0.0f);
    for (float v : roundtrip(tt, zeros, w)) ASSERT_EQ(v, 0.0f) << tt.name;
    std::vector<float> mixed = make_row(Dist::kGaussian, 3 * bs, rng);
    std::fill(mixed.begin() + bs, mixed.begin() + 2 * bs, 0.0f);
    const std::vector<float> y = roundtrip(tt, mixed, w);
    for (int64_t i = bs; i < 2 * bs; ++i) ASSERT_EQ(y[size_t(i)], 0.0f) << tt.name << " " << i;
  }
}

// Awkward blocks: constant, one spike among zeros, subnormal and tiny values, huge range in one
// block, the fp16 edge. Nothing may turn into NaN (F16 may overflow to inf for the largest).
TEST_P(Roundtrip, NoNaNOnEdgeCases) {
  const TypeTraits& tt = type_traits(GetParam());
  const int64_t n = std::max<int64_t>(tt.block_size, 32) * 2;
  std::vector<std::vector<float>> cases;
  cases.emplace_back(size_t(n), 0.7f);
  cases.emplace_back(size_t(n), -3.0f);
  std::vector<float> spike(size_t(n), 0.0f);
  spike[5] = 9.0f;
  cases.push_back(spike);
  spike[5] = -9.0f;
  cases.push_back(spike);
  for (float mag : {1e-40f, 1e-30f, 1e-8f, 1e-5f, 6e4f}) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = mag * std::sin(float(i) * 0.37f + 0.1f);
    cases.push_back(v);
  }
  std::vector<float> wide(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) wide[size_t(i)] = std::ldexp(i % 2 ? 1.0f : -1.0f, int(i % 30) - 20);
  cases.push_back(wide);
  std::vector<float> imp(size_t(n), 1.0f);
  for (size_t c = 0; c < cases.size(); ++c) {
    for (const float* w : {static_cast<const float*>(nullptr), static_cast<const float*>(imp.data())}) {
      const std::vector<float> y = roundtrip(tt, cases[c], w);
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_FALSE(std::isnan(y[i])) << tt.name << " case " << c << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, Roundtrip, testing::ValuesIn(formats_with_both_functions()),
                         [](const testing::TestParamInfo<GgmlType>& info) {
                           return std::string(type_traits(info.param).name);
                         });

}  // namespace
}  // namespace hearth
