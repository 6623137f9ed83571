// See classifier.h.
#include "router/classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "chat/chat_template.h"
#include "server/model_registry.h"
#include "server/scheduler.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::router {
namespace {

// The next-token candidates read: every token of a small vocabulary, the 1024 likeliest of a
// large one (a label whose first token is not among them has a negligible share anyway).
constexpr int kTopTokens = 1024;

// Largest n <= limit that does not split a UTF-8 character of s.
size_t utf8_cut(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  size_t n = limit;
  while (n > 0 && (uint8_t(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

std::string classifier_prompt(const ClassifierConfig& config, std::string_view text) {
  const std::string_view input = text.substr(0, utf8_cut(text, size_t(std::max(config.max_chars, 0))));
  std::string out;
  const std::string& p = config.prompt;
  size_t from = 0;
  for (size_t at; (at = p.find("{input}", from)) != std::string::npos; from = at + 7) {
    out.append(p, from, at - from);
    out.append(input);
  }
  out.append(p, from, std::string::npos);
  return out;
}

std::map<std::string, std::set<int32_t>> label_first_tokens(const tokenizer::Vocab& vocab,
                                                            const ClassifierConfig& config, std::string* error) {
  std::map<std::string, std::set<int32_t>> out;
  std::map<int32_t, int> uses;
  for (const auto& [label, backend] : config.labels) {
    std::set<int32_t>& ids = out[label];
    for (const std::string& spelling : {label, " " + label}) {
      const std::vector<int32_t> t = tokenizer::tokenize(vocab, spelling, false, false);
      if (!t.empty()) ids.insert(t.front());
    }
    for (int32_t id : ids) ++uses[id];
  }
  for (auto& [label, ids] : out) {
    std::erase_if(ids, [&](int32_t id) { return uses[id] > 1; });
    if (ids.empty() && error && error->empty())
      *error = "label '" + label + "' starts with the same token as another label in this model's vocabulary";
  }
  return out;
}

std::optional<LabelScore> pick_label(const std::map<std::string, std::set<int32_t>>& label_tokens,
                                     const std::vector<std::pair<int32_t, float>>& logprobs, double threshold) {
  std::vector<LabelScore> scores;
  double total = 0;
  for (const auto& [label, ids] : label_tokens) {
    LabelScore s{label, 0, 0};
    for (const auto& [id, lp] : logprobs)
      if (ids.count(id)) s.probability += std::exp(double(lp));
    total += s.probability;
    scores.push_back(std::move(s));
  }
  if (!(total > 0)) return std::nullopt;
  // Ties go to the first label in name order (the map's), so the answer is deterministic.
  const LabelScore* best = nullptr;
  for (LabelScore& s : scores) {
    s.share = s.probability / total;
    if (!best || s.probability > best->probability) best = &s;
  }
  if (best->share < threshold) return std::nullopt;
  return *best;
}

Classifier make_model_classifier(server::ModelRegistry& registry) {
  return [&registry](const ClassifierConfig& config, const std::string& text) -> std::optional<std::string> {
    auto skip = [&](const std::string& why) -> std::optional<std::string> {
      std::fprintf(stderr, "hearth router: classifier skipped: %s\n", why.c_str());
      return std::nullopt;
    };
    // The [[local]] model is in the registry under its backend name (loaded on first use: it is
    // the model that answers unpinned requests anyway).
    server::Acquired a = registry.acquire(config.model);
    if (!a.model) return skip(a.error.message);
    const server::LoadedModel& m = *a.model;
    std::string error;
    const auto label_tokens = label_first_tokens(m.vocab(), config, &error);
    if (!error.empty()) return skip(error);

    const std::string prompt = classifier_prompt(config, text);
    server::CompletionRequest req;
    if (config.chat) {
      const chat::Message msg{"user", prompt};
      Result<std::vector<int32_t>> ids = m.render_chat(std::span<const chat::Message>(&msg, 1));
      if (!ids) return skip(ids.error().message);
      req.prompt = std::move(*ids);
    } else {
      req.prompt = m.tokenize_prompt(prompt);
    }
    if (req.prompt.empty()) return skip("empty prompt");
    req.sampling.temperature = 0;  // greedy: the same request gets the same label
    req.max_tokens = 1;
    req.ignore_eos = true;         // an end token would end the job before its logprobs are kept
    req.top_logprobs = int(std::min<size_t>(kTopTokens, m.vocab().size()));

    server::Submission sub = a.model->scheduler().submit(std::move(req));
    if (!sub.job) return skip(sub.message);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(config.timeout_s);
    std::vector<std::pair<int32_t, float>> logprobs;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      server::CompletionEvent ev;
      if (left.count() <= 0 || !sub.job->next(ev, left)) {
        sub.job->cancel();  // frees the slot at its next step
        char why[64];
        std::snprintf(why, sizeof why, "no answer within timeout_s = %g", config.timeout_s);
        return skip(why);
      }
      for (const server::TokenLogprob& t : ev.logprobs)
        for (const server::TopLogprob& c : t.top) logprobs.emplace_back(c.id, c.logprob);
      if (ev.done) {
        if (ev.done->finish == server::FinishReason::kError) return skip(ev.done->error);
        break;
      }
    }
    std::optional<LabelScore> best = pick_label(label_tokens, logprobs, config.threshold);
    if (!best) return skip("no label reached threshold " + std::to_string(config.threshold));
    std::fprintf(stderr, "hearth router: classifier: %s (p=%.3g, share=%.3f)\n", best->label.c_str(),
                 best->probability, best->share);
    return best->label;
  };
}

}  // namespace hearth::router
