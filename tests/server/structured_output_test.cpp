// Structured output in the server: response_format parsing (OpenAI) and, on the synthetic
// random-weight model through the continuous-batching scheduler, that every answer sampled
// under a schema parses and has its required keys — concurrent slots each with their own
// grammar state. Small (a few dozen tokens per request) so it stays quick under qemu.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "sampling/json_schema.h"
#include "server/openai_api.h"
#include "server/scheduler.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;

json chat_body() { return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

TEST(OpenAiResponseFormat, ParsesEveryForm) {
  ApiError e;
  json b = chat_body();
  Result<OpenAiRequest> none = parse_openai_request(b, true, e);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->grammar, nullptr);
  b["response_format"] = {{"type", "text"}};
  EXPECT_EQ(parse_openai_request(b, true, e)->grammar, nullptr);
  b["response_format"] = {{"type", "json_object"}};
  EXPECT_NE(parse_openai_request(b, true, e)->grammar, nullptr);
  b["response_format"] = {{"type", "json_schema"},
                          {"json_schema",
                           {{"name", "light"},
                            {"strict", true},
                            {"schema", {{"type", "object"}, {"properties", {{"on", {{"type", "boolean"}}}}}}}}}};
  EXPECT_NE(parse_openai_request(b, true, e)->grammar, nullptr);
  json c = {{"prompt", "x"}, {"response_format", {{"type", "json_object"}}}};
  EXPECT_NE(parse_openai_request(c, false, e)->grammar, nullptr);  // /v1/completions too
}

TEST(OpenAiResponseFormat, ErrorsNameTheField) {
  const std::pair<json, std::string> bad[] = {
      {"json", "response_format"},
      {{{"type", "yaml"}}, "response_format.type"},
      {{{"type", "json_schema"}}, "response_format.json_schema"},
      {{{"type", "json_schema"}, {"json_schema", {{"name", 3}, {"schema", json::object()}}}},
       "response_format.json_schema.name"},
      {{{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "string"}, {"pattern", "a+"}}}}}},
       "response_format.json_schema.schema"},
  };
  for (const auto& [format, param] : bad) {
    json b = chat_body();
    b["response_format"] = format;
    ApiError e;
    EXPECT_FALSE(parse_openai_request(b, true, e).ok()) << format.dump();
    EXPECT_EQ(e.param, param) << format.dump();
    EXPECT_EQ(e.status, 400);
  }
  json b = chat_body();
  b["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "integer"}, {"multipleOf", 3}}}}}};
  ApiError e;
  EXPECT_FALSE(parse_openai_request(b, true, e).ok());
  EXPECT_NE(e.message.find("multipleOf"), std::string::npos) << e.message;
}

std::filesystem::path synth_path() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

TEST(StructuredOutput, EverySampledAnswerUnderASchemaParsesThroughTheScheduler) {
  HEARTH_REQUIRE_FILE(synth_path());
  Result<std::shared_ptr<const Model>> model = Model::load(synth_path(), *choose_kernels().table);
  ASSERT_TRUE(model.ok()) << model.error().message;
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load((*model)->file());
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  SchedulerOptions o;
  o.n_slots = 2;
  o.n_ctx = 128;
  o.n_threads = 2;
  Result<std::unique_ptr<Scheduler>> sched = Scheduler::create(*model, *vocab, o);
  ASSERT_TRUE(sched.ok()) << sched.error().message;

  const json schema = json::parse(R"({"type": "object",
    "properties": {"on": {"type": "boolean"}, "level": {"type": "integer", "minimum": 0, "maximum": 9},
                   "room": {"enum": ["hall", "den"]}},
    "required": ["on", "room"]})");
  sampling::JsonGrammarOptions go;
  go.max_ws = 1;  // a random model would otherwise spend its budget on whitespace
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::compile_json_schema(schema, go);
  ASSERT_TRUE(g.ok()) << g.error().message;

  std::vector<std::shared_ptr<CompletionJob>> jobs;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    CompletionRequest r;
    r.prompt = tokenizer::tokenize(*vocab, "Turn on the light", true, true);
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.min_p = 0.0f;
    r.sampling.seed = seed;
    r.max_tokens = 40;
    r.ignore_eos = seed % 2 == 0;  // ends anyway: nothing may follow the closing brace
    r.grammar = *g;
    Submission s = (*sched)->submit(std::move(r));
    ASSERT_TRUE(s.job) << s.message;
    jobs.push_back(s.job);
  }
  int completed = 0;
  for (auto& job : jobs) {
    CollectedCompletion c = Scheduler::collect(*job);
    ASSERT_NE(c.result.finish, FinishReason::kError) << c.result.error;
    if (c.result.finish != FinishReason::kStop) continue;  // the token limit cut it: a prefix
    ++completed;
    const json v = json::parse(c.text, nullptr, false);
    ASSERT_TRUE(v.is_object()) << c.text;
    EXPECT_TRUE(v["on"].is_boolean()) << c.text;
    EXPECT_TRUE(v["room"] == "hall" || v["room"] == "den") << c.text;
    if (v.contains("level")) EXPECT_TRUE(v["level"].is_number_integer() && v["level"] <= 9) << c.text;
    for (const auto& [k, _] : v.items()) EXPECT_TRUE(k == "on" || k == "level" || k == "room") << c.text;
  }
  EXPECT_GE(completed, 3);
}

}  // namespace
}  // namespace hearth::server
