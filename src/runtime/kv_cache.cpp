// See kv_cache.h.
#include "runtime/kv_cache.h"

#include <algorithm>
#include <new>
#include <string>

namespace hearth {

Result<KvCache> KvCache::create(int64_t n_layer, int64_t row_len, int64_t n_ctx,
                                int64_t chunk_len) {
  if (n_layer <= 0 || row_len <= 0 || n_ctx <= 0 || chunk_len <= 0)
    return Error{"kv cache: bad dimensions"};
  KvCache c;
  c.n_layer_ = n_layer;
  c.row_len_ = row_len;
  c.n_ctx_ = n_ctx;
  c.chunk_len_ = std::min(chunk_len, n_ctx);
  c.k_.resize(static_cast<size_t>(n_layer));
  c.v_.resize(static_cast<size_t>(n_layer));
  return c;
}

Status KvCache::reserve(int64_t n) {
  if (n > n_ctx_)
    return Error{"context overflow: " + std::to_string(n) + " positions needed, the context holds " +
                 std::to_string(n_ctx_) + " (raise --ctx-size or start a new session)"};
  while (n_chunks_ * chunk_len_ < n) {
    const size_t halves = static_cast<size_t>(chunk_len_ * row_len_);
    for (int64_t l = 0; l < n_layer_; ++l) {
      for (Chunks* c : {&k_[l], &v_[l]}) {
        // Value-initialised: a freshly grown chunk holds zeros, never stale bits.
        std::unique_ptr<uint16_t[]> p(new (std::nothrow) uint16_t[halves]());
        if (!p) return Error{"kv cache: out of memory growing to " + std::to_string(n) + " positions"};
        c->ptrs.push_back(p.get());
        c->owned.push_back(std::move(p));
      }
    }
    ++n_chunks_;
  }
  return {};
}

KvLayerView KvCache::view(int64_t layer, int64_t n_kv) const {
  KvLayerView v;
  v.k_chunks = k_[static_cast<size_t>(layer)].ptrs.data();
  v.v_chunks = v_[static_cast<size_t>(layer)].ptrs.data();
  v.chunk_len = chunk_len_;
  v.row_len = row_len_;
  v.n_kv = n_kv;
  return v;
}

size_t KvCache::bytes_allocated() const {
  return static_cast<size_t>(2 * n_layer_ * n_chunks_ * chunk_len_ * row_len_) * sizeof(uint16_t);
}

}  // namespace hearth
