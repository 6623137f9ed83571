// Sampler chain. Probabilities are computed in double from float logits so that the cut-offs of
// top-p and min-p land on the same token on every machine that rounds IEEE doubles alike.
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace hearth::sampling {

namespace {

// Strict total order: the sorted result is unique, whatever algorithm the library uses.
bool before(const Candidate& a, const Candidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

bool is_sorted_desc(const std::vector<Candidate>& c) {
  return std::is_sorted(c.begin(), c.end(), before);
}

}  // namespace

void sort_candidates(std::vector<Candidate>& c) {
  if (!is_sorted_desc(c)) std::sort(c.begin(), c.end(), before);
}

void softmax(std::vector<Candidate>& c) {
  if (c.empty()) return;
  sort_candidates(c);
  const double max_logit = c[0].logit;
  if (!std::isfinite(max_logit)) {  // all -inf, or some +inf: share among the maxima
    size_t n_max = 0;
    while (n_max < c.size() && c[n_max].logit == c[0].logit) ++n_max;
    for (size_t i = 0; i < c.size(); ++i)
      c[i].p = i < n_max ? 1.0f / static_cast<float>(n_max) : 0.0f;
    return;
  }
  double sum = 0.0;
  std::vector<double> e(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    e[i] = std::exp(static_cast<double>(c[i].logit) - max_logit);
    sum += e[i];
  }
  for (size_t i = 0; i < c.size(); ++i) c[i].p = static_cast<float>(e[i] / sum);
}

void apply_penalties(std::vector<Candidate>& c, std::span<const int32_t> recent, float repeat,
                     float frequency, float presence) {
  if (recent.empty() || (repeat == 1.0f && frequency == 0.0f && presence == 0.0f)) return;
  std::unordered_map<int32_t, int32_t> counts;
  for (int32_t id : recent) ++counts[id];
  for (Candidate& cand : c) {
    auto it = counts.find(cand.id);
    if (it == counts.end()) continue;
    // llama.cpp's rule: shrink toward "less likely" on either side of zero.
    if (cand.logit <= 0.0f) {
      cand.logit *= repeat;
    } else {
      cand.logit /= repeat;
    }
    cand.logit -= static_cast<float>(it->second) * frequency + presence;
  }
}

void apply_top_k(std::vector<Candidate>& c, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.size()) {
    sort_candidates(c);
    return;
  }
  std::partial_sort(c.begin(), c.begin() + k, c.end(), before);
  c.resize(static_cast<size_t>(k));
}

void apply_top_p(std::vector<Candidate>& c, float p) {
  if (p >= 1.0f || c.empty()) return;
  softmax(c);
  double cum = 0.0;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= static_cast<double>(p)) {  // smallest prefix reaching p; always at least one
      keep = i + 1;
      break;
    }
  }
  c.resize(keep);
}

void apply_min_p(std::vector<Candidate>& c, float min_p) {
  if (min_p <= 0.0f || c.empty()) return;
  sort_candidates(c);
  // p_i >= min_p * p_max  <=>  logit_i - logit_max >= log(min_p): no softmax needed.
  const double threshold = static_cast<double>(c[0].logit) + std::log(static_cast<double>(min_p));
  size_t keep = 1;
  while (keep < c.size() && static_cast<double>(c[keep].logit) >= threshold) ++keep;
  c.resize(keep);
}

void apply_temperature(std::vector<Candidate>& c, float temperature) {
  if (temperature <= 0.0f || temperature == 1.0f) return;
  for (Candidate& cand : c) cand.logit /= temperature;
}

int32_t pick_greedy(const std::vector<Candidate>& c) {
  const Candidate* best = &c.front();
  for (const Candidate& cand : c)
    if (before(cand, *best)) best = &cand;
  return best->id;
}

int32_t pick_random(std::vector<Candidate>& c, Rng& rng) {
  softmax(c);
  double total = 0.0;
  for (const Candidate& cand : c) total += cand.p;
  const double target = rng.next_double() * total;
  double cum = 0.0;
  for (const Candidate& cand : c) {
    cum += cand.p;
    if (target < cum) return cand.id;
  }
  return c.back().id;  // rounding left target at the very top
}

Sampler::Sampler(SamplerParams params) : params_(params), rng_(params.seed) {}

void Sampler::reset() {
  history_.clear();
  rng_.reseed(params_.seed);
}

void Sampler::accept(int32_t id) {
  history_.push_back(id);
  // Keep memory bounded on long chats: only the window is ever read.
  const int32_t n = params_.penalty_last_n;
  if (n >= 0 && history_.size() > 2 * static_cast<size_t>(n) + 64)
    history_.erase(history_.begin(), history_.end() - n);
}

std::span<const int32_t> Sampler::window() const {
  const int32_t n = params_.penalty_last_n;
  if (n < 0 || static_cast<size_t>(n) >= history_.size()) return history_;
  return std::span<const int32_t>(history_).subspan(history_.size() - static_cast<size_t>(n));
}

Result<int32_t> Sampler::sample(std::span<const float> logits, std::span<const uint8_t> allowed) {
  if (logits.empty()) return Error{"sampler: empty logits"};
  candidates_.clear();
  candidates_.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    if (!allowed.empty() && (i >= allowed.size() || !allowed[i])) continue;
    if (filter_ && !filter_(id)) continue;
    // NaN would break the strict ordering the chain relies on; treat it as impossible.
    const float logit = std::isnan(logits[i]) ? -INFINITY : logits[i];
    candidates_.push_back({id, logit, 0.0f});
  }
  if (candidates_.empty()) return Error{"sampler: the token filter allowed no token"};

  apply_penalties(candidates_, window(), params_.repeat_penalty, params_.frequency_penalty,
                  params_.presence_penalty);
  if (params_.temperature <= 0.0f) return pick_greedy(candidates_);

  apply_top_k(candidates_, params_.top_k);
  apply_top_p(candidates_, params_.top_p);
  apply_min_p(candidates_, params_.min_p);
  apply_temperature(candidates_, params_.temperature);
  return pick_random(candidates_, rng_);
}

}  // namespace hearth::sampling
