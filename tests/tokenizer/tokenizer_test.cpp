// Tokenizing and detokenizing with hand-made vocabularies: SentencePiece merges by score, byte
// fallback, special-token parsing, BOS/EOS, byte-level BPE merge order, and the streaming
// detokenizer on byte tokens that split UTF-8 characters.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_fixture.h"

namespace hearth::tokenizer::test {
namespace {

using Ids = std::vector<TokenId>;
constexpr TokenId kByte0 = 3;  // id of <0x00>
constexpr TokenId byte_id(uint8_t b) { return kByte0 + b; }

class SpmTest : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    auto v = load(spm_writer(spm_spec()));
    ASSERT_TRUE(v.ok()) << v.error().message;
    vocab_ = std::make_unique<Vocab>(std::move(*v));
  }
  std::unique_ptr<Vocab> vocab_;
};

TEST_F(SpmTest, MergesByScoreWithSpacePrefixAndBos) {
  EXPECT_EQ(tokenize(*vocab_, "ab"), (Ids{1, 264}));
  EXPECT_EQ(tokenize(*vocab_, "ab", /*add_special=*/false), (Ids{264}));
  EXPECT_EQ(tokenize(*vocab_, "", true), (Ids{1}));
  EXPECT_EQ(tokenize(*vocab_, "", false), Ids{});
  EXPECT_EQ(tokenize(*vocab_, "a b", false), (Ids{262, 259, 261}));
}

TEST_F(SpmTest, ByteFallbackForUnknownCharacters) {
  EXPECT_EQ(tokenize(*vocab_, "é", false), (Ids{259, byte_id(0xC3), byte_id(0xA9)}));
  // Invalid UTF-8 goes through byte for byte.
  EXPECT_EQ(tokenize(*vocab_, std::string("\xFF"), false), (Ids{259, byte_id(0xFF)}));
}

TEST_F(SpmTest, ControlTokensParsedOnlyWhenAskedUserDefinedAlways) {
  EXPECT_EQ(tokenize(*vocab_, "<|user|>ab"), (Ids{1, 265, 264}));
  const Ids plain = tokenize(*vocab_, "<|user|>ab", true, /*parse_special=*/false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 265), 0);
  EXPECT_EQ(tokenize(*vocab_, "ab<tool>ab", true, false), (Ids{1, 264, 266, 264}));
}

TEST_F(SpmTest, PiecesAndDetokenize) {
  EXPECT_EQ(token_to_piece(*vocab_, 264), " ab");
  EXPECT_EQ(token_to_piece(*vocab_, 1, /*special=*/false), "");
  EXPECT_EQ(token_to_piece(*vocab_, 1, /*special=*/true), "<s>");
  EXPECT_EQ(token_to_piece(*vocab_, byte_id('\n')), "\n");
  EXPECT_EQ(token_to_piece(*vocab_, 9999), "");
  EXPECT_EQ(token_to_piece(*vocab_, -5), "");
  EXPECT_EQ(detokenize(*vocab_, Ids{264, 259, 261}), "ab b");  // first piece loses its space
  // After a BOS the space stays, as llama.cpp's llama_detokenize does.
  DetokenizeOptions remove;
  remove.remove_special = true;
  EXPECT_EQ(detokenize(*vocab_, Ids{1, 264}, remove), " ab");
  for (const std::string& text : std::vector<std::string>{"ab", " a b ", "é€😀 \n\t x", std::string("\x00\x01", 2)}) {
    EXPECT_EQ(detokenize(*vocab_, tokenize(*vocab_, text, false)), text);
  }
}

TEST_F(SpmTest, StreamingNeverSplitsACharacter) {
  Detokenizer d(*vocab_);
  EXPECT_EQ(d.push(259), " ");
  EXPECT_EQ(d.push(byte_id(0xC3)), "");
  EXPECT_EQ(d.pending_bytes(), 1u);
  EXPECT_EQ(d.push(byte_id(0xA9)), "é");
  // 😀 = F0 9F 98 80, one byte token at a time.
  EXPECT_EQ(d.push(byte_id(0xF0)), "");
  EXPECT_EQ(d.push(byte_id(0x9F)), "");
  EXPECT_EQ(d.push(byte_id(0x98)), "");
  EXPECT_EQ(d.push(byte_id(0x80)), "😀");
  EXPECT_EQ(d.flush(), "");
  // A byte that can never start a character is replaced at once.
  EXPECT_EQ(d.push(byte_id(0xFF)), "\xEF\xBF\xBD");
  // A character cut short by a normal token: the fragment becomes U+FFFD, the token follows.
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(260), "\xEF\xBF\xBD" "a");
  // An incomplete character at the end comes out as U+FFFD on flush.
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(byte_id(0x82)), "");
  EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(d.pending_bytes(), 0u);
  // Surrogates and overlong forms are not characters.
  EXPECT_EQ(d.push(byte_id(0xED)), "");
  EXPECT_EQ(d.push(byte_id(0xA0)), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(d.push(byte_id(0xC0)), "\xEF\xBF\xBD");
}

TEST_F(SpmTest, StreamingRawKeepsTheModelsBytes) {
  Detokenizer d(*vocab_, false, /*replace_invalid=*/false);
  // A split character still waits for its end...
  EXPECT_EQ(d.push(byte_id(0xC3)), "");
  EXPECT_EQ(d.push(byte_id(0xA9)), "é");
  // ...but bytes that can never form UTF-8 come out unchanged, not as U+FFFD.
  EXPECT_EQ(d.push(byte_id(0xFF)), "\xFF");
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(260), "\xE2" "a");
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(byte_id(0x82)), "");
  EXPECT_EQ(d.flush(), "\xE2\x82");
  EXPECT_EQ(d.pending_bytes(), 0u);
}

class BpeTest : public TempDir {};

TEST_F(BpeTest, ByteLevelMergesByRank) {
  auto v = load(bpe_writer());
  ASSERT_TRUE(v.ok()) << v.error().message;
  const TokenId space = ' ';  // the byte characters are ids 0..255 in byte order
  EXPECT_EQ(tokenize(*v, "ab"), (Ids{257}));
  EXPECT_EQ(tokenize(*v, " a"), (Ids{256}));
  // "a b" (rank 0) wins over "Ġ a" (rank 1), and "Ġ ab" is no merge.
  EXPECT_EQ(tokenize(*v, " ab"), (Ids{space, 257}));
  EXPECT_EQ(tokenize(*v, "<|endoftext|>ab"), (Ids{259, 257}));
  EXPECT_EQ(detokenize(*v, Ids{space, 257}), " ab");
  const std::string text = "Grüße, \xF0\x9F\xA6\x99! \t\n";
  DetokenizeOptions raw;
  raw.clean_spaces = false;
  EXPECT_EQ(detokenize(*v, tokenize(*v, text), raw), text);
  // clean_up_tokenization_spaces, as for GPT-2: " ," and " 's" lose their space.
  EXPECT_EQ(detokenize(*v, tokenize(*v, "a , b 's")), "a, b's");
}

}  // namespace
}  // namespace hearth::tokenizer::test
