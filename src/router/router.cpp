// See router.h.
#include "router/router.h"

#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "router/http_client.h"
#include "router/translate.h"
#include "server/json_limits.h"
#include "server/metrics.h"

namespace hearth::router {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

enum class Api { kOpenAiChat, kOpenAiCompletions, kOllamaChat, kOllamaGenerate, kNone };

Api api_of(const httplib::Request& req) {
  if (req.method != "POST") return Api::kNone;
  if (req.path == "/v1/chat/completions") return Api::kOpenAiChat;
  if (req.path == "/v1/completions") return Api::kOpenAiCompletions;
  if (req.path == "/api/chat") return Api::kOllamaChat;
  if (req.path == "/api/generate") return Api::kOllamaGenerate;
  return Api::kNone;
}

bool is_ollama(Api a) { return a == Api::kOllamaChat || a == Api::kOllamaGenerate; }

int64_t text_chars(const json& content) {
  if (content.is_string()) return int64_t(content.get_ref<const std::string&>().size());
  int64_t n = 0;
  if (!content.is_array()) return n;
  for (const json& part : content) {
    if (part.is_object() && part.contains("text") && part["text"].is_string())
      n += int64_t(part["text"].get_ref<const std::string&>().size());
    else if (part.is_string())
      n += int64_t(part.get_ref<const std::string&>().size());
  }
  return n;
}

std::string text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string s;
  if (content.is_array())
    for (const json& part : content)
      if (part.is_object() && part.contains("text") && part["text"].is_string()) s += part["text"].get<std::string>();
  return s;
}

RouteFacts gather_facts(Api api, const json& body) {
  RouteFacts f;
  if (body.contains("model") && body["model"].is_string()) f.model = body["model"];
  if (body.contains("messages") && body["messages"].is_array()) {
    for (const json& m : body["messages"]) {
      if (!m.is_object() || !m.contains("content")) continue;
      f.prompt_chars += text_chars(m["content"]) + 8;  // + the template's per-message framing
      if (m.value("role", "") == "user") f.text = text_of(m["content"]);
    }
  }
  if (body.contains("prompt")) {
    f.prompt_chars += text_chars(body["prompt"]);
    f.text = text_of(body["prompt"]);
  }
  if (body.contains("system") && body["system"].is_string()) f.prompt_chars += text_chars(body["system"]);
  if (is_ollama(api)) {
    if (body.contains("options") && body["options"].is_object() && body["options"].contains("num_predict") &&
        body["options"]["num_predict"].is_number_integer())
      f.max_tokens = body["options"]["num_predict"];
  } else {
    for (const char* k : {"max_completion_tokens", "max_tokens"})
      if (body.contains(k) && body[k].is_number_integer()) f.max_tokens = body[k];
  }
  return f;
}

void write_error(Api api, httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  json body;
  if (is_ollama(api))
    body = {{"error", message}};
  else
    body = {{"error", {{"message", message}, {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                       {"param", nullptr}, {"code", nullptr}}}};
  res.set_content(body.dump(), "application/json");
}

// The upstream's part of one forwarded request: ends it (for the idle clock and the circuit
// breaker) when the last owner lets go, which for a stream is httplib dropping the provider.
// Its duration goes to /metrics once it answered (a fallback is counted as such instead).
struct Forward {
  std::shared_ptr<Upstream> upstream;
  bool ok = false;
  bool committed = false;  // this upstream's answer reached the client
  server::Histogram* seconds = nullptr;
  Clock::time_point start = Clock::now();
  explicit Forward(std::shared_ptr<Upstream> u) : upstream(std::move(u)) { upstream->begin_request(); }
  ~Forward() {
    upstream->end_request(ok);
    if (seconds && committed) seconds->observe(std::chrono::duration<double>(Clock::now() - start).count());
  }
  Forward(const Forward&) = delete;
  Forward& operator=(const Forward&) = delete;
};

}  // namespace

std::string reason_rule(const std::string& reason) {
  const size_t cut = reason.find_first_of("(:");
  return cut == std::string::npos ? reason : reason.substr(0, cut);
}

std::unique_ptr<Router> Router::create(RouterConfig config, server::MetricsRegistry* metrics) {
  std::unique_ptr<Router> r(new Router(metrics));
  r->reload(std::move(config));
  r->monitor_ = std::thread([p = r.get()] { p->monitor(); });
  return r;
}

Router::~Router() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

void Router::reload(RouterConfig config) {
  auto next = std::make_shared<RouterState>();
  std::shared_ptr<const RouterState> prev = state_.load();
  for (const UpstreamBackend& u : config.upstreams) {
    std::shared_ptr<Upstream> keep;
    if (prev)
      if (auto it = prev->upstreams.find(u.name); it != prev->upstreams.end() && it->second->config() == u)
        keep = it->second;
    next->upstreams[u.name] = keep ? keep : std::make_shared<Upstream>(u, metrics_);
  }
  next->config = std::move(config);
  state_.store(std::move(next));
}

void Router::set_classifier(Classifier classifier) {
  std::lock_guard<std::mutex> lock(classifier_mu_);
  classifier_ = classifier ? std::make_shared<const Classifier>(std::move(classifier)) : nullptr;
}

void Router::count(const std::string& backend, const std::string& rule) {
  if (!metrics_) return;
  metrics_->counter("hearth_router_requests_total", "Completion requests by the backend and the rule that chose it",
                    {{"backend", backend}, {"rule", rule}})
      .inc();
}

void Router::count_fallback(const std::string& upstream, const std::string& cause) {
  if (!metrics_) return;
  metrics_->counter("hearth_router_fallbacks_total", "Requests meant for an upstream that the local model answered",
                    {{"upstream", upstream}, {"cause", cause}})
      .inc();
}

void Router::monitor() {
  std::set<std::string> discovered;
  std::shared_ptr<const RouterState> seen;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    std::shared_ptr<const RouterState> st = state_.load();
    if (st != seen) discovered.clear();
    for (const auto& [name, up] : st->upstreams) up->tick();
    // discover = true: the upstream's model list joins its names once it is reachable.
    for (const UpstreamBackend& u : st->config.upstreams) {
      if (!u.discover || discovered.count(u.name)) continue;
      const std::shared_ptr<Upstream> up = st->upstreams.at(u.name);
      if (up->stats().state != UpstreamState::kUp && !up->check_health()) continue;
      HttpTimeouts t{u.health_timeout_s, u.health_timeout_s};
      Result<std::unique_ptr<HttpConnection>> c =
          HttpConnection::request(up->url(), "GET", up->url().path + "/models", up->auth_headers(), "", t);
      if (!c || (*c)->status() != 200) continue;
      Result<std::string> body = (*c)->read_all(4u << 20);
      if (!body) continue;
      json j = json::parse(*body, nullptr, false);
      discovered.insert(u.name);
      if (j.is_discarded() || !j.contains("data") || !j["data"].is_array()) continue;
      RouterConfig cfg = st->config;
      std::set<std::string> taken;
      for (const LocalBackend& l : cfg.locals) {
        taken.insert(l.name);
        taken.insert(l.aliases.begin(), l.aliases.end());
      }
      for (const UpstreamBackend& o : cfg.upstreams) {
        taken.insert(o.name);
        taken.insert(o.models.begin(), o.models.end());
      }
      size_t n_models = 0;
      for (UpstreamBackend& o : cfg.upstreams) {
        if (o.name != u.name) continue;
        for (const json& m : j["data"])
          if (m.is_object() && m.contains("id") && m["id"].is_string() && !taken.count(m["id"]))
            o.models.push_back(m["id"]);
        n_models = o.models.size();
      }
      auto next = std::make_shared<RouterState>(*st);
      next->config = std::move(cfg);
      // The same Upstream objects: only the names clients may use changed.
      std::fprintf(stderr, "hearth router: upstream %s serves %zu models\n", u.name.c_str(), n_models);
      state_.store(next);
      st = next;
      break;  // `u` belonged to the previous state; the next tick looks at the others
    }
    seen = st;
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stop_; });
  }
}

bool Router::handle(const httplib::Request& req, httplib::Response& res) {
  const Api api = api_of(req);
  if (api == Api::kNone) return false;
  std::shared_ptr<const RouterState> st = state_.load();
  if (!st || (st->config.upstreams.empty() && st->config.locals.empty())) return false;
  if (!server::json_nesting_within(req.body)) return false;  // the local handler explains the error
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return false;  // the local handler explains the error

  std::shared_ptr<const Classifier> classifier;
  {
    std::lock_guard<std::mutex> lock(classifier_mu_);
    classifier = classifier_;
  }
  const RouteFacts facts = gather_facts(api, body);
  RouteDecision d = decide_route(st->config, facts, classifier ? *classifier : Classifier{});

  // Local: the handler that follows answers; it only needs the model name it knows.
  auto go_local = [&](const RouteDecision& local) {
    if (!local.model.empty() && local.model != facts.model) {
      body["model"] = local.model;
      // httplib hands handlers a const view of a Request it owns and never reads again after
      // routing; rewriting the body here is how the router renames the model for the handler.
      const_cast<httplib::Request&>(req).body = body.dump();
    }
    res.set_header("X-Hearth-Route", route_header(local));
    std::fprintf(stderr, "hearth router: %s model=%s -> %s\n", req.path.c_str(), facts.model.c_str(),
                 route_header(local).c_str());
    count(local.backend.empty() ? "local" : local.backend, reason_rule(local.reason));
    return false;
  };
  if (!d.upstream) return go_local(d);

  const std::shared_ptr<Upstream> up = st->upstreams.at(d.backend);
  const UpstreamBackend& uc = up->config();
  const LocalBackend* local = nullptr;
  if (!st->config.route.local.empty())
    local = st->config.find_local(st->config.route.local);
  else if (!st->config.locals.empty())
    local = &st->config.locals.front();
  auto fall_back = [&](const std::string& cause, const std::string& detail) {
    std::fprintf(stderr, "hearth router: upstream %s: %s%s%s\n", d.backend.c_str(), cause.c_str(),
                 detail.empty() ? "" : ": ", detail.c_str());
    if (d.pinned) {
      res.set_header("X-Hearth-Route", d.backend + "; reason=" + cause);
      res.set_header("Retry-After", "30");
      write_error(api, res, 503, "upstream '" + d.backend + "' is unavailable (" + cause + ")" +
                                     (detail.empty() ? "" : ": " + detail));
      count(d.backend, "unavailable");
      return true;
    }
    count_fallback(d.backend, cause);
    RouteDecision l;
    if (local) {
      l.backend = local->name;
      l.model = local->name;
    } else {
      l.backend = "local";
      l.model = facts.model;
    }
    l.reason = "fallback:" + cause;
    return go_local(l);
  };

  const bool hold = d.pinned || !uc.wake || uc.wake->policy == WakePolicy::kHold;
  const Readiness ready = up->prepare(hold);
  if (ready != Readiness::kReady) return fall_back(readiness_reason(ready), "");

  // Forward.
  auto fwd = std::make_shared<Forward>(up);
  std::string path, payload;
  bool stream = false;
  if (is_ollama(api)) {
    Result<TranslatedRequest> t = ollama_to_openai(body, api == Api::kOllamaGenerate, d.model);
    if (!t) {
      fwd->ok = true;  // the client's mistake, not the upstream's
      write_error(api, res, 400, t.error().message);
      return true;
    }
    path = up->url().path + t->path;
    payload = t->body.dump();
    stream = t->stream;
  } else {
    body["model"] = d.model;
    path = up->url().path + (api == Api::kOpenAiChat ? "/chat/completions" : "/completions");
    stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
    payload = body.dump();
  }
  HttpHeaders headers = up->auth_headers();
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
  const HttpTimeouts timeouts{std::min(uc.health_timeout_s * 2, uc.timeout_s), uc.timeout_s};
  Result<std::unique_ptr<HttpConnection>> conn = HttpConnection::request(up->url(), "POST", path, headers, payload, timeouts);
  if (!conn) return fall_back("upstream-error", conn.error().message);
  if ((*conn)->status() >= 500) return fall_back("upstream-" + std::to_string((*conn)->status()), "");

  // Called once this upstream's answer is certain (a fallback may still happen before).
  auto commit = [&] {
    const std::string route = route_header(d);
    res.set_header("X-Hearth-Route", route);
    std::fprintf(stderr, "hearth router: %s model=%s -> %s\n", req.path.c_str(), facts.model.c_str(), route.c_str());
    count(d.backend, reason_rule(d.reason));
    fwd->committed = true;
    if (metrics_) {
      // Per backend and rule: how long the upstream took to its first event (streams) or whole
      // answer, and (in ~Forward) to the end of the answer, the relay included.
      const server::Labels labels = {{"backend", d.backend}, {"rule", reason_rule(d.reason)}};
      metrics_->histogram("hearth_router_upstream_first_event_seconds",
                          "Forwarded request to the upstream's first event (or whole non-streamed answer)",
                          server::ttft_buckets(), labels)
          .observe(std::chrono::duration<double>(Clock::now() - fwd->start).count());
      fwd->seconds = &metrics_->histogram("hearth_router_upstream_request_seconds",
                                          "Forwarded request to the end of the upstream's answer",
                                          server::duration_buckets(), labels);
    }
  };
  const std::string model_echo = facts.model.empty() ? d.model : facts.model;
  server::Counter* tokens_prompt = nullptr;
  server::Counter* tokens_completion = nullptr;
  if (metrics_) {
    tokens_prompt = &metrics_->counter("hearth_router_upstream_tokens_total", "Tokens the upstreams reported",
                                       {{"backend", d.backend}, {"kind", "prompt"}});
    tokens_completion = &metrics_->counter("hearth_router_upstream_tokens_total", "Tokens the upstreams reported",
                                           {{"backend", d.backend}, {"kind", "completion"}});
  }

  if ((*conn)->status() >= 400 || !stream) {
    Result<std::string> answer = (*conn)->read_all();
    if (!answer) return fall_back("upstream-error", answer.error().message);
    const int status = (*conn)->status();
    fwd->ok = true;
    commit();
    const double seconds = std::chrono::duration<double>(Clock::now() - fwd->start).count();
    json j = json::parse(*answer, nullptr, false);
    if (status < 400 && !j.is_discarded() && j.contains("usage") && j["usage"].is_object() && tokens_prompt) {
      tokens_prompt->inc(double(j["usage"].value("prompt_tokens", 0)));
      tokens_completion->inc(double(j["usage"].value("completion_tokens", 0)));
    }
    res.status = status;
    if (!is_ollama(api)) {
      const std::string type = (*conn)->header("Content-Type");
      res.set_content(*answer, type.empty() ? "application/json" : type);
    } else if (status >= 400) {
      std::string message = "upstream error " + std::to_string(status);
      if (!j.is_discarded() && j.contains("error") && j["error"].is_object()) message = j["error"].value("message", message);
      write_error(api, res, status, message);
    } else if (j.is_discarded()) {
      write_error(api, res, 502, "the upstream's answer is not JSON");
    } else {
      res.set_content(openai_to_ollama(j, model_echo, api == Api::kOllamaGenerate, seconds).dump(), "application/json");
    }
    return true;
  }

  // Streaming: wait for the first complete event before committing to this upstream, so a
  // failure before any token was sent still falls back.
  struct Relay {
    std::shared_ptr<Forward> fwd;
    std::unique_ptr<HttpConnection> conn;
    std::string pending;
    std::optional<SseToNdjson> ndjson;  // Ollama clients
    SseToNdjson counter{"", false};     // usage and token counts, for /metrics
    server::Counter* tokens_prompt = nullptr;
    server::Counter* tokens_completion = nullptr;
    std::string upstream_name;
    ~Relay() {
      if (tokens_prompt) {
        tokens_prompt->inc(double(counter.tokens_prompt()));
        tokens_completion->inc(double(counter.tokens_completion()));
      }
    }
  };
  auto relay = std::make_shared<Relay>();
  relay->fwd = fwd;
  relay->conn = std::move(*conn);
  relay->tokens_prompt = tokens_prompt;
  relay->tokens_completion = tokens_completion;
  relay->upstream_name = d.backend;
  for (;;) {
    Result<bool> more = relay->conn->read_some(relay->pending);
    if (!more) return fall_back("upstream-error", more.error().message);
    if (!*more) {
      if (relay->pending.empty()) return fall_back("upstream-error", "empty stream");
      break;
    }
    std::string scratch = relay->pending;
    if (!take_sse_events(scratch).empty()) break;
  }
  commit();
  if (is_ollama(api)) relay->ndjson.emplace(model_echo, api == Api::kOllamaGenerate);
  const std::string type = is_ollama(api) ? "application/x-ndjson" : "text/event-stream";
  res.set_chunked_content_provider(type, [relay, api](size_t, httplib::DataSink& sink) {
    auto translate = [&](const std::string& bytes) {
      relay->counter.feed(bytes);
      return relay->ndjson ? relay->ndjson->feed(bytes) : bytes;
    };
    std::string out = translate(relay->pending);
    relay->pending.clear();
    if (!out.empty() && !sink.write(out.data(), out.size())) {
      relay->fwd->ok = true;  // the client left; the upstream did nothing wrong
      return false;
    }
    for (;;) {
      std::string piece;
      Result<bool> more = relay->conn->read_some(piece);
      if (!more) {
        // Tokens were sent already: the stream ends with an error the client can see.
        std::fprintf(stderr, "hearth router: upstream %s broke mid-stream: %s\n", relay->upstream_name.c_str(),
                     more.error().message.c_str());
        json err = {{"error", {{"message", "upstream failed mid-stream: " + more.error().message}, {"type", "server_error"}}}};
        const std::string e = is_ollama(api) ? json{{"error", "upstream failed mid-stream: " + more.error().message}}.dump() + "\n"
                                             : "data: " + err.dump() + "\n\n";
        sink.write(e.data(), e.size());
        sink.done();
        return true;
      }
      if (!*more) break;
      out = translate(piece);
      if (!out.empty() && !sink.write(out.data(), out.size())) {
        relay->fwd->ok = true;
        return false;
      }
    }
    if (relay->ndjson) {
      out = relay->ndjson->finish();
      if (!out.empty()) sink.write(out.data(), out.size());
    }
    relay->fwd->ok = true;
    sink.done();
    return true;
  });
  return true;
}

}  // namespace hearth::router
