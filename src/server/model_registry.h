// The models a server can serve, by alias: from -m/--alias flags, a TOML config (--config, see
// docs/server.md) or every *.gguf in a models folder. A model is loaded on first use (with its
// vocabulary, chat template and Scheduler) and unloaded once it has been idle for its
// keep_alive. Before loading, a RAM check: the file's bytes plus the KV cache of every slot at
// full context must fit in MemAvailable, else a clear error instead of an OOM kill later.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "model/model.h"
#include "runtime/embed.h"
#include "runtime/thread_pool.h"
#include "server/scheduler.h"
#include "tokenizer/vocab.h"

namespace hearth::server {

struct ModelSpec {
  std::string alias;
  std::filesystem::path path;
  int64_t n_ctx = 0;           // per slot; 0: the registry default
  int n_slots = 0;             // 0: the registry default
  std::optional<std::chrono::seconds> keep_alive;  // unset: the registry default
  std::string chat_template;   // a built-in name overriding the file's template ("" : the file's)
};

struct RegistryOptions {
  std::vector<ModelSpec> models;
  std::filesystem::path models_dir;  // every *.gguf here is a model named after its file stem
  SchedulerOptions scheduler;        // defaults for every model (slots, n_ctx, queue, threads)
  std::chrono::seconds keep_alive{300};  // idle time before unloading; < 0: never
  bool check_ram = true;
  std::string meminfo_path = "/proc/meminfo";
};

// A model in memory, ready to serve. Shared: a request holds it while it runs, so unloading
// only drops the registry's reference.
class LoadedModel {
 public:
  const ModelSpec& spec() const { return spec_; }
  const std::string& alias() const { return spec_.alias; }
  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  const tokenizer::Vocab& vocab() const { return *vocab_; }
  Scheduler& scheduler() { return *scheduler_; }
  const Scheduler& scheduler() const { return *scheduler_; }
  uint64_t file_bytes() const { return file_bytes_; }
  std::chrono::system_clock::time_point loaded_at() const { return loaded_at_; }
  const std::string& template_source() const { return template_source_; }

  // Messages rendered through the model's chat template with the generation prompt, tokenized
  // (special tokens parsed; BOS added where the template did not write it).
  Result<std::vector<int32_t>> render_chat(std::span<const chat::Message> messages) const;
  // A full template context (messages with tool calls, tools, add_generation_prompt; see
  // tool_calls.h tool_chat_context) rendered and tokenized as render_chat does.
  Result<std::vector<int32_t>> render_chat_context(const nlohmann::ordered_json& context) const;
  // Plain text completion: tokenized with the vocabulary's BOS/EOS rules.
  std::vector<int32_t> tokenize_prompt(std::string_view text) const;

  // An encoder (bert): embeddings only; chat and completion requests are refused.
  bool embedding_only() const { return model_->config().embedding_only; }
  // Embeddings of tokenized inputs (runtime/embed.h). Requests of one model take turns: each
  // runs on the model's own embedding pool (created on first use) with its own scratch.
  Result<std::vector<Embedding>> embed(std::span<const std::vector<int32_t>> inputs,
                                       const EmbedOptions& options);
  int64_t embedding_dim() const { return model_->config().n_embd; }

 private:
  friend class ModelRegistry;
  LoadedModel() = default;
  ModelSpec spec_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<tokenizer::Vocab> vocab_;
  std::optional<chat::ChatTemplate> template_;
  std::string template_source_;
  int embed_threads_ = 1;
  std::mutex embed_mu_;                   // guards the two below
  std::unique_ptr<ThreadPool> embed_pool_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<Scheduler> scheduler_;  // last member: destroyed (joined) first
  uint64_t file_bytes_ = 0;
  std::chrono::system_clock::time_point loaded_at_;
};

// What a client asked for could not be served.
struct AcquireError {
  int http_status = 500;  // 404 unknown alias, 507 not enough memory, 500 a broken file
  std::string message;
};

struct Acquired {
  std::shared_ptr<LoadedModel> model;  // set on success
  AcquireError error;
};

struct ModelEntry {
  std::string alias;
  std::filesystem::path path;
  uint64_t file_bytes = 0;
  std::filesystem::file_time_type modified;
  bool loaded = false;
  std::chrono::system_clock::time_point expires_at;  // loaded: when idle unloading would happen
  std::shared_ptr<LoadedModel> model;                // loaded: the model
};

// Bytes the KV caches of `n_slots` sessions of `n_ctx` positions take (F16 K and V).
uint64_t kv_cache_bytes(const ModelConfig& config, int64_t n_ctx, int n_slots);
// MemAvailable from a /proc/meminfo-format file, in bytes; nullopt when unreadable.
std::optional<uint64_t> read_mem_available(const std::string& meminfo_path);

class ModelRegistry {
 public:
  // Validates the specs (unique aliases, files exist); starts the idle-unload thread.
  static Result<std::unique_ptr<ModelRegistry>> create(RegistryOptions options,
                                                       ServerMetrics* metrics = nullptr);
  ~ModelRegistry();
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // The model named `name` (an alias; also accepted: the alias with a ":latest" tag, or the
  // only model when name is empty), loading it if needed. Concurrent callers of a model being
  // loaded wait for that one load.
  Acquired acquire(std::string_view name);
  // Every known model, loaded or not, in alias order.
  std::vector<ModelEntry> list() const;
  // Only the loaded ones.
  std::vector<std::shared_ptr<LoadedModel>> loaded() const;
  // True while any model is being loaded (GET /health answers 503 then).
  bool loading() const;
  // True when at least one model is loaded, or none is loading and some is known.
  bool can_serve() const;
  // Idle time before `alias` is unloaded from now on (Ollama's keep_alive); 0: unload as soon
  // as it is idle; < 0: never.
  void set_keep_alive(std::string_view alias, std::chrono::seconds keep_alive);
  // Unloads every loaded model that has been idle longer than its keep_alive (also run by the
  // registry's own thread every second).
  void unload_idle();
  void unload_all();
  // Cancels every request of every loaded model (they end with FinishReason::kCancelled).
  void cancel_all();

  const RegistryOptions& options() const { return options_; }

 private:
  struct Entry {
    ModelSpec spec;
    std::shared_ptr<LoadedModel> loaded;
    bool loading = false;
    std::chrono::seconds keep_alive{300};
  };
  explicit ModelRegistry(RegistryOptions options, ServerMetrics* metrics);
  Entry* find(std::string_view name);  // under mu_
  Result<std::shared_ptr<LoadedModel>> load(const ModelSpec& spec);
  void reaper();

  RegistryOptions options_;
  ServerMetrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // loads finishing; the reaper's stop
  std::map<std::string, Entry, std::less<>> entries_;
  int n_loading_ = 0;
  bool stop_ = false;
  std::thread reaper_;
};

}  // namespace hearth::server
