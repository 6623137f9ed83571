// See policy.h.
#include "router/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hearth::router {
namespace {

const LocalBackend* default_local(const RouterConfig& c) {
  if (!c.route.local.empty()) return c.find_local(c.route.local);
  return c.locals.empty() ? nullptr : &c.locals.front();
}

const UpstreamBackend* default_upstream(const RouterConfig& c) {
  if (!c.route.upstream.empty()) return c.find_upstream(c.route.upstream);
  return c.upstreams.empty() ? nullptr : &c.upstreams.front();
}

RouteDecision to_local(const LocalBackend* l, std::string reason, bool pinned = false) {
  RouteDecision d;
  if (l) {
    d.backend = l->name;
    d.model = l->name;  // the registry knows a [[local]] model by its backend name
  }
  d.pinned = pinned;
  d.reason = std::move(reason);
  return d;
}

RouteDecision to_upstream(const UpstreamBackend& u, std::string model, std::string reason, bool pinned = false) {
  RouteDecision d;
  d.backend = u.name;
  d.upstream = true;
  d.pinned = pinned;
  d.model = model.empty() && !u.models.empty() ? u.models.front() : std::move(model);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

double estimate_local_seconds(const RouteConfig& route, const LocalBackend* local, int64_t prompt_chars,
                              int64_t max_tokens) {
  const double pp = local && local->prefill_tps > 0 ? local->prefill_tps : route.default_prefill_tps;
  const double tg = local && local->gen_tps > 0 ? local->gen_tps : route.default_gen_tps;
  const double prompt_tokens = std::ceil(double(std::max<int64_t>(prompt_chars, 0)) / route.chars_per_token);
  const double gen_tokens = double(max_tokens > 0 ? max_tokens : route.default_max_tokens);
  return prompt_tokens / pp + gen_tokens / tg;
}

RouteDecision decide_route(const RouterConfig& c, const RouteFacts& f, const Classifier& classifier) {
  // 1. pinned by name or alias
  for (const LocalBackend& l : c.locals)
    if (f.model == l.name || std::find(l.aliases.begin(), l.aliases.end(), f.model) != l.aliases.end())
      return to_local(&l, "alias", true);
  for (const UpstreamBackend& u : c.upstreams) {
    if (f.model == u.name) return to_upstream(u, "", "alias", true);
    if (std::find(u.models.begin(), u.models.end(), f.model) != u.models.end())
      return to_upstream(u, f.model, "alias", true);
  }
  const bool is_auto = f.model.empty() ||
                       std::find(c.route.auto_models.begin(), c.route.auto_models.end(), f.model) != c.route.auto_models.end();
  const LocalBackend* local = default_local(c);
  if (!is_auto) {
    // A name no backend claims: the local server answers it (a model of its own, or a 404).
    RouteDecision d = to_local(local, "unknown-model");
    d.model = f.model;
    return d;
  }
  const UpstreamBackend* up = default_upstream(c);
  // 2. cost
  const double est = estimate_local_seconds(c.route, local, f.prompt_chars, f.max_tokens);
  if (up && c.route.latency_budget_s > 0 && (est > c.route.latency_budget_s || !local)) {
    char reason[64];
    std::snprintf(reason, sizeof reason, "cost(est=%.1fs>%gs)", est, c.route.latency_budget_s);
    RouteDecision d = to_upstream(*up, "", reason);
    d.estimated_local_s = est;
    return d;
  }
  // 3. classifier
  if (classifier && !c.route.classifier.model.empty()) {
    if (std::optional<std::string> label = classifier(c.route.classifier, f.text)) {
      auto it = c.route.classifier.labels.find(*label);
      if (it != c.route.classifier.labels.end()) {
        RouteDecision d;
        if (const UpstreamBackend* u = c.find_upstream(it->second))
          d = to_upstream(*u, "", "classifier:" + *label);
        else
          d = to_local(c.find_local(it->second), "classifier:" + *label);
        d.estimated_local_s = est;
        return d;
      }
    }
  }
  // 4. default
  if (!local && up) return to_upstream(*up, "", "no-local");
  RouteDecision d = to_local(local, "default");
  d.estimated_local_s = est;
  return d;
}

std::string route_header(const RouteDecision& d) {
  return (d.backend.empty() ? std::string("local") : d.backend) + "; reason=" + d.reason;
}

}  // namespace hearth::router
