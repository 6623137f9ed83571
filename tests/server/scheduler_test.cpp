// The scheduler on a synthetic model (random weights, 2 layers): concurrent greedy requests give
// the text each gives alone, a full queue rejects, cancelling frees the slot, prompt-prefix
// reuse, stop strings. No sockets: this runs under qemu too (a few tokens each).
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include "kernels/kernels.h"
#include "runtime/generate.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using namespace std::chrono_literals;

struct Synth {
  std::shared_ptr<const Model> model;
  std::unique_ptr<tokenizer::Vocab> vocab;
};

std::filesystem::path synth_path() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

Synth load_synth() {
  Synth s;
  Result<std::shared_ptr<const Model>> m = Model::load(synth_path(), *choose_kernels().table);
  if (!m) ADD_FAILURE() << m.error().message;
  else s.model = *m;
  if (s.model) {
    Result<tokenizer::Vocab> v = tokenizer::Vocab::load(s.model->file());
    if (!v) ADD_FAILURE() << v.error().message;
    else s.vocab = std::make_unique<tokenizer::Vocab>(std::move(*v));
  }
  return s;
}

std::unique_ptr<Scheduler> make(const Synth& s, int slots, int queue, int64_t n_ctx = 256,
                                bool batched = true) {
  SchedulerOptions o;
  o.batched = batched;
  o.n_slots = slots;
  o.max_queue = queue;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.prefill_chunk = 8;  // several steps per prompt: exercises chunked prefill
  Result<std::unique_ptr<Scheduler>> r = Scheduler::create(s.model, *s.vocab, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(*r) : nullptr;
}

CompletionRequest greedy(const Synth& s, const std::string& text, int64_t max_tokens) {
  CompletionRequest r;
  r.prompt = tokenizer::tokenize(*s.vocab, text, true, true);
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  r.ignore_eos = true;  // random weights: always the full count
  return r;
}

#define REQUIRE_SYNTH()                    \
  HEARTH_REQUIRE_FILE(synth_path());       \
  Synth synth = load_synth();              \
  ASSERT_TRUE(synth.model && synth.vocab)

// Alone, each session decodes by itself; together, all four share each batched forward pass
// (prefill chunks of one slot next to single tokens of others).
TEST(Scheduler, ConcurrentGreedyRequestsMatchTheSameRequestsAlone) {
  REQUIRE_SYNTH();
  const std::vector<std::string> prompts = {"The cat sat on the", "Once upon a time there was",
                                            "1 2 3 4 5 6 7 8 9 10 11 12 13 14", "hello"};
  std::vector<std::string> alone;
  for (const std::string& p : prompts) {
    auto sched = make(synth, 1, 0, 256, /*batched=*/false);
    Submission sub = sched->submit(greedy(synth, p, 10));
    ASSERT_TRUE(sub.job) << sub.message;
    CollectedCompletion c = Scheduler::collect(*sub.job);
    EXPECT_EQ(c.result.finish, FinishReason::kLength);
    EXPECT_EQ(c.result.tokens_generated, 10);
    alone.push_back(c.text);
  }
  auto sched = make(synth, 4, 0);
  std::vector<std::shared_ptr<CompletionJob>> jobs;
  for (const std::string& p : prompts) {
    Submission sub = sched->submit(greedy(synth, p, 10));
    ASSERT_TRUE(sub.job) << sub.message;
    jobs.push_back(sub.job);
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    CollectedCompletion c = Scheduler::collect(*jobs[i]);
    EXPECT_EQ(c.text, alone[i]) << "prompt " << i;
    EXPECT_EQ(c.result.tokens_prompt, int64_t(tokenizer::tokenize(*synth.vocab, prompts[i]).size()));
  }
  EXPECT_EQ(sched->active(), 0);
}

TEST(Scheduler, FullQueueRejects) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 1, 1);
  Submission a = sched->submit(greedy(synth, "a", 200));
  Submission b = sched->submit(greedy(synth, "b", 200));
  Submission c = sched->submit(greedy(synth, "c", 200));
  ASSERT_TRUE(a.job);
  ASSERT_TRUE(b.job);
  EXPECT_FALSE(c.job);
  EXPECT_EQ(c.rejection, Rejection::kQueueFull);
  EXPECT_NE(c.message.find("busy"), std::string::npos);
  a.job->cancel();
  b.job->cancel();
  EXPECT_EQ(Scheduler::collect(*a.job).result.finish, FinishReason::kCancelled);
  EXPECT_EQ(Scheduler::collect(*b.job).result.finish, FinishReason::kCancelled);
}

TEST(Scheduler, CancelFreesTheSlot) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 1, 0, 2048);
  Submission a = sched->submit(greedy(synth, "a long story", 100000));
  ASSERT_TRUE(a.job);
  CompletionEvent ev;
  while (a.job->next(ev, 10ms) == false) {
  }
  a.job->cancel();
  CollectedCompletion ca = Scheduler::collect(*a.job);
  EXPECT_EQ(ca.result.finish, FinishReason::kCancelled);
  EXPECT_EQ(sched->active(), 0);
  Submission b = sched->submit(greedy(synth, "next", 3));
  ASSERT_TRUE(b.job) << b.message;
  CollectedCompletion cb = Scheduler::collect(*b.job);
  EXPECT_EQ(cb.result.finish, FinishReason::kLength);
  EXPECT_EQ(cb.result.tokens_generated, 3);
}

TEST(Scheduler, RejectsPromptsLongerThanTheContext) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 1, 0, 32);
  CompletionRequest r = greedy(synth, std::string(400, 'x'), 1);
  ASSERT_GT(r.prompt.size(), 32u);
  Submission s = sched->submit(std::move(r));
  EXPECT_FALSE(s.job);
  EXPECT_EQ(s.rejection, Rejection::kPromptTooLong);
  Submission empty = sched->submit(CompletionRequest{});
  EXPECT_EQ(empty.rejection, Rejection::kInvalid);
}

TEST(Scheduler, ContextFullEndsWithLength) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 1, 0, 24);
  Submission s = sched->submit(greedy(synth, "a b c", -1));
  ASSERT_TRUE(s.job);
  CollectedCompletion c = Scheduler::collect(*s.job);
  EXPECT_EQ(c.result.finish, FinishReason::kLength);
  EXPECT_TRUE(c.result.context_full);
  EXPECT_EQ(c.result.tokens_prompt + c.result.tokens_generated, 24 + 1);  // the last is never decoded
}

TEST(Scheduler, FollowUpReusesThePromptPrefix) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 2, 0);
  CompletionRequest first = greedy(synth, "The first turn of a conversation", 4);
  const size_t n_first = first.prompt.size();
  std::vector<int32_t> follow = first.prompt;
  Submission a = sched->submit(std::move(first));
  ASSERT_TRUE(a.job);
  CollectedCompletion ca = Scheduler::collect(*a.job);
  EXPECT_EQ(ca.result.tokens_cached, 0);
  for (int32_t id : tokenizer::tokenize(*synth.vocab, " and the second", false, false)) follow.push_back(id);
  CompletionRequest second = greedy(synth, "", 4);
  second.prompt = follow;
  Submission b = sched->submit(std::move(second));
  ASSERT_TRUE(b.job);
  CollectedCompletion cb = Scheduler::collect(*b.job);
  EXPECT_EQ(cb.result.tokens_cached, int64_t(n_first));
  // The same prompt again: everything but its last token is reused.
  CompletionRequest again = greedy(synth, "", 4);
  again.prompt = follow;
  Submission c = sched->submit(std::move(again));
  CollectedCompletion cc = Scheduler::collect(*c.job);
  EXPECT_EQ(cc.result.tokens_cached, int64_t(follow.size()) - 1);
  EXPECT_EQ(cc.text, cb.text);
}

// A long system prompt held by a busy slot is copied into the free slot a new request gets.
TEST(Scheduler, SharedPrefixIsCopiedFromABusySlot) {
  REQUIRE_SYNTH();
  const std::string system =
      "You are a helpful assistant for a home. Answer briefly, in plain words, and never make up "
      "facts about the devices in the house; say so when you do not know. ";
  CompletionRequest second = greedy(synth, system + "Is the kitchen light on?", 6);
  std::string alone;
  {
    auto sched = make(synth, 1, 0);
    Submission s = sched->submit(second);
    alone = Scheduler::collect(*s.job).text;
  }
  auto sched = make(synth, 2, 0, 512);
  CompletionRequest first_request = greedy(synth, system + "What time is it?", 100000);
  const size_t shared = common_prefix(first_request.prompt, second.prompt);
  ASSERT_GT(shared, 40u);
  Submission first = sched->submit(std::move(first_request));
  ASSERT_TRUE(first.job);
  CompletionEvent ev;
  while (!first.job->next(ev, 10ms)) {
  }
  Submission s = sched->submit(second);
  ASSERT_TRUE(s.job);
  CollectedCompletion c = Scheduler::collect(*s.job);
  first.job->cancel();
  EXPECT_EQ(c.result.tokens_cached, int64_t(shared));
  EXPECT_EQ(c.text, alone);
  Scheduler::collect(*first.job);
}

TEST(Scheduler, StopStringsAndLogprobs) {
  REQUIRE_SYNTH();
  auto sched = make(synth, 1, 0);
  Submission base = sched->submit(greedy(synth, "abc", 24));
  CollectedCompletion full = Scheduler::collect(*base.job);
  ASSERT_GE(full.text.size(), 6u);
  const std::string stop = full.text.substr(3, 3);
  CompletionRequest r = greedy(synth, "abc", 24);
  r.stop = {stop};
  r.top_logprobs = 2;
  Submission s = sched->submit(std::move(r));
  CollectedCompletion cut = Scheduler::collect(*s.job);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.result.finish, FinishReason::kStop);
  EXPECT_EQ(cut.result.stop_string, stop);
  ASSERT_EQ(int64_t(cut.logprobs.size()), cut.result.tokens_generated);
  for (const TokenLogprob& lp : cut.logprobs) {
    EXPECT_LE(lp.logprob, 0.0f);
    ASSERT_EQ(lp.top.size(), 2u);
    EXPECT_EQ(lp.top[0].id, lp.id);  // greedy
  }
}

}  // namespace
}  // namespace hearth::server
