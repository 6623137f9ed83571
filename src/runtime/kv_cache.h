// The key/value cache of one session: for every layer, the K and V rows (n_head_kv * head_dim
// halves) of every position so far. Stored in F16, as llama.cpp does, and allocated in chunks
// of positions as the context fills, so a short chat uses little RAM whatever --ctx-size says.
// Per-request state: one cache per Session, never shared.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "ops/attention.h"

namespace hearth {

class KvCache {
 public:
  static constexpr int64_t kDefaultChunk = 256;  // positions per allocation

  // row_len: halves per position per layer (n_head_kv * head_dim); n_ctx: the most positions.
  static Result<KvCache> create(int64_t n_layer, int64_t row_len, int64_t n_ctx,
                                int64_t chunk_len = kDefaultChunk);

  // Makes positions [0, n) writable, allocating chunks as needed; n > n_ctx is an Error.
  Status reserve(int64_t n);

  uint16_t* k_row(int64_t layer, int64_t pos) { return row(k_[layer], pos); }
  uint16_t* v_row(int64_t layer, int64_t pos) { return row(v_[layer], pos); }
  // The attention op's view of positions [0, n_kv) of a layer (n_kv <= reserved()).
  KvLayerView view(int64_t layer, int64_t n_kv) const;

  int64_t n_ctx() const { return n_ctx_; }
  int64_t reserved() const { return n_chunks_ * chunk_len_; }
  int64_t row_len() const { return row_len_; }
  size_t bytes_allocated() const;

 private:
  struct Chunks {
    std::vector<std::unique_ptr<uint16_t[]>> owned;
    std::vector<const uint16_t*> ptrs;  // owned[i].get(), for the attention view
  };
  uint16_t* row(Chunks& c, int64_t pos) {
    return c.owned[static_cast<size_t>(pos / chunk_len_)].get() + (pos % chunk_len_) * row_len_;
  }

  int64_t n_layer_ = 0, row_len_ = 0, n_ctx_ = 0, chunk_len_ = 0, n_chunks_ = 0;
  std::vector<Chunks> k_, v_;  // per layer
};

}  // namespace hearth
