// See step_decoder.h.
#include "server/step_decoder.h"

#include <vector>

#include "runtime/batch.h"

namespace hearth::server {
namespace {

// Each session decodes on its own, in turn: correct for any number of slots, but every slot
// reads all the weights once per step.
class SequentialDecoder final : public StepDecoder {
 public:
  Status decode(std::span<StepItem> items) override {
    std::vector<int64_t> before;
    for (const StepItem& item : items) before.push_back(item.session->n_past());
    for (size_t i = 0; i < items.size(); ++i) {
      Result<std::span<const float>> out = items[i].session->decode(items[i].tokens, false);
      if (!out) {
        for (size_t j = 0; j < i; ++j) items[j].session->truncate(before[j]);
        return out.error();
      }
      items[i].logits = *out;
    }
    return {};
  }
};

// All items in one forward pass: each weight matrix is read once per step for every slot.
class BatchedDecoder final : public StepDecoder {
 public:
  BatchedDecoder(std::shared_ptr<const Model> model, ThreadPool& pool)
      : batch_(std::move(model)), pool_(pool) {}
  Status decode(std::span<StepItem> items) override {
    batch_items_.clear();
    for (const StepItem& item : items) batch_items_.push_back({item.session, item.tokens, false, {}});
    if (Status s = batch_.decode(pool_, batch_items_); !s) return s;
    for (size_t i = 0; i < items.size(); ++i) items[i].logits = batch_items_[i].logits;
    return {};
  }

 private:
  BatchDecoder batch_;
  ThreadPool& pool_;
  std::vector<BatchItem> batch_items_;
};

}  // namespace

std::unique_ptr<StepDecoder> make_step_decoder(std::shared_ptr<const Model> model, ThreadPool& pool,
                                               bool batched) {
  if (batched) return std::make_unique<BatchedDecoder>(std::move(model), pool);
  return std::make_unique<SequentialDecoder>();
}

}  // namespace hearth::server
