// One step of the scheduler: the next tokens of several slots' sessions (a prefill chunk or a
// single sampled token each) through the model. Behind an interface so that the scheduler does
// not care whether the sessions run one after another or in one batched pass.
#pragma once

#include <memory>
#include <span>

#include "core/status.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"

namespace hearth::server {

struct StepItem {
  Session* session = nullptr;
  std::span<const int32_t> tokens;  // not empty
  std::span<const float> logits;    // out: (1, n_vocab) for the last token
};

class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // All or nothing: on Error no session has advanced.
  virtual Status decode(std::span<StepItem> items) = 0;
};

// batched: one pass over the weights for all items (runtime/batch.h); else each session
// decodes on its own in turn (the reference the batched path is measured against).
std::unique_ptr<StepDecoder> make_step_decoder(std::shared_ptr<const Model> model, ThreadPool& pool,
                                               bool batched = true);

}  // namespace hearth::server
