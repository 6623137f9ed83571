// The routing decision for one request, as a pure function of the configuration and the
// request's facts (the proxy gathers them; tests call it directly). Rules, in order:
//   1. the model names a backend or one of its aliases → that backend (reason=alias);
//      a model name of neither kind and not an auto name → the local default (reason=unknown-model)
//   2. unpinned (model "", or one of [route] auto_models): estimated local time — prompt tokens ÷
//      prefill rate + max_tokens ÷ generation rate — above latency_budget_s → upstream (reason=cost)
//   3. the classifier's label, when one is configured and answered (reason=classifier:<label>)
//   4. otherwise the local default (reason=default)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "router/router_config.h"

namespace hearth::router {

struct RouteFacts {
  std::string model;           // as the client wrote it
  int64_t prompt_chars = 0;    // characters of all messages / the prompt
  int64_t max_tokens = -1;     // < 0: not given
  std::string text;            // the last user text (for the classifier)
};

struct RouteDecision {
  std::string backend;         // a backend name; "" : none configured
  bool upstream = false;
  bool pinned = false;         // the client named this backend (no fallback elsewhere)
  std::string model;           // the model name to send the backend
  std::string reason;          // for X-Hearth-Route and the log
  double estimated_local_s = -1;
};

// Returns the label of `text` under `config` (the snapshot the request routes with), or nullopt
// (no answer: the rule is skipped).
using Classifier = std::function<std::optional<std::string>(const ClassifierConfig& config, const std::string& text)>;

RouteDecision decide_route(const RouterConfig& config, const RouteFacts& facts, const Classifier& classifier = {});

// The estimated local time of a request on `local` (seconds).
double estimate_local_seconds(const RouteConfig& route, const LocalBackend* local, int64_t prompt_chars,
                              int64_t max_tokens);

// "<backend>; reason=<reason>" (the X-Hearth-Route header value).
std::string route_header(const RouteDecision& d);

}  // namespace hearth::router
