// See kv_cache.h.
#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <tuple>
#include <utility>

#include "core/fp16.h"
#include "quant/formats.h"

namespace hearth {

Result<GgmlType> kv_cache_type_from_name(std::string_view name) {
  if (name == "f16" || name == "F16") return GgmlType::F16;
  if (name == "q8_0" || name == "Q8_0") return GgmlType::Q8_0;
  return Error{"unsupported KV cache type '" + std::string(name) + "' (f16 or q8_0)"};
}

Result<KvCache> KvCache::create(int64_t n_layer, int64_t row_len, int64_t n_ctx,
                                int64_t chunk_len, KvCacheTypes types) {
  if (n_layer <= 0 || row_len <= 0 || n_ctx <= 0 || chunk_len <= 0)
    return Error{"kv cache: bad dimensions"};
  for (GgmlType t : {types.k, types.v}) {
    if (t != GgmlType::F16 && t != GgmlType::Q8_0)
      return Error{"kv cache: only F16 and Q8_0 caches are supported"};
    if (t == GgmlType::Q8_0 && row_len % 32 != 0)
      return Error{"kv cache: a Q8_0 cache needs rows of a multiple of 32 elements, not " +
                   std::to_string(row_len)};
  }
  KvCache c;
  c.n_layer_ = n_layer;
  c.row_len_ = row_len;
  c.n_ctx_ = n_ctx;
  c.chunk_len_ = std::min(chunk_len, n_ctx);
  c.types_ = types;
  c.k_units_ = kv_row_units(types.k, row_len);
  c.v_units_ = kv_row_units(types.v, row_len);
  c.k_.resize(static_cast<size_t>(n_layer));
  c.v_.resize(static_cast<size_t>(n_layer));
  return c;
}

Status KvCache::reserve(int64_t n) {
  if (n > n_ctx_)
    return Error{"context overflow: " + std::to_string(n) + " positions needed, the context holds " +
                 std::to_string(n_ctx_) + " (raise --ctx-size or start a new session)"};
  while (n_chunks_ * chunk_len_ < n) {
    for (int64_t l = 0; l < n_layer_; ++l) {
      for (auto [c, units] : {std::pair{&k_[l], k_units_}, std::pair{&v_[l], v_units_}}) {
        // Value-initialised: a freshly grown chunk holds zeros, never stale bits.
        const size_t n_units = static_cast<size_t>(chunk_len_ * units);
        std::unique_ptr<uint16_t[]> p(new (std::nothrow) uint16_t[n_units]());
        if (!p) return Error{"kv cache: out of memory growing to " + std::to_string(n) + " positions"};
        c->ptrs.push_back(p.get());
        c->owned.push_back(std::move(p));
      }
    }
    ++n_chunks_;
  }
  return {};
}

namespace {

void convert_row(GgmlType type, const float* src, int64_t n, uint16_t* dst) {
  if (type == GgmlType::Q8_0) {
    quantize_row_q8_0(src, dst, n, nullptr);
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

}  // namespace

void KvCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  convert_row(types_.k, k, row_len_, row(k_[layer], pos, k_units_));
  convert_row(types_.v, v, row_len_, row(v_[layer], pos, v_units_));
}

KvLayerView KvCache::view(int64_t layer, int64_t n_kv) const {
  KvLayerView v;
  v.k_chunks = k_[static_cast<size_t>(layer)].ptrs.data();
  v.v_chunks = v_[static_cast<size_t>(layer)].ptrs.data();
  v.chunk_len = chunk_len_;
  v.row_len = row_len_;
  v.n_kv = n_kv;
  v.k_type = types_.k;
  v.v_type = types_.v;
  v.k_stride = k_units_;
  v.v_stride = v_units_;
  return v;
}

Status KvCache::copy_prefix_from(const KvCache& other, int64_t n) {
  if (other.n_layer_ != n_layer_ || other.row_len_ != row_len_ || other.types_.k != types_.k ||
      other.types_.v != types_.v)
    return Error{"kv cache: cannot copy between caches of different layouts"};
  if (n < 0 || n > other.reserved()) return Error{"kv cache: copy beyond the source's positions"};
  if (Status s = reserve(n); !s) return s;
  for (int64_t l = 0; l < n_layer_; ++l) {
    for (auto [dst, src, units] : {std::tuple{&k_[l], &other.k_[l], k_units_},
                                   std::tuple{&v_[l], &other.v_[l], v_units_}}) {
      // Both caches may chunk differently (chunk_len is capped by n_ctx): copy runs that stay
      // within one chunk of each.
      for (int64_t p = 0; p < n;) {
        const int64_t run = std::min({n - p, chunk_len_ - p % chunk_len_,
                                      other.chunk_len_ - p % other.chunk_len_});
        const uint16_t* from = src->ptrs[static_cast<size_t>(p / other.chunk_len_)] +
                               (p % other.chunk_len_) * units;
        std::memcpy(row(*dst, p, units), from, sizeof(uint16_t) * static_cast<size_t>(run * units));
        p += run;
      }
    }
  }
  return {};
}

size_t KvCache::bytes_allocated() const {
  return static_cast<size_t>(n_layer_ * n_chunks_ * chunk_len_ * (k_units_ + v_units_)) *
         sizeof(uint16_t);
}

}  // namespace hearth
