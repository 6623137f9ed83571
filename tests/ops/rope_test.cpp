// RoPE against its definition: pair i of a head at position p turns by
// theta = p * freq_scale * base^(-2i/n_rot) / factor_i, and cos/sin carry LongRoPE's attention
// factor. The pair layout (adjacent vs halves) and partial rotary are what families differ in.
#include "ops/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace hearth {
namespace {

// Applies RoPE to one row of n_heads heads and returns it.
std::vector<float> rotate(const RopeParams& p, int32_t pos, std::vector<float> x, int64_t n_heads,
                          int64_t head_dim) {
  std::vector<float> c(static_cast<size_t>(p.n_rot / 2)), s(c.size());
  rope_cache(p, &pos, 1, c.data(), s.data());
  rope_apply(p, c.data(), s.data(), x.data(), 1, n_heads * head_dim, n_heads, head_dim);
  return x;
}

std::vector<float> ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.25f + 0.125f * static_cast<float>(i % 7) - 0.01f * i;
  return v;
}

double angle(const RopeParams& p, int32_t pos, int64_t i) {
  const double factor = p.freq_factors ? p.freq_factors[i] : 1.0;
  return pos * p.freq_scale * std::pow(p.freq_base, -2.0 * i / p.n_rot) / factor;
}

TEST(Rope, NormalRotatesAdjacentPairs) {
  RopeParams p;
  p.type = RopeType::kNormal;
  p.n_rot = 8;
  const auto in = ramp(8);
  const auto out = rotate(p, 5, in, 1, 8);
  for (int64_t i = 0; i < 4; ++i) {
    const double th = angle(p, 5, i);
    EXPECT_NEAR(out[2 * i], in[2 * i] * std::cos(th) - in[2 * i + 1] * std::sin(th), 1e-5);
    EXPECT_NEAR(out[2 * i + 1], in[2 * i] * std::sin(th) + in[2 * i + 1] * std::cos(th), 1e-5);
  }
}

TEST(Rope, NeoxRotatesHalvesAndLeavesUnrotatedTail) {
  RopeParams p;
  p.type = RopeType::kNeox;
  p.n_rot = 8;  // partial rotary: 8 of 16 dims, as stablelm
  p.freq_base = 500.0f;
  const auto in = ramp(32);  // two heads
  const auto out = rotate(p, 11, in, 2, 16);
  for (int64_t h = 0; h < 2; ++h) {
    const float* a = in.data() + h * 16;
    const float* b = out.data() + h * 16;
    for (int64_t i = 0; i < 4; ++i) {
      const double th = angle(p, 11, i);
      EXPECT_NEAR(b[i], a[i] * std::cos(th) - a[i + 4] * std::sin(th), 1e-5);
      EXPECT_NEAR(b[i + 4], a[i] * std::sin(th) + a[i + 4] * std::cos(th), 1e-5);
    }
    for (int64_t d = 8; d < 16; ++d) EXPECT_EQ(b[d], a[d]) << "dim " << d << " must not rotate";
  }
}

// LongRoPE (Phi-3 128k) and Llama 3.1 divide each pair's frequency by a factor; LongRoPE also
// scales cos and sin by its attention factor.
TEST(Rope, FrequencyFactorsAndAttentionFactor) {
  const std::vector<float> factors = {1.0f, 2.5f, 7.0f, 40.0f};
  RopeParams p;
  p.type = RopeType::kNeox;
  p.n_rot = 8;
  p.freq_factors = factors.data();
  p.attn_factor = 1.19f;
  const auto in = ramp(8);
  const auto out = rotate(p, 3000, in, 1, 8);
  for (int64_t i = 0; i < 4; ++i) {
    const double th = angle(p, 3000, i);
    const double m = p.attn_factor;
    // The float running product of the reference drifts slightly at large positions.
    EXPECT_NEAR(out[i], m * (in[i] * std::cos(th) - in[i + 4] * std::sin(th)), 2e-3) << i;
    EXPECT_NEAR(out[i + 4], m * (in[i] * std::sin(th) + in[i + 4] * std::cos(th)), 2e-3) << i;
  }
}

TEST(Rope, PositionZeroIsIdentityUpToAttentionFactor) {
  RopeParams p;
  p.type = RopeType::kNormal;
  p.n_rot = 16;
  const auto in = ramp(16);
  EXPECT_EQ(rotate(p, 0, in, 1, 16), in);
}

}  // namespace
}  // namespace hearth
