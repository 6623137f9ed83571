// See model_generate.h.
#include "wyoming/model_generate.h"

#include <atomic>
#include <chrono>

namespace hearth::wyoming {

Generate registry_generate(server::ModelRegistry& registry, int64_t max_tokens_limit) {
  return [&registry, max_tokens_limit](const std::vector<chat::Message>& messages,
                                       std::shared_ptr<const sampling::Grammar> grammar,
                                       const WyomingConfig& config,
                                       const std::function<bool()>& keep_going) -> Result<std::string> {
    server::Acquired a = registry.acquire(config.model);
    if (!a.model) return Error{a.error.message};
    if (a.model->embedding_only()) return Error{"model '" + a.model->alias() + "' is an embedding model"};
    Result<std::vector<int32_t>> prompt = a.model->render_chat(messages);
    if (!prompt) return Error{prompt.error().message};
    server::CompletionRequest cr;
    cr.prompt = std::move(*prompt);
    cr.sampling.temperature = config.temperature;
    // A fresh seed per request: repeated questions need not get the same words, and there is no
    // shared RNG to take one from.
    cr.sampling.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    cr.max_tokens = config.max_tokens;
    if (max_tokens_limit > 0 && cr.max_tokens > max_tokens_limit) cr.max_tokens = max_tokens_limit;
    cr.grammar = std::move(grammar);
    server::Submission s = a.model->scheduler().submit(std::move(cr));
    if (!s.job) return Error{s.message};
    server::CollectedCompletion done = server::Scheduler::collect(*s.job, keep_going);
    if (done.result.finish == server::FinishReason::kError) return Error{done.result.error};
    if (done.result.finish == server::FinishReason::kCancelled) return Error{"cancelled"};
    // kLength: the JSON is cut short; map_output turns it into not-handled.
    return done.text;
  };
}

}  // namespace hearth::wyoming
