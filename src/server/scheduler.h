// Continuous batching for one loaded model: N slots (--parallel), each a Session with the tokens
// its KV cache holds, fed by a bounded queue. One loop thread per model; each step it
//   1. moves queued requests into free slots, choosing the slot whose cached tokens share the
//      longest prefix with the new prompt (that prefix is kept: only the rest is prefilled),
//   2. gathers every busy slot's next tokens (a prefill chunk or the one token just sampled),
//   3. runs them through one batched forward pass (StepDecoder),
//   4. samples each slot with its own Sampler and streams text through its own Detokenizer,
//      holding back text that could be the start of a stop string.
// Requests join and leave between steps. A cancelled job (client gone) frees its slot at the
// next step, before any more compute is spent on it.
//
// The HTTP side never touches a Session: it submits a CompletionRequest and pulls events
// (pieces of text, then one final result) from the returned CompletionJob on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "sampling/grammar.h"
#include "sampling/sampler.h"
#include "tokenizer/vocab.h"

namespace hearth::server {

class ServerMetrics;

struct CompletionRequest {
  std::vector<int32_t> prompt;       // rendered and tokenized (BOS included); not empty
  sampling::SamplerParams sampling;  // per request, with its own seed
  int64_t max_tokens = -1;           // < 0: until an end-of-generation token or a full context
  std::vector<std::string> stop;     // stop strings: cut from the output, matched across tokens
  int top_logprobs = -1;             // < 0: no logprobs; n >= 0: chosen token's + the n best
  bool ignore_eos = false;           // end-of-generation tokens are never sampled
  // Structured output (sampling/grammar.h): only tokens continuing a sentence of the grammar
  // are sampled, end of generation only once it is complete. Null: free text.
  std::shared_ptr<const sampling::Grammar> grammar;
};

struct TopLogprob {
  int32_t id = 0;
  std::string text;  // the token's bytes (may be partial UTF-8)
  float logprob = 0;
};
struct TokenLogprob {
  int32_t id = 0;
  std::string text;
  float logprob = 0;             // log-softmax of the raw logits (before the sampling chain)
  std::vector<TopLogprob> top;   // the top_logprobs best, best first
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", "error"

struct CompletionResult {
  FinishReason finish = FinishReason::kStop;
  std::string error;               // kError: what went wrong
  std::string stop_string;         // the stop string that ended it ("" for EOG, limit, ...)
  bool context_full = false;       // kLength because the context filled, not max_tokens
  int64_t tokens_prompt = 0;       // the whole prompt
  int64_t tokens_cached = 0;       // of which reused from the slot's KV cache (not prefilled)
  int64_t tokens_generated = 0;    // sampled, end-of-generation token excluded
  double queue_ms = 0;             // submit → slot assigned
  double prefill_ms = 0;           // slot assigned → prompt evaluated
  double first_token_ms = 0;       // submit → first token sampled
  double generate_ms = 0;          // first token sampled → done
  double total_ms = 0;             // submit → done
};

// One event of a job's stream: a piece of text (with the logprobs of the tokens it completes),
// or the final result (always the last event, exactly once).
struct CompletionEvent {
  std::string text;
  std::vector<TokenLogprob> logprobs;
  std::optional<CompletionResult> done;
};

// The handle a request's thread holds. Thread-safe.
class CompletionJob {
 public:
  explicit CompletionJob(CompletionRequest request);

  // Waits up to `timeout` for the next event; false on timeout (call again, after checking
  // that the client is still there).
  bool next(CompletionEvent& event, std::chrono::milliseconds timeout);
  // Stops generation at the next step and frees the slot; the job still ends with a result
  // (FinishReason::kCancelled).
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  const CompletionRequest& request() const { return request_; }

  // Scheduler side.
  void push(CompletionEvent event);
  std::chrono::steady_clock::time_point submitted() const { return submitted_; }

 private:
  const CompletionRequest request_;
  const std::chrono::steady_clock::time_point submitted_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CompletionEvent> events_;
};

// Drives a request to completion and collects it: text, logprobs, result. For non-streaming
// handlers. `keep_going` is polled between waits (false: cancel, e.g. the client left).
struct CollectedCompletion {
  std::string text;
  std::vector<TokenLogprob> logprobs;
  CompletionResult result;
};

struct SchedulerOptions {
  int n_slots = 1;          // --parallel
  int64_t n_ctx = 0;        // per slot; 0: min(4096, training context)
  int max_queue = 16;       // waiting requests beyond the busy slots; more are rejected
  int64_t prefill_chunk = 256;  // prompt tokens per slot per step (bounds a step's latency)
  int n_threads = 0;        // compute threads; 0: all cores
  std::string model_name;   // for metrics and logs
  bool batched = true;      // one forward pass for all slots (false: one per slot, in turn)
};

// Why submit() refused a request (kNone: accepted).
enum class Rejection { kNone, kQueueFull, kPromptTooLong, kInvalid, kStopping };

struct Submission {
  std::shared_ptr<CompletionJob> job;  // set when accepted
  Rejection rejection = Rejection::kNone;
  std::string message;                 // for a rejection: a sentence for the client
};

struct SchedulerStats {
  int n_slots = 0;
  int slots_busy = 0;
  int queue_depth = 0;
  int64_t n_ctx = 0;                 // per slot
  uint64_t kv_bytes = 0;             // KV cache allocated by all slots
  uint64_t tokens_cached = 0;        // positions held by all slots' caches
};

class StepDecoder;  // scheduler.cpp: one batched forward pass over several sessions

class Scheduler {
 public:
  // Creates the slots' sessions (their KV caches grow as used) and starts the loop thread.
  static Result<std::unique_ptr<Scheduler>> create(std::shared_ptr<const Model> model,
                                                   const tokenizer::Vocab& vocab,
                                                   const SchedulerOptions& options,
                                                   ServerMetrics* metrics = nullptr);
  ~Scheduler();  // cancels everything still running or queued, joins the loop
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Submission submit(CompletionRequest request);
  // Blocks until the job ends; see CollectedCompletion.
  static CollectedCompletion collect(CompletionJob& job,
                                     const std::function<bool()>& keep_going = {});

  SchedulerStats stats() const;
  // Cancels every queued and running job (a drain past its deadline).
  void cancel_all();
  int64_t n_ctx() const { return n_ctx_; }
  // Requests queued or running; 0 means the model may be unloaded.
  int active() const;
  // When the last request finished (or the scheduler was created).
  std::chrono::steady_clock::time_point last_used() const;

  struct Slot;  // scheduler.cpp

 private:
  Scheduler(std::shared_ptr<const Model> model, const tokenizer::Vocab& vocab,
            const SchedulerOptions& options, ServerMetrics* metrics);
  void loop();
  void assign_queued();                 // under mu_
  void step();                          // one batched pass; outside mu_
  void sample(Slot& slot, std::span<const float> logits);
  void finish(Slot& slot, FinishReason reason);
  void publish_gauges();

  std::shared_ptr<const Model> model_;
  const tokenizer::Vocab& vocab_;
  SchedulerOptions options_;
  ServerMetrics* metrics_;
  int64_t n_ctx_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<StepDecoder> decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;
  // The vocabulary's byte trie for grammar masks: built by the loop thread on the first
  // request with a grammar, read-only after.
  std::unique_ptr<sampling::TokenTrie> trie_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<CompletionJob>> queue_;
  int busy_ = 0;  // slots with a job (under mu_)
  std::chrono::steady_clock::time_point last_used_;
  bool stop_ = false;
  // What this scheduler last added to the shared gauges (it reports differences).
  double reported_kv_bytes_ = 0;
  uint64_t tokens_cached_ = 0;
  std::thread thread_;
};

}  // namespace hearth::server
