// Normalisations over the rows of an activation matrix (n_rows, n). F32 in and out; `out` may
// equal `x`. Sums in double, as the row length can reach 8192 and the result feeds every layer.
#pragma once

#include <cstdint>

namespace hearth {

// out = x / sqrt(mean(x²) + eps) * weight
void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out);

// out = (x - mean) / sqrt(var + eps) * weight + bias   (bias may be null)
void layer_norm(const float* x, const float* weight, const float* bias, int64_t n_rows, int64_t n,
                float eps, float* out);

}  // namespace hearth
