// Element-wise activations and sums over F32 activation rows.
#pragma once

#include <cmath>
#include <cstdint>

namespace hearth {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

// out[i] = silu(gate[i]) * up[i] for n_rows rows; gate row r at gate + r * gate_stride, up row
// r at up + r * up_stride, out row r at out + r * n (out may alias gate when strides match).
void swiglu(const float* gate, int64_t gate_stride, const float* up, int64_t up_stride,
            int64_t n_rows, int64_t n, float* out);

// x[r][i] += bias[i]
void add_bias(float* x, const float* bias, int64_t n_rows, int64_t n);

// x[i] += y[i]
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace hearth
