// A GGUF metadata value: every type the format defines, arrays nested to any depth.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hearth::gguf {

// Ids as the GGUF specification assigns them.
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view value_type_name(ValueType t);  // "uint32", "string", "array", ...

struct Value;

struct Array {
  ValueType element_type = ValueType::kUint8;
  std::vector<Value> items;
};

struct Value {
  ValueType type = ValueType::kUint8;
  // Integers of every width live in `u` or `i` by signedness, floats in `f`.
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<Array>> data;

  static Value u8(uint8_t v) { return {ValueType::kUint8, uint64_t{v}}; }
  static Value i8(int8_t v) { return {ValueType::kInt8, int64_t{v}}; }
  static Value u16(uint16_t v) { return {ValueType::kUint16, uint64_t{v}}; }
  static Value i16(int16_t v) { return {ValueType::kInt16, int64_t{v}}; }
  static Value u32(uint32_t v) { return {ValueType::kUint32, uint64_t{v}}; }
  static Value i32(int32_t v) { return {ValueType::kInt32, int64_t{v}}; }
  static Value u64(uint64_t v) { return {ValueType::kUint64, v}; }
  static Value i64(int64_t v) { return {ValueType::kInt64, v}; }
  static Value f32(float v) { return {ValueType::kFloat32, double{v}}; }
  static Value f64(double v) { return {ValueType::kFloat64, v}; }
  static Value boolean(bool v) { return {ValueType::kBool, v}; }
  static Value string(std::string v) { return {ValueType::kString, std::move(v)}; }
  static Value array(ValueType element_type, std::vector<Value> items) {
    return {ValueType::kArray, std::make_shared<Array>(Array{element_type, std::move(items)})};
  }

  bool is_integer() const;
  bool is_float() const { return type == ValueType::kFloat32 || type == ValueType::kFloat64; }
  // Converting accessors: nullopt when the value is of another kind or out of range.
  std::optional<uint64_t> as_u64() const;
  std::optional<int64_t> as_i64() const;
  std::optional<double> as_f64() const;  // any integer or float
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  const Array* as_array() const;
};

}  // namespace hearth::gguf
