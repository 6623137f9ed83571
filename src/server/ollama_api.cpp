// See ollama_api.h. Streams are NDJSON (one JSON object per line, application/x-ndjson) as
// Ollama writes them; a failure after the stream started is one {"error": ...} line, which the
// official clients raise. Non-streaming answers are sent as one chunked body once complete so
// that a client that leaves while its answer is generated is noticed and its slot freed.
#include "server/ollama_api.h"

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>

#include "server/metrics.h"
#include "server/json_limits.h"
#include "server/model_registry.h"
#include "sampling/json_schema.h"
#include "server/ollama_json.h"
#include "server/rag_chat.h"
#include "server/tool_calls.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using namespace ollama;  // NOLINT: this file is the Ollama API
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

void send_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(error_body(message).dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void send_json(httplib::Response& res, const json& j) {
  res.status = 200;
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

// GGUF metadata of the served files, read once per file version (opening a file validates its
// whole header, vocabulary included: too slow for every /api/tags poll).
class FactsCache {
 public:
  ModelFacts get(const std::filesystem::path& path, uint64_t size,
                 std::filesystem::file_time_type mtime) {
    const std::string key = path.string();
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end() && it->second.size == size && it->second.mtime == mtime)
        return it->second.facts;
    }
    ModelFacts facts;
    if (Result<gguf::File> f = gguf::File::open(path)) facts = model_facts(*f);
    std::lock_guard lock(mu_);
    cache_[key] = {size, mtime, facts};
    return facts;
  }

 private:
  struct Item {
    uint64_t size;
    std::filesystem::file_time_type mtime;
    ModelFacts facts;
  };
  std::mutex mu_;
  std::map<std::string, Item> cache_;
};

struct OllamaState {
  explicit OllamaState(ServerContext& c) : ctx(c) {}
  ServerContext& ctx;
  FactsCache facts;
};

int64_t mtime_ns(std::filesystem::file_time_type t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool name_matches(std::string_view requested, std::string_view alias) {
  return requested == alias || requested == display_name(alias);
}

std::optional<ModelEntry> find_entry(const ModelRegistry& registry, std::string_view name) {
  for (ModelEntry& e : registry.list())
    if (name_matches(name, e.alias)) return std::move(e);
  return std::nullopt;
}

// Acquires the model for a request, mapping the registry's refusal to Ollama's errors.
std::shared_ptr<LoadedModel> acquire(ServerContext& ctx, const std::string& name,
                                     httplib::Response& res) {
  Acquired a = ctx.registry->acquire(name);
  if (a.model) return a.model;
  if (a.error.http_status == 404)
    send_error(res, 404, "model \"" + name + "\" not found, try pulling it first");
  else
    send_error(res, a.error.http_status, a.error.message);
  return nullptr;
}

std::string embedding_only_message(const LoadedModel& m) {
  return "\"" + m.alias() + "\" is an embedding model and does not support generate or chat; use /api/embed";
}

std::chrono::seconds default_keep_alive(const ModelRegistry& registry, std::string_view alias) {
  for (const ModelSpec& s : registry.options().models)
    if (s.alias == alias && s.keep_alive) return *s.keep_alive;
  return registry.options().keep_alive;
}

// Ollama sets a model's idle timeout on every request: the request's keep_alive, else the
// default. Called once the request holds the model (queued or running), so that a keep_alive
// of 0 unloads the model after this request rather than under it.
void apply_keep_alive(ServerContext& ctx, const std::string& alias,
                      const std::optional<std::chrono::milliseconds>& keep_alive) {
  using std::chrono::seconds;
  seconds s = default_keep_alive(*ctx.registry, alias);
  if (keep_alive) {
    // Whole seconds, rounded up: 500ms still keeps the model for a moment.
    s = *keep_alive == kKeepAliveForever ? seconds(-1)
                                         : seconds((keep_alive->count() + 999) / 1000);
  }
  ctx.registry->set_keep_alive(alias, s);
}

bool unloads(const std::optional<std::chrono::milliseconds>& keep_alive) {
  return keep_alive && keep_alive->count() == 0;
}

// A request with nothing to generate: the model is loaded (acquired) and its keep_alive set;
// with keep_alive 0 it is unloaded as soon as no request uses it. Returns whether it unloads.
bool load_or_unload(ServerContext& ctx, std::shared_ptr<LoadedModel>& model,
                    const std::optional<std::chrono::milliseconds>& keep_alive) {
  const std::string alias = model->alias();
  model.reset();  // this request no longer holds it
  apply_keep_alive(ctx, alias, keep_alive);
  return unloads(keep_alive);
}

// Messages with tool calls or tool results, and tool definitions, go through the template as
// JSON (transformers' conventions: messages[].tool_calls, tools), or, for a template without
// tool support, as plain messages with the tools in the system prompt (tool_calls.h).
Result<std::vector<int32_t>> render_with_tools(const LoadedModel& m, const ChatRequest& r) {
  return m.render_chat_context(tool_chat_context(m.template_source(), r.messages, r.tools));
}

// Ollama's tool_calls: [{"function": {"name", "arguments": {...}}}] (arguments an object).
json ollama_tool_calls(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const ToolCall& c : calls)
    out.push_back({{"function", {{"name", c.name}, {"arguments", json(c.arguments)}}}});
  return out;
}

CompletionRequest completion_request(const ServerContext& ctx, std::vector<int32_t> prompt,
                                     const Options& o) {
  CompletionRequest cr;
  cr.prompt = std::move(prompt);
  cr.sampling = o.sampling;
  cr.max_tokens = o.num_predict;
  if (ctx.options.max_tokens_limit > 0 &&
      (cr.max_tokens < 0 || cr.max_tokens > ctx.options.max_tokens_limit))
    cr.max_tokens = ctx.options.max_tokens_limit;
  cr.stop = o.stop;
  return cr;
}

// Submits; on a refusal answers the client (busy: 503 with Retry-After, as Ollama does when
// its queue is full) and returns null.
std::shared_ptr<CompletionJob> submit(ServerContext& ctx, LoadedModel& m, CompletionRequest cr,
                                      httplib::Response& res) {
  Submission s = m.scheduler().submit(std::move(cr));
  if (s.job) return s.job;
  switch (s.rejection) {
    case Rejection::kQueueFull:
      if (ctx.metrics) ctx.metrics->record_rejected("queue_full");
      res.set_header("Retry-After", "1");
      send_error(res, 503, "server busy, please try again: " + s.message);
      break;
    case Rejection::kStopping:
      res.set_header("Retry-After", "5");
      send_error(res, 503, s.message);
      break;
    case Rejection::kPromptTooLong:
      if (ctx.metrics) ctx.metrics->record_rejected("prompt_too_long");
      send_error(res, 400, s.message);
      break;
    default:
      send_error(res, 400, s.message);
      break;
  }
  return nullptr;
}

// One request in flight, shared by the response's content provider callbacks.
struct Exchange {
  std::shared_ptr<LoadedModel> model;  // held while the request runs
  std::shared_ptr<CompletionJob> job;
  std::string name;                    // the model name as the client wrote it
  bool chat = true;
  bool tools = false;                  // split tool calls out of the text
  bool want_context = false;           // /api/generate: return prompt + answer token ids
  std::vector<int32_t> prompt;
  double load_ms = 0, setup_ms = 0;
  std::shared_ptr<const RagPlan> rag;  // answered from a collection (rag_chat.h)
};

// The RAG part of a chat or generate request (rag_chat.h): `model` becomes the chat model for
// rag:<collection>. False when it answered the client (400, 404, 500).
bool resolve_rag(ServerContext& ctx, const json& body, std::string& model, std::optional<RagRequest>& rag,
                 httplib::Response& res) {
  if (!ctx.rag) return true;
  RagFailure f;
  Result<std::optional<RagRequest>> r = resolve_rag_request(*ctx.rag, body, model, f);
  if (!r) {
    send_error(res, f.status, f.message);
    return false;
  }
  rag = std::move(*r);
  return true;
}

// Retrieval and the budget; the prompt goes to x->prompt. False when it answered the client.
bool prepare_rag(ServerContext& ctx, Exchange& x, const RagRequest& rag, std::span<const chat::Message> messages,
                 const Options& o, const RagPromptRenderer& render, httplib::Response& res) {
  int64_t answer = o.num_predict;
  if (ctx.options.max_tokens_limit > 0 && (answer < 0 || answer > ctx.options.max_tokens_limit))
    answer = ctx.options.max_tokens_limit;
  RagFailure f;
  Result<RagPlan> plan = ctx.rag->prepare(rag, *x.model, messages, answer, render, f);
  if (!plan) {
    send_error(res, f.status, f.message);
    return false;
  }
  x.prompt = std::move(plan->prompt);
  x.rag = std::make_shared<const RagPlan>(std::move(*plan));
  return true;
}

json final_message(const std::string& content, const json& tool_calls) {
  json m = {{"role", "assistant"}, {"content", content}};
  if (!tool_calls.empty()) m["tool_calls"] = tool_calls;
  return m;
}

std::string error_line(const CompletionResult& r) {
  return dump_line(error_body(r.finish == FinishReason::kError ? r.error
                                                                : "generation was cancelled"));
}

void respond_streaming(std::shared_ptr<Exchange> x, httplib::Response& res) {
  struct State {
    ToolCallStreamer tools;
    std::vector<int32_t> generated;
  };
  auto st = std::make_shared<State>();
  res.set_chunked_content_provider(
      "application/x-ndjson",
      [x, st](size_t, httplib::DataSink& sink) -> bool {
        const auto write = [&](const json& j) {
          const std::string line = dump_line(j);
          if (sink.write(line.data(), line.size())) return true;
          x->job->cancel();
          return false;
        };
        CompletionEvent ev;
        while (!x->job->next(ev, std::chrono::milliseconds(100))) {
          if (!sink.is_writable()) {
            x->job->cancel();
            return false;
          }
        }
        for (const TokenLogprob& lp : ev.logprobs) st->generated.push_back(lp.id);
        std::string text = x->tools ? st->tools.feed(ev.text) : ev.text;
        if (!ev.done) {
          if (text.empty()) return true;
          return write(x->chat ? chat_chunk(x->name, now_rfc3339(), text)
                               : generate_chunk(x->name, now_rfc3339(), text));
        }
        const CompletionResult& r = *ev.done;
        if (r.finish == FinishReason::kError || r.finish == FinishReason::kCancelled) {
          const std::string line = error_line(r);
          sink.write(line.data(), line.size());
          sink.done();
          return true;
        }
        json tool_calls = json::array();
        if (x->tools) {
          ToolCallSplit split = st->tools.finish();
          text += split.content;
          tool_calls = ollama_tool_calls(split.calls);
        }
        if (x->rag && tool_calls.empty()) text += x->rag->footer;  // the sources, after the answer
        if (!text.empty() &&
            !write(x->chat ? chat_chunk(x->name, now_rfc3339(), text)
                           : generate_chunk(x->name, now_rfc3339(), text)))
          return false;
        if (!tool_calls.empty()) {
          json c = chat_chunk(x->name, now_rfc3339(), "");
          c["message"]["tool_calls"] = tool_calls;
          if (!write(c)) return false;
        }
        const Timings t = timings_from(r, x->load_ms, x->setup_ms);
        json last;
        if (x->chat) {
          last = chat_final(x->name, now_rfc3339(), final_message("", json::array()),
                            done_reason(r), t);
        } else {
          std::vector<int32_t> context;
          if (x->want_context) {
            context = x->prompt;
            context.insert(context.end(), st->generated.begin(), st->generated.end());
          }
          last = generate_final(x->name, now_rfc3339(), "", done_reason(r), t,
                                x->want_context ? &context : nullptr);
        }
        if (x->rag) add_rag_fields(last, *x->rag);
        if (!write(last)) return false;
        sink.done();
        return true;
      },
      [x](bool) { x->job->cancel(); });  // a no-op once the job has ended
}

void respond_whole(std::shared_ptr<Exchange> x, httplib::Response& res) {
  res.set_chunked_content_provider(
      "application/json; charset=utf-8",
      [x](size_t, httplib::DataSink& sink) -> bool {
        CollectedCompletion c = Scheduler::collect(*x->job, [&sink] { return sink.is_writable(); });
        const CompletionResult& r = c.result;
        if (r.finish == FinishReason::kCancelled) return false;  // the client left
        std::string body;
        if (r.finish == FinishReason::kError) {
          body = error_body(r.error).dump();
        } else {
          const Timings t = timings_from(r, x->load_ms, x->setup_ms);
          json j;
          if (x->chat) {
            ToolCallSplit split;
            if (x->tools) split = parse_tool_calls(c.text);
            else split.content = c.text;
            if (x->rag && split.calls.empty()) split.content += x->rag->footer;
            j = chat_final(x->name, now_rfc3339(),
                           final_message(split.content, ollama_tool_calls(split.calls)),
                           done_reason(r), t);
          } else {
            std::vector<int32_t> context;
            if (x->want_context) {
              context = x->prompt;
              for (const TokenLogprob& lp : c.logprobs) context.push_back(lp.id);
            }
            j = generate_final(x->name, now_rfc3339(), x->rag ? c.text + x->rag->footer : c.text,
                               done_reason(r), t, x->want_context ? &context : nullptr);
          }
          if (x->rag) add_rag_fields(j, *x->rag);
          body = j.dump(-1, ' ', false, json::error_handler_t::replace);
        }
        if (!sink.write(body.data(), body.size())) return false;
        sink.done();
        return true;
      },
      [x](bool) { x->job->cancel(); });
}

void start(ServerContext& ctx, std::shared_ptr<Exchange> x, const Options& options,
           std::shared_ptr<const sampling::Grammar> grammar, bool stream,
           const std::optional<std::chrono::milliseconds>& keep_alive, Clock::time_point t0,
           httplib::Response& res) {
  CompletionRequest cr = completion_request(ctx, x->prompt, options);
  cr.grammar = std::move(grammar);  // `format`
  // Token ids of the answer come with the logprobs events; only /api/generate's context
  // needs them.
  if (x->want_context) cr.top_logprobs = 0;
  x->job = submit(ctx, *x->model, std::move(cr), res);
  if (!x->job) return;
  apply_keep_alive(ctx, x->model->alias(), keep_alive);
  x->setup_ms = ms_since(t0) - x->load_ms;
  res.status = 200;
  if (stream)
    respond_streaming(std::move(x), res);
  else
    respond_whole(std::move(x), res);
}

// A `format` schema compiled again from the body text in key order (parsing validated it with
// keys sorted): the output follows the declared property order.
void order_format(const httplib::Request& req, Format format,
                  std::shared_ptr<const sampling::Grammar>& grammar) {
  if (format != Format::kSchema) return;
  const ordered_json body = ordered_json::parse(req.body, nullptr, false);
  if (body.is_object() && body.contains("format"))
    if (auto g = sampling::compile_json_schema(body["format"])) grammar = *g;
}

std::optional<json> parse_body(const httplib::Request& req, httplib::Response& res) {
  if (!json_nesting_within(req.body)) {
    send_error(res, 400, json_too_deep_message());
    return std::nullopt;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    send_error(res, 400, "invalid JSON in the request body");
    return std::nullopt;
  }
  if (!body.is_object()) {
    send_error(res, 400, "the request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

void handle_chat(OllamaState& st, const httplib::Request& req, httplib::Response& res) {
  if (st.ctx.route_hook && st.ctx.route_hook(req, res)) return;  // routed upstream (docs/router.md)
  const Clock::time_point t0 = Clock::now();
  std::optional<json> body = parse_body(req, res);
  if (!body) return;
  Result<ChatRequest> r = parse_chat_request(*body);
  if (!r) return send_error(res, 400, r.error().message);
  order_format(req, r->format, r->grammar);
  auto x = std::make_shared<Exchange>();
  x->name = r->model;
  std::optional<RagRequest> rag;  // model rag:<collection>, or a "rag" field
  std::string model = r->model;
  if (!resolve_rag(st.ctx, *body, model, rag, res)) return;
  x->model = acquire(st.ctx, model, res);
  if (!x->model) return;
  x->load_ms = ms_since(t0);
  if (r->messages.empty()) {
    // Ollama's way to load (or, with keep_alive 0, unload) a model.
    const bool unload = load_or_unload(st.ctx, x->model, r->keep_alive);
    json j = {{"model", r->model},
              {"created_at", now_rfc3339()},
              {"message", {{"role", "assistant"}, {"content", ""}}},
              {"done_reason", unload ? "unload" : "load"},
              {"done", true}};
    return send_json(res, j);
  }
  if (x->model->embedding_only()) return send_error(res, 400, embedding_only_message(*x->model));
  x->chat = true;
  x->tools = !r->tools.is_null();
  if (rag) {
    const auto render = [&](const std::string& sources) {
      return x->tools || r->has_tool_messages
                 ? x->model->render_chat_context(
                       tool_chat_context(x->model->template_source(), with_sources(r->messages, sources), r->tools))
                 : x->model->render_chat(with_sources(r->plain, sources));
    };
    if (!prepare_rag(st.ctx, *x, *rag, r->plain, r->options, render, res)) return;
    return start(st.ctx, std::move(x), r->options, r->grammar, r->stream, r->keep_alive, t0, res);
  }
  Result<std::vector<int32_t>> ids = x->tools || r->has_tool_messages
                                         ? render_with_tools(*x->model, *r)
                                         : x->model->render_chat(r->plain);
  if (!ids) return send_error(res, 400, ids.error().message);
  x->prompt = std::move(*ids);
  start(st.ctx, std::move(x), r->options, r->grammar, r->stream, r->keep_alive, t0, res);
}

void handle_generate(OllamaState& st, const httplib::Request& req, httplib::Response& res) {
  if (st.ctx.route_hook && st.ctx.route_hook(req, res)) return;  // routed upstream (docs/router.md)
  const Clock::time_point t0 = Clock::now();
  std::optional<json> body = parse_body(req, res);
  if (!body) return;
  Result<GenerateRequest> r = parse_generate_request(*body);
  if (!r) return send_error(res, 400, r.error().message);
  order_format(req, r->format, r->grammar);
  auto x = std::make_shared<Exchange>();
  x->name = r->model;
  std::optional<RagRequest> rag;  // model rag:<collection>, or a "rag" field
  std::string model = r->model;
  if (!resolve_rag(st.ctx, *body, model, rag, res)) return;
  x->model = acquire(st.ctx, model, res);
  if (!x->model) return;
  x->load_ms = ms_since(t0);
  if (r->prompt.empty() && r->context.empty()) {
    const bool unload = load_or_unload(st.ctx, x->model, r->keep_alive);
    json j = {{"model", r->model},
              {"created_at", now_rfc3339()},
              {"response", ""},
              {"done", true},
              {"done_reason", unload ? "unload" : "load"}};
    return send_json(res, j);
  }
  if (x->model->embedding_only()) return send_error(res, 400, embedding_only_message(*x->model));
  if (rag) {
    if (r->raw || !r->context.empty())
      return send_error(res, 400, "a RAG request needs a chat prompt: not \"raw\", no \"context\" (use /api/chat)");
    std::vector<chat::Message> messages;
    if (!r->system.empty()) messages.push_back({"system", r->system});
    messages.push_back({"user", r->prompt});
    const auto render = [&](const std::string& sources) { return x->model->render_chat(with_sources(messages, sources)); };
    if (!prepare_rag(st.ctx, *x, *rag, messages, r->options, render, res)) return;
    x->chat = false;
    return start(st.ctx, std::move(x), r->options, r->grammar, r->stream, r->keep_alive, t0, res);
  }
  std::vector<int32_t> ids;
  if (r->raw) {
    ids = x->model->tokenize_prompt(r->prompt);
  } else {
    std::vector<chat::Message> messages;
    if (!r->system.empty()) messages.push_back({"system", r->system});
    messages.push_back({"user", r->prompt});
    Result<std::vector<int32_t>> rendered = x->model->render_chat(messages);
    if (!rendered) return send_error(res, 400, rendered.error().message);
    ids = std::move(*rendered);
  }
  const tokenizer::Vocab& vocab = x->model->vocab();
  for (int32_t id : r->context) {
    if (!vocab.valid(id))
      return send_error(res, 400, "field \"context\" holds a token id outside the vocabulary");
  }
  if (!r->context.empty()) {
    // A continuation: the earlier exchange already starts with BOS.
    if (!ids.empty() && vocab.valid(vocab.bos()) && ids.front() == vocab.bos())
      ids.erase(ids.begin());
    ids.insert(ids.begin(), r->context.begin(), r->context.end());
  }
  if (ids.empty()) return send_error(res, 400, "the prompt is empty");
  x->chat = false;
  x->want_context = !r->raw;
  x->prompt = std::move(ids);
  start(st.ctx, std::move(x), r->options, r->grammar, r->stream, r->keep_alive, t0, res);
}

json model_json(OllamaState& st, const ModelEntry& e, ModelFacts* facts_out = nullptr) {
  ModelFacts facts = st.facts.get(e.path, e.file_bytes, e.modified);
  json j = {{"name", display_name(e.alias)},
            {"model", display_name(e.alias)},
            {"modified_at", rfc3339(e.modified)},
            {"size", e.file_bytes},
            {"digest", file_digest(e.path.string(), e.file_bytes, mtime_ns(e.modified))},
            {"details", details_json(facts)}};
  if (facts_out) *facts_out = std::move(facts);
  return j;
}

void handle_tags(OllamaState& st, httplib::Response& res) {
  json models = json::array();
  const std::vector<ModelEntry> entries = st.ctx.registry->list();
  for (const ModelEntry& e : entries) models.push_back(model_json(st, e));
  if (st.ctx.rag) {  // a collection, shown with the details of the chat model answering it
    for (const RagChat::Listing& l : st.ctx.rag->listings()) {
      for (const ModelEntry& e : entries) {
        if (e.alias != l.chat_model) continue;
        json j = model_json(st, e);
        j["name"] = j["model"] = l.name;
        models.push_back(std::move(j));
      }
    }
  }
  send_json(res, {{"models", models}});
}

void handle_ps(OllamaState& st, httplib::Response& res) {
  json models = json::array();
  for (const ModelEntry& e : st.ctx.registry->list()) {
    if (!e.loaded || !e.model) continue;
    json j = model_json(st, e);
    const SchedulerStats s = e.model->scheduler().stats();
    j.erase("modified_at");
    j["size"] = e.file_bytes + s.kv_bytes;
    j["size_vram"] = 0;  // CPU only
    j["expires_at"] = rfc3339(e.expires_at);
    j["context_length"] = s.n_ctx;
    models.push_back(std::move(j));
  }
  send_json(res, {{"models", models}});
}

void handle_show(OllamaState& st, const httplib::Request& req, httplib::Response& res) {
  std::optional<json> body = parse_body(req, res);
  if (!body) return;
  std::string name;
  for (const char* key : {"model", "name"}) {  // "name" is the older spelling
    if (auto it = body->find(key); it != body->end() && it->is_string()) {
      name = it->get<std::string>();
      break;
    }
  }
  if (name.empty()) return send_error(res, 400, "model is required");
  std::optional<ModelEntry> e = find_entry(*st.ctx.registry, name);
  if (!e && st.ctx.rag && name.starts_with(kRagModelPrefix)) {  // rag:<collection>: its chat model
    RagFailure f;
    if (Result<std::string> m = st.ctx.rag->chat_model_for(name.substr(kRagModelPrefix.size()), f))
      e = find_entry(*st.ctx.registry, *m);
  }
  if (!e) return send_error(res, 404, "model \"" + name + "\" not found");
  ModelFacts facts;
  json base = model_json(st, *e, &facts);
  // A loaded model knows the template it really uses (a built-in when the file has none).
  std::string tmpl = facts.chat_template;
  if (e->model && !e->model->template_source().empty()) tmpl = e->model->template_source();
  const RegistryOptions& ro = st.ctx.registry->options();
  int64_t n_ctx = ro.scheduler.n_ctx;
  for (const ModelSpec& s : ro.models)
    if (s.alias == e->alias && s.n_ctx > 0) n_ctx = s.n_ctx;
  if (n_ctx <= 0) n_ctx = std::min<int64_t>(4096, facts.context_length > 0 ? facts.context_length : 4096);
  if (e->model) n_ctx = e->model->scheduler().n_ctx();
  const std::string parameters = "num_ctx " + std::to_string(n_ctx);
  std::string modelfile = "# Modelfile generated by hearth\nFROM " + e->path.string() + "\n";
  if (!tmpl.empty()) modelfile += "TEMPLATE \"\"\"" + tmpl + "\"\"\"\n";
  modelfile += "PARAMETER " + parameters + "\n";
  // Ollama lists "embedding" for models with a pooling type (encoders), else "completion";
  // a decoder still answers /api/embed here (pooled hidden states).
  const bool encoder = facts.architecture == "bert";
  json capabilities = encoder ? json::array({"embedding"}) : json::array({"completion"});
  // Every decoder takes tools: its template renders them, or they go into the system prompt
  // (tool_calls.h tool_chat_context).
  if (!encoder) capabilities.push_back("tools");
  json j = {{"license", facts.license},
            {"modelfile", modelfile},
            {"parameters", parameters},
            {"template", tmpl},
            {"details", base["details"]},
            {"model_info", facts.model_info},
            {"capabilities", capabilities},
            {"modified_at", base["modified_at"]}};
  send_json(res, j);
}

// Ollama's pull for a model hearth already serves: the status lines Ollama writes for a model
// whose layers are all present (manifest, the weights layer complete, verify, write,
// success), or {"status": "success"} alone when not streamed. hearth downloads nothing here:
// any other name is a 404 naming `hearth pull`, which the clients raise as an error.
void handle_pull(OllamaState& st, const httplib::Request& req, httplib::Response& res) {
  std::optional<json> body = parse_body(req, res);
  if (!body) return;
  std::string name;
  for (const char* key : {"model", "name"}) {  // "name" is the older spelling
    if (auto it = body->find(key); it != body->end() && !it->is_null()) {
      if (!it->is_string()) return send_error(res, 400, std::string("field \"") + key + "\" must be a string");
      name = it->get<std::string>();
      break;
    }
  }
  if (name.empty()) return send_error(res, 400, "model is required");
  bool stream = true;
  if (auto it = body->find("stream"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean()) return send_error(res, 400, "field \"stream\" must be a boolean");
    stream = it->get<bool>();
  }
  std::optional<ModelEntry> e = find_entry(*st.ctx.registry, name);
  if (!e)
    return send_error(res, 404,
                      "pull model \"" + name + "\": hearth only serves the GGUF files it was started with " +
                          "(-m, --config, --models-dir); download one with `hearth pull REF --models-dir DIR`");
  if (!stream) return send_json(res, {{"status", "success"}});
  const std::string digest = "sha256:" + file_digest(e->path.string(), e->file_bytes, mtime_ns(e->modified));
  std::string lines = dump_line({{"status", "pulling manifest"}});
  lines += dump_line({{"status", "pulling " + digest.substr(7, 12)},
                      {"digest", digest},
                      {"total", e->file_bytes},
                      {"completed", e->file_bytes}});
  lines += dump_line({{"status", "verifying sha256 digest"}});
  lines += dump_line({{"status", "writing manifest"}});
  lines += dump_line({{"status", "success"}});
  res.status = 200;
  res.set_content(lines, "application/x-ndjson");
}

}  // namespace

void register_ollama_routes(httplib::Server& server, ServerContext& ctx) {
  // Lives as long as the handlers that capture it.
  auto st = std::make_shared<OllamaState>(ctx);
  server.Post("/api/chat", [st](const httplib::Request& req, httplib::Response& res) {
    handle_chat(*st, req, res);
  });
  server.Post("/api/generate", [st](const httplib::Request& req, httplib::Response& res) {
    handle_generate(*st, req, res);
  });
  server.Get("/api/tags", [st](const httplib::Request&, httplib::Response& res) {
    handle_tags(*st, res);
  });
  server.Get("/api/ps", [st](const httplib::Request&, httplib::Response& res) {
    handle_ps(*st, res);
  });
  server.Post("/api/show", [st](const httplib::Request& req, httplib::Response& res) {
    handle_show(*st, req, res);
  });
  server.Get("/api/version", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"version", ctx.version}});
  });
  const auto running = [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Ollama is running", "text/plain; charset=utf-8");
  };
  server.Get("/", running);
  // /api/embed and /api/embeddings: embeddings_api.cpp.
  const auto no_management = [](const httplib::Request& req, httplib::Response& res) {
    send_error(res, 501,
               "hearth serves the GGUF files it was started with; " + req.path +
                   " (model management) is not supported");
  };
  server.Post("/api/pull", [st](const httplib::Request& req, httplib::Response& res) {
    handle_pull(*st, req, res);
  });
  for (const char* path : {"/api/push", "/api/create", "/api/copy"})
    server.Post(path, no_management);
  server.Delete("/api/delete", no_management);
}

}  // namespace hearth::server
