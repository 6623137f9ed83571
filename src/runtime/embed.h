// Embeddings: token ids in, one vector per input out. An encoder (bert) runs its own
// bidirectional pass; a decoder (llama, qwen2, ...) runs its ordinary causal pass and its
// final-norm hidden states are pooled, as llama.cpp does for decoder embeddings.
//
// Several inputs are packed back to back into one pass (no padding): every matmul sees all
// their rows at once while attention stays inside each input's own span, so an input's vector
// does not depend on what it was batched with.
//
// An Embedder is per-caller state (scratch buffers); the Model it reads is shared.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/bert.h"
#include "model/blocks.h"
#include "model/model.h"
#include "runtime/thread_pool.h"

namespace hearth {

// "none" | "mean" | "cls" | "last" -> Pooling; anything else is an Error.
Result<Pooling> pooling_from_name(std::string_view name);
const char* pooling_name(Pooling p);

struct EmbedOptions {
  // Unset: the model's own (bert's pooling_type; mean for a decoder).
  std::optional<Pooling> pooling;
  bool normalize = true;  // L2-normalise each vector (what sentence-transformers models expect)
  // Rows per packed pass; an input longer than this still runs, alone.
  int64_t batch_tokens = 1024;
};

// One input's result: n_rows == 1 for pooled vectors, the input's length with Pooling::kNone
// (a vector per token). values: (n_rows, dim).
struct Embedding {
  int64_t n_rows = 0;
  std::vector<float> values;
};

class Embedder {
 public:
  explicit Embedder(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

  // Every input must be 1..context_length tokens of ids in the vocabulary, else an Error
  // naming the input (its index) and the limit.
  Result<std::vector<Embedding>> embed(ThreadPool& pool, std::span<const std::vector<int32_t>> inputs,
                                       const EmbedOptions& options = {});

  // The pooling used when EmbedOptions.pooling is unset.
  Pooling default_pooling() const;
  int64_t dim() const { return model_->config().n_embd; }
  int64_t context_length() const { return model_->config().context_length; }
  const Model& model() const { return *model_; }

 private:
  // Hidden states of the packed inputs: (Σ lengths, dim) into hidden_.
  Status hidden_states(ThreadPool& pool, std::span<const int32_t> tokens, std::span<const int64_t> starts);

  std::shared_ptr<const Model> model_;
  BertScratch bert_;
  ForwardScratch decoder_;
  std::vector<int32_t> tokens_;
  std::vector<int64_t> starts_;
  std::vector<float> hidden_;
};

// v /= |v|₂ (left as is when all zero).
void l2_normalize(std::span<float> v);

}  // namespace hearth
