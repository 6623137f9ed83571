// See batch.h.
#include "runtime/batch.h"

#include <string>

namespace hearth {

Status BatchDecoder::decode(ThreadPool& pool, std::span<BatchItem> items) {
  if (!model_) return Error{"batch decode: no model"};
  if (items.empty()) return Error{"batch decode: no sequences"};
  const ModelConfig& c = model_->config();

  // Check everything before touching any session, so an error leaves them all as they were.
  for (size_t i = 0; i < items.size(); ++i) {
    const BatchItem& it = items[i];
    const std::string which = "batch decode: sequence " + std::to_string(i);
    if (it.session == nullptr) return Error{which + " has no session"};
    if (&it.session->model() != model_.get()) return Error{which + " runs another model"};
    if (it.tokens.empty()) return Error{which + " has no tokens"};
    for (size_t j = 0; j < i; ++j)
      if (items[j].session == it.session) return Error{which + " repeats sequence " + std::to_string(j)};
  }
  // Growing a cache is not advancing it: positions past n_past are free to hold anything.
  for (BatchItem& it : items) {
    Session& s = *it.session;
    if (Status st = s.kv_.reserve(s.n_past_ + static_cast<int64_t>(it.tokens.size())); !st) return st;
  }

  tokens_.clear();
  segments_.clear();
  for (const BatchItem& it : items) {
    const auto n = static_cast<int64_t>(it.tokens.size());
    segments_.push_back(SeqSegment{&it.session->kv_, it.session->n_past_,
                                   static_cast<int64_t>(tokens_.size()), n, it.all_logits});
    tokens_.insert(tokens_.end(), it.tokens.begin(), it.tokens.end());
  }
  if (Status st = run_forward(*model_, pool, scratch_, tokens_, segments_); !st) return st;

  int64_t out_row = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const SeqSegment& seg = segments_[i];
    items[i].logits = std::span<const float>(scratch_.logits.data() + out_row * c.n_vocab,
                                             static_cast<size_t>(seg.n_out() * c.n_vocab));
    out_row += seg.n_out();
    items[i].session->n_past_ += seg.n_rows;
  }
  return {};
}

}  // namespace hearth
