// See model_registry.h.
#include "server/model_registry.h"

#include <algorithm>

#include "chat/model_template.h"
#include "kernels/kernels.h"
#include "server/metrics.h"
#include "system/machine.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

constexpr uint64_t kMiB = 1u << 20;
// Activations, sampler candidates, the HTTP side: a little beyond weights and KV.
constexpr uint64_t kRamHeadroom = 64 * kMiB;

std::string mib(uint64_t bytes) { return std::to_string((bytes + kMiB / 2) / kMiB) + " MiB"; }

std::string_view strip_tag(std::string_view name) {
  constexpr std::string_view kLatest = ":latest";
  if (name.size() > kLatest.size() && name.substr(name.size() - kLatest.size()) == kLatest)
    name.remove_suffix(kLatest.size());
  return name;
}

}  // namespace

uint64_t kv_cache_bytes(const ModelConfig& c, int64_t n_ctx, int n_slots) {
  // K and V, F16, every layer, every position.
  return uint64_t(2) * uint64_t(c.n_layer) * uint64_t(n_ctx) * uint64_t(c.n_embd_kv()) * 2u *
         uint64_t(std::max(1, n_slots));
}

std::optional<uint64_t> read_mem_available(const std::string& meminfo_path) {
  const std::optional<std::string> text = system::read_text(meminfo_path);
  return text ? system::kib_field(*text, "MemAvailable") : std::nullopt;
}

// ---- LoadedModel ---------------------------------------------------------------------------

Result<std::vector<int32_t>> LoadedModel::render_chat(std::span<const chat::Message> messages) const {
  if (!template_) return Error{"the model has no usable chat template"};
  Result<std::string> text = template_->apply(messages, true);
  if (!text) return Error{"chat template: " + text.error().message};
  return tokenizer::tokenize_rendered(*vocab_, *text);
}

Result<std::vector<int32_t>> LoadedModel::render_chat_context(const nlohmann::ordered_json& context) const {
  if (!template_) return Error{"the model has no usable chat template"};
  Result<std::string> text = template_->apply_json(context);
  if (!text) return Error{"chat template: " + text.error().message};
  return tokenizer::tokenize_rendered(*vocab_, *text);
}

std::vector<int32_t> LoadedModel::tokenize_prompt(std::string_view text) const {
  // Special tokens written in a raw prompt are taken as the client wrote them (as llama.cpp's
  // server does): a client that sends a pre-rendered chat prompt gets the control tokens.
  std::vector<int32_t> ids = tokenizer::tokenize(*vocab_, text, true, true);
  // EOS appended by add_eos vocabularies would end generation at once.
  if (vocab_->add_eos() && !ids.empty() && vocab_->is_eog(ids.back())) ids.pop_back();
  return ids;
}

// ---- ModelRegistry -------------------------------------------------------------------------

ModelRegistry::ModelRegistry(RegistryOptions options, ServerMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::create(RegistryOptions options,
                                                             ServerMetrics* metrics) {
  std::vector<ModelSpec> specs = options.models;
  if (!options.models_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.models_dir, ec))
      return Error{"models folder " + options.models_dir.string() + " is not a directory"};
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(options.models_dir, ec))
      if (e.is_regular_file() && e.path().extension() == ".gguf") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string alias = f.stem().string();
      if (std::none_of(specs.begin(), specs.end(), [&](const ModelSpec& s) { return s.alias == alias; }))
      {
        ModelSpec spec;
        spec.alias = alias;
        spec.path = f;
        specs.push_back(std::move(spec));
      }
    }
  }
  if (specs.empty()) return Error{"no models: give -m FILE, --config FILE or --models-dir DIR"};
  std::unique_ptr<ModelRegistry> r(new ModelRegistry(std::move(options), metrics));
  for (ModelSpec& spec : specs) {
    if (spec.alias.empty()) spec.alias = spec.path.stem().string();
    if (!std::filesystem::is_regular_file(spec.path))
      return Error{"model " + spec.alias + ": no such file " + spec.path.string()};
    if (r->entries_.count(spec.alias)) return Error{"model alias " + spec.alias + " is given twice"};
    Entry e;
    e.keep_alive = spec.keep_alive.value_or(r->options_.keep_alive);
    e.spec = std::move(spec);
    const std::string alias = e.spec.alias;
    r->entries_.emplace(alias, std::move(e));
  }
  r->reaper_ = std::thread([p = r.get()] { p->reaper(); });
  return r;
}

ModelRegistry::~ModelRegistry() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  unload_all();
}

ModelRegistry::Entry* ModelRegistry::find(std::string_view name) {
  if (name.empty() && entries_.size() == 1) return &entries_.begin()->second;
  auto it = entries_.find(name);
  if (it == entries_.end()) it = entries_.find(strip_tag(name));
  return it == entries_.end() ? nullptr : &it->second;
}

Acquired ModelRegistry::acquire(std::string_view name) {
  Acquired out;
  std::unique_lock lock(mu_);
  Entry* e = find(name);
  if (!e) {
    out.error = {404, name.empty() ? std::string("no model given (several are served)")
                                   : "the model '" + std::string(name) + "' does not exist"};
    return out;
  }
  cv_.wait(lock, [&] { return !e->loading; });
  if (e->loaded) {
    out.model = e->loaded;
    return out;
  }
  e->loading = true;
  ++n_loading_;
  const ModelSpec spec = e->spec;
  lock.unlock();
  Result<std::shared_ptr<LoadedModel>> loaded = load(spec);
  lock.lock();
  e->loading = false;
  --n_loading_;
  if (loaded) {
    e->loaded = *loaded;
    out.model = *loaded;
    if (metrics_) metrics_->models_loaded().add(1);
  } else {
    const bool memory = loaded.error().message.find("not enough memory") != std::string::npos;
    out.error = {memory ? 507 : 500, loaded.error().message};
  }
  lock.unlock();
  cv_.notify_all();
  return out;
}

Result<std::vector<Embedding>> LoadedModel::embed(std::span<const std::vector<int32_t>> inputs,
                                                  const EmbedOptions& options) {
  std::lock_guard lock(embed_mu_);
  if (!embed_pool_) embed_pool_ = std::make_unique<ThreadPool>(embed_threads_);
  if (!embedder_) embedder_ = std::make_unique<Embedder>(model_);
  return embedder_->embed(*embed_pool_, inputs, options);
}

Result<std::shared_ptr<LoadedModel>> ModelRegistry::load(const ModelSpec& spec) {
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(spec.path, ec);
  if (ec) return Error{"model " + spec.alias + ": " + spec.path.string() + ": " + ec.message()};
  const KernelChoice kc = choose_kernels();
  Result<std::shared_ptr<const Model>> model = Model::load(spec.path, *kc.table);
  if (!model) return Error{"model " + spec.alias + ": " + model.error().message};

  SchedulerOptions so = options_.scheduler;
  if (spec.n_slots > 0) so.n_slots = spec.n_slots;
  if (spec.n_ctx > 0) so.n_ctx = spec.n_ctx;
  so.model_name = spec.alias;
  const ModelConfig& config = (*model)->config();
  const int64_t n_ctx = so.n_ctx > 0 ? so.n_ctx : std::min<int64_t>(4096, config.context_length);
  if (options_.check_ram) {
    // Mapped weights count against MemAvailable once they are read: all of them are, every token.
    const uint64_t need = file_bytes + kv_cache_bytes(config, n_ctx, so.n_slots) + kRamHeadroom;
    const std::optional<uint64_t> avail = read_mem_available(options_.meminfo_path);
    if (avail && need > *avail)
      return Error{"not enough memory to load " + spec.alias + ": it needs " + mib(need) +
                   " (weights " + mib(file_bytes) + ", KV cache for " + std::to_string(so.n_slots) +
                   " slots x " + std::to_string(n_ctx) + " tokens " +
                   mib(kv_cache_bytes(config, n_ctx, so.n_slots)) + ") but " + mib(*avail) +
                   " are available; lower --ctx-size or --parallel, or use a smaller quantization"};
  }

  std::shared_ptr<LoadedModel> m(new LoadedModel());
  m->spec_ = spec;
  m->model_ = *model;
  m->file_bytes_ = file_bytes;
  m->loaded_at_ = std::chrono::system_clock::now();
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load(m->model_->file());
  if (!vocab) return Error{"model " + spec.alias + ": " + vocab.error().message};
  m->vocab_ = std::make_unique<tokenizer::Vocab>(std::move(*vocab));
  if (int64_t(m->vocab_->size()) > config.n_vocab)
    return Error{"model " + spec.alias + ": the vocabulary has more tokens than the output layer"};
  // A model without a usable template still serves /v1/completions.
  if (Result<chat::ModelTemplate> t = chat::model_chat_template(m->model_->file(), spec.chat_template)) {
    m->template_source_ = t->source;
    if (Result<chat::ChatTemplate> ct = chat::ChatTemplate::create(t->source, t->bos_token, t->eos_token))
      m->template_.emplace(std::move(*ct));
  }
  so.n_ctx = n_ctx;
  m->embed_threads_ = so.n_threads > 0 ? so.n_threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Result<std::unique_ptr<Scheduler>> sched = Scheduler::create(m->model_, *m->vocab_, so, metrics_);
  if (!sched) return Error{"model " + spec.alias + ": " + sched.error().message};
  m->scheduler_ = std::move(*sched);
  return m;
}

std::vector<ModelEntry> ModelRegistry::list() const {
  std::lock_guard lock(mu_);
  std::vector<ModelEntry> out;
  for (const auto& [alias, e] : entries_) {
    ModelEntry m;
    m.alias = alias;
    m.path = e.spec.path;
    std::error_code ec;
    m.file_bytes = std::filesystem::file_size(e.spec.path, ec);
    m.modified = std::filesystem::last_write_time(e.spec.path, ec);
    m.loaded = e.loaded != nullptr;
    m.model = e.loaded;
    if (e.loaded) {
      const auto idle_since = e.loaded->scheduler().last_used();
      const auto since_sys = std::chrono::system_clock::now() -
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 std::chrono::steady_clock::now() - idle_since);
      m.expires_at = e.keep_alive.count() < 0
                         ? std::chrono::system_clock::time_point::max()
                         : since_sys + std::chrono::duration_cast<std::chrono::system_clock::duration>(e.keep_alive);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::shared_ptr<LoadedModel>> ModelRegistry::loaded() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LoadedModel>> out;
  for (const auto& [alias, e] : entries_)
    if (e.loaded) out.push_back(e.loaded);
  return out;
}

bool ModelRegistry::loading() const {
  std::lock_guard lock(mu_);
  return n_loading_ > 0;
}

bool ModelRegistry::can_serve() const {
  std::lock_guard lock(mu_);
  for (const auto& [alias, e] : entries_)
    if (e.loaded) return true;
  return n_loading_ == 0 && !entries_.empty();
}

void ModelRegistry::set_keep_alive(std::string_view alias, std::chrono::seconds keep_alive) {
  {
    std::lock_guard lock(mu_);
    if (Entry* e = find(alias)) e->keep_alive = keep_alive;
  }
  unload_idle();
}

void ModelRegistry::unload_idle() {
  std::vector<std::shared_ptr<LoadedModel>> dropped;  // destroyed outside the lock
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [alias, e] : entries_) {
      if (!e.loaded || e.keep_alive.count() < 0) continue;
      Scheduler& s = e.loaded->scheduler();
      if (s.active() > 0 || now - s.last_used() < e.keep_alive) continue;
      dropped.push_back(std::move(e.loaded));
      e.loaded.reset();
      if (metrics_) metrics_->models_loaded().sub(1);
    }
  }
}

void ModelRegistry::unload_all() {
  std::vector<std::shared_ptr<LoadedModel>> dropped;
  {
    std::lock_guard lock(mu_);
    for (auto& [alias, e] : entries_) {
      if (!e.loaded) continue;
      dropped.push_back(std::move(e.loaded));
      e.loaded.reset();
      if (metrics_) metrics_->models_loaded().sub(1);
    }
  }
}

void ModelRegistry::cancel_all() {
  for (const auto& m : loaded()) m->scheduler().cancel_all();
}

void ModelRegistry::reaper() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    unload_idle();
    lock.lock();
  }
}

}  // namespace hearth::server
