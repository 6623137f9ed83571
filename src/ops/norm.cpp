// See norm.h.
#include "ops/norm.h"

#include <cmath>

namespace hearth {

void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = out + r * n;
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += double(xr[i]) * double(xr[i]);
    const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / double(n) + double(eps)));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n_rows, int64_t n,
                float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = out + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += xr[i];
    const double mean = sum / double(n);
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += (xr[i] - mean) * (xr[i] - mean);
    const double scale = 1.0 / std::sqrt(sum_sq / double(n) + double(eps));
    for (int64_t i = 0; i < n; ++i) {
      const float v = static_cast<float>((xr[i] - mean) * scale) * weight[i];
      yr[i] = bias ? v + bias[i] : v;
    }
  }
}

}  // namespace hearth
