// Continuous batching and prefix reuse on every synthetic architecture: sequences decoded
// together in one pass (prompts and single tokens mixed, sequences joining and leaving
// between steps) get the logits they get decoded alone, and the same greedy continuations;
// a session seeded with copy_prefix_from continues exactly like one that decoded everything.
//
// Equality is exact: every op of the pass works row by row (matmul quantises and dots each
// activation row on its own, norms and RoPE are per row, attention per query against its own
// sequence's cache), so a row's arithmetic does not depend on its neighbours in the batch.
// Should a future matmul kernel mix rows (e.g. a tiled GEMM whose summation order depends on
// the batch size), these comparisons would need a tolerance instead; kMaxDiff says where.
#include "runtime/batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "test_data.h"

namespace hearth {
namespace {

constexpr float kMaxDiff = 0.0f;  // see the file comment

// scripts/test.sh sets QEMU_CPU for the aarch64 run: there one thread, one file per architecture,
// no long prompts (emulation is ~20x slower; the batching arithmetic is what is checked there).
bool emulated() {
  const char* cpu = std::getenv("QEMU_CPU");
  return cpu != nullptr && *cpu != '\0';
}
int test_threads() { return emulated() ? 1 : 2; }

std::vector<int32_t> make_tokens(int n, uint32_t seed) {
  std::vector<int32_t> t;
  uint32_t x = seed * 2654435761u + 12345u;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    t.push_back(static_cast<int32_t>(3 + (x >> 8) % 500));  // ordinary pieces, below 507
  }
  return t;
}

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

float max_diff(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return INFINITY;
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

class BatchTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto path = test::models_dir() / "synth" / (std::string(GetParam()) + ".gguf");
    if (emulated() && std::string(GetParam()).ends_with("-F16"))
      GTEST_SKIP() << "emulated: llama is covered by its Q8_0 file";
    HEARTH_REQUIRE_FILE(path);
    Result<std::shared_ptr<const Model>> m = Model::load(path, *choose_kernels().table);
    ASSERT_TRUE(m) << m.error().message;
    model_ = *m;
    n_vocab_ = static_cast<size_t>(model_->config().n_vocab);
  }

  Session session(int64_t n_ctx = 128) {
    SessionOptions o;
    o.n_ctx = n_ctx;
    Result<Session> s = Session::create(model_, pool_, o);
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }

  std::shared_ptr<const Model> model_;
  ThreadPool pool_{test_threads()};
  size_t n_vocab_ = 0;
};

// One sequence's history in the batched run: what each of its calls fed and got back.
struct Call {
  std::vector<int32_t> tokens;
  bool all_logits = false;
  std::vector<float> logits;
};
struct Seq {
  std::vector<int32_t> prompt;
  std::vector<Call> calls;
  std::vector<int32_t> generated;  // greedy picks from the batched logits
};

TEST_P(BatchTest, SequencesTogetherEqualSequencesAlone) {
  std::vector<Seq> seqs(4);
  seqs[0].prompt = make_tokens(7, 1);
  seqs[1].prompt = make_tokens(3, 2);
  seqs[2].prompt = make_tokens(12, 3);
  seqs[3].prompt = make_tokens(1, 4);
  // Which sequences take part in each step: B pauses at step 2, A leaves after step 2, C and D
  // join late, so prompts and single tokens share passes in many combinations.
  const std::vector<std::vector<int>> steps = {
      {0, 1}, {0, 1, 2}, {0, 2, 3}, {1, 2, 3}, {1, 2, 3}, {3, 1}, {2},
  };

  std::vector<Session> sessions;
  for (size_t i = 0; i < seqs.size(); ++i) sessions.push_back(session());
  BatchDecoder batch(model_);
  for (const std::vector<int>& step : steps) {
    std::vector<BatchItem> items;
    for (int i : step) {
      Seq& q = seqs[static_cast<size_t>(i)];
      Call call;
      call.tokens = q.calls.empty() ? q.prompt : std::vector<int32_t>{q.generated.back()};
      call.all_logits = q.calls.empty() && i % 2 == 0;  // some prompts want every row
      q.calls.push_back(std::move(call));
      BatchItem it;
      it.session = &sessions[static_cast<size_t>(i)];
      it.tokens = q.calls.back().tokens;
      it.all_logits = q.calls.back().all_logits;
      items.push_back(it);
    }
    ASSERT_TRUE(batch.decode(pool_, items));
    for (size_t j = 0; j < items.size(); ++j) {
      Seq& q = seqs[static_cast<size_t>(step[j])];
      Call& call = q.calls.back();
      const size_t n_out = call.all_logits ? call.tokens.size() : 1;
      ASSERT_EQ(items[j].logits.size(), n_out * n_vocab_);
      call.logits.assign(items[j].logits.begin(), items[j].logits.end());
      q.generated.push_back(argmax(items[j].logits.last(n_vocab_)));
    }
  }

  for (size_t i = 0; i < seqs.size(); ++i) {
    Session alone = session();
    std::vector<int32_t> generated;
    for (size_t c = 0; c < seqs[i].calls.size(); ++c) {
      const Call& call = seqs[i].calls[c];
      Result<std::span<const float>> logits = alone.decode(call.tokens, call.all_logits);
      ASSERT_TRUE(logits) << logits.error().message;
      EXPECT_LE(max_diff(*logits, call.logits), kMaxDiff) << "sequence " << i << " call " << c;
      generated.push_back(argmax(logits->last(n_vocab_)));
    }
    EXPECT_EQ(generated, seqs[i].generated) << "sequence " << i;
    EXPECT_EQ(alone.n_past(), sessions[i].n_past());
  }
}

TEST_P(BatchTest, FailedBatchAdvancesNoSession) {
  Session a = session(16), b = session(16);
  const std::vector<int32_t> ok = make_tokens(4, 5);
  std::vector<int32_t> bad = ok;
  bad[2] = static_cast<int32_t>(n_vocab_);  // outside the vocabulary
  const std::vector<int32_t> too_long = make_tokens(17, 6);
  BatchDecoder batch(model_);

  std::vector<BatchItem> items(2);
  items[0].session = &a;
  items[0].tokens = ok;
  items[1].session = &b;
  for (const std::vector<int32_t>* second : {&std::as_const(bad), &too_long}) {
    items[1].tokens = *second;
    EXPECT_FALSE(batch.decode(pool_, items));
    EXPECT_EQ(a.n_past(), 0);
    EXPECT_EQ(b.n_past(), 0);
  }
  items[1].session = &a;  // the same session twice
  items[1].tokens = ok;
  EXPECT_FALSE(batch.decode(pool_, items));
  items[1].session = &b;
  items[1].tokens = {};
  EXPECT_FALSE(batch.decode(pool_, items));
  EXPECT_EQ(a.n_past(), 0);
  EXPECT_EQ(b.n_past(), 0);

  // And a good batch afterwards still matches a session alone.
  items[1].tokens = ok;
  ASSERT_TRUE(batch.decode(pool_, items));
  Session c = session(16);
  Result<std::span<const float>> alone = c.decode(ok, false);
  ASSERT_TRUE(alone);
  EXPECT_LE(max_diff(items[1].logits, *alone), kMaxDiff);
  EXPECT_EQ(a.n_past(), 4);
  EXPECT_EQ(b.n_past(), 4);
}

// A slot seeded from another slot's system prompt, then given its own turn, equals a slot
// that ran the whole text; so do their greedy continuations.
TEST_P(BatchTest, CopyPrefixThenContinueEqualsFullDecode) {
  const std::vector<int32_t> system = make_tokens(10, 7);
  std::vector<int32_t> first = system, second = system;
  for (int32_t t : make_tokens(5, 8)) first.push_back(t);
  const std::vector<int32_t> turn = make_tokens(6, 9);
  for (int32_t t : turn) second.push_back(t);

  Session donor = session();
  ASSERT_TRUE(donor.decode(first, false));
  Session seeded = session(48);  // a different context size: a different chunk layout
  ASSERT_TRUE(seeded.copy_prefix_from(donor, static_cast<int64_t>(system.size())));
  EXPECT_EQ(seeded.n_past(), static_cast<int64_t>(system.size()));
  Result<std::span<const float>> got = seeded.decode(turn, true);
  ASSERT_TRUE(got);
  const std::vector<float> got_rows(got->begin(), got->end());

  Session full = session();
  Result<std::span<const float>> want = full.decode(second, true);
  ASSERT_TRUE(want);
  EXPECT_LE(max_diff(got_rows, want->subspan(system.size() * n_vocab_)), kMaxDiff);

  int32_t next_seeded = argmax(std::span<const float>(got_rows).last(n_vocab_));
  int32_t next_full = argmax(want->last(n_vocab_));
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(next_seeded, next_full) << "greedy step " << i;
    Result<std::span<const float>> a = seeded.decode(std::span(&next_seeded, 1), false);
    Result<std::span<const float>> b = full.decode(std::span(&next_full, 1), false);
    ASSERT_TRUE(a && b);
    EXPECT_LE(max_diff(*a, *b), kMaxDiff);
    next_seeded = argmax(*a);
    next_full = argmax(*b);
  }
}

TEST_P(BatchTest, CopyPrefixRefusesWhatItCannotCopy) {
  Session donor = session(), small = session(8), target = session();
  ASSERT_TRUE(donor.decode(make_tokens(12, 10), false));
  EXPECT_FALSE(target.copy_prefix_from(donor, 13));  // more than the donor holds
  EXPECT_FALSE(target.copy_prefix_from(donor, -1));
  EXPECT_FALSE(small.copy_prefix_from(donor, 9));    // more than the context holds
  EXPECT_EQ(small.n_past(), 0);
  EXPECT_TRUE(target.copy_prefix_from(donor, 0));
  EXPECT_EQ(target.n_past(), 0);
  ASSERT_TRUE(donor.copy_prefix_from(donor, 5));  // itself: a truncation
  EXPECT_EQ(donor.n_past(), 5);
}

INSTANTIATE_TEST_SUITE_P(Synth, BatchTest,
                         ::testing::Values("synth-llama-tiny-Q8_0", "synth-llama-tiny-F16",
                                           "synth-llama3-tiny-Q8_0", "synth-qwen2-tiny-Q8_0",
                                           "synth-phi3-tiny-Q8_0", "synth-stablelm-tiny-Q8_0"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// With a Q8_0 KV cache the rows are quantised as they are stored, each on its own: batching
// and prefix copies stay exact.
TEST(BatchQ8Cache, TogetherEqualsAloneAndCopiesPrefixes) {
  const auto path = test::models_dir() / "synth" / "synth-llama3-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  Result<std::shared_ptr<const Model>> m = Model::load(path, *choose_kernels().table);
  ASSERT_TRUE(m) << m.error().message;
  ThreadPool pool(test_threads());
  SessionOptions o;
  o.n_ctx = 64;
  o.cache_types = {GgmlType::Q8_0, GgmlType::Q8_0};
  Result<Session> a = Session::create(*m, pool, o), b = Session::create(*m, pool, o);
  Result<Session> a1 = Session::create(*m, pool, o), b1 = Session::create(*m, pool, o);
  ASSERT_TRUE(a && b && a1 && b1);
  const std::vector<int32_t> pa = make_tokens(9, 12), pb = make_tokens(4, 13);
  BatchDecoder batch(*m);
  std::vector<BatchItem> items(2);
  items[0] = BatchItem{&*a, pa, false, {}};
  items[1] = BatchItem{&*b, pb, true, {}};
  ASSERT_TRUE(batch.decode(pool, items));
  Result<std::span<const float>> ra = a1->decode(pa, false);
  ASSERT_TRUE(ra);
  EXPECT_LE(max_diff(items[0].logits, *ra), kMaxDiff);
  Result<std::span<const float>> rb = b1->decode(pb, true);
  ASSERT_TRUE(rb);
  EXPECT_LE(max_diff(items[1].logits, *rb), kMaxDiff);

  // b continues from a's first 6 positions, c decodes the same text from scratch.
  Result<Session> c = Session::create(*m, pool, o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(b->copy_prefix_from(*a, 6));
  std::vector<int32_t> text(pa.begin(), pa.begin() + 6);
  const std::vector<int32_t> rest = make_tokens(3, 14);
  text.insert(text.end(), rest.begin(), rest.end());
  Result<std::span<const float>> got = b->decode(rest, false);
  ASSERT_TRUE(got);
  const std::vector<float> got_row(got->begin(), got->end());
  Result<std::span<const float>> want = c->decode(text, false);
  ASSERT_TRUE(want);
  EXPECT_LE(max_diff(got_row, *want), kMaxDiff);
}

// Prefixes longer than a cache chunk (256 positions) cross chunk boundaries on both sides.
TEST(BatchCopyPrefix, AcrossCacheChunks) {
  if (emulated()) GTEST_SKIP() << "emulated: a 300-token prompt takes too long";
  const auto path = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  Result<std::shared_ptr<const Model>> m = Model::load(path, *choose_kernels().table);
  ASSERT_TRUE(m) << m.error().message;
  ThreadPool pool(test_threads());
  SessionOptions big;
  big.n_ctx = 600;
  Result<Session> donor = Session::create(*m, pool, big);
  Result<Session> seeded = Session::create(*m, pool, big);
  Result<Session> full = Session::create(*m, pool, big);
  ASSERT_TRUE(donor && seeded && full);
  const std::vector<int32_t> text = make_tokens(300, 11);
  const std::vector<int32_t> prefix(text.begin(), text.begin() + 280);
  ASSERT_TRUE(donor->decode(prefix, false));
  ASSERT_TRUE(seeded->copy_prefix_from(*donor, 270));
  Result<std::span<const float>> a = seeded->decode(std::span(text).subspan(270), false);
  ASSERT_TRUE(a);
  const std::vector<float> got(a->begin(), a->end());
  Result<std::span<const float>> b = full->decode(text, false);
  ASSERT_TRUE(b);
  EXPECT_LE(max_diff(got, *b), kMaxDiff);
}

}  // namespace
}  // namespace hearth
