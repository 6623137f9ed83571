// See activations.h.
#include "ops/activations.h"

namespace hearth {

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
