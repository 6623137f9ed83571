// See session.h.
#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace hearth {

Result<Session> Session::create(std::shared_ptr<const Model> model, ThreadPool& pool,
                                const SessionOptions& options) {
  if (!model) return Error{"session: no model"};
  const ModelConfig& c = model->config();
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(4096, c.context_length);
  for (GgmlType t : {options.cache_types.k, options.cache_types.v})
    if (t == GgmlType::Q8_0 && c.head_dim % 32 != 0)
      return Error{"a Q8_0 KV cache needs a head size that is a multiple of 32; this model's is " +
                   std::to_string(c.head_dim) + " (use --cache-type-k/-v f16)"};
  Result<KvCache> kv =
      KvCache::create(c.n_layer, c.n_embd_kv(), n_ctx, KvCache::kDefaultChunk, options.cache_types);
  if (!kv) return kv.error();
  return Session(std::move(model), pool, std::move(*kv));
}

Result<std::span<const float>> Session::decode(std::span<const int32_t> tokens,
                                               bool want_all_logits) {
  const ModelConfig& c = model_->config();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return Error{"decode: no tokens"};
  if (Status s = kv_.reserve(n_past_ + n); !s) return s.error();
  const SeqSegment seg{&kv_, n_past_, 0, n, want_all_logits};
  if (Status s = run_forward(*model_, *pool_, scratch_, tokens, std::span(&seg, 1),
                             capture_ ? &capture_ : nullptr);
      !s)
    return s.error();
  n_past_ += n;
  return std::span<const float>(scratch_.logits.data(),
                                static_cast<size_t>(seg.n_out() * c.n_vocab));
}

Status Session::copy_prefix_from(const Session& other, int64_t n) {
  if (n < 0 || n > other.n_past_)
    return Error{"copy_prefix_from: " + std::to_string(n) + " positions asked, the other session holds " +
                 std::to_string(other.n_past_)};
  if (&other == this) {
    truncate(n);
    return {};
  }
  if (other.model_.get() != model_.get())
    return Error{"copy_prefix_from: the sessions run different models"};
  // Whole rows, whatever their encoding (F16 or Q8_0; the caches must store the same types).
  if (Status s = kv_.copy_prefix_from(other.kv_, n); !s) return s;
  n_past_ = n;
  return {};
}

}  // namespace hearth
