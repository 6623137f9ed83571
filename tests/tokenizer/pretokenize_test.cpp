// Each pre-tokenizer on strings that exercise its rules: contractions, digit grouping, CJK,
// emoji, whitespace runs and newlines. Expected splits follow the original regular
// expressions (leftmost match, first alternative wins, pieces between matches kept).
#include <gtest/gtest.h>

#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

using Words = std::vector<std::string>;

TEST(PreTokenizeGpt2, ContractionsAreCaseSensitiveAndSpaceLeadsWords) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "I've been 'told he's"),
            (Words{"I", "'ve", " been", " '", "told", " he", "'s"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "WE'VE"), (Words{"WE", "'", "VE"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "Hello world"), (Words{"Hello", " world"}));
}

TEST(PreTokenizeGpt2, DigitsStayTogetherAndWhitespaceRunsGiveUpTheirLastSpace) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "a 12345b"), (Words{"a", " 12345", "b"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "a   b"), (Words{"a", "  ", " b"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "a   "), (Words{"a", "   "}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "hello\n\nworld"), (Words{"hello", "\n", "\n", "world"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, ""), Words{});
}

TEST(PreTokenizeGpt2, CjkIsLettersAndEmojiIsPunctuation) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, "我想在apple 🦙.cpp"), (Words{"我想在apple", " 🦙.", "cpp"}));
}

TEST(PreTokenizeLlama3, CaseInsensitiveContractionsDigitTriplesAndNewlines) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～"),
            (Words{"Hello", ",", " y", "'all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作", "131", "415",
                   "1", "天", "～"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "WE'VE 'RE"), (Words{"WE", "'VE", " '", "RE"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "a\n\n b"), (Words{"a", "\n\n", " b"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "   \n  x"), (Words{"   \n", " ", " x"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "x!!\n\ny"), (Words{"x", "!!\n\n", "y"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kLlama3, "\tword"), (Words{"\tword"}));
}

TEST(PreTokenizeQwen2, SingleDigits) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kQwen2, "x 2024!"), (Words{"x", " ", "2", "0", "2", "4", "!"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kQwen2, "Cửa Việt"), (Words{"Cửa", " Việt"}));
}

TEST(PreTokenizeStarcoder, DigitsFirstThenGpt2Rules) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kStarcoder, "abc123 def"), (Words{"abc", "1", "2", "3", " def"}));
}

TEST(PreTokenizeDeepseekCoder, NewlinesLettersPunctuationCjkDigits) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kDeepseekCoder, "Hello, world!\n123"),
            (Words{"Hello", ",", " world", "!", "\n", "1", "2", "3"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kDeepseekCoder, "工作1"), (Words{"工作", "1"}));
}

TEST(PreTokenizeDeepseekLlm, TrailingWhitespaceAndCjk) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kDeepseekLlm, "Hello 世界  "), (Words{"Hello", " ", "世界", "  "}));
  // Each rule also re-splits what earlier rules matched: the punctuation class [!-/:-~]
  // covers ASCII letters, so it cuts Latin letters away from a Greek run.
  EXPECT_EQ(pre_tokenize(PreTokenizer::kDeepseekLlm, "Ωmega 42"), (Words{"Ω", "mega", " ", "42"}));
}

TEST(PreTokenizeFalcon, PunctuationRunsAndDigitTriples) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kFalcon, "3.14159"), (Words{"3", ".", "141", "59"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kFalcon, "a+=`b`"), (Words{"a", "+=`", "b", "`"}));
}

TEST(PreTokenizeDefault, PunctuationDigitsAndTriples) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kDefault, "x=12345;"), (Words{"x", "=", "123", "45", ";"}));
}

TEST(PreTokenizeBloom, WordsUpToPunctuation) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kBloom, "Hello, world"), (Words{"Hello", ",", " world"}));
  EXPECT_EQ(pre_tokenize(PreTokenizer::kViking, "ab12"), (Words{"ab", "1", "2"}));
}

TEST(PreTokenize, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(pre_tokenize(PreTokenizer::kGpt2, std::string("a\xFF" "b")), (Words{"a", "\xEF\xBF\xBD", "b"}));
}

TEST(PreTokenize, LongWhitespaceRunsStayLinear) {
  // A megabyte of spaces and newlines: every rule family must finish (no backtracking).
  std::string text(1 << 20, ' ');
  for (size_t i = 0; i < text.size(); i += 1000) text[i] = '\n';
  for (PreTokenizer kind : {PreTokenizer::kGpt2, PreTokenizer::kLlama3, PreTokenizer::kDeepseekLlm,
                            PreTokenizer::kDeepseekCoder, PreTokenizer::kFalcon, PreTokenizer::kBloom}) {
    size_t total = 0;
    for (const auto& w : pre_tokenize(kind, text)) total += w.size();
    EXPECT_EQ(total, text.size());
  }
}

TEST(Unicode, TablesAgreeWithKnownCharacters) {
  EXPECT_EQ(category('a'), Category::kLetter);
  EXPECT_EQ(category(0x4E00), Category::kLetter);
  EXPECT_EQ(category('7'), Category::kNumber);
  EXPECT_EQ(category(0x00BD), Category::kNumber);  // ½
  EXPECT_EQ(category(0x1F999), Category::kSymbol);  // 🦙
  EXPECT_EQ(category(0x0301), Category::kMark);
  EXPECT_EQ(category(0x10FFFF), Category::kUndefined);
  EXPECT_TRUE(is_whitespace(0x3000));
  EXPECT_FALSE(is_whitespace(0x1C));
  EXPECT_EQ(to_lower('A'), uint32_t{'a'});
  EXPECT_EQ(to_lower(0x0411), 0x0431u);  // Б
  EXPECT_EQ(nfd_first(0x00E9), uint32_t{'e'});
  for (int b = 0; b < 256; ++b) EXPECT_EQ(gpt2_cpt_to_byte(byte_to_gpt2_cpt(static_cast<uint8_t>(b))), b);
  EXPECT_EQ(byte_to_gpt2_cpt(' '), 0x120u);
}

}  // namespace
}  // namespace hearth::tokenizer
