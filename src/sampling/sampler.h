// Token sampling: a fixed chain over one step's logits, with llama.cpp's defaults and order
//   grammar mask / allowed-token filter → penalties → top-k → top-p → min-p → temperature → pick
// (llama.cpp's common sampler applies top-p and min-p before temperature, so do we).
// A Sampler is per-request state (recent tokens, RNG); the model it samples for is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/status.h"
#include "sampling/rng.h"

namespace hearth::sampling {

struct SamplerParams {
  float temperature = 0.8f;        // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 40;              // <= 0: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off
  int32_t penalty_last_n = 64;     // window of recent tokens the penalties look at; 0 off, -1 all
  float repeat_penalty = 1.0f;     // 1: off. Divides positive logits, multiplies negative ones
  float frequency_penalty = 0.0f;  // subtracted once per occurrence in the window
  float presence_penalty = 0.0f;   // subtracted once if present in the window
  uint64_t seed = 0;
};

struct Candidate {
  int32_t id;
  float logit;
  float p;  // filled by softmax(); meaningless before
};

// Where a grammar or tool-call constraint plugs in: returns whether `id` may come next.
using TokenFilter = std::function<bool(int32_t id)>;

// The individual steps, usable alone (tests, custom chains). Those that truncate leave the
// candidates sorted by logit descending, ties by ascending id, so results never depend on the
// standard library's sort.
void sort_candidates(std::vector<Candidate>& c);
void softmax(std::vector<Candidate>& c);  // sorts, then sets p (computed in double)
void apply_penalties(std::vector<Candidate>& c, std::span<const int32_t> recent, float repeat,
                     float frequency, float presence);
void apply_top_k(std::vector<Candidate>& c, int32_t k);
void apply_top_p(std::vector<Candidate>& c, float p);
void apply_min_p(std::vector<Candidate>& c, float min_p);
void apply_temperature(std::vector<Candidate>& c, float temperature);
int32_t pick_greedy(const std::vector<Candidate>& c);
int32_t pick_random(std::vector<Candidate>& c, Rng& rng);  // softmax, then one uniform draw

class Sampler {
 public:
  explicit Sampler(SamplerParams params = {});

  // Chooses the next token. Errors: empty logits, or every token filtered out.
  // `allowed` (a grammar's mask, grammar.h): when not empty, only ids with allowed[id] != 0
  // are candidates; it applies first, so greedy and every cut-off see only grammatical tokens.
  Result<int32_t> sample(std::span<const float> logits, std::span<const uint8_t> allowed = {});
  // Records a token of the sequence (prompt or generated) for the penalties.
  void accept(int32_t id);
  // Forget the history and restart the RNG from the seed.
  void reset();

  void set_filter(TokenFilter filter) { filter_ = std::move(filter); }
  const SamplerParams& params() const { return params_; }
  // The candidates left just before the final pick of the last sample() call.
  const std::vector<Candidate>& last_candidates() const { return candidates_; }

 private:
  std::span<const int32_t> window() const;

  SamplerParams params_;
  Rng rng_;
  TokenFilter filter_;
  std::vector<int32_t> history_;
  std::vector<Candidate> candidates_;
};

}  // namespace hearth::sampling
