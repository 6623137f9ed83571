// The quantities of the `hearth plan` command line: sizes are binary, bandwidths decimal.
#include <gtest/gtest.h>

#include "plan/units.h"

namespace hearth::plan {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;

TEST(PlanUnits, SizesAreBinary) {
  EXPECT_EQ(*parse_bytes("8G"), 8 * kGiB);
  EXPECT_EQ(*parse_bytes("8GB"), 8 * kGiB);
  EXPECT_EQ(*parse_bytes("8GiB"), 8 * kGiB);
  EXPECT_EQ(*parse_bytes("512m"), 512ull * 1024 * 1024);
  EXPECT_EQ(*parse_bytes("1.5G"), 3 * kGiB / 2);
  EXPECT_EQ(*parse_bytes("4096"), 4096u);
}

TEST(PlanUnits, BandwidthIsDecimal) {
  EXPECT_DOUBLE_EQ(*parse_bandwidth("6GB/s"), 6e9);
  EXPECT_DOUBLE_EQ(*parse_bandwidth("6"), 6e9);
  EXPECT_DOUBLE_EQ(*parse_bandwidth("5500MB/s"), 5.5e9);
  EXPECT_DOUBLE_EQ(*parse_bandwidth("12.5g"), 12.5e9);
}

TEST(PlanUnits, ParamsAndClock) {
  EXPECT_DOUBLE_EQ(*parse_params("3.8B"), 3.8e9);
  EXPECT_DOUBLE_EQ(*parse_params("1.1b"), 1.1e9);
  EXPECT_DOUBLE_EQ(*parse_params("500M"), 5e8);
  EXPECT_DOUBLE_EQ(*parse_params("3800000000"), 3.8e9);
  EXPECT_DOUBLE_EQ(*parse_ghz("1.8"), 1.8);
  EXPECT_DOUBLE_EQ(*parse_ghz("2.4GHz"), 2.4);
  EXPECT_DOUBLE_EQ(*parse_ghz("1500MHz"), 1.5);
}

TEST(PlanUnits, BadStringsAreErrorsNamingTheInput) {
  for (const char* s : {"", "G", "8X", "eight", "-8G", "8..1G", "0"}) {
    Result<uint64_t> r = parse_bytes(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.error().message.find("size"), std::string::npos);
  }
  for (const char* s : {"", "fast", "6GB/h", "6XB/s"}) EXPECT_FALSE(parse_bandwidth(s).ok()) << s;
  for (const char* s : {"", "3.8Q", "big", "12", "1e3B"}) EXPECT_FALSE(parse_params(s).ok()) << s;
  for (const char* s : {"", "fast", "99", "1.8THz"}) EXPECT_FALSE(parse_ghz(s).ok()) << s;
}

}  // namespace
}  // namespace hearth::plan
