// The type table: one row per GGUF tensor type (STYLE: "a quant format is a row in a table").
#include <array>
#include <cctype>
#include <cstdint>

#include "quant/formats.h"
#include "quant/ggml_type.h"

namespace hearth {
namespace {

using T = GgmlType;

constexpr TypeTraits kRows[] = {
    {T::F32, "F32", 1, 4, dequantize_row_f32, quantize_row_f32},
    {T::F16, "F16", 1, 2, dequantize_row_f16, quantize_row_f16},
    {T::Q4_0, "Q4_0", 32, 18, dequantize_row_q4_0, quantize_row_q4_0},
    {T::Q4_1, "Q4_1", 32, 20, dequantize_row_q4_1, quantize_row_q4_1},
    {T::Q5_0, "Q5_0", 32, 22, dequantize_row_q5_0, quantize_row_q5_0},
    {T::Q5_1, "Q5_1", 32, 24, dequantize_row_q5_1, quantize_row_q5_1},
    {T::Q8_0, "Q8_0", 32, 34, dequantize_row_q8_0, quantize_row_q8_0},
    {T::Q8_1, "Q8_1", 32, 36, dequantize_row_q8_1, quantize_row_q8_1},
    {T::Q2_K, "Q2_K", 256, 84, dequantize_row_q2_k, quantize_row_q2_k},
    {T::Q3_K, "Q3_K", 256, 110, dequantize_row_q3_k, quantize_row_q3_k},
    {T::Q4_K, "Q4_K", 256, 144, dequantize_row_q4_k, quantize_row_q4_k},
    {T::Q5_K, "Q5_K", 256, 176, dequantize_row_q5_k, quantize_row_q5_k},
    {T::Q6_K, "Q6_K", 256, 210, dequantize_row_q6_k, quantize_row_q6_k},
    {T::Q8_K, "Q8_K", 256, 292, dequantize_row_q8_k, quantize_row_q8_k},
    {T::IQ2_XXS, "IQ2_XXS", 256, 66, nullptr, nullptr},
    {T::IQ2_XS, "IQ2_XS", 256, 74, nullptr, nullptr},
    {T::IQ3_XXS, "IQ3_XXS", 256, 98, nullptr, nullptr},
    {T::IQ1_S, "IQ1_S", 256, 50, nullptr, nullptr},
    {T::IQ4_NL, "IQ4_NL", 32, 18, dequantize_row_iq4_nl, quantize_row_iq4_nl},
    {T::IQ3_S, "IQ3_S", 256, 110, nullptr, nullptr},
    {T::IQ2_S, "IQ2_S", 256, 82, nullptr, nullptr},
    {T::IQ4_XS, "IQ4_XS", 256, 136, dequantize_row_iq4_xs, quantize_row_iq4_xs},
    {T::I8, "I8", 1, 1, nullptr, nullptr},
    {T::I16, "I16", 1, 2, nullptr, nullptr},
    {T::I32, "I32", 1, 4, nullptr, nullptr},
    {T::I64, "I64", 1, 8, nullptr, nullptr},
    {T::F64, "F64", 1, 8, nullptr, nullptr},
    {T::IQ1_M, "IQ1_M", 256, 56, nullptr, nullptr},
    {T::BF16, "BF16", 1, 2, dequantize_row_bf16, quantize_row_bf16},
    {T::TQ1_0, "TQ1_0", 256, 54, nullptr, nullptr},
    {T::TQ2_0, "TQ2_0", 256, 66, nullptr, nullptr},
    {T::MXFP4, "MXFP4", 32, 17, nullptr, nullptr},
};

constexpr std::array<const TypeTraits*, kGgmlTypeIdLimit> build_index() {
  std::array<const TypeTraits*, kGgmlTypeIdLimit> index{};
  for (const TypeTraits& row : kRows) index[static_cast<uint32_t>(row.type)] = &row;
  return index;
}
constexpr auto kIndex = build_index();

}  // namespace

const TypeTraits* type_traits(uint32_t id) { return id < kGgmlTypeIdLimit ? kIndex[id] : nullptr; }

const TypeTraits& type_traits(GgmlType type) { return *kIndex[static_cast<uint32_t>(type)]; }

std::optional<GgmlType> type_from_name(std::string_view name) {
  for (const TypeTraits& row : kRows) {
    if (row.name.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i)
      same = std::toupper(static_cast<unsigned char>(name[i])) == row.name[i];
    if (same) return row.type;
  }
  return std::nullopt;
}

std::optional<size_t> row_bytes(GgmlType type, int64_t n) {
  const TypeTraits& t = type_traits(type);
  if (n < 0 || n % t.block_size != 0) return std::nullopt;
  const auto blocks = static_cast<size_t>(n / t.block_size);
  if (blocks > SIZE_MAX / t.block_bytes) return std::nullopt;  // 2^61 F64 must not wrap to 0
  return blocks * t.block_bytes;
}

}  // namespace hearth
