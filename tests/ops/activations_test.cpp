// The activations' polynomial exponential against double-precision formulas: GELU (tanh form)
// and SiLU over a dense sweep of inputs, including the clamped tails, and NaN passing through.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ops/activations.h"

namespace hearth {
namespace {

std::vector<float> sweep() {
  std::vector<float> xs;
  for (float x = -120.0f; x <= 120.0f; x += 0.00731f) xs.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 87.0f, -87.0f, 88.5f, -88.5f, 1e30f, -1e30f})
    xs.push_back(x);
  return xs;
}

// Within a few float ulps of the value, times the exponent's magnitude t: e^t turns the float
// rounding of its argument (relative 6e-8) into a relative error of t times that. Where the value
// underflows, within 1e-35 of zero (x / (1 + e^t) for t just under the clamp at 88).
void expect_close(float got, double want, double t, float x, const char* what) {
  EXPECT_NEAR(got, want, 4e-7 * (1.0 + std::fabs(t)) * std::fabs(want) + 1e-35) << what << "(" << x << ")";
}

TEST(Activations, GeluMatchesTanhFormula) {
  std::vector<float> xs = sweep();
  std::vector<float> y = xs;
  gelu_inplace(y.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    // 0.5 x (1 + tanh(u)) written as x / (1 + e^-2u): the same value, without the cancellation
    // that makes 1 + tanh(u) exactly 0 in double once u < -19.
    const double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    const double want = x / (1.0 + std::exp(-2.0 * u));
    expect_close(y[i], want, 2.0 * u, xs[i], "gelu");
  }
}

TEST(Activations, SwigluMatchesSiluTimesUp) {
  const std::vector<float> xs = sweep();
  const int64_t n = static_cast<int64_t>(xs.size());
  std::vector<float> up(xs.size());
  for (size_t i = 0; i < up.size(); ++i) up[i] = 0.5f + static_cast<float>(i % 7);
  std::vector<float> out(xs.size());
  swiglu(xs.data(), n, up.data(), n, 1, n, out.data());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    const double want = x / (1.0 + std::exp(-x)) * up[i];
    expect_close(out[i], want, x, xs[i], "swiglu");
  }
}

TEST(Activations, NanStaysNan) {
  float v[2] = {std::numeric_limits<float>::quiet_NaN(), 1.0f};
  gelu_inplace(v, 2);
  EXPECT_TRUE(std::isnan(v[0]));
  float out[1];
  swiglu(v, 1, v + 1, 1, 1, 1, out);
  EXPECT_TRUE(std::isnan(out[0]));
}

}  // namespace
}  // namespace hearth
