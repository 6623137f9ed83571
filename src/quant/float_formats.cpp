// The unquantised formats: F32 (a copy), F16 and BF16 (one rounding each, no search).
// Conversions are the bit-exact ones of core/fp16.h: round to nearest even, as F16C and
// ggml/gguf-py do, NaN kept a NaN. `importance` means nothing for them: every element is
// rounded on its own, which is already the least error each can have.
#include <cstring>

#include "core/fp16.h"
#include "quant/formats.h"

namespace hearth {

void dequantize_row_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;  // rows of a file need not be 2-byte aligned once sliced, so no uint16_t*
    std::memcpy(&bits, h + 2 * i, 2);
    dst[i] = fp16_to_f32(bits);
  }
}

void dequantize_row_bf16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, h + 2 * i, 2);
    dst[i] = bf16_to_f32(bits);
  }
}

void quantize_row_f32(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_row_f16(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* h = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t bits = f32_to_fp16(src[i]);
    std::memcpy(h + 2 * i, &bits, 2);
  }
}

void quantize_row_bf16(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* h = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t bits = f32_to_bf16(src[i]);
    std::memcpy(h + 2 * i, &bits, 2);
  }
}

}  // namespace hearth
