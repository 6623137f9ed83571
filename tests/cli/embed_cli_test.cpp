// `hearth embed` as a user runs it: a vector per text (plain and --json), --stdin lines, and
// clear errors for a bad flag or file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_process.h"
#include "test_data.h"

namespace hearth {
namespace {

std::string bert_model() { return (test::models_dir() / "synth" / "synth-bert-tiny-Q8_0.gguf").string(); }

TEST(EmbedCli, PlainJsonAndStdin) {
  HEARTH_REQUIRE_FILE(std::filesystem::path(bert_model()));
  const test::CliResult plain = test::run_hearth({"embed", "-m", bert_model(), "-t", "1", "A cat", "sat"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::istringstream lines(plain.out);
  int n_lines = 0;
  for (std::string line; std::getline(lines, line); ++n_lines) {
    std::istringstream values(line);
    int n = 0;
    for (double v; values >> v; ++n) {}
    EXPECT_EQ(n, 384);
  }
  EXPECT_EQ(n_lines, 2);

  const test::CliResult js = test::run_hearth({"embed", "-m", bert_model(), "-t", "1", "--json", "--stdin"}, "A cat\n\nsat\n");
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const nlohmann::json j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["dim"], 384);
  EXPECT_EQ(j["pooling"], "mean");
  ASSERT_EQ(j["data"].size(), 2u);  // the empty line is skipped
  EXPECT_EQ(j["data"][1]["text"], "sat");
  EXPECT_EQ(j["data"][0]["tokens"].front(), 101);  // [CLS]
  EXPECT_EQ(j["data"][0]["embedding"].size(), 384u);
}

TEST(EmbedCli, ClearErrors) {
  HEARTH_REQUIRE_FILE(std::filesystem::path(bert_model()));
  test::CliResult r = test::run_hearth({"embed", "-m", bert_model(), "--pooling", "max", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--pooling"), std::string::npos) << r.err;
  r = test::run_hearth({"embed", "-m", "/nonexistent.gguf", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.gguf"), std::string::npos) << r.err;
  r = test::run_hearth({"embed", "-m", bert_model()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("TEXT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hearth
