// See generate.h.
#include "runtime/generate.h"

#include <chrono>
#include <string>

#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kEog:
      return "end of generation token";
    case StopReason::kLimit:
      return "token limit";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

Result<GenerateResult> generate(Session& session, sampling::Sampler& sampler,
                                const tokenizer::Vocab& vocab, std::span<const int32_t> prompt,
                                const GenerateParams& params, const TextFn& on_text,
                                const std::atomic<bool>* cancel) {
  if (prompt.empty()) return Error{"generate: empty prompt"};
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (session.n_past() + n_prompt > session.n_ctx())
    return Error{"the prompt (" + std::to_string(n_prompt) + " tokens after " +
                 std::to_string(session.n_past()) + " in the cache) does not fit the context of " +
                 std::to_string(session.n_ctx()) + " tokens (raise --ctx-size)"};
  for (int32_t id : prompt)
    if (!vocab.valid(id))
      return Error{"generate: token id " + std::to_string(id) + " is not in the vocabulary"};

  GenerateResult result;
  result.timings.n_prompt = n_prompt;
  const Clock::time_point t_start = Clock::now();

  // Prefill in batches; only the last batch's last row of logits is needed.
  const int64_t batch = params.batch_size > 0 ? params.batch_size : n_prompt;
  std::span<const float> logits;
  for (int64_t i = 0; i < n_prompt; i += batch) {
    if (cancelled(cancel)) {
      result.stop = StopReason::kCancelled;
      result.timings.prefill_ms = ms_since(t_start);
      return result;
    }
    const int64_t m = std::min(batch, n_prompt - i);
    Result<std::span<const float>> out =
        session.decode(prompt.subspan(static_cast<size_t>(i), static_cast<size_t>(m)), false);
    if (!out) return out.error();
    logits = *out;
  }
  for (int32_t id : prompt) sampler.accept(id);
  result.timings.prefill_ms = ms_since(t_start);

  tokenizer::Detokenizer detok(vocab, params.unparse_special, !params.raw_bytes);
  Clock::time_point t_first{};
  const auto finish = [&](StopReason reason) {
    result.stop = reason;
    if (on_text) {
      const std::string rest = detok.flush();
      if (!rest.empty()) on_text(rest);
    }
    if (result.timings.n_generated > 0) result.timings.generate_ms = ms_since(t_first);
  };

  for (;;) {
    if (params.n_predict >= 0 && result.timings.n_generated >= params.n_predict) {
      finish(StopReason::kLimit);
      break;
    }
    if (cancelled(cancel)) {
      finish(StopReason::kCancelled);
      break;
    }
    Result<int32_t> id = sampler.sample(logits);
    if (!id) return id.error();
    if (result.timings.n_generated == 0) {
      t_first = Clock::now();
      result.timings.first_token_ms =
          std::chrono::duration<double, std::milli>(t_first - t_start).count();
    }
    if (vocab.is_eog(*id)) {
      result.eog_token = *id;
      finish(StopReason::kEog);
      break;
    }
    sampler.accept(*id);
    result.tokens.push_back(*id);
    ++result.timings.n_generated;
    if (on_text) {
      const std::string text = detok.push(*id);
      if (!text.empty()) on_text(text);
    }
    if (params.n_predict >= 0 && result.timings.n_generated >= params.n_predict) {
      finish(StopReason::kLimit);
      break;
    }
    if (cancelled(cancel)) {
      finish(StopReason::kCancelled);
      break;
    }
    // The next token needs this one in the cache; with no room left, stop here.
    if (session.n_past() + 1 > session.n_ctx()) {
      finish(StopReason::kContextFull);
      break;
    }
    const int32_t one[1] = {*id};
    Result<std::span<const float>> out = session.decode(one, false);
    if (!out) return out.error();
    logits = *out;
  }
  return result;
}

}  // namespace hearth
