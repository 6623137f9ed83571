// Scalar reference dequantizers and quantizers of every format hearth reads and writes.
// These are the oracle: bit-exact with the GGUF definitions for dequantization; kernels and
// the type table call them. Signatures match DequantizeRowFn / QuantizeRowFn in ggml_type.h.
#pragma once

#include <cstdint>

namespace hearth {

// float_formats.cpp
void dequantize_row_f32(const void* src, float* dst, int64_t n);
void dequantize_row_f16(const void* src, float* dst, int64_t n);
void dequantize_row_bf16(const void* src, float* dst, int64_t n);
void quantize_row_f32(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_f16(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_bf16(const float* src, void* dst, int64_t n, const float* importance);

// q8_formats.cpp: the 8-bit formats, which are also the activation formats of the dot kernels
void dequantize_row_q8_0(const void* src, float* dst, int64_t n);
void dequantize_row_q8_1(const void* src, float* dst, int64_t n);
void dequantize_row_q8_k(const void* src, float* dst, int64_t n);
void quantize_row_q8_0(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q8_1(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q8_k(const float* src, void* dst, int64_t n, const float* importance);

// legacy.cpp: 32-element blocks with one round-to-nearest definition each
void dequantize_row_q4_0(const void* src, float* dst, int64_t n);
void dequantize_row_q4_1(const void* src, float* dst, int64_t n);
void dequantize_row_q5_0(const void* src, float* dst, int64_t n);
void dequantize_row_q5_1(const void* src, float* dst, int64_t n);
void quantize_row_q4_0(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q4_1(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_0(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_1(const float* src, void* dst, int64_t n, const float* importance);

// kquants_dequant.cpp
void dequantize_row_q2_k(const void* src, float* dst, int64_t n);
void dequantize_row_q3_k(const void* src, float* dst, int64_t n);
void dequantize_row_q4_k(const void* src, float* dst, int64_t n);
void dequantize_row_q5_k(const void* src, float* dst, int64_t n);
void dequantize_row_q6_k(const void* src, float* dst, int64_t n);

// kquants_quantize.cpp: error-minimising searches for scales and mins
void quantize_row_q2_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q3_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q4_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q6_k(const float* src, void* dst, int64_t n, const float* importance);

// iq4.cpp: non-linear 4-bit
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n);
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance);

}  // namespace hearth
