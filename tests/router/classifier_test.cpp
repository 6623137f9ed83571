// Rule "classifier" on a real local model: the synthetic llama (random weights, vocab 512), so
// what is checked is the mechanics — the prompt is built, one forward pass scores the labels'
// first tokens, the same request gets the same one of the configured labels, a threshold above
// the winner's share or an unloadable model is "no answer" and the policy falls through to its
// default. No sockets: safe under qemu.
#include "router/classifier.h"

#include <gtest/gtest.h>

#include "server/model_registry.h"
#include "test_data.h"

namespace hearth::router {
namespace {

std::filesystem::path synth_path() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

ClassifierConfig classifier_config() {
  ClassifierConfig c;
  c.model = "pi";
  c.prompt = "Answer short or long. Request: {input}\nAnswer:";
  c.labels = {{"short", "pi"}, {"long", "gpu"}};
  c.timeout_s = 60;  // generous: a loaded machine or qemu must not turn into a skipped rule
  return c;
}

RouterConfig router_config() {
  RouterConfig c;
  c.locals.push_back({.name = "pi", .model = synth_path()});
  c.upstreams.push_back({.name = "gpu", .url = "http://127.0.0.1:9/v1", .models = {"big"}});
  c.route.classifier = classifier_config();
  return c;
}

std::unique_ptr<server::ModelRegistry> make_registry() {
  server::RegistryOptions o;
  o.models.push_back({.alias = "pi", .path = synth_path()});
  o.scheduler.n_slots = 1;
  o.scheduler.n_ctx = 256;
  o.scheduler.n_threads = 1;
  o.check_ram = false;
  Result<std::unique_ptr<server::ModelRegistry>> r = server::ModelRegistry::create(o);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r ? std::move(*r) : nullptr;
}

TEST(RouterClassifier, PromptReplacesInputAndCutsAtACharacter) {
  ClassifierConfig c;
  c.prompt = "[{input}] and again [{input}]";
  c.max_chars = 4;
  EXPECT_EQ(classifier_prompt(c, "abcdef"), "[abcd] and again [abcd]");
  EXPECT_EQ(classifier_prompt(c, "ab\xc3\xa9z"), "[ab\xc3\xa9] and again [ab\xc3\xa9]");
  EXPECT_EQ(classifier_prompt(c, "a\xe2\x82\xac"), "[a\xe2\x82\xac] and again [a\xe2\x82\xac]");
  c.max_chars = 3;  // would split the euro sign
  EXPECT_EQ(classifier_prompt(c, "a\xe2\x82\xac"), "[a] and again [a]");
}

TEST(RouterClassifier, PickLabelByShareAndThreshold) {
  const std::map<std::string, std::set<int32_t>> tokens = {{"long", {7, 8}}, {"short", {3}}};
  const std::vector<std::pair<int32_t, float>> lp = {
      {3, std::log(0.2f)}, {7, std::log(0.1f)}, {8, std::log(0.2f)}, {9, std::log(0.5f)}};
  std::optional<LabelScore> s = pick_label(tokens, lp, 0);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label, "long");
  EXPECT_NEAR(s->probability, 0.3, 1e-6);
  EXPECT_NEAR(s->share, 0.6, 1e-6);
  EXPECT_TRUE(pick_label(tokens, lp, 0.6 - 1e-6));
  EXPECT_FALSE(pick_label(tokens, lp, 0.61));
  EXPECT_FALSE(pick_label(tokens, {{9, 0.0f}}, 0));  // no label token among the candidates
}

TEST(RouterClassifier, SynthModelPicksOneLabelDeterministically) {
  HEARTH_REQUIRE_FILE(synth_path());
  std::unique_ptr<server::ModelRegistry> registry = make_registry();
  ASSERT_TRUE(registry);
  std::string error;
  const auto tokens = label_first_tokens(registry->acquire("pi").model->vocab(), classifier_config(), &error);
  EXPECT_EQ(error, "");
  for (const auto& [label, ids] : tokens) EXPECT_FALSE(ids.empty()) << label;

  const Classifier classify = make_model_classifier(*registry);
  const std::optional<std::string> first = classify(classifier_config(), "Write a poem about the sea.");
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == "short" || *first == "long") << *first;
  EXPECT_EQ(classify(classifier_config(), "Write a poem about the sea."), first);

  // Through the policy: the label names the backend and the reason.
  const RouterConfig rc = router_config();
  RouteDecision d = decide_route(rc, {.model = "auto", .max_tokens = 4, .text = "Write a poem about the sea."}, classify);
  EXPECT_EQ(d.reason, "classifier:" + *first);
  EXPECT_EQ(d.backend, *first == "short" ? "pi" : "gpu");
}

TEST(RouterClassifier, NoAnswerFallsThroughToTheDefault) {
  HEARTH_REQUIRE_FILE(synth_path());
  std::unique_ptr<server::ModelRegistry> registry = make_registry();
  ASSERT_TRUE(registry);
  const Classifier classify = make_model_classifier(*registry);
  RouterConfig rc = router_config();
  // A share of 1 is out of reach with every token of the vocabulary a candidate.
  rc.route.classifier.threshold = 1.0;
  EXPECT_FALSE(classify(rc.route.classifier, "hello"));
  EXPECT_EQ(route_header(decide_route(rc, {.model = "auto", .max_tokens = 4, .text = "hello"}, classify)),
            "pi; reason=default");
  // A model the registry cannot load.
  rc.route.classifier.threshold = 0;
  rc.route.classifier.model = "absent";
  EXPECT_FALSE(classify(rc.route.classifier, "hello"));
  EXPECT_EQ(route_header(decide_route(rc, {.model = "auto", .max_tokens = 4, .text = "hello"}, classify)),
            "pi; reason=default");
  // Labels the vocabulary cannot tell apart (the same spelling twice).
  rc.route.classifier.model = "pi";
  rc.route.classifier.labels = {{"long", "gpu"}, {"long ", "pi"}};
  std::string error;
  label_first_tokens(registry->acquire("pi").model->vocab(), rc.route.classifier, &error);
  EXPECT_NE(error.find("same token"), std::string::npos) << error;
  EXPECT_FALSE(classify(rc.route.classifier, "hello"));
}

}  // namespace
}  // namespace hearth::router
