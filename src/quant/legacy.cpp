// PLACEHOLDER — replaced by the owner of this file.
#include <cstdlib>
#include "quant/formats.h"
namespace hearth {
void dequantize_row_q4_0(const void* src, float* dst, int64_t n) { std::abort(); }
void dequantize_row_q4_1(const void* src, float* dst, int64_t n) { std::abort(); }
void dequantize_row_q5_0(const void* src, float* dst, int64_t n) { std::abort(); }
void dequantize_row_q5_1(const void* src, float* dst, int64_t n) { std::abort(); }
void quantize_row_q4_0(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q4_1(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q5_0(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q5_1(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
}  // namespace hearth
