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
  if (Status s = kv_.reserve(n); !s) return s;
  // Whole rows, copied as stored: both caches come from one model, so one layout.
  const ModelConfig& c = model_->config();
  const size_t row_bytes = static_cast<size_t>(kv_.row_len()) * sizeof(uint16_t);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const KvLayerView src = other.kv_.view(l, n);
    for (int64_t p = 0; p < n; ++p) {
      const int64_t off = (p % src.chunk_len) * src.row_len;
      std::memcpy(kv_.k_row(l, p), src.k_chunks[p / src.chunk_len] + off, row_bytes);
      std::memcpy(kv_.v_row(l, p), src.v_chunks[p / src.chunk_len] + off, row_bytes);
    }
  }
  n_past_ = n;
  return {};
}

}  // namespace hearth
