// See scheduler.h. Threads: the loop thread owns the slots (sessions, samplers, detokenizers)
// and is the only one to touch them; mu_ guards the queue, each slot's job pointer and the
// busy count, so submit() and stats() never wait for a forward pass.
#include "server/scheduler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "runtime/generate.h"
#include "server/metrics.h"
#include "server/step_decoder.h"
#include "server/stop_matcher.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// log-softmax of the raw logits for the chosen token and the n best (in double: a vocabulary
// of 150k terms loses precision in float).
TokenLogprob token_logprob(const tokenizer::Vocab& vocab, std::span<const float> logits,
                           int32_t chosen, int n_top) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l) - max);
  const double log_z = double(max) + std::log(sum);
  TokenLogprob out;
  out.id = chosen;
  out.text = tokenizer::token_to_piece(vocab, chosen);
  out.logprob = float(double(logits[size_t(chosen)]) - log_z);
  if (n_top > 0) {
    const size_t n = std::min(size_t(n_top), logits.size());
    std::vector<int32_t> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + long(n), ids.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    });
    for (size_t i = 0; i < n; ++i)
      out.top.push_back({ids[i], tokenizer::token_to_piece(vocab, ids[i]),
                         float(double(logits[size_t(ids[i])]) - log_z)});
  }
  return out;
}

}  // namespace

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "error";
}

// ---- CompletionJob -------------------------------------------------------------------------

CompletionJob::CompletionJob(CompletionRequest request)
    : request_(std::move(request)), submitted_(Clock::now()) {}

bool CompletionJob::next(CompletionEvent& event, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

void CompletionJob::push(CompletionEvent event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

// ---- slots ---------------------------------------------------------------------------------

struct Scheduler::Slot {
  explicit Slot(Session s) : session(std::move(s)) {}

  Session session;
  std::vector<int32_t> cached;  // the tokens whose KV entries the session holds, in order
  Clock::time_point last_used{};

  // The job being served (null: free) and its per-request state.
  std::shared_ptr<CompletionJob> job;
  std::optional<sampling::Sampler> sampler;
  std::optional<tokenizer::Detokenizer> detok;
  std::optional<sampling::GrammarMatcher> grammar;  // structured output's parse state
  std::vector<uint8_t> mask;                        // this step's allowed tokens (grammar)
  StopMatcher stop;
  std::vector<int32_t> pending;  // tokens still to evaluate: the prompt's rest, or the sampled one
  size_t pending_pos = 0;
  std::vector<TokenLogprob> held_logprobs;  // tokens whose text the stop matcher holds
  CompletionResult result;
  Clock::time_point t_assigned{}, t_prefilled{}, t_first{};
  bool prefilled = false;
};

// ---- Scheduler -----------------------------------------------------------------------------

Scheduler::Scheduler(std::shared_ptr<const Model> model, const tokenizer::Vocab& vocab,
                     const SchedulerOptions& options, ServerMetrics* metrics)
    : model_(std::move(model)), vocab_(vocab), options_(options), metrics_(metrics),
      last_used_(Clock::now()) {}

Result<std::unique_ptr<Scheduler>> Scheduler::create(std::shared_ptr<const Model> model,
                                                     const tokenizer::Vocab& vocab,
                                                     const SchedulerOptions& options,
                                                     ServerMetrics* metrics) {
  if (options.n_slots < 1) return Error{"--parallel must be at least 1"};
  std::unique_ptr<Scheduler> s(new Scheduler(model, vocab, options, metrics));
  const int threads = options.n_threads > 0
                          ? options.n_threads
                          : int(std::max(1u, std::thread::hardware_concurrency()));
  s->pool_ = std::make_unique<ThreadPool>(threads);
  SessionOptions session_options;
  session_options.n_ctx = options.n_ctx;
  for (int i = 0; i < options.n_slots; ++i) {
    Result<Session> session = Session::create(model, *s->pool_, session_options);
    if (!session) return session.error();
    s->slots_.push_back(std::make_unique<Slot>(std::move(*session)));
  }
  s->n_ctx_ = s->slots_.front()->session.n_ctx();
  s->decoder_ = make_step_decoder(model, *s->pool_, options.batched);
  if (metrics) metrics->slots_total().add(options.n_slots);
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (metrics_) {
    metrics_->slots_total().sub(options_.n_slots);
    metrics_->kv_cache_bytes().sub(reported_kv_bytes_);
  }
}

Submission Scheduler::submit(CompletionRequest request) {
  Submission out;
  if (request.prompt.empty()) {
    out.rejection = Rejection::kInvalid;
    out.message = "the prompt is empty";
    return out;
  }
  if (int64_t(request.prompt.size()) > n_ctx_) {
    out.rejection = Rejection::kPromptTooLong;
    out.message = "the prompt has " + std::to_string(request.prompt.size()) +
                  " tokens but the context holds " + std::to_string(n_ctx_) +
                  " (shorten it or raise --ctx-size)";
    return out;
  }
  for (int32_t id : request.prompt) {
    if (!vocab_.valid(id)) {
      out.rejection = Rejection::kInvalid;
      out.message = "token id " + std::to_string(id) + " is not in the vocabulary";
      return out;
    }
  }
  auto job = std::make_shared<CompletionJob>(std::move(request));
  {
    std::lock_guard lock(mu_);
    if (stop_) {
      out.rejection = Rejection::kStopping;
      out.message = "the model is being unloaded";
      return out;
    }
    const size_t capacity = size_t(options_.n_slots - busy_) + size_t(std::max(0, options_.max_queue));
    if (queue_.size() >= capacity) {
      out.rejection = Rejection::kQueueFull;
      out.message = "the server is busy: " + std::to_string(busy_) + " requests running and " +
                    std::to_string(queue_.size()) + " waiting; retry later";
      return out;
    }
    queue_.push_back(job);
    if (metrics_) metrics_->queue_depth().add(1);
  }
  cv_.notify_all();
  out.job = std::move(job);
  return out;
}

CollectedCompletion Scheduler::collect(CompletionJob& job, const std::function<bool()>& keep_going) {
  CollectedCompletion out;
  CompletionEvent ev;
  for (;;) {
    if (!job.next(ev, std::chrono::milliseconds(100))) {
      if (keep_going && !job.cancelled() && !keep_going()) job.cancel();
      continue;
    }
    out.text += ev.text;
    for (TokenLogprob& lp : ev.logprobs) out.logprobs.push_back(std::move(lp));
    if (ev.done) {
      out.result = std::move(*ev.done);
      return out;
    }
  }
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mu_);
  SchedulerStats s;
  s.n_slots = options_.n_slots;
  s.slots_busy = busy_;
  s.queue_depth = int(queue_.size());
  s.n_ctx = n_ctx_;
  s.kv_bytes = uint64_t(reported_kv_bytes_);
  s.tokens_cached = tokens_cached_;
  return s;
}

void Scheduler::cancel_all() {
  std::lock_guard lock(mu_);
  for (auto& job : queue_) job->cancel();
  for (auto& slot : slots_)
    if (slot->job) slot->job->cancel();
}

int Scheduler::active() const {
  std::lock_guard lock(mu_);
  return busy_ + int(queue_.size());
}

std::chrono::steady_clock::time_point Scheduler::last_used() const {
  std::lock_guard lock(mu_);
  return last_used_;
}

void Scheduler::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty() || busy_ > 0; });
    if (stop_) break;
    assign_queued();
    lock.unlock();
    step();
    lock.lock();
  }
  // Shutting down: every job still queued or running ends, cancelled.
  for (auto& job : queue_) {
    CompletionEvent ev;
    ev.done = CompletionResult{};
    ev.done->finish = FinishReason::kCancelled;
    ev.done->tokens_prompt = int64_t(job->request().prompt.size());
    job->push(std::move(ev));
  }
  if (metrics_) metrics_->queue_depth().sub(double(queue_.size()));
  queue_.clear();
  lock.unlock();
  for (auto& slot : slots_)
    if (slot->job) finish(*slot, FinishReason::kCancelled);
}

// Under mu_. Prompt-prefix reuse: the free slot whose cache shares the longest prefix with the
// prompt keeps that prefix (ties: the least recently used slot, so one conversation's cache
// survives another's). If a busy slot holds a longer common prefix (a shared system prompt),
// its KV entries are copied over instead.
void Scheduler::assign_queued() {
  while (!queue_.empty()) {
    Slot* best = nullptr;
    size_t best_common = 0;
    for (auto& slot : slots_) {
      if (slot->job) continue;
      const size_t c = common_prefix(slot->cached, queue_.front()->request().prompt);
      if (!best || c > best_common || (c == best_common && slot->last_used < best->last_used)) {
        best = slot.get();
        best_common = c;
      }
    }
    if (!best) return;
    std::shared_ptr<CompletionJob> job = std::move(queue_.front());
    queue_.pop_front();
    if (metrics_) metrics_->queue_depth().sub(1);
    if (job->cancelled()) {  // the client left while it waited
      CompletionEvent ev;
      ev.done = CompletionResult{};
      ev.done->finish = FinishReason::kCancelled;
      ev.done->tokens_prompt = int64_t(job->request().prompt.size());
      ev.done->total_ms = ms_between(job->submitted(), Clock::now());
      job->push(std::move(ev));
      continue;
    }
    const CompletionRequest& req = job->request();
    Slot& slot = *best;

    // At least the last prompt token is evaluated again: its logits are the first sample's.
    size_t keep = std::min(best_common, req.prompt.size() - 1);
    Slot* donor = nullptr;
    size_t donor_common = keep;
    for (auto& other : slots_) {
      if (other.get() == &slot) continue;
      const size_t c = std::min(common_prefix(other->cached, req.prompt), req.prompt.size() - 1);
      // Copying KV costs memory bandwidth; only worth it for a real prefix.
      if (c > donor_common + 16) {
        donor = other.get();
        donor_common = c;
      }
    }
    if (donor && slot.session.copy_prefix_from(donor->session, int64_t(donor_common))) {
      slot.cached.assign(donor->cached.begin(), donor->cached.begin() + long(donor_common));
      keep = donor_common;
    }
    slot.session.truncate(int64_t(keep));
    slot.cached.resize(keep);

    slot.job = std::move(job);
    slot.sampler.emplace(req.sampling);
    if (req.ignore_eos) {
      const tokenizer::Vocab* vocab = &vocab_;
      slot.sampler->set_filter([vocab](int32_t id) { return !vocab->is_eog(id); });
    }
    for (int32_t id : req.prompt) slot.sampler->accept(id);
    slot.detok.emplace(vocab_, false, true);
    slot.grammar.reset();
    if (req.grammar) {
      if (!trie_) trie_ = std::make_unique<sampling::TokenTrie>(sampling::make_token_trie(vocab_));
      slot.grammar.emplace(req.grammar);
    }
    slot.stop = StopMatcher(req.stop);
    slot.pending.assign(req.prompt.begin() + long(keep), req.prompt.end());
    slot.pending_pos = 0;
    slot.held_logprobs.clear();
    slot.result = CompletionResult{};
    slot.result.tokens_prompt = int64_t(req.prompt.size());
    slot.result.tokens_cached = int64_t(keep);
    slot.t_assigned = Clock::now();
    slot.result.queue_ms = ms_between(slot.job->submitted(), slot.t_assigned);
    slot.prefilled = false;
    ++busy_;
    if (metrics_) metrics_->slots_busy().add(1);
  }
}

void Scheduler::step() {
  std::vector<StepItem> items;
  std::vector<Slot*> owners;
  for (auto& slot_ptr : slots_) {
    Slot& slot = *slot_ptr;
    if (!slot.job) continue;
    if (slot.job->cancelled()) {
      finish(slot, FinishReason::kCancelled);
      continue;
    }
    const size_t left = slot.pending.size() - slot.pending_pos;
    const size_t n = slot.prefilled ? left : std::min(left, size_t(std::max<int64_t>(1, options_.prefill_chunk)));
    items.push_back({&slot.session, std::span<const int32_t>(slot.pending).subspan(slot.pending_pos, n), {}});
    owners.push_back(&slot);
  }
  if (items.empty()) return;
  if (Status s = decoder_->decode(items); !s) {
    for (Slot* slot : owners) {
      slot->result.error = s.error().message;
      finish(*slot, FinishReason::kError);
    }
    return;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    Slot& slot = *owners[i];
    slot.cached.insert(slot.cached.end(), items[i].tokens.begin(), items[i].tokens.end());
    slot.pending_pos += items[i].tokens.size();
    if (slot.pending_pos < slot.pending.size()) continue;  // more prompt to go
    if (!slot.prefilled) {
      slot.prefilled = true;
      slot.t_prefilled = Clock::now();
      slot.result.prefill_ms = ms_between(slot.t_assigned, slot.t_prefilled);
    }
    sample(slot, items[i].logits);
  }
  publish_gauges();
}

// The logits of the slot's last evaluated token are in; pick the next one and stream it.
void Scheduler::sample(Slot& slot, std::span<const float> logits) {
  const CompletionRequest& req = slot.job->request();
  if (req.max_tokens >= 0 && slot.result.tokens_generated >= req.max_tokens)
    return finish(slot, FinishReason::kLength);
  std::span<const uint8_t> allowed;
  if (slot.grammar) {
    slot.grammar->fill_mask(*trie_, slot.mask);
    // End of generation only where the grammar's sentence is complete.
    const uint8_t eog = slot.grammar->complete() && !req.ignore_eos ? 1 : 0;
    for (int32_t e : vocab_.eog_ids())
      if (size_t(e) < slot.mask.size()) slot.mask[size_t(e)] = eog;
    allowed = slot.mask;
  }
  Result<int32_t> id = slot.sampler->sample(logits, allowed);
  if (!id) {
    slot.result.error = id.error().message;
    if (slot.grammar && slot.grammar->overflowed())
      slot.result.error = "the response format's grammar is too ambiguous to follow (over " +
                          std::to_string(sampling::GrammarMatcher::kMaxHeads) +
                          " parse states at once): simplify its anyOf/oneOf alternatives";
    return finish(slot, FinishReason::kError);
  }
  if (slot.result.tokens_generated == 0) {
    slot.t_first = Clock::now();
    slot.result.first_token_ms = ms_between(slot.job->submitted(), slot.t_first);
  }
  if (vocab_.is_eog(*id)) return finish(slot, FinishReason::kStop);
  // The mask allowed it, so its bytes continue the grammar; anything else is our bug, and a
  // request error rather than output that breaks the grammar.
  if (slot.grammar && !slot.grammar->accept(tokenizer::token_to_piece(vocab_, *id, false))) {
    slot.result.error = "grammar: a masked-in token did not continue the grammar";
    return finish(slot, FinishReason::kError);
  }
  slot.sampler->accept(*id);
  ++slot.result.tokens_generated;
  if (req.top_logprobs >= 0)
    slot.held_logprobs.push_back(token_logprob(vocab_, logits, *id, req.top_logprobs));

  CompletionEvent ev;
  ev.text = slot.stop.push(slot.detok->push(*id));
  if (slot.stop.matched()) {
    slot.result.stop_string = slot.stop.matched_stop();
    ev.logprobs = std::move(slot.held_logprobs);
    slot.held_logprobs.clear();
    if (!ev.text.empty() || !ev.logprobs.empty()) slot.job->push(std::move(ev));
    return finish(slot, FinishReason::kStop);
  }
  if (!ev.text.empty()) {
    ev.logprobs = std::move(slot.held_logprobs);
    slot.held_logprobs.clear();
    slot.job->push(std::move(ev));
  }
  // A complete sentence that nothing may extend (the root's closing brace): done, without
  // spending a forward pass on sampling the end-of-generation token.
  if (slot.grammar && slot.grammar->complete() && !slot.grammar->can_continue())
    return finish(slot, FinishReason::kStop);
  if (req.max_tokens >= 0 && slot.result.tokens_generated >= req.max_tokens)
    return finish(slot, FinishReason::kLength);
  // The next token needs this one in the cache.
  if (slot.session.n_past() + 1 > slot.session.n_ctx()) {
    slot.result.context_full = true;
    return finish(slot, FinishReason::kLength);
  }
  slot.pending.assign(1, *id);
  slot.pending_pos = 0;
}

void Scheduler::finish(Slot& slot, FinishReason reason) {
  const Clock::time_point now = Clock::now();
  CompletionEvent ev;
  if (reason != FinishReason::kError && !slot.stop.matched()) {
    // Whatever the detokenizer and the stop matcher still hold belongs to the answer.
    if (slot.detok) ev.text = slot.stop.push(slot.detok->flush());
    if (!slot.stop.matched()) ev.text += slot.stop.flush();
    ev.logprobs = std::move(slot.held_logprobs);
  }
  slot.held_logprobs.clear();
  CompletionResult& r = slot.result;
  r.finish = reason;
  if (!slot.prefilled) r.prefill_ms = ms_between(slot.t_assigned, now);
  if (r.tokens_generated > 0) r.generate_ms = ms_between(slot.t_first, now);
  r.total_ms = ms_between(slot.job->submitted(), now);
  ev.done = r;
  slot.sampler.reset();
  slot.detok.reset();
  slot.grammar.reset();
  slot.pending.clear();
  slot.pending_pos = 0;
  slot.last_used = now;
  std::shared_ptr<CompletionJob> job;
  {
    std::lock_guard lock(mu_);
    job = std::move(slot.job);
    slot.job.reset();
    --busy_;
    last_used_ = now;
  }
  if (metrics_) metrics_->slots_busy().sub(1);
  if (metrics_ && reason != FinishReason::kError) {
    ServerMetrics::Generation g;
    g.model = options_.model_name;
    g.tokens_prompt = r.tokens_prompt - r.tokens_cached;
    g.tokens_generated = r.tokens_generated;
    g.ttft_seconds = r.tokens_generated > 0 ? r.first_token_ms / 1000.0 : -1;
    g.prompt_tok_per_s = r.prefill_ms > 0 ? 1000.0 * double(g.tokens_prompt) / r.prefill_ms : 0;
    g.generate_tok_per_s =
        r.generate_ms > 0 && r.tokens_generated > 1 ? 1000.0 * double(r.tokens_generated - 1) / r.generate_ms : 0;
    metrics_->record_generation(g);
  }
  job->push(std::move(ev));
}

void Scheduler::publish_gauges() {
  double kv = 0;
  uint64_t cached = 0;
  for (const auto& slot : slots_) {
    kv += double(slot->session.kv_cache().bytes_allocated());
    cached += slot->cached.size();
  }
  std::lock_guard lock(mu_);
  if (metrics_) metrics_->kv_cache_bytes().add(kv - reported_kv_bytes_);
  reported_kv_bytes_ = kv;
  tokens_cached_ = cached;
}

}  // namespace hearth::server
