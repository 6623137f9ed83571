// `hearth tokenize` as a user runs it: the built binary on a hand-made vocabulary, and on the
// shared llama-spm vocabulary when present.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "test_data.h"
#include "tokenizer/vocab_fixture.h"

namespace hearth::tokenizer::test {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `hearth tokenize ARGS` with `input` on stdin (from a file, so any bytes pass).
CliRun run_cli(const std::filesystem::path& dir, const std::vector<std::string>& args, const std::string& input = "") {
  const auto in_path = dir / "stdin.bin";
  std::ofstream(in_path, std::ios::binary) << input;
  std::string cmd = shell_quote(HEARTH_BINARY) + " tokenize";
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " <" + shell_quote(in_path.string()) + " 2>&1";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class TokenizeCliTest : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    model_ = (dir_ / "spm.gguf").string();
    ASSERT_TRUE(spm_writer(spm_spec()).write(model_).ok());
  }
  std::string model_;
};

TEST_F(TokenizeCliTest, PrintsIdsWithTheModelsSpecials) {
  EXPECT_EQ(run_cli(dir_, {"-m", model_, "ab"}).out, "1 264\n");
  EXPECT_EQ(run_cli(dir_, {"-m", model_, "ab", "--no-bos"}).out, "264\n");
  EXPECT_EQ(run_cli(dir_, {"-m", model_, "<|user|>ab"}).out, "1 265 264\n");
  const CliRun plain = run_cli(dir_, {"-m", model_, "<|user|>", "--no-parse-special"});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_THAT(plain.out, ::testing::Not(::testing::HasSubstr("265")));
}

TEST_F(TokenizeCliTest, StdinIsReadByteForByte) {
  // A NUL, an invalid byte and a trailing newline all reach the tokenizer.
  const std::string input("a\0\xFF\n", 4);
  EXPECT_EQ(run_cli(dir_, {"-m", model_, "--stdin", "--no-bos"}, input).out,
            "262 3 258 13\n");
}

TEST_F(TokenizeCliTest, PiecesOnePerLine) {
  EXPECT_EQ(run_cli(dir_, {"-m", model_, "--pieces", "a\nb"}).out,
            "1 '<s>'\n262 ' a'\n13 '\\n'\n261 'b'\n");
}

TEST_F(TokenizeCliTest, ErrorsAreReported) {
  const CliRun missing = run_cli(dir_, {"-m", (dir_ / "absent.gguf").string(), "x"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.out, ::testing::HasSubstr("hearth tokenize:"));
  auto spec = spm_spec();
  spec.tokens[10] = "<0xZZ>";
  const auto bad = (dir_ / "bad.gguf").string();
  ASSERT_TRUE(spm_writer(spec).write(bad).ok());
  const CliRun hostile = run_cli(dir_, {"-m", bad, "x"});
  EXPECT_NE(hostile.exit_code, 0);
  EXPECT_THAT(hostile.out, ::testing::HasSubstr("tokenizer.ggml.tokens: [10]"));
  EXPECT_NE(run_cli(dir_, {"-m", model_}).exit_code, 0);  // no text
}

TEST_F(TokenizeCliTest, SharedLlamaSpmVocab) {
  const auto path = hearth::test::models_dir() / "vocab" / "ggml-vocab-llama-spm.gguf";
  HEARTH_REQUIRE_FILE(path);
  EXPECT_EQ(run_cli(dir_, {"-m", path.string(), "--stdin"}, " Hello world").out, "1 29871 15043 3186\n");
}

}  // namespace
}  // namespace hearth::tokenizer::test
