// See embed.h.
#include "runtime/embed.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "runtime/kv_cache.h"

namespace hearth {

Result<Pooling> pooling_from_name(std::string_view name) {
  if (name == "none") return Pooling::kNone;
  if (name == "mean") return Pooling::kMean;
  if (name == "cls") return Pooling::kCls;
  if (name == "last") return Pooling::kLast;
  return Error{"unknown pooling '" + std::string(name) + "' (none, mean, cls, last)"};
}

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::kNone: return "none";
    case Pooling::kMean: return "mean";
    case Pooling::kCls: return "cls";
    case Pooling::kLast: return "last";
  }
  return "?";
}

void l2_normalize(std::span<float> v) {
  double sum = 0.0;
  for (float x : v) sum += double(x) * double(x);
  if (sum <= 0.0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
}

Pooling Embedder::default_pooling() const {
  const ModelConfig& c = model_->config();
  return c.embedding_only ? c.pooling : Pooling::kMean;
}

Status Embedder::hidden_states(ThreadPool& pool, std::span<const int32_t> tokens,
                               std::span<const int64_t> starts) {
  const ModelConfig& c = model_->config();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (hidden_.size() < static_cast<size_t>(n * c.n_embd)) hidden_.resize(static_cast<size_t>(n * c.n_embd));
  if (c.arch == Arch::kBert) return encode_bert(*model_, pool, bert_, tokens, starts, hidden_.data());

  // A decoder: one fresh cache per input (its causal pass over itself), every row's
  // final-norm hidden state captured; the output projection is skipped.
  std::vector<KvCache> caches;
  std::vector<SeqSegment> segments;
  caches.reserve(starts.size());
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    const int64_t len = starts[i + 1] - starts[i];
    Result<KvCache> kv = KvCache::create(c.n_layer, c.n_embd_kv(), len);
    if (!kv) return kv.error();
    if (Status st = kv->reserve(len); !st) return st;
    caches.push_back(std::move(*kv));
  }
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    SeqSegment seg;
    seg.kv = &caches[i];
    seg.row0 = starts[i];
    seg.n_rows = starts[i + 1] - starts[i];
    seg.all_logits = true;
    segments.push_back(seg);
  }
  bool captured = false;
  const CaptureFn capture = [&](std::string_view name, int64_t, const float* data, int64_t rows,
                                int64_t cols) {
    if (name != "result_norm" || rows != n || cols != c.n_embd) return;
    std::copy(data, data + rows * cols, hidden_.data());
    captured = true;
  };
  if (Status st = run_forward(*model_, pool, decoder_, tokens, segments, &capture, ForwardOutput::kHiddenOnly);
      !st)
    return st;
  if (!captured) return Error{"embedding: the model's pass gave no hidden states"};
  return {};
}

Result<std::vector<Embedding>> Embedder::embed(ThreadPool& pool,
                                               std::span<const std::vector<int32_t>> inputs,
                                               const EmbedOptions& options) {
  const ModelConfig& c = model_->config();
  const int64_t d = c.n_embd;
  const Pooling pooling = options.pooling.value_or(default_pooling());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t len = static_cast<int64_t>(inputs[i].size());
    const std::string which = inputs.size() > 1 ? "input " + std::to_string(i) : "the input";
    if (len == 0) return Error{which + " has no tokens"};
    if (len > c.context_length)
      return Error{which + " is " + std::to_string(len) + " tokens, longer than the model's context of " +
                   std::to_string(c.context_length)};
    for (int32_t id : inputs[i])
      if (id < 0 || id >= c.n_vocab)
        return Error{which + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                     std::to_string(c.n_vocab - 1) + ")"};
  }

  std::vector<Embedding> out(inputs.size());
  size_t first = 0;
  while (first < inputs.size()) {
    // Pack inputs [first, last) into one pass of at most batch_tokens rows (at least one input).
    size_t last = first;
    int64_t rows = 0;
    tokens_.clear();
    starts_.clear();
    while (last < inputs.size() &&
           (last == first || rows + static_cast<int64_t>(inputs[last].size()) <= options.batch_tokens)) {
      starts_.push_back(rows);
      tokens_.insert(tokens_.end(), inputs[last].begin(), inputs[last].end());
      rows += static_cast<int64_t>(inputs[last].size());
      ++last;
    }
    starts_.push_back(rows);
    if (Status st = hidden_states(pool, tokens_, starts_); !st) return st.error();

    for (size_t i = first; i < last; ++i) {
      const int64_t r0 = starts_[i - first], len = starts_[i - first + 1] - r0;
      const float* h = hidden_.data() + r0 * d;  // (len, d)
      Embedding& e = out[i];
      if (pooling == Pooling::kNone) {
        e.n_rows = len;
        e.values.assign(h, h + len * d);
        if (options.normalize)
          for (int64_t t = 0; t < len; ++t) l2_normalize(std::span(e.values).subspan(size_t(t * d), size_t(d)));
        continue;
      }
      e.n_rows = 1;
      e.values.assign(static_cast<size_t>(d), 0.0f);
      if (pooling == Pooling::kMean) {
        // Sum in double: the mean of up to 512 rows, independent of the packing.
        std::vector<double> sum(static_cast<size_t>(d), 0.0);
        for (int64_t t = 0; t < len; ++t)
          for (int64_t j = 0; j < d; ++j) sum[size_t(j)] += h[t * d + j];
        for (int64_t j = 0; j < d; ++j) e.values[size_t(j)] = static_cast<float>(sum[size_t(j)] / double(len));
      } else {
        const float* row = pooling == Pooling::kCls ? h : h + (len - 1) * d;
        std::copy(row, row + d, e.values.begin());
      }
      if (options.normalize) l2_normalize(e.values);
    }
    first = last;
  }
  return out;
}

}  // namespace hearth
