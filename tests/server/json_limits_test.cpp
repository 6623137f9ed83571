// The nesting check every request body passes before it is parsed (a deep body would overflow
// a worker's stack in nlohmann::json's recursive copy and dump).
#include "server/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace hearth::server {
namespace {

TEST(JsonLimits, NestingIsCountedOutsideStrings) {
  EXPECT_TRUE(json_nesting_within(R"({"a": [1, {"b": [2]}]})", 4));
  EXPECT_FALSE(json_nesting_within(R"({"a": [1, {"b": [2]}]})", 3));
  EXPECT_TRUE(json_nesting_within(R"({"s": "[[[[[[{{{{", "t": "\"[[[["})", 1));
  EXPECT_TRUE(json_nesting_within(std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(json_nesting_within(std::string(100000, '[') + std::string(100000, ']')));
  EXPECT_TRUE(json_nesting_within(""));
}

}  // namespace
}  // namespace hearth::server
