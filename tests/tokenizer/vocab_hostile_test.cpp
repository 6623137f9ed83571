// Tokenizer metadata is untrusted input: every malformed array, id, byte token, type, model
// or merge is refused at load with an error naming the key (and the index where there is
// one), never read out of bounds. Each case is a hand-made GGUF written with gguf::Writer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tokenizer/vocab_fixture.h"

namespace hearth::tokenizer::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class HostileVocabTest : public TempDir {
 protected:
  // Loads and expects an error whose message contains every fragment.
  template <class... M>
  void expect_refused(const gguf::Writer& w, M... fragments) {
    auto vocab = load(w);
    ASSERT_FALSE(vocab.ok()) << "a malformed vocabulary was accepted";
    EXPECT_THAT(vocab.error().message, AllOf(HasSubstr(fragments)...));
  }
};

TEST_F(HostileVocabTest, ValidFixturesLoad) {
  auto spm = load(spm_writer(spm_spec()));
  ASSERT_TRUE(spm.ok()) << spm.error().message;
  EXPECT_EQ(spm->size(), 267u);
  EXPECT_EQ(spm->kind(), VocabKind::kSpm);
  auto bpe = load(bpe_writer());
  ASSERT_TRUE(bpe.ok()) << bpe.error().message;
  EXPECT_EQ(bpe->kind(), VocabKind::kBpe);
  EXPECT_TRUE(bpe->is_eog(259));
}

TEST_F(HostileVocabTest, TokensOfTheWrongType) {
  auto w = spm_writer(spm_spec());
  w.set("tokenizer.ggml.tokens", ints({1, 2, 3}));
  expect_refused(w, "tokenizer.ggml.tokens", "int32");
  w.set("tokenizer.ggml.tokens", Value::string("abc"));
  expect_refused(w, "tokenizer.ggml.tokens", "expected array");
  w.remove("tokenizer.ggml.tokens");
  expect_refused(w, "tokenizer.ggml.tokens", "absent");
  w.set("tokenizer.ggml.tokens", strings({}));
  expect_refused(w, "tokenizer.ggml.tokens", "empty");
}

TEST_F(HostileVocabTest, ScoresThatDoNotMatchTheTokens) {
  auto spec = spm_spec();
  spec.scores.pop_back();
  expect_refused(spm_writer(spec), "tokenizer.ggml.scores", "266 entries", "267");
  spec = spm_spec();
  spec.scores.push_back(0);
  expect_refused(spm_writer(spec), "tokenizer.ggml.scores", "268 entries");
  auto w = spm_writer(spm_spec());
  w.set("tokenizer.ggml.scores", strings(spm_spec().tokens));
  expect_refused(w, "tokenizer.ggml.scores", "string");
  spec = spm_spec();
  spec.scores[7] = std::numeric_limits<float>::quiet_NaN();
  expect_refused(spm_writer(spec), "tokenizer.ggml.scores", "[7]");
}

TEST_F(HostileVocabTest, TokenTypesThatDoNotMatchTheTokens) {
  auto spec = spm_spec();
  spec.types.resize(100);
  expect_refused(spm_writer(spec), "tokenizer.ggml.token_type", "100 entries");
  auto w = spm_writer(spm_spec());
  w.set("tokenizer.ggml.token_type", floats(spm_spec().scores));
  expect_refused(w, "tokenizer.ggml.token_type", "float32");
  for (int32_t bad : {7, -1, 1000000}) {
    spec = spm_spec();
    spec.types[5] = bad;
    expect_refused(spm_writer(spec), "tokenizer.ggml.token_type", "[5]", std::to_string(bad));
  }
}

TEST_F(HostileVocabTest, SpecialIdsPastTheEnd) {
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                          "tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id",
                          "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id"}) {
    auto w = spm_writer(spm_spec());
    w.set(key, Value::u32(267));
    expect_refused(w, key, "267", "past the end");
    w.set(key, Value::u64(uint64_t{1} << 40));
    expect_refused(w, key, "past the end");
    w.set(key, Value::i32(-1));
    expect_refused(w, key, "int32");
    w.set(key, Value::string("1"));
    expect_refused(w, key, "string");
  }
}

TEST_F(HostileVocabTest, MalformedByteTokens) {
  const size_t index = 3 + 0x41;  // <0x41>
  for (const char* bad : {"<0x-1>", "<0xZZ>", "<0x1>", "<0x100>", "<0x41", "0x41>", "<0X41>", "A"}) {
    auto spec = spm_spec();
    spec.tokens[index] = bad;
    expect_refused(spm_writer(spec), "tokenizer.ggml.tokens", "[" + std::to_string(index) + "]", "<0xHH>");
  }
}

TEST_F(HostileVocabTest, UnknownModelsAndPreTokenizers) {
  auto w = spm_writer(spm_spec());
  w.set("tokenizer.ggml.model", Value::string("t5-but-not-really"));
  expect_refused(w, "tokenizer.ggml.model", "t5-but-not-really");
  w.set("tokenizer.ggml.model", Value::u32(1));
  expect_refused(w, "tokenizer.ggml.model");
  w.remove("tokenizer.ggml.model");
  expect_refused(w, "tokenizer.ggml.model", "absent");
  auto b = bpe_writer();
  b.set("tokenizer.ggml.pre", Value::string("llama-9000"));
  expect_refused(b, "tokenizer.ggml.pre", "llama-9000");
  b.set("tokenizer.ggml.pre", ints({1}));
  expect_refused(b, "tokenizer.ggml.pre");
}

TEST_F(HostileVocabTest, BadMerges) {
  const std::string sp = gpt2_char(' ');
  auto w = bpe_writer();
  w.set("tokenizer.ggml.merges", strings({"a b", "a zz"}));
  expect_refused(w, "tokenizer.ggml.merges", "[1]", "not in the vocabulary");
  w.set("tokenizer.ggml.merges", strings({"ab"}));
  expect_refused(w, "tokenizer.ggml.merges", "[0]", "separated by a space");
  w.set("tokenizer.ggml.merges", strings({"a b", "b a"}));  // "ba" is no token
  expect_refused(w, "tokenizer.ggml.merges", "[1]", "makes a token");
  w.set("tokenizer.ggml.merges", strings({""}));
  expect_refused(w, "tokenizer.ggml.merges", "[0]");
  w.set("tokenizer.ggml.merges", ints({1}));
  expect_refused(w, "tokenizer.ggml.merges", "int32");
  w.remove("tokenizer.ggml.merges");
  expect_refused(w, "tokenizer.ggml.merges", "absent");
}

TEST_F(HostileVocabTest, DuplicateTokensAndMissingSpecials) {
  auto spec = spm_spec();
  spec.tokens[261] = "a";
  expect_refused(spm_writer(spec), "tokenizer.ggml.tokens", "[261]", "repeats token 260");
  auto w = spm_writer(spm_spec());
  w.set("tokenizer.ggml.add_bos_token", Value::u32(1));
  expect_refused(w, "tokenizer.ggml.add_bos_token", "expected bool");
  // A gpt2 vocabulary without a BOS id falls back to id 11; asking for BOS with a vocabulary
  // too small for that default has nothing to add.
  gguf::Writer tiny;
  tiny.set("tokenizer.ggml.model", Value::string("gpt2"));
  tiny.set("tokenizer.ggml.tokens", strings({"a", "b", "ab"}));
  tiny.set("tokenizer.ggml.merges", strings({"a b"}));
  tiny.set("tokenizer.ggml.add_bos_token", Value::boolean(true));
  expect_refused(tiny, "tokenizer.ggml.add_bos_token", "no BOS");
}

TEST_F(HostileVocabTest, IntegerScoresAndAbsentTypesAreAccepted) {
  auto w = spm_writer(spm_spec());
  std::vector<int32_t> iscores(267, 0);
  w.set("tokenizer.ggml.scores", ints(iscores));
  w.remove("tokenizer.ggml.token_type");
  // Without token types every token is normal, so "<0x41>" is not a byte token: allowed.
  auto v = load(w);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->token(3).attr, kAttrNormal);
}

}  // namespace
}  // namespace hearth::tokenizer::test
