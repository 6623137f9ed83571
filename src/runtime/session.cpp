// See session.h.
#include "runtime/session.h"

#include <algorithm>
#include <string>

namespace hearth {

Result<Session> Session::create(std::shared_ptr<const Model> model, ThreadPool& pool,
                                const SessionOptions& options) {
  if (!model) return Error{"session: no model"};
  const ModelConfig& c = model->config();
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(4096, c.context_length);
  Result<KvCache> kv = KvCache::create(c.n_layer, c.n_embd_kv(), n_ctx);
  if (!kv) return kv.error();
  return Session(std::move(model), pool, std::move(*kv));
}

Result<std::span<const float>> Session::decode(std::span<const int32_t> tokens,
                                               bool want_all_logits) {
  const ModelConfig& c = model_->config();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return Error{"decode: no tokens"};
  if (Status s = kv_.reserve(n_past_ + n); !s) return s.error();
  scratch_.ensure(c, n, kv_.reserved(), pool_->size());  // scores follow the filled context
  for (int64_t t = 0; t < n; ++t) scratch_.positions[static_cast<size_t>(t)] = static_cast<int32_t>(n_past_ + t);

  ForwardContext ctx{*model_, *pool_, kv_, scratch_, tokens, n_past_, want_all_logits,
                     capture_ ? &capture_ : nullptr};
  if (Status s = model_->forward()(ctx); !s) return s.error();
  n_past_ += n;
  const int64_t n_out = want_all_logits ? n : 1;
  return std::span<const float>(scratch_.logits.data(), static_cast<size_t>(n_out * c.n_vocab));
}

}  // namespace hearth
