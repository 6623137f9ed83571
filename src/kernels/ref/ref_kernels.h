// The scalar reference kernels (the oracle every ISA is tested against). Written for clarity:
// each weight block is first unpacked to small integers (unpack.h), then dotted by one of three
// formulas, one per activation format. Other ISA tables inherit these for what they do not
// accelerate.
#pragma once

#include <cstdint>

namespace hearth::ref {

// Activation quantizers (QuantizeActFn): the scalar quantize_row_q8_* of quant/formats.h, and a
// copy for formats whose activations stay F32.
void quantize_act_f32(const float* x, void* y, int64_t n);
void quantize_act_q8_0(const float* x, void* y, int64_t n);
void quantize_act_q8_1(const float* x, void* y, int64_t n);
void quantize_act_q8_k(const float* x, void* y, int64_t n);

// VecDotFn per weight format; activations in the format named after the slash.
float vec_dot_f32(int64_t n, const void* w, const void* act);     // / F32
float vec_dot_f16(int64_t n, const void* w, const void* act);     // / F32
float vec_dot_bf16(int64_t n, const void* w, const void* act);    // / F32
float vec_dot_q4_0(int64_t n, const void* w, const void* act);    // / Q8_0
float vec_dot_q5_0(int64_t n, const void* w, const void* act);    // / Q8_0
float vec_dot_q8_0(int64_t n, const void* w, const void* act);    // / Q8_0
float vec_dot_iq4_nl(int64_t n, const void* w, const void* act);  // / Q8_0
float vec_dot_q4_1(int64_t n, const void* w, const void* act);    // / Q8_1
float vec_dot_q5_1(int64_t n, const void* w, const void* act);    // / Q8_1
float vec_dot_q2_k(int64_t n, const void* w, const void* act);    // / Q8_K
float vec_dot_q3_k(int64_t n, const void* w, const void* act);    // / Q8_K
float vec_dot_q4_k(int64_t n, const void* w, const void* act);    // / Q8_K
float vec_dot_q5_k(int64_t n, const void* w, const void* act);    // / Q8_K
float vec_dot_q6_k(int64_t n, const void* w, const void* act);    // / Q8_K
float vec_dot_iq4_xs(int64_t n, const void* w, const void* act);  // / Q8_K

// AccumulateFn for the KV cache formats (n % 32 == 0 for Q8_0).
void accumulate_f32(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y);
void accumulate_f16(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                    int64_t n, float* y);
void accumulate_q8_0(int64_t n_rows, const float* weights, const void* rows, int64_t row_stride,
                     int64_t n, float* y);

}  // namespace hearth::ref
