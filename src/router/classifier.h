// Policy rule "classifier" (docs/router.md) on a local model: the [route.classifier] prompt, with
// {input} replaced by the request's last user text (cut to max_chars), is prefilled on the
// classifier's [[local]] model through its scheduler, and one next-token distribution is read.
// Each label is scored by the probability of its first token (with and without a leading
// space, as BPE and SentencePiece vocabularies spell a word after "Answer:"); the likeliest label
// wins when its share of all labels' probability reaches `threshold`.
//
// Bounded: one forward pass over the prompt and one sampled token (greedy), a `timeout_s` on the
// queue and the prefill, after which the job is cancelled. Any failure — model not loadable,
// queue full, timeout, no label among the likeliest tokens, below threshold — is "no answer",
// and the policy goes on to its next rule (the local default). Greedy and the same prompt give
// the same label every time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "router/policy.h"
#include "router/router_config.h"

namespace hearth::server {
class ModelRegistry;
}
namespace hearth::tokenizer {
class Vocab;
}

namespace hearth::router {

// The prompt for `text`: every {input} replaced by text cut to max_chars bytes (at a UTF-8
// character boundary).
std::string classifier_prompt(const ClassifierConfig& config, std::string_view text);

// label -> the token ids its answer may start with. A token two labels start with tells them
// apart by nothing, so it is dropped from both; a label left without tokens is reported in
// `error` (a config whose labels the model's vocabulary cannot separate).
std::map<std::string, std::set<int32_t>> label_first_tokens(const tokenizer::Vocab& vocab,
                                                            const ClassifierConfig& config, std::string* error);

struct LabelScore {
  std::string label;
  double probability = 0;  // of its first tokens, from the model's full softmax
  double share = 0;        // probability ÷ the sum over labels
};

// The winner from (token id, logprob) pairs of the next-token distribution; nullopt when no
// label token is among them or the winner's share is below the threshold.
std::optional<LabelScore> pick_label(const std::map<std::string, std::set<int32_t>>& label_tokens,
                                     const std::vector<std::pair<int32_t, float>>& logprobs, double threshold);

// The Classifier the router calls; `registry` must outlive it. Thread-safe.
Classifier make_model_classifier(server::ModelRegistry& registry);

}  // namespace hearth::router
