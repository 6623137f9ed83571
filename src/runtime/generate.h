// The generation loop shared by `hearth run`, `hearth chat` and (later) the server:
//   prompt tokens → batched prefill → sample → decode one token at a time → ...
// It prints nothing: text goes to a callback in whole UTF-8 characters (the streaming
// detokenizer holds back split characters), and the caller gets the tokens, why generation
// stopped and the timings.
//
// Stopping: an end-of-generation token of the vocabulary (EOS, EOT, EOM, ...; not decoded, not
// streamed), the token limit, a full context (documented: generation ends with
// StopReason::kContextFull, what was generated so far stays valid), or the cancel flag, which
// is checked between tokens so a cancelled request costs at most one more decode.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/session.h"
#include "sampling/sampler.h"
#include "tokenizer/vocab.h"

namespace hearth {

struct GenerateParams {
  int64_t n_predict = -1;    // tokens to generate at most; < 0: until EOG or the context is full
  int64_t batch_size = 512;  // prompt tokens per decode call (bounds the activation scratch)
  bool unparse_special = false;  // stream control tokens as their text (they are never EOG)
  // Bytes that can never form UTF-8 pass through unchanged (a terminal gets the model's exact
  // bytes) instead of becoming U+FFFD (what JSON APIs need).
  bool raw_bytes = false;
};

enum class StopReason { kEog, kLimit, kContextFull, kCancelled };
const char* stop_reason_name(StopReason r);

struct GenerateTimings {
  int64_t n_prompt = 0;       // tokens evaluated by the prefill (the new suffix only)
  int64_t n_generated = 0;    // sampled tokens, EOG excluded
  double prefill_ms = 0;      // decoding the prompt
  double first_token_ms = 0;  // from the start of the call to the first sampled token
  double generate_ms =
      0;  // after the first token: decoding each sampled token and sampling the next

  double prefill_tok_per_s() const {
    return prefill_ms > 0 ? 1000.0 * double(n_prompt) / prefill_ms : 0;
  }
  // Tokens after the first over generate_ms: each needed one decode of its predecessor.
  double generate_tok_per_s() const {
    return generate_ms > 0 && n_generated > 1 ? 1000.0 * double(n_generated - 1) / generate_ms : 0;
  }
};

struct GenerateResult {
  StopReason stop = StopReason::kLimit;
  std::vector<int32_t> tokens;  // generated, EOG excluded; all but the last are in the KV cache
  int32_t eog_token = -1;       // the EOG token that ended generation, when stop == kEog
  GenerateTimings timings;
};

// Called with each completed piece of text (never a broken UTF-8 sequence).
using TextFn = std::function<void(std::string_view text)>;

// Evaluates `prompt` (at least one token) at session.n_past() onwards, then generates. Prompt
// tokens are accepted by the sampler (for the penalties) as llama.cpp does. A prompt that does
// not fit the context is an Error and leaves the session unchanged.
// On return the last generated token has been sampled but NOT decoded: its KV entry is missing,
// so a caller continuing the conversation must evaluate it first (chat re-evaluates the
// difference between its rendered history and what the session holds).
Result<GenerateResult> generate(Session& session, sampling::Sampler& sampler,
                                const tokenizer::Vocab& vocab, std::span<const int32_t> prompt,
                                const GenerateParams& params, const TextFn& on_text,
                                const std::atomic<bool>* cancel = nullptr);

// Length of the common prefix of two token sequences (chat reuses that much of the KV cache).
size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace hearth
