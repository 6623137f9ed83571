// The key/value cache of one session: for every layer, the K and V rows (n_head_kv * head_dim
// elements) of every position so far. Stored in F16 by default, as llama.cpp does, or in Q8_0
// (--cache-type-k/-v q8_0: 34 bytes per 32 elements, 47% less RAM than F16), and allocated in
// chunks of positions as the context fills, so a short chat uses little RAM whatever
// --ctx-size says. Per-request state: one cache per Session, never shared.
//
// Storage is in 16-bit units whatever the type (a Q8_0 block is 17 of them), so the attention
// view keeps one pointer type; KvLayerView::k_at/v_at find a row of any type.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ops/attention.h"
#include "quant/ggml_type.h"

namespace hearth {

// What each half of the cache stores: F16 or Q8_0 (Q8_0 needs row_len % 32 == 0; attention
// also needs head_dim % 32 == 0, which Session::create checks).
struct KvCacheTypes {
  GgmlType k = GgmlType::F16;
  GgmlType v = GgmlType::F16;
};

// "f16" / "q8_0" (llama.cpp's --cache-type-k/-v names) -> type; anything else is an Error.
Result<GgmlType> kv_cache_type_from_name(std::string_view name);

class KvCache {
 public:
  static constexpr int64_t kDefaultChunk = 256;  // positions per allocation

  // row_len: elements per position per layer (n_head_kv * head_dim); n_ctx: the most positions.
  static Result<KvCache> create(int64_t n_layer, int64_t row_len, int64_t n_ctx,
                                int64_t chunk_len = kDefaultChunk, KvCacheTypes types = {});

  // Makes positions [0, n) writable, allocating chunks as needed; n > n_ctx is an Error.
  Status reserve(int64_t n);

  // Writes the K and V rows (row_len floats each) of a reserved position, converted to the
  // cache's types (F32 -> Q8_0 directly, as llama.cpp's cache copy does).
  void store(int64_t layer, int64_t pos, const float* k, const float* v);

  // Raw rows of an F16 cache (the default); for any type use store().
  uint16_t* k_row(int64_t layer, int64_t pos) { return row(k_[layer], pos, k_units_); }
  uint16_t* v_row(int64_t layer, int64_t pos) { return row(v_[layer], pos, v_units_); }
  // The attention op's view of positions [0, n_kv) of a layer (n_kv <= reserved()).
  KvLayerView view(int64_t layer, int64_t n_kv) const;

  // Makes positions [0, n) of every layer those of `other` (same layout and types, n within
  // both caches' n_ctx). On Error this cache is unchanged, except that it may have grown.
  Status copy_prefix_from(const KvCache& other, int64_t n);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t reserved() const { return n_chunks_ * chunk_len_; }
  int64_t row_len() const { return row_len_; }
  KvCacheTypes types() const { return types_; }
  size_t bytes_allocated() const;

 private:
  struct Chunks {
    std::vector<std::unique_ptr<uint16_t[]>> owned;
    std::vector<const uint16_t*> ptrs;  // owned[i].get(), for the attention view
  };
  uint16_t* row(Chunks& c, int64_t pos, int64_t units) {
    return c.owned[static_cast<size_t>(pos / chunk_len_)].get() + (pos % chunk_len_) * units;
  }

  int64_t n_layer_ = 0, row_len_ = 0, n_ctx_ = 0, chunk_len_ = 0, n_chunks_ = 0;
  KvCacheTypes types_;
  int64_t k_units_ = 0, v_units_ = 0;  // 16-bit units per position row
  std::vector<Chunks> k_, v_;          // per layer
};

}  // namespace hearth
