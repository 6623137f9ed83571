// See rag_chat.h. Locks: mu_ only for the maps; a collection's mutex while its Store and index
// are refreshed and searched (SQLite connections are not shared between threads); inside it,
// an embedding model's mutex while it embeds the question. Always in that order.
#include "server/rag_chat.h"

#include <sys/stat.h>

#include <cmath>

#include "gguf/reader.h"
#include "kernels/kernels.h"
#include "rag/embedder.h"
#include "rag/retrieve.h"
#include "rag/store.h"

namespace hearth::server {

using json = nlohmann::json;

namespace {

Error fail(RagFailure& f, int status, std::string param, std::string message) {
  f.status = status;
  f.param = std::move(param);
  f.message = std::move(message);
  return Error{f.message};
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  const bool same = std::filesystem::equivalent(a, b, ec);
  return !ec && same;
}

constexpr int64_t kMaxK = 50;
constexpr double kMaxTtft = 600;

}  // namespace

Result<std::optional<RagRequest>> parse_rag_request(const json& body, std::string_view model, RagFailure& f) {
  std::optional<RagRequest> out;
  if (model.starts_with(kRagModelPrefix)) {
    out.emplace();
    out->collection = std::string(model.substr(kRagModelPrefix.size()));
    out->by_alias = true;
  }
  const auto it = body.is_object() ? body.find("rag") : body.end();
  if (it != body.end() && !it->is_null()) {
    if (!out) out.emplace();
    std::string named;
    if (it->is_string()) {
      named = it->get<std::string>();
    } else if (it->is_object()) {
      for (const auto& [key, v] : it->items()) {
        const std::string p = "rag." + key;
        if (key == "collection") {
          if (!v.is_string()) return fail(f, 400, p, "'rag.collection' must be a string");
          named = v.get<std::string>();
        } else if (key == "k") {
          const bool integral = v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
          if (!integral || v.get<double>() < 1 || v.get<double>() > double(kMaxK))
            return fail(f, 400, p, "'rag.k' must be an integer from 1 to " + std::to_string(kMaxK));
          out->k = int64_t(v.get<double>());
        } else if (key == "ttft_target") {
          if (!v.is_number() || !(v.get<double>() > 0 && v.get<double>() <= kMaxTtft))
            return fail(f, 400, p, "'rag.ttft_target' must be a number of seconds above 0, at most 600");
          out->ttft_target_s = v.get<double>();
        } else if (key == "sources_in_content") {
          if (!v.is_boolean()) return fail(f, 400, p, "'rag.sources_in_content' must be a boolean");
          out->sources_in_content = v.get<bool>();
        } else {
          return fail(f, 400, p,
                      "unknown field '" + p + "' (expected collection, k, ttft_target, sources_in_content)");
        }
      }
    } else {
      return fail(f, 400, "rag",
                  "'rag' must be a collection name or an object {collection, k, ttft_target, sources_in_content}");
    }
    if (!named.empty()) {
      if (out->by_alias && named != out->collection)
        return fail(f, 400, "rag.collection",
                    "'rag' names collection \"" + named + "\" but the model is rag:" + out->collection);
      out->collection = named;
    }
  }
  if (!out) return out;
  if (out->collection.empty())
    return fail(f, 400, out->by_alias ? "model" : "rag.collection",
                "a RAG request needs a collection: model rag:<collection> or 'rag': {\"collection\": ...}");
  if (Status s = rag::check_collection_name(out->collection); !s)
    return fail(f, 400, out->by_alias ? "model" : "rag.collection", s.error().message);
  return out;
}

Result<std::optional<RagRequest>> resolve_rag_request(RagChat& rag, const json& body, std::string& model,
                                                      RagFailure& f) {
  Result<std::optional<RagRequest>> r = parse_rag_request(body, model, f);
  if (!r || !*r || !(*r)->by_alias) return r;
  Result<std::string> m = rag.chat_model_for((*r)->collection, f);
  if (!m) return m.error();
  model = *m;
  return r;
}

std::optional<std::string> last_user_content(std::span<const chat::Message> messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->role == "user") return it->content;
  return std::nullopt;
}

std::vector<chat::Message> with_sources(std::span<const chat::Message> messages, const std::string& sources) {
  std::vector<chat::Message> out(messages.begin(), messages.end());
  if (sources.empty()) return out;
  if (!out.empty() && out.front().role == "system") {
    std::string& c = out.front().content;
    c = c.empty() ? sources : c + "\n\n" + sources;
  } else {
    out.insert(out.begin(), chat::Message{"system", sources});
  }
  return out;
}

nlohmann::ordered_json with_sources(const nlohmann::ordered_json& messages, const std::string& sources) {
  nlohmann::ordered_json out = messages;
  if (sources.empty() || !out.is_array()) return out;
  if (!out.empty() && out[0].is_object() && out[0].value("role", "") == "system" &&
      (!out[0].contains("content") || out[0]["content"].is_string() || out[0]["content"].is_null())) {
    const std::string c = out[0].contains("content") && out[0]["content"].is_string() ? out[0]["content"].get<std::string>() : "";
    out[0]["content"] = c.empty() ? sources : c + "\n\n" + sources;
  } else {
    out.insert(out.begin(), nlohmann::ordered_json{{"role", "system"}, {"content", sources}});
  }
  return out;
}

json sources_json(const RagPlan& plan) {
  json out = json::array();
  for (size_t i = 0; i < plan.used.size(); ++i) {
    const rag::SearchHit& h = plan.used[i];
    out.push_back({{"index", i + 1}, {"path", h.chunk.path}, {"heading", h.chunk.heading},
                   {"chunk", h.chunk.ord}, {"score", h.score}});
  }
  return out;
}

json rag_json(const RagPlan& plan) {
  return {{"collection", plan.collection},
          {"budget_tokens", plan.budget_tokens},
          {"prompt_tokens", plan.prompt_tokens},
          {"prefill_tok_s", plan.rate.tok_s},
          {"rate_source", plan.rate.source},
          {"ttft_target", plan.ttft_target_s},
          {"chunks_retrieved", plan.retrieved},
          {"chunks_used", plan.used.size()},
          {"chunks_dropped", plan.dropped}};
}

void add_rag_fields(json& reply, const RagPlan& plan) {
  reply["sources"] = sources_json(plan);
  reply["rag"] = rag_json(plan);
}

// ---- the service ---------------------------------------------------------------------------

struct RagChat::Collection {
  std::mutex mu;                     // guards everything below
  std::optional<rag::Store> store;
  dev_t dev = 0;
  ino_t ino = 0;                     // of the file the store was opened on
  int64_t version = -1;              // data_version of `index`
  rag::VectorIndex index;
};

struct RagChat::EmbedderSlot {
  std::mutex mu;  // one question embedded at a time
  std::unique_ptr<rag::TextEmbedder> embedder;
};

RagChat::RagChat(RagOptions options, ModelRegistry& registry, int threads, std::filesystem::path state_dir)
    : options_(std::move(options)),
      registry_(registry),
      threads_(threads),
      state_dir_(std::move(state_dir)),
      dir_(std::filesystem::absolute(options_.dir.empty() ? rag::default_rag_dir() : std::filesystem::path(options_.dir))),
      kernels_(choose_kernels().table) {}

RagChat::~RagChat() = default;

std::shared_ptr<RagChat::Collection> RagChat::collection(const std::string& name, RagFailure& f) {
  if (Status s = rag::check_collection_name(name); !s) {
    fail(f, 400, "model", s.error().message);
    return nullptr;
  }
  const std::filesystem::path file = rag::collection_file(dir_, name);
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    std::lock_guard lock(mu_);
    collections_.erase(name);  // removed (`hearth rag rm`) while cached
    fail(f, 404, "model", "no RAG collection \"" + name + "\" in " + dir_.string() + " (hearth rag add makes one)");
    return nullptr;
  }
  std::lock_guard lock(mu_);
  std::shared_ptr<Collection>& c = collections_[name];
  if (!c) c = std::make_shared<Collection>();
  return c;
}

// A collection removed and made again is another file: a connection kept open on the old one
// would go on reading the unlinked file, so the file's identity is checked each time.
Status RagChat::refresh(Collection& c, const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    c.store.reset();
    return Error{file.string() + " is gone"};
  }
  if (c.store && (st.st_ino != c.ino || st.st_dev != c.dev)) c.store.reset();
  if (!c.store) {
    Result<rag::Store> s = rag::Store::open(file);
    if (!s) return s.error();
    c.store.emplace(std::move(*s));
    c.dev = st.st_dev;
    c.ino = st.st_ino;
    c.version = -1;
    c.index = {};
  }
  Result<int64_t> v = c.store->data_version();
  if (!v) return v.error();
  if (*v != c.version) {
    Result<rag::VectorIndex> index = c.store->load_vectors();
    if (!index) return index.error();
    c.index = std::move(*index);
    c.version = *v;
  }
  return {};
}

Result<std::string> RagChat::chat_model_for(const std::string& name, RagFailure& f) {
  std::shared_ptr<Collection> c = collection(name, f);
  if (!c) return Error{f.message};
  std::string chat_path;
  {
    std::lock_guard lock(c->mu);
    if (Status s = refresh(*c, rag::collection_file(dir_, name)); !s)
      return fail(f, 500, "model", "RAG collection \"" + name + "\": " + s.error().message);
    chat_path = c->store->info().chat_model_path;
  }
  if (!options_.model.empty()) return options_.model;
  const std::vector<ModelEntry> entries = registry_.list();
  for (const ModelEntry& e : entries)
    if (same_file(e.path, chat_path)) return e.alias;
  // The first served chat model: in the order of -m / [[models]], then the models folder's.
  for (const ModelSpec& spec : registry_.options().models)
    for (const ModelEntry& e : entries)
      if (e.alias == spec.alias && !is_embedding_model(e)) return e.alias;
  for (const ModelEntry& e : entries)
    if (!is_embedding_model(e)) return e.alias;
  return fail(f, 500, "model", "no served chat model can answer rag:" + name + " (serve one with -m, or set --rag-model)");
}

bool RagChat::is_embedding_model(const ModelEntry& e) {
  if (e.model) return e.model->embedding_only();
  const std::string key = e.path.string();
  {
    std::lock_guard lock(mu_);
    if (auto it = embedding_files_.find(key); it != embedding_files_.end()) return it->second;
  }
  bool encoder = false;
  if (Result<gguf::File> file = gguf::File::open(e.path))
    if (Result<std::string> arch = file->get_string("general.architecture")) encoder = *arch == "bert";
  std::lock_guard lock(mu_);
  embedding_files_[key] = encoder;
  return encoder;
}

std::vector<RagChat::Listing> RagChat::listings() {
  std::vector<Listing> out;
  for (const std::string& name : rag::list_collections(dir_)) {
    RagFailure f;
    if (Result<std::string> m = chat_model_for(name, f)) out.push_back({std::string(kRagModelPrefix) + name, *m});
  }
  return out;
}

std::shared_ptr<RagChat::EmbedderSlot> RagChat::embedder(const std::string& name, const rag::CollectionInfo& info,
                                                          RagFailure& f) {
  const std::filesystem::path path = info.embed_model_path;
  if (path.empty()) {
    fail(f, 500, "", "RAG collection \"" + name + "\" records no embedding model path");
    return nullptr;
  }
  std::shared_ptr<EmbedderSlot> slot;
  {
    std::lock_guard lock(mu_);
    if (auto it = embedders_.find(path.string()); it != embedders_.end()) slot = it->second;
  }
  if (!slot) {
    std::lock_guard load(load_mu_);
    {
      std::lock_guard lock(mu_);
      if (auto it = embedders_.find(path.string()); it != embedders_.end()) slot = it->second;
    }
    if (!slot) {
      // A served model with that file is wrapped (one copy of the weights), else it is loaded.
      Result<std::unique_ptr<rag::TextEmbedder>> e = Error{""};
      bool wrapped = false;
      for (const ModelEntry& entry : registry_.list()) {
        if (!same_file(entry.path, path)) continue;
        Acquired a = registry_.acquire(entry.alias);
        if (!a.model) break;
        e = rag::TextEmbedder::wrap(a.model->model_ptr(), threads_);
        wrapped = true;
        break;
      }
      if (!wrapped) e = rag::TextEmbedder::load(path, threads_);
      if (!e) {
        fail(f, 500, "", "the embedding model of RAG collection \"" + name + "\", " + path.string() + ": " +
                             e.error().message);
        return nullptr;
      }
      slot = std::make_shared<EmbedderSlot>();
      slot->embedder = std::move(*e);
      std::lock_guard lock(mu_);
      embedders_[path.string()] = slot;
    }
  }
  const rag::TextEmbedder& e = *slot->embedder;
  if (Status s = rag::check_embedding_model(info, name, e.name(), e.dims(), path.string()); !s) {
    fail(f, 500, "", "RAG " + s.error().message);
    return nullptr;
  }
  return slot;
}

Result<rag::PrefillRate> RagChat::prefill_rate(const std::filesystem::path& chat_model) {
  if (options_.prefill_tok_s > 0) return rag::PrefillRate{options_.prefill_tok_s, "--rag-prefill-rate"};
  std::lock_guard lock(rate_mu_);
  if (auto it = rates_.find(chat_model.string()); it != rates_.end()) return it->second;
  Result<rag::PrefillRate> r = rag::prefill_rate(chat_model, threads_, state_dir_);
  if (!r) return Error{r.error().message + " (or start the server with --rag-prefill-rate TOK_S)"};
  rates_[chat_model.string()] = *r;
  return r;
}

Result<RagPlan> RagChat::prepare(const RagRequest& request, LoadedModel& model, std::span<const chat::Message> messages,
                                 int64_t answer_tokens, const RagPromptRenderer& render, RagFailure& f) {
  const std::optional<std::string> question = last_user_content(messages);
  if (!question || question->empty())
    return fail(f, 400, "messages", "a RAG request needs a user message with the question");
  std::shared_ptr<Collection> c = collection(request.collection, f);
  if (!c) return Error{f.message};
  RagPlan plan;
  plan.collection = request.collection;
  plan.ttft_target_s = request.ttft_target_s;
  std::vector<rag::SearchHit> hits;
  {
    std::lock_guard lock(c->mu);
    const std::filesystem::path file = rag::collection_file(dir_, request.collection);
    if (Status s = refresh(*c, file); !s)
      return fail(f, 500, "", "RAG collection \"" + request.collection + "\": " + s.error().message);
    const rag::CollectionInfo info = c->store->info();
    std::shared_ptr<EmbedderSlot> slot = embedder(request.collection, info, f);
    if (!slot) return Error{f.message};
    Result<std::vector<std::vector<float>>> q = Error{""};
    {
      std::lock_guard embed_lock(slot->mu);
      q = slot->embedder->embed(std::vector<std::string>{*question});
    }
    if (!q) return fail(f, 400, "messages", "the question: " + q.error().message);
    rag::SearchOptions so;
    so.k = request.k;
    Result<std::vector<rag::SearchHit>> found = rag::search(*c->store, c->index, (*q)[0], *question, so, *kernels_);
    if (!found) return fail(f, 500, "", "RAG collection \"" + request.collection + "\": " + found.error().message);
    hits = std::move(*found);
  }
  Result<rag::PrefillRate> rate = prefill_rate(model.spec().path);
  if (!rate) return fail(f, 500, "", rate.error().message);
  plan.rate = *rate;
  rag::BudgetOptions bo;
  bo.ttft_target_s = request.ttft_target_s;
  bo.context_length = model.scheduler().n_ctx();
  bo.answer_tokens = std::min<int64_t>(answer_tokens > 0 ? answer_tokens : 512, bo.context_length / 2);
  const int64_t budget = rag::prompt_token_budget(plan.rate.tok_s, bo);
  Result<rag::FittedContext> fitted = rag::fit_to_budget(hits, budget, [&](const std::string& s) -> Result<int64_t> {
    Result<std::vector<int32_t>> ids = render(s);
    if (!ids) return ids.error();
    return static_cast<int64_t>(ids->size());
  });
  if (!fitted) return fail(f, 400, "messages", fitted.error().message);
  Result<std::vector<int32_t>> prompt = render(fitted->sources);
  if (!prompt) return fail(f, 400, "messages", prompt.error().message);
  plan.prompt = std::move(*prompt);
  plan.used = std::move(fitted->used);
  plan.budget_tokens = fitted->budget_tokens;
  plan.prompt_tokens = fitted->prompt_tokens;
  plan.dropped = fitted->dropped;
  plan.retrieved = int64_t(hits.size());
  if (request.sources_in_content && !plan.used.empty()) plan.footer = "\n\n" + rag::sources_footer(plan.used);
  return plan;
}

}  // namespace hearth::server
