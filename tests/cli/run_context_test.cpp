// `hearth run` at the edges of the context, and its KV cache type flags. The policy (also in
// --help and the README): no context shifting. A prompt that does not fit --ctx-size is an error
// before anything is decoded; generation that fills the context stops there, prints what it
// has, notes the full context on stderr and exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/cli_process.h"
#include "test_data.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPrompt =  // 45 tokens with the synth vocabularies (BOS included)
    "Once upon a time, there was a little robot who lived in a small house near the sea.";

std::filesystem::path model() { return test::models_dir() / "synth" / "synth-qwen2-tiny-Q8_0.gguf"; }

TEST(RunContext, PromptOneTokenTooLongIsAnError) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth({"run", "-m", model().string(), "-p", kPrompt, "-c", "44"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(45 tokens after 0 in the cache) does not fit the context of 44"));
  EXPECT_EQ(r.out, "");
}

TEST(RunContext, PromptFillingTheContextSamplesOneTokenThenStops) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth(
      {"run", "-m", model().string(), "-p", kPrompt, "--temp", "0", "-c", "45", "-n", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("generated: 1 tokens"));
  EXPECT_THAT(r.err, HasSubstr("stop: context full"));
  EXPECT_THAT(r.err, HasSubstr("the context of 45 tokens is full (raise --ctx-size)"));
}

TEST(RunContext, PromptPlusPredictionBeyondTheContextStopsWithANote) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth({"run", "-m", model().string(), "-p", kPrompt, "--temp", "0",
                                   "--ignore-eos", "-c", "60", "-n", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("generated: 16 tokens"));  // 45 + 15 decoded + the last sampled
  EXPECT_THAT(r.err, HasSubstr("stop: context full"));
}

TEST(RunContext, PredictionThatFitsEndsAtItsLimitWithoutANote) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth({"run", "-m", model().string(), "-p", kPrompt, "--temp", "0",
                                   "--ignore-eos", "-c", "60", "-n", "15"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("generated: 15 tokens"));
  EXPECT_THAT(r.err, Not(HasSubstr("is full")));
}

TEST(RunContext, HelpStatesThePolicyAndTheCacheTypes) {
  const auto r = test::run_hearth({"run", "--help"});
  EXPECT_THAT(r.out, HasSubstr("no shifting"));
  EXPECT_THAT(r.out, HasSubstr("--cache-type-k"));
  EXPECT_THAT(r.out, HasSubstr("--cache-type-v"));
}

TEST(RunCacheTypes, Q8_0CacheRunsAndLlamaCppSpellingsWork) {
  HEARTH_REQUIRE_FILE(model());
  const auto a = test::run_hearth({"run", "-m", model().string(), "-p", kPrompt, "--temp", "0",
                                   "-n", "4", "--cache-type-k", "q8_0", "--cache-type-v", "q8_0"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = test::run_hearth({"run", "-m", model().string(), "-p", kPrompt, "--temp", "0",
                                   "-n", "4", "-ctk", "q8_0", "-ctv", "q8_0"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_THAT(a.err, HasSubstr("generated: 4 tokens"));
}

TEST(RunCacheTypes, UnknownTypeIsAnError) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth(
      {"run", "-m", model().string(), "-p", kPrompt, "-n", "1", "--cache-type-v", "q4_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--cache-type-v: unsupported KV cache type 'q4_0'"));
}

TEST(LogitsCacheTypes, FlagsReachTheSession) {
  HEARTH_REQUIRE_FILE(model());
  const auto r = test::run_hearth({"logits", "-m", model().string(), "--tokens", "1,2,3", "-ctk",
                                   "q8_0", "-ctv", "q8_0", "--batch-size", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"tokens\":[1,2,3]"));
  const auto bad = test::run_hearth({"logits", "-m", model().string(), "--tokens", "1", "-ctk", "x"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--cache-type-k"));
}

}  // namespace
}  // namespace hearth
