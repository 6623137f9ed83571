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
};

inline void add_engine_flags(CLI::App* cmd, EngineFlags& f) {
  cmd->add_option("-m,--model", f.model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", f.threads, "threads (default: all cores)");
  cmd->add_option("-c,--ctx-size", f.ctx_size,
                  "context size (default: min(4096, training context))");
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
  Result<Session> session = Session::create(e.model, *e.pool, options);
  if (!session) return session.error();
  e.session = std::make_unique<Session>(std::move(*session));
  e.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace hearth::cli
