// What `hearth run`, `hearth chat` and `hearth perplexity` share: the sampling flags, and loading
// a model with its vocabulary, a thread pool and a session. Header-only: src/cli files are the
// binary's own sources, not the library's.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "sampling/sampler.h"
#include "tokenizer/vocab.h"

namespace hearth::cli {

struct EngineFlags {
  std::string model;
  int threads = 0;
  int64_t ctx_size = 0;
  std::string cache_type_k = "f16", cache_type_v = "f16";
};

// --cache-type-k/-v (also -ctk/-ctv, as llama.cpp spells them; main.cpp maps those).
inline void add_cache_type_flags(CLI::App* cmd, std::string& k, std::string& v) {
  cmd->add_option("--cache-type-k", k, "KV cache type for K: f16 (default) or q8_0 (-ctk)");
  cmd->add_option("--cache-type-v", v, "KV cache type for V: f16 (default) or q8_0 (-ctv)");
}

inline Result<KvCacheTypes> parse_cache_types(const std::string& k, const std::string& v) {
  Result<GgmlType> tk = kv_cache_type_from_name(k);
  if (!tk) return Error{"--cache-type-k: " + tk.error().message};
  Result<GgmlType> tv = kv_cache_type_from_name(v);
  if (!tv) return Error{"--cache-type-v: " + tv.error().message};
  return KvCacheTypes{*tk, *tv};
}

inline void add_engine_flags(CLI::App* cmd, EngineFlags& f) {
  cmd->add_option("-m,--model", f.model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", f.threads, "threads (default: all cores)");
  cmd->add_option("-c,--ctx-size", f.ctx_size,
                  "context size in tokens, prompt and reply together (default: min(4096, "
                  "training context)); a prompt that does not fit is an error, and generation "
                  "stops with a note when the context is full (no shifting)");
  add_cache_type_flags(cmd, f.cache_type_k, f.cache_type_v);
}

inline void add_sampling_flags(CLI::App* cmd, sampling::SamplerParams& p) {
  cmd->add_option("--temp", p.temperature, "temperature (0: greedy)");
  cmd->add_option("--seed", p.seed, "random seed (same seed, same output)");
  cmd->add_option("--top-k", p.top_k, "top-k (0: off)");
  cmd->add_option("--top-p", p.top_p, "top-p (1: off)");
  cmd->add_option("--min-p", p.min_p, "min-p (0: off)");
  cmd->add_option("--repeat-penalty", p.repeat_penalty, "repetition penalty (1: off)");
  cmd->add_option("--repeat-last-n", p.penalty_last_n,
                  "tokens the penalties look back over (-1: all)");
  cmd->add_option("--presence-penalty", p.presence_penalty, "presence penalty (0: off)");
  cmd->add_option("--frequency-penalty", p.frequency_penalty, "frequency penalty (0: off)");
}

// A model ready to generate: everything lives as long as this object.
struct Engine {
  std::shared_ptr<const Model> model;
  std::unique_ptr<tokenizer::Vocab> vocab;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Session> session;
  double load_ms = 0;
};

inline Result<Engine> load_engine(const EngineFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  Engine e;
  const KernelChoice kc = choose_kernels();
  Result<std::shared_ptr<const Model>> model = Model::load(f.model, *kc.table);
  if (!model) return model.error();
  e.model = std::move(*model);
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load(e.model->file());
  if (!vocab) return vocab.error();
  e.vocab = std::make_unique<tokenizer::Vocab>(std::move(*vocab));
  if (static_cast<int64_t>(e.vocab->size()) > e.model->config().n_vocab)
    return Error{f.model + ": the vocabulary has more tokens than the output layer"};
  const int threads = f.threads > 0
                          ? f.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  e.pool = std::make_unique<ThreadPool>(threads);
  SessionOptions options;
  options.n_ctx = f.ctx_size > 0 ? f.ctx_size : 0;
  Result<KvCacheTypes> cache_types = parse_cache_types(f.cache_type_k, f.cache_type_v);
  if (!cache_types) return cache_types.error();
  options.cache_types = *cache_types;
  Result<Session> session = Session::create(e.model, *e.pool, options);
  if (!session) return session.error();
  e.session = std::make_unique<Session>(std::move(*session));
  e.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace hearth::cli
