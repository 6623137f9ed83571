#include <gtest/gtest.h>

#include <cstdint>

#include "quant/ggml_type.h"

namespace hearth {
namespace {

TEST(TypeTable, EveryIdRoundTripsByName) {
  for (uint32_t id = 0; id < kGgmlTypeIdLimit; ++id) {
    const TypeTraits* t = type_traits(id);
    if (t == nullptr) continue;
    EXPECT_EQ(static_cast<uint32_t>(t->type), id);
    EXPECT_EQ(type_from_name(t->name), t->type) << t->name;
  }
  EXPECT_EQ(type_from_name("q4_k"), GgmlType::Q4_K);
  EXPECT_FALSE(type_from_name("Q4_2"));
  EXPECT_EQ(type_traits(4), nullptr);  // removed Q4_2
  EXPECT_EQ(type_traits(kGgmlTypeIdLimit), nullptr);
}

TEST(TypeTable, RowBytes) {
  EXPECT_EQ(row_bytes(GgmlType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_FALSE(row_bytes(GgmlType::Q4_K, 100));  // not whole blocks
  EXPECT_FALSE(row_bytes(GgmlType::F32, -1));
  // 2^61 eight-byte elements would wrap size_t to 0.
  EXPECT_FALSE(row_bytes(GgmlType::F64, int64_t{1} << 61));
}

}  // namespace
}  // namespace hearth
