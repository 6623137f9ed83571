// See activations.h.
#include "ops/activations.h"

#include <bit>
#include <limits>

namespace hearth {
namespace {

// e^x without a library call, so the loops below vectorise: glibc's expf and tanhf are one call
// per element, and tanhf alone was a fifth of a BERT forward pass. x = n ln2 + r with |r| <=
// ln2/2 (Cody-Waite, ln2 split in two so n ln2 is exact), e^r by its degree-7 Taylor
// polynomial (truncation < 1e-8 relative), 2^n written into the exponent bits. The input is
// clamped to [-87, 88], where 2^n stays a normal float; e^-87 ~ 1.6e-38 is as good as 0 for the
// sigmoid forms that use it, and above 88 the result is infinity.
inline float exp_poly(float x_in) {
  float x = x_in < -87.0f ? -87.0f : x_in;
  x = x > 88.0f ? 88.0f : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer ...
  const float shifted = x * 1.44269504088896341f + kRound;
  const float n = shifted - kRound;
  // ... which then sits in the low mantissa bits.
  const int32_t ni = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const auto scale = std::bit_cast<float>(static_cast<uint32_t>(ni + 127) << 23);
  // Past 88, infinity: x / (1 + e^88) would leave -1e30 / 1.6e38 = -6e-9, not 0.
  return x_in > 88.0f ? std::numeric_limits<float>::infinity() : p * scale;
}

inline float silu(float x) { return x / (1.0f + exp_poly(-x)); }

// 0.5 (1 + tanh(u)) is the logistic function of 2u, so gelu needs one exponential and no tanh.
inline float gelu(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  const float u = kSqrt2OverPi * x * (1.0f + 0.044715f * x * x);
  return x / (1.0f + exp_poly(-2.0f * u));
}

}  // namespace

void swiglu(const float* gate, int64_t gate_stride, const float* up, int64_t up_stride,
            int64_t n_rows, int64_t n, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* g = gate + r * gate_stride;
    const float* u = up + r * up_stride;
    float* o = out + r * n;
    for (int64_t i = 0; i < n; ++i) o[i] = silu(g[i]) * u[i];
  }
}

void gelu_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = gelu(x[i]);
}

void add_bias(float* x, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < n; ++i) x[r * n + i] += bias[i];
}

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace hearth
