#include "rag/context.h"

#include <cmath>
#include <cstdio>

#include "bench/rate_store.h"
#include "plan/planner.h"
#include "router/local_rates.h"

namespace hearth::rag {

Result<PrefillRate> prefill_rate(const std::filesystem::path& chat_model, int threads,
                                 const std::filesystem::path& state_dir) {
  char buf[256];
  if (!state_dir.empty()) {
    bench::RateStore store(state_dir);
    if (std::optional<bench::StoredRate> r = store.find(chat_model, bench::this_machine(), threads);
        r && r->pp_tok_s > 0) {
      std::snprintf(buf, sizeof buf, "hearth bench, %d threads, %s", r->threads, r->time.c_str());
      return PrefillRate{r->pp_tok_s, buf};
    }
  }
  Result<plan::ModelShape> shape = plan::shape_from_gguf(chat_model);
  if (!shape) return Error{"no prefill rate for " + chat_model.string() + ": " + shape.error().message};
  std::optional<plan::Device> device = router::planner_device();
  if (!device) return Error{"no prefill rate for " + chat_model.string() + ": run hearth bench -m " + chat_model.string()};
  const plan::Plan p = plan::make_plan(*shape, *device, {});
  if (p.pp_tok_s <= 0) return Error{"no prefill rate for " + chat_model.string() + ": the planner has no estimate"};
  std::snprintf(buf, sizeof buf, "planner estimate for %s (run hearth bench -m %s to measure)",
                device->description.c_str(), chat_model.c_str());
  return PrefillRate{p.pp_tok_s, buf};
}

int64_t prompt_token_budget(double prefill_tok_s, const BudgetOptions& options) {
  const double by_time = std::floor(std::max(0.0, options.ttft_target_s) * std::max(0.0, prefill_tok_s));
  const int64_t by_context = std::max<int64_t>(0, options.context_length - options.answer_tokens);
  return std::min<int64_t>(by_context, static_cast<int64_t>(std::min(by_time, 1e12)));
}

std::string sources_message(std::span<const SearchHit> hits) {
  if (hits.empty()) return {};
  std::string s =
      "Answer the question using only the numbered sources below. Cite the sources you use as [1], [2]. "
      "If they do not contain the answer, say so.\n";
  for (size_t i = 0; i < hits.size(); ++i) {
    const StoredChunk& c = hits[i].chunk;
    s += "\n[" + std::to_string(i + 1) + "] " + std::filesystem::path(c.path).filename().string();
    if (!c.heading.empty()) s += " — " + c.heading;
    s += "\n" + c.text + "\n";
  }
  return s;
}

std::string sources_footer(std::span<const SearchHit> hits) {
  if (hits.empty()) return {};
  std::string s = "Sources:";
  for (size_t i = 0; i < hits.size(); ++i) {
    const StoredChunk& c = hits[i].chunk;
    s += "\n[" + std::to_string(i + 1) + "] " + c.path;
    if (!c.heading.empty()) s += " — " + c.heading;
  }
  return s;
}

Result<FittedContext> fit_to_budget(std::span<const SearchHit> hits, int64_t budget_tokens, const PromptCounter& count) {
  FittedContext out;
  out.budget_tokens = budget_tokens;
  Result<int64_t> bare = count("");
  if (!bare) return bare.error();
  if (*bare > budget_tokens) {
    return Error{"the prompt without sources is " + std::to_string(*bare) + " tokens, over the budget of " +
                 std::to_string(budget_tokens) + " (raise the time-to-first-token target or shorten the question)"};
  }
  out.prompt_tokens = *bare;
  // Each candidate is measured by rendering the whole prompt with it: merges at the seams and
  // the template's own tokens make any per-chunk sum an estimate, and the limit is a promise.
  for (const SearchHit& h : hits) {
    std::vector<SearchHit> trial = out.used;
    trial.push_back(h);
    const std::string sources = sources_message(trial);
    Result<int64_t> n = count(sources);
    if (!n) return n.error();
    if (*n <= budget_tokens) {
      out.used = std::move(trial);
      out.sources = sources;
      out.prompt_tokens = *n;
    } else {
      ++out.dropped;
    }
  }
  return out;
}

}  // namespace hearth::rag
