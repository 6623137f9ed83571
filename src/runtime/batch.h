// Continuous batching: several sessions of one model advance in ONE forward pass. Their rows
// are concatenated, so every projection is a single matmul that reads each weight once per
// step for all of them (decoding is memory-bound: on a Pi, two or four streams cost little
// more than one); RoPE, the KV cache and attention stay per sequence. A sequence may bring a
// whole prompt or one generated token; sequences join and leave between steps simply by being
// in a call's items or not.
//
//   BatchDecoder batch(model);
//   BatchItem items[2] = {{&a, prompt_a}, {&b, std::span(&next_b, 1)}};
//   if (Status s = batch.decode(pool, items); !s) ...;   // items[i].logits: (1, n_vocab)
//
// The logits of each sequence are those it would get decoding alone (bit for bit while
// matmul computes every activation row on its own, as it does).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "model/blocks.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"

namespace hearth {

struct BatchItem {
  Session* session = nullptr;        // distinct sessions sharing the decoder's Model
  std::span<const int32_t> tokens;   // appended at session->n_past(); not empty
  bool all_logits = false;           // logits for every token, else only the last
  std::span<const float> logits;     // out: (n_out, n_vocab), valid until the next decode
};

// Owns the scratch of a combined pass (grown to the largest batch, then reused); one per
// model per server, used by one thread at a time.
class BatchDecoder {
 public:
  explicit BatchDecoder(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

  // Runs every item's tokens in one pass and advances each session by its token count.
  // All-or-nothing: on Error (an empty item, a session twice or of another model, a full
  // context, a token outside the vocabulary, out of memory) no session advances.
  Status decode(ThreadPool& pool, std::span<BatchItem> items);

  const Model& model() const { return *model_; }

 private:
  std::shared_ptr<const Model> model_;
  ForwardScratch scratch_;
  std::vector<int32_t> tokens_;       // the items' tokens, concatenated
  std::vector<SeqSegment> segments_;  // one per item
};

}  // namespace hearth
