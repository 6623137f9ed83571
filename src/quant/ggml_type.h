// The tensor element types of GGUF, with the ids the format assigns (ggml's enum ggml_type).
// Every id a real file can carry is known here so a reader can size and name any tensor, even
// one whose arithmetic hearth does not implement; such a type is refused where it would be used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hearth {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 and 5 were Q4_2/Q4_3, removed from the format.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  // 31..33 were the Q4_0_4_4 / Q4_0_4_8 / Q4_0_8_8 repacks, removed from the format.
  TQ1_0 = 34,
  TQ2_0 = 35,
  // 36..38 were the IQ4_NL_4_x repacks, removed.
  MXFP4 = 39,
};

inline constexpr uint32_t kGgmlTypeIdLimit = 40;  // one past the largest id

// Scalar functions of one format. Rows are whole blocks: n % block_size == 0.
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
// `importance` (may be null) weights each element's error, as an imatrix does.
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n, const float* importance);

struct TypeTraits {
  GgmlType type;
  std::string_view name;    // as GGUF/ggml spell it: "Q4_K"
  int64_t block_size;       // elements per block
  size_t block_bytes;       // bytes per block
  DequantizeRowFn dequantize;  // null where hearth has no arithmetic for the type
  QuantizeRowFn quantize;      // null where hearth cannot write the type
};

// Null for an id that names no type (a removed or future one).
const TypeTraits* type_traits(uint32_t id);
const TypeTraits& type_traits(GgmlType type);
std::optional<GgmlType> type_from_name(std::string_view name);  // case-insensitive

// Bytes of a row of n elements; nullopt if n is not a whole number of blocks or the size
// does not fit in size_t.
std::optional<size_t> row_bytes(GgmlType type, int64_t n);

}  // namespace hearth
