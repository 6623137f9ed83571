// One conversation with a model: its KV cache, scratch buffers and position. The Model is
// shared and read-only; a Session is per request and used by one thread at a time (it drives
// the thread pool it is given).
//
// decode() takes any number of tokens: a prompt goes through as one batch (every projection a
// matmul over all rows, reading each weight once), a generated token as a batch of one (matvec).
// Positions continue across calls. Several sessions of one model decode together through a
// BatchDecoder (runtime/batch.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "model/blocks.h"
#include "model/model.h"
#include "runtime/kv_cache.h"
#include "runtime/thread_pool.h"

namespace hearth {

struct SessionOptions {
  int64_t n_ctx = 0;  // 0: min(4096, the model's training context)
  // KV cache storage (--cache-type-k/-v): F16 or Q8_0; Q8_0 needs head_dim % 32 == 0.
  KvCacheTypes cache_types;
};

class Session {
 public:
  static Result<Session> create(std::shared_ptr<const Model> model, ThreadPool& pool,
                                const SessionOptions& options = {});

  // Runs the tokens at positions n_past()..n_past()+n-1 and returns the logits: (n, n_vocab)
  // row-major when want_all_logits, else (1, n_vocab) for the last token. The span is valid
  // until the next call. A full context is an Error and leaves the session unchanged.
  Result<std::span<const float>> decode(std::span<const int32_t> tokens, bool want_all_logits);

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  const Model& model() const { return *model_; }
  const KvCache& kv_cache() const { return kv_; }
  void reset() { n_past_ = 0; }  // the cache is overwritten from position 0 on
  // Forget every position from n on (chat keeps the prefix its new prompt shares with the old).
  void truncate(int64_t n) { n_past_ = std::clamp<int64_t>(n, 0, n_past_); }
  // Makes this session's first n positions those of `other` (n <= other.n_past(), same model;
  // other may be this session): a slot seeds itself with the cached KV of a prompt prefix it
  // shares with another (a system prompt), then decodes only the rest. On Error (n out of
  // range, another model, context too small, out of memory) this session is unchanged.
  Status copy_prefix_from(const Session& other, int64_t n);
  // Intermediates ("attn_norm", layer, ...) of every later decode go to fn (empty: none).
  void set_capture(CaptureFn fn) { capture_ = std::move(fn); }

 private:
  Session(std::shared_ptr<const Model> model, ThreadPool& pool, KvCache kv)
      : model_(std::move(model)), pool_(&pool), kv_(std::move(kv)) {}

  friend class BatchDecoder;  // runs several sessions in one pass and advances their n_past

  std::shared_ptr<const Model> model_;
  ThreadPool* pool_;
  KvCache kv_;
  ForwardScratch scratch_;
  CaptureFn capture_;
  int64_t n_past_ = 0;
};

}  // namespace hearth
