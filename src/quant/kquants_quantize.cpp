// PLACEHOLDER — replaced by the owner of this file.
#include <cstdlib>
#include "quant/formats.h"
namespace hearth {
void quantize_row_q2_k(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q3_k(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q4_k(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q5_k(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_q6_k(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
}  // namespace hearth
