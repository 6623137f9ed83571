// See http_server.h.
//
// cpp-httplib comes from Debian as a compiled library built with OpenSSL support; that option
// only appends a field to httplib::Request (which the library alone constructs and destroys),
// so hearth includes the header without it and needs no OpenSSL headers.
#include "server/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/embeddings_api.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/ollama_api.h"
#include "server/openai_api.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

bool is_openai_path(const std::string& path) { return path.rfind("/v1/", 0) == 0 || path == "/v1"; }

// Errors on routes the handlers never reached: OpenAI's shape under /v1, Ollama's elsewhere.
void write_error(const httplib::Request& req, httplib::Response& res, int status,
                 const std::string& message, const std::string& type) {
  res.status = status;
  json body;
  if (is_openai_path(req.path)) {
    ApiError e;
    e.status = status;
    e.message = message;
    e.type = type;
    body = error_body(e);
  } else {
    body = {{"error", message}};
  }
  res.set_content(body.dump(), "application/json");
}

const char* default_message(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "invalid or missing API key";
    case 404: return "no such route";
    case 405: return "method not allowed";
    case 413: return "the request body is too large";
    case 414: return "the request URI is too long";
    case 500: return "internal server error";
    case 503: return "the server is unavailable";
    default: return "error";
  }
}

// Metric label for a path: known route families only, so stray URLs cannot grow the series.
std::string endpoint_label(const httplib::Request& req, int status) {
  if (status == 404 && req.matches.empty()) return "other";
  const std::string& p = req.path;
  if (p.size() > 40) return "other";
  if (p.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  if (p.rfind("/v1/", 0) == 0 || p.rfind("/api/", 0) == 0 || p == "/health" || p == "/metrics" ||
      p == "/")
    return p;
  return "other";
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const int ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, ms);
  return out;
}

// httplib handles a request on one thread from routing to logging and gives its handlers no
// per-request slot of their own; the start time rides in a thread_local, tagged with the
// request it belongs to (errors raised before routing have none).
struct RequestClock {
  const httplib::Request* request = nullptr;
  Clock::time_point start;
};
thread_local RequestClock t_request_clock;

}  // namespace

HttpServer::HttpServer(ServerContext& context)
    : ctx_(context), server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::create(ServerContext& ctx) {
  std::unique_ptr<HttpServer> hs(new HttpServer(ctx));
  httplib::Server& svr = *hs->server_;
  int threads = ctx.options.http_threads;
  if (threads <= 0) {
    int slots = 0, queue = 0;
    if (ctx.registry) {
      slots = ctx.registry->options().scheduler.n_slots;
      queue = ctx.registry->options().scheduler.max_queue;
    }
    // Every waiting client holds a thread; those beyond the queue need one to be told 429.
    threads = std::max(32, 2 * (slots + queue) + 8);
  }
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  svr.set_payload_max_length(ctx.options.max_body_bytes);
  svr.set_read_timeout(30);
  svr.set_write_timeout(30);
  svr.set_keep_alive_timeout(5);

  svr.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    t_request_clock = {&req, Clock::now()};
    if (req.path != "/health" && !ctx.options.api_keys.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      const bool ok = auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
                      std::find(ctx.options.api_keys.begin(), ctx.options.api_keys.end(),
                                auth.substr(kBearer.size())) != ctx.options.api_keys.end();
      if (!ok) {
        res.set_header("WWW-Authenticate", "Bearer");
        write_error(req, res, 401, "invalid or missing API key (Authorization: Bearer <key>)",
                    "invalid_request_error");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (ctx.draining.load() && req.path != "/health") {
      if (ctx.metrics) ctx.metrics->record_rejected("draining");
      res.set_header("Retry-After", "5");
      write_error(req, res, 503, "the server is shutting down", "server_error");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string type = res.status >= 500 ? "server_error" : "invalid_request_error";
    write_error(req, res, res.status, default_message(res.status), type);
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal server error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal server error: ") + e.what();
    } catch (...) {
    }
    write_error(req, res, 500, what, "server_error");
  });

  svr.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
    double ms = -1;
    if (t_request_clock.request == &req)
      ms = std::chrono::duration<double, std::milli>(Clock::now() - t_request_clock.start).count();
    t_request_clock = {};
    if (ctx.metrics) ctx.metrics->record_request(endpoint_label(req, res.status), res.status, ms < 0 ? 0 : ms / 1000);
    if (!ctx.options.access_log) return;
    json line = {{"time", utc_now()},
                 {"remote", req.remote_addr},
                 {"method", req.method},
                 {"path", req.path},
                 {"status", res.status},
                 {"ms", ms < 0 ? json(nullptr) : json(std::round(ms * 10) / 10)},
                 {"bytes_in", req.body.size()},
                 {"user_agent", req.get_header_value("User-Agent")}};
    const std::string s = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::fwrite(s.data(), 1, s.size(), stderr);
  });

  svr.Get("/health", [&ctx](const httplib::Request&, httplib::Response& res) {
    std::string status = "ok";
    if (ctx.draining.load())
      status = "draining";
    else if (!ctx.registry || ctx.preloading.load() || ctx.registry->loading() ||
             !ctx.registry->can_serve())
      status = "loading";
    res.status = status == "ok" ? 200 : 503;
    res.set_content(json{{"status", status}}.dump(), "application/json");
  });
  svr.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    if (!ctx.metrics) {
      res.status = 404;
      return;
    }
    res.set_content(ctx.metrics->render(), kPrometheusContentType);
  });
  register_openai_routes(svr, ctx);
  register_ollama_routes(svr, ctx);
  register_embedding_routes(svr, ctx);

  if (ctx.options.port == 0) {
    hs->port_ = svr.bind_to_any_port(ctx.options.host);
    if (hs->port_ <= 0) return Error{"cannot listen on " + ctx.options.host + " (any port)"};
  } else {
    if (!svr.bind_to_port(ctx.options.host, ctx.options.port))
      return Error{"cannot listen on " + ctx.options.host + ":" + std::to_string(ctx.options.port) +
                   " (in use, or not an address of this machine)"};
    hs->port_ = ctx.options.port;
  }
  return hs;
}

bool HttpServer::run() { return server_->listen_after_bind(); }

void HttpServer::stop() { server_->stop(); }

void HttpServer::drain_and_stop() {
  ctx_.draining.store(true);
  const auto busy = [&] {
    if (!ctx_.registry) return false;
    for (const auto& m : ctx_.registry->loaded())
      if (m->scheduler().active() > 0) return true;
    return false;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(std::max(0, ctx_.options.drain_seconds));
  while (busy() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Past the deadline, what still runs is cancelled: its handlers end their responses.
  if (ctx_.registry) ctx_.registry->cancel_all();
  // Let the handlers write their last bytes before the listener and its threads go.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->stop();
}

}  // namespace hearth::server
