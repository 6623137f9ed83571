#include "router/policy.h"

#include <gtest/gtest.h>

namespace hearth::router {
namespace {

RouterConfig config() {
  Result<RouterConfig> c = parse_router_config(R"(
[[local]]
name = "pi"
model = "/m/pi.gguf"
alias = ["fast"]
prefill_tps = 100
gen_tps = 10
[[upstream]]
name = "gpu"
url = "http://127.0.0.1:9/v1"
models = ["smart", "llama3.1-8b"]
[route]
latency_budget_s = 20
)",
                                               "t.toml");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

TEST(RoutePolicy, PinnedByAlias) {
  const RouterConfig c = config();
  RouteDecision d = decide_route(c, {.model = "fast", .prompt_chars = 1 << 20});
  EXPECT_EQ(d.backend, "pi");
  EXPECT_FALSE(d.upstream);
  EXPECT_TRUE(d.pinned);
  EXPECT_EQ(d.model, "pi");
  EXPECT_EQ(route_header(d), "pi; reason=alias");

  d = decide_route(c, {.model = "llama3.1-8b"});
  EXPECT_EQ(d.backend, "gpu");
  EXPECT_TRUE(d.upstream);
  EXPECT_TRUE(d.pinned);
  EXPECT_EQ(d.model, "llama3.1-8b");
  d = decide_route(c, {.model = "gpu"});
  EXPECT_EQ(d.model, "smart");  // the backend's name: its first model
}

TEST(RoutePolicy, CostAboveTheBudgetGoesUpstream) {
  const RouterConfig c = config();
  // 400 chars = 100 tokens / 100 tok/s = 1 s; 100 tokens / 10 tok/s = 10 s: 11 s < 20 s.
  RouteDecision d = decide_route(c, {.model = "auto", .prompt_chars = 400, .max_tokens = 100});
  EXPECT_EQ(d.backend, "pi");
  EXPECT_EQ(d.reason, "default");
  EXPECT_DOUBLE_EQ(d.estimated_local_s, 11);
  // 250 generated tokens: 1 + 25 = 26 s > 20 s.
  d = decide_route(c, {.model = "", .prompt_chars = 400, .max_tokens = 250});
  EXPECT_EQ(d.backend, "gpu");
  EXPECT_TRUE(d.upstream);
  EXPECT_FALSE(d.pinned);
  EXPECT_EQ(d.model, "smart");
  EXPECT_EQ(route_header(d), "gpu; reason=cost(est=26.0s>20s)");
  // A long prompt alone: 8000 chars = 2000 tokens = 20 s + default 256 / 10.
  d = decide_route(c, {.model = "auto", .prompt_chars = 8000});
  EXPECT_EQ(d.backend, "gpu");
}

TEST(RoutePolicy, DefaultRatesWithoutBench) {
  RouterConfig c = config();
  c.locals[0].prefill_tps = 0;
  c.locals[0].gen_tps = 0;
  EXPECT_DOUBLE_EQ(estimate_local_seconds(c.route, &c.locals[0], 80, 10), 20.0 / 20 + 10.0 / 5);
}

TEST(RoutePolicy, ClassifierLabelPicksTheBackend) {
  RouterConfig c = config();
  c.route.classifier.model = "pi";
  c.route.classifier.prompt = "{input}";
  c.route.classifier.labels = {{"code", "gpu"}, {"lookup", "pi"}};
  Classifier cls = [](const ClassifierConfig&, const std::string& text) -> std::optional<std::string> {
    if (text.find("def ") != std::string::npos) return "code";
    if (text == "?") return std::nullopt;
    return "lookup";
  };
  RouteDecision d = decide_route(c, {.model = "auto", .max_tokens = 10, .text = "def f(): pass"}, cls);
  EXPECT_EQ(route_header(d), "gpu; reason=classifier:code");
  d = decide_route(c, {.model = "auto", .max_tokens = 10, .text = "capital of France"}, cls);
  EXPECT_EQ(route_header(d), "pi; reason=classifier:lookup");
  d = decide_route(c, {.model = "auto", .max_tokens = 10, .text = "?"}, cls);
  EXPECT_EQ(route_header(d), "pi; reason=default");
  // Cost comes first.
  d = decide_route(c, {.model = "auto", .max_tokens = 1000, .text = "capital of France"}, cls);
  EXPECT_EQ(d.backend, "gpu");
  EXPECT_EQ(d.reason.rfind("cost", 0), 0u);
}

TEST(RoutePolicy, UnknownModelsStayLocal) {
  const RouterConfig c = config();
  RouteDecision d = decide_route(c, {.model = "tinyllama", .max_tokens = 5000});
  EXPECT_EQ(d.backend, "pi");
  EXPECT_EQ(d.model, "tinyllama");
  EXPECT_EQ(d.reason, "unknown-model");
}

TEST(RoutePolicy, NoBudgetNoCostRule) {
  RouterConfig c = config();
  c.route.latency_budget_s = 0;
  EXPECT_EQ(decide_route(c, {.model = "auto", .max_tokens = 100000}).backend, "pi");
}

}  // namespace
}  // namespace hearth::router
