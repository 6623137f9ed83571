// `hearth perplexity` on a synthetic model: llama.cpp's chunking (n_tokens / n_ctx whole chunks,
// the second half of each scored), a finite estimate with its standard error, independence from
// the decode batch size, and a clear error when the text is shorter than two chunks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>

#include "cli/cli_process.h"
#include "gguf/reader.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

std::filesystem::path ppl_model() {
  return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
}

std::string story() {
  std::string s;
  for (int i = 0; i < 12; ++i)
    s += "Once upon a time, there was a little robot who lived in a small house near the sea. "
         "Every morning it walked along the beach, counting shells and waves, and every evening "
         "it told the lighthouse keeper what it had found. ";
  return s;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name + std::to_string(::getpid());
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

struct Parsed {
  std::vector<double> running;
  double ppl = NAN, err = NAN;
};

Parsed parse(const std::string& out) {
  Parsed p;
  const std::regex chunk(R"(\[(\d+)\]([0-9.]+|inf|nan),)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), chunk); it != std::sregex_iterator();
       ++it)
    p.running.push_back(std::stod((*it)[2]));
  std::smatch m;
  const std::regex final_re(R"(Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+))");
  if (std::regex_search(out, m, final_re)) {
    p.ppl = std::stod(m[1]);
    p.err = std::stod(m[2]);
  }
  return p;
}

TEST(PerplexityCli, ChunksAndFiniteEstimate) {
  HEARTH_REQUIRE_FILE(ppl_model());
  Result<gguf::File> file = gguf::File::open(ppl_model());
  ASSERT_TRUE(file);
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load(*file);
  ASSERT_TRUE(vocab);
  const std::string text = story();
  const size_t n_tokens = tokenizer::tokenize(*vocab, text).size();
  const std::string path = write_temp("hearth_ppl_story_", text);

  const auto r = test::run_hearth(
      {"perplexity", "-m", ppl_model().string(), "-f", path, "-c", "64", "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Parsed p = parse(r.out);
  EXPECT_EQ(p.running.size(), n_tokens / 64) << r.out;
  ASSERT_TRUE(std::isfinite(p.ppl)) << r.out;
  EXPECT_GT(p.ppl, 1.0);
  // No upper bound: random weights with logits of std ~4 are confidently wrong (PPL ~2e5 here).
  EXPECT_GT(p.err, 0.0);
  ASSERT_FALSE(p.running.empty());
  EXPECT_NEAR(p.running.back(), p.ppl, 1e-3 * p.ppl);  // the last running value is the estimate

  // Same numbers whatever the decode batch (token by token through the cache, or uneven batches).
  const auto b = test::run_hearth(
      {"perplexity", "-m", ppl_model().string(), "-f", path, "-c", "64", "-b", "7"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NEAR(parse(b.out).ppl, p.ppl, 2e-3 * p.ppl);
  std::remove(path.c_str());
}

TEST(PerplexityCli, TooShortTextIsAClearError) {
  HEARTH_REQUIRE_FILE(ppl_model());
  const std::string path = write_temp("hearth_ppl_short_", "A short text, far from two chunks.");
  const auto r =
      test::run_hearth({"perplexity", "-m", ppl_model().string(), "-f", path, "-c", "64"});
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("needs at least 128"));
  const auto missing =
      test::run_hearth({"perplexity", "-m", ppl_model().string(), "-f", "/nonexistent.txt"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot read"));
}

}  // namespace
}  // namespace hearth
