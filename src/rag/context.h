// Retrieved chunks fitted to a prompt budget. On a Pi the prompt, not the answer, is what makes
// a RAG reply slow: every context token is prefilled before the first answer token appears. So
// the budget is time: tokens = time-to-first-token target × this board's prefill rate (what
// `hearth bench` measured for the chat model here, else the planner's estimate), capped by the
// model's context less room for the answer. Chunks go in by rank while the whole rendered
// prompt — template, instructions, sources, question — stays within it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "rag/retrieve.h"

namespace hearth::rag {

struct PrefillRate {
  double tok_s = 0;
  std::string source;  // "bench, 4 threads, <time>" | "planner estimate for <board>"
};

// The chat model's prefill rate on this machine: the rate store (bench/rate_store.h) under
// `state_dir` for `threads` (0: any), else the planner; an Error when neither can say.
Result<PrefillRate> prefill_rate(const std::filesystem::path& chat_model, int threads,
                                 const std::filesystem::path& state_dir);

struct BudgetOptions {
  double ttft_target_s = 3.0;
  int64_t context_length = 4096;  // the chat session's context
  int64_t answer_tokens = 512;    // kept free for the reply
};

// min(floor(target × rate), context_length − answer_tokens), at least 0.
int64_t prompt_token_budget(double prefill_tok_s, const BudgetOptions& options);

// The system message that carries the sources, numbered [1], [2], ... as the answer cites them.
std::string sources_message(std::span<const SearchHit> hits);
// "Sources:\n[1] /path/doc.md — Heading\n..." for the end of an answer.
std::string sources_footer(std::span<const SearchHit> hits);

// Tokens of the whole prompt (rendered with the chat template and tokenized) when the sources
// message is `sources` ("" for none).
using PromptCounter = std::function<Result<int64_t>(const std::string& sources)>;

struct FittedContext {
  std::vector<SearchHit> used;  // in rank order
  std::string sources;          // sources_message(used), "" when none fit
  int64_t prompt_tokens = 0;    // of the whole prompt with `sources`
  int64_t budget_tokens = 0;
  int64_t dropped = 0;          // hits left out for the budget
};

// Takes hits in rank order, skipping any that would push the prompt over `budget_tokens` (a
// smaller one further down may still fit). The result's prompt_tokens ≤ budget_tokens whenever
// the prompt without sources fits; otherwise no sources and an Error saying by how much the
// question alone is over.
Result<FittedContext> fit_to_budget(std::span<const SearchHit> hits, int64_t budget_tokens, const PromptCounter& count);

}  // namespace hearth::rag
