// PLACEHOLDER — replaced by the owner of this file.
#include <cstdlib>
#include "quant/formats.h"
namespace hearth {
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n) { std::abort(); }
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n) { std::abort(); }
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance) { std::abort(); }
}  // namespace hearth
