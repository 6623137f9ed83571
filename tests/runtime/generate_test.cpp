// The generation loop on a real (synthetic, random-weight) model: stopping on EOG, on the token
// limit, on a full context and on cancellation; streaming never splits a UTF-8 character; greedy
// generation equals a hand-written argmax loop over Session::decode.
#include "runtime/generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "kernels/kernels.h"
#include "model/model.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

constexpr const char* kPrompt =
    "Once upon a time, there was a little robot who lived in a small house near the sea.";

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
    HEARTH_REQUIRE_FILE(path);
    Result<std::shared_ptr<const Model>> m = Model::load(path, *choose_kernels().table);
    ASSERT_TRUE(m) << m.error().message;
    model_ = *m;
    Result<tokenizer::Vocab> v = tokenizer::Vocab::load(model_->file());
    ASSERT_TRUE(v) << v.error().message;
    vocab_ = std::make_unique<tokenizer::Vocab>(std::move(*v));
    prompt_ = tokenizer::tokenize(*vocab_, kPrompt);
  }

  Session session(int64_t n_ctx = 256) {
    SessionOptions o;
    o.n_ctx = n_ctx;
    Result<Session> s = Session::create(model_, pool_, o);
    EXPECT_TRUE(s);
    return std::move(*s);
  }

  static sampling::SamplerParams greedy() {
    sampling::SamplerParams p;
    p.temperature = 0;
    return p;
  }

  // Forces the sampler through `script`, one allowed id per step. At step k the session holds the
  // prompt and the k tokens before it (each sampled token is decoded before the next sample).
  void force(sampling::Sampler& sampler, const Session& s, std::vector<int32_t> script) const {
    const int64_t base = static_cast<int64_t>(prompt_.size());
    sampler.set_filter([&s, base, script](int32_t id) {
      const size_t k = static_cast<size_t>(s.n_past() - base);
      return id == script[std::min(k, script.size() - 1)];
    });
  }

  ThreadPool pool_{2};
  std::shared_ptr<const Model> model_;
  std::unique_ptr<tokenizer::Vocab> vocab_;
  std::vector<int32_t> prompt_;
};

TEST_F(GenerateTest, GreedyEqualsArgmaxLoopAndStopsAtLimit) {
  Session a = session();
  sampling::Sampler sampler(greedy());
  GenerateParams params;
  params.n_predict = 10;
  params.batch_size = 7;  // the prefill in several decode calls
  std::string text;
  Result<GenerateResult> r =
      generate(a, sampler, *vocab_, prompt_, params, [&](std::string_view t) { text += t; });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->stop, StopReason::kLimit);
  ASSERT_EQ(r->tokens.size(), 10u);
  EXPECT_EQ(r->timings.n_prompt, static_cast<int64_t>(prompt_.size()));
  EXPECT_EQ(r->timings.n_generated, 10);
  EXPECT_EQ(a.n_past(),
            static_cast<int64_t>(prompt_.size()) + 9);  // the last token is sampled, not decoded

  Session b = session();
  const int64_t n_vocab = model_->config().n_vocab;
  auto logits = b.decode(prompt_, false);
  ASSERT_TRUE(logits);
  std::vector<int32_t> want;
  for (int i = 0; i < 10; ++i) {
    std::vector<float> row(logits->begin(), logits->begin() + n_vocab);
    if (vocab_->is_eog(
            static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin())))
      break;
    want.push_back(static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin()));
    logits = b.decode(std::span<const int32_t>(&want.back(), 1), false);
    ASSERT_TRUE(logits);
  }
  EXPECT_EQ(r->tokens, want);
  tokenizer::Detokenizer d(*vocab_, false);
  std::string want_text;
  for (int32_t id : want) want_text += d.push(id);
  want_text += d.flush();
  EXPECT_EQ(text, want_text);
}

TEST_F(GenerateTest, StopsAtEveryEndOfGenerationToken) {
  for (int32_t eog : vocab_->eog_ids()) {
    Session s = session();
    sampling::Sampler sampler(greedy());
    const int32_t a = 300, b = 301;
    force(sampler, s, {a, b, eog, a});
    GenerateParams params;
    std::string text;
    Result<GenerateResult> r =
        generate(s, sampler, *vocab_, prompt_, params, [&](std::string_view t) { text += t; });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->stop, StopReason::kEog) << eog;
    EXPECT_EQ(r->eog_token, eog);
    EXPECT_EQ(r->tokens, (std::vector<int32_t>{a, b}));
    EXPECT_EQ(text, tokenizer::token_to_piece(*vocab_, a) + tokenizer::token_to_piece(*vocab_, b));
  }
  EXPECT_TRUE(vocab_->is_eog(2));    // </s>
  EXPECT_TRUE(vocab_->is_eog(511));  // <|end|>
}

TEST_F(GenerateTest, CancelFlagStopsBetweenTokens) {
  Session s = session();
  sampling::Sampler sampler(greedy());
  std::atomic<bool> cancel{false};
  int pieces = 0;
  GenerateParams params;
  params.n_predict = 50;
  sampler.set_filter([](int32_t id) { return id >= 300 && id < 500; });  // no EOG, always text
  Result<GenerateResult> r = generate(
      s, sampler, *vocab_, prompt_, params,
      [&](std::string_view) {
        if (++pieces == 3) cancel = true;
      },
      &cancel);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->stop, StopReason::kCancelled);
  EXPECT_EQ(r->tokens.size(), 3u);

  Session s2 = session();
  std::atomic<bool> already{true};
  r = generate(s2, sampler, *vocab_, prompt_, params, nullptr, &already);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stop, StopReason::kCancelled);
  EXPECT_TRUE(r->tokens.empty());
}

TEST_F(GenerateTest, SplitUtf8CharactersAreHeldBackUntilComplete) {
  // "é€" as byte tokens: C3 A9, then E2 82 AC; a stray continuation byte last.
  const std::vector<uint8_t> bytes = {0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0x41, 0xE2, 0x82};
  std::vector<int32_t> script;
  for (uint8_t b : bytes) {
    ASSERT_TRUE(vocab_->valid(vocab_->byte_token(b))) << int(b);
    script.push_back(vocab_->byte_token(b));
  }
  Session s = session();
  sampling::Sampler sampler(greedy());
  force(sampler, s, script);
  std::vector<std::string> chunks;
  std::vector<size_t> tokens_at_chunk;
  GenerateParams params;
  params.n_predict = static_cast<int64_t>(script.size());
  Result<GenerateResult> r =
      generate(s, sampler, *vocab_, prompt_, params, [&](std::string_view t) {
        chunks.emplace_back(t);
        tokens_at_chunk.push_back(static_cast<size_t>(s.n_past()) - prompt_.size());
      });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->tokens, script);
  // "é" after its 2nd byte, "€" after its 3rd, "A", then the unfinished E2 82 flushed as U+FFFD.
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0], "\xC3\xA9");
  EXPECT_EQ(chunks[1], "\xE2\x82\xAC");
  EXPECT_EQ(chunks[2], "A");
  EXPECT_EQ(chunks[3], "\xEF\xBF\xBD");
  EXPECT_EQ(tokens_at_chunk,
            (std::vector<size_t>{1, 4, 5, 7}));  // released by the completing token
  for (const auto& c : chunks) EXPECT_TRUE(valid_utf8(c)) << c;
  std::string all;
  for (const auto& c : chunks) all += c;
  EXPECT_TRUE(valid_utf8(all));
}

TEST_F(GenerateTest, FullContextStopsAndOversizedPromptIsAnError) {
  const int64_t n_ctx = static_cast<int64_t>(prompt_.size()) + 4;
  Session s = session(n_ctx);
  sampling::Sampler sampler(greedy());
  sampler.set_filter([this](int32_t id) { return !vocab_->is_eog(id); });
  Result<GenerateResult> r = generate(s, sampler, *vocab_, prompt_, GenerateParams{}, nullptr);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->stop, StopReason::kContextFull);
  EXPECT_EQ(s.n_past(), n_ctx);
  EXPECT_EQ(r->tokens.size(), 5u);

  Session small = session(8);
  r = generate(small, sampler, *vocab_, prompt_, GenerateParams{}, nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not fit"), std::string::npos);
  EXPECT_EQ(small.n_past(), 0);
  EXPECT_FALSE(generate(small, sampler, *vocab_, {}, GenerateParams{}, nullptr));
}

TEST(CommonPrefix, Lengths) {
  const std::vector<int32_t> a = {1, 2, 3, 4}, b = {1, 2, 9}, c = {1, 2, 3, 4, 5};
  EXPECT_EQ(common_prefix(a, b), 2u);
  EXPECT_EQ(common_prefix(a, c), 4u);
  EXPECT_EQ(common_prefix(a, {}), 0u);
}

}  // namespace
}  // namespace hearth
