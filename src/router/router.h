// The front door's router: for each completion request (OpenAI /v1/chat/completions and
// /v1/completions, Ollama /api/chat and /api/generate) it decides local or upstream (policy.h),
// readies the upstream (upstream.h: health, wake, circuit), and either proxies the request —
// streaming passed through piece by piece, Ollama translated to OpenAI (translate.h) — or lets
// the local handler answer, with the model name rewritten to the local backend's.
//
// The configuration is a RouterState published through an atomic shared_ptr: reload() (SIGHUP)
// swaps it, and requests in flight keep the snapshot they started with. Upstreams whose settings
// did not change keep their state (health, circuit, idle clock) across a reload.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "router/policy.h"
#include "router/router_config.h"
#include "router/upstream.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hearth::server {
class MetricsRegistry;
}

namespace hearth::router {

struct RouterState {
  RouterConfig config;
  std::map<std::string, std::shared_ptr<Upstream>, std::less<>> upstreams;  // by backend name
};

class Router {
 public:
  // `metrics` may be null; it must outlive the router. Starts the monitor thread (idle sleep).
  static std::unique_ptr<Router> create(RouterConfig config, server::MetricsRegistry* metrics);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void reload(RouterConfig config);
  std::shared_ptr<const RouterState> state() const { return state_.load(); }
  void set_classifier(Classifier classifier);

  // Called first by each completion handler. True: the response is written (proxied upstream,
  // or an error such as 503 for a pinned upstream that is away). False: the local handler
  // answers; the request's model may have been rewritten to the local backend's name and the
  // X-Hearth-Route header is set.
  bool handle(const httplib::Request& req, httplib::Response& res);

 private:
  Router(server::MetricsRegistry* metrics) : metrics_(metrics) {}
  void monitor();
  void count(const std::string& backend, const std::string& rule);
  void count_fallback(const std::string& upstream, const std::string& cause);

  server::MetricsRegistry* metrics_;
  std::atomic<std::shared_ptr<const RouterState>> state_;
  std::mutex classifier_mu_;
  std::shared_ptr<const Classifier> classifier_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread monitor_;
};

// The rule a reason names, for bounded metric labels: "cost(est=…)" → "cost".
std::string reason_rule(const std::string& reason);

}  // namespace hearth::router
