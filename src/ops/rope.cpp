// See rope.h. The angles are built the way ggml builds them (a float running product of
// base^(-2/n_rot) per pair, then cosf/sinf), so positions far into the context round the
// same as in the reference engine.
#include "ops/rope.h"

#include <cmath>

namespace hearth {

void rope_cache(const RopeParams& p, const int32_t* positions, int64_t n_tokens, float* cos_out,
                float* sin_out) {
  const int64_t n_pairs = p.n_rot / 2;
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  for (int64_t t = 0; t < n_tokens; ++t) {
    float theta_base = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < n_pairs; ++i) {
      const float factor = p.freq_factors ? p.freq_factors[i] : 1.0f;
      const float theta = p.freq_scale * (theta_base / factor);
      cos_out[t * n_pairs + i] = std::cos(theta) * p.attn_factor;
      sin_out[t * n_pairs + i] = std::sin(theta) * p.attn_factor;
      theta_base *= theta_scale;
    }
  }
}

void rope_apply(const RopeParams& p, const float* cos_table, const float* sin_table, float* x,
                int64_t n_tokens, int64_t row_stride, int64_t n_heads, int64_t head_dim) {
  const int64_t n_pairs = p.n_rot / 2;
  // Distance between the two elements of a pair, and between consecutive pairs.
  const int64_t mate = p.type == RopeType::kNormal ? 1 : n_pairs;
  const int64_t step = p.type == RopeType::kNormal ? 2 : 1;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos_table + t * n_pairs;
    const float* s = sin_table + t * n_pairs;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + t * row_stride + h * head_dim;
      for (int64_t i = 0; i < n_pairs; ++i) {
        float* a = v + i * step;
        const float x0 = a[0], x1 = a[mate];
        a[0] = x0 * c[i] - x1 * s[i];
        a[mate] = x0 * s[i] + x1 * c[i];
      }
    }
  }
}

}  // namespace hearth
