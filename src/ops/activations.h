// Element-wise activations and sums over F32 activation rows.
#pragma once

#include <cstdint>

namespace hearth {

// x[i] = gelu(x[i]) for n values, tanh form (what BERT's reference implementations and ggml
// compute): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))).
void gelu_inplace(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x), for n_rows rows; gate row r at
// gate + r * gate_stride, up row r at up + r * up_stride, out row r at out + r * n (out may
// alias gate or up when its stride matches).
void swiglu(const float* gate, int64_t gate_stride, const float* up, int64_t up_stride,
            int64_t n_rows, int64_t n, float* out);

// x[r][i] += bias[i]
void add_bias(float* x, const float* bias, int64_t n_rows, int64_t n);

// x[i] += y[i]
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace hearth
