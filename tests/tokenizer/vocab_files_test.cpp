// Every tokenizer vector llama.cpp ships for its vocab-only GGUF files (../shared/models/vocab,
// ids without BOS), the same strings with the default specials (../shared/reference/
// tokenizer.json), round trips through the detokenizer, and the streaming detokenizer on the
// same ids. Files that are absent (llama-bpe, qwen2 vocabularies) skip with a message.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf/reader.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The .inp format: each string followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_inputs(const std::filesystem::path& path) {
  const std::string all = read_all(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t at; (at = all.find(sep, begin)) != std::string::npos; begin = at + sep.size()) {
    out.push_back(all.substr(begin, at - begin));
  }
  return out;
}

std::vector<std::vector<TokenId>> read_outputs(const std::filesystem::path& path) {
  std::vector<std::vector<TokenId>> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    out.emplace_back();
    for (TokenId id; ss >> id;) out.back().push_back(id);
  }
  return out;
}

std::filesystem::path vocab_path(const std::string& name) {
  return test::models_dir() / "vocab" / ("ggml-vocab-" + name + ".gguf");
}

class VocabFileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFileTest, MatchesLlamaCppVectors) {
  const auto path = vocab_path(GetParam());
  const auto inp = path.string() + ".inp", out = path.string() + ".out";
  HEARTH_REQUIRE_FILE(std::filesystem::path(inp));
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto vocab = Vocab::load(*file);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;

  const auto inputs = read_inputs(inp);
  const auto expected = read_outputs(out);
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 40u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(tokenize(*vocab, inputs[i], /*add_special=*/false, /*parse_special=*/false), expected[i])
        << GetParam() << " string " << i << ": '" << inputs[i] << "'";
  }
}

TEST_P(VocabFileTest, RoundTripsAndStreams) {
  const auto path = vocab_path(GetParam());
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto vocab = Vocab::load(*file);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  if (vocab->kind() == VocabKind::kWpm) GTEST_SKIP() << "WordPiece lower-cases and drops accents: not lossless";

  for (const std::string& text : read_inputs(path.string() + ".inp")) {
    const auto ids = tokenize(*vocab, text, /*add_special=*/false, /*parse_special=*/false);
    DetokenizeOptions raw;
    raw.clean_spaces = false;
    EXPECT_EQ(detokenize(*vocab, ids, raw), text) << GetParam();

    // Streaming: same bytes, released only in whole characters (all inputs are valid UTF-8).
    Detokenizer stream(*vocab);
    std::string streamed;
    for (TokenId id : ids) {
      const std::string part = stream.push(id);
      size_t tail = 99;
      EXPECT_EQ(valid_utf8_prefix(part, tail), part.size());
      EXPECT_EQ(tail, 0u);
      streamed += part;
    }
    streamed += stream.flush();
    EXPECT_EQ(streamed, (vocab->add_space_prefix() && !text.empty() ? " " : "") + text) << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, VocabFileTest,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "bert-bge", "starcoder", "deepseek-coder",
                                           "falcon", "llama-bpe", "qwen2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// WordPiece maps a precomposed letter to its base letter but keeps a combining mark that is in
// the input, so such a word is not in the vocabulary and becomes [UNK] (llama-tokenize's ids).
TEST(WordPiece, KeepsCombiningMarksLikeTheReference) {
  const auto path = vocab_path("bert-bge");
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto vocab = Vocab::load(*file);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  EXPECT_EQ(tokenize(*vocab, "na\u00efve cafe\u0301 \u0939\u093f\u0928\u094d\u0926\u0940.", false, false),
            (std::vector<TokenId>{15743, 100, 100, 1012}));
}

// ../shared/reference/tokenizer.json: llama-tokenize's ids with its defaults (BOS as the vocab
// says, control tokens parsed), for each vocab file and a synthetic model.
TEST(TokenizerReference, MatchesLlamaTokenize) {
  const auto ref_path = test::reference_dir() / "tokenizer.json";
  HEARTH_REQUIRE_FILE(ref_path);
  const auto ref = nlohmann::json::parse(read_all(ref_path));
  int checked = 0;
  for (const auto& [name, entries] : ref.items()) {
    auto path = test::models_dir() / "vocab" / name;
    if (!std::filesystem::exists(path)) path = test::models_dir() / "synth" / name;
    if (!std::filesystem::exists(path)) {
      std::cout << "[ SKIPPED  ] " << name << ": file absent\n";
      continue;
    }
    auto file = gguf::File::open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto vocab = Vocab::load(*file);
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    for (const auto& e : entries) {
      const std::string text = e.at("text");
      const std::vector<TokenId> ids = e.at("ids");
      EXPECT_EQ(tokenize(*vocab, text), ids) << name << ": '" << text << "'";
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace hearth::tokenizer
