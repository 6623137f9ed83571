#include "server/ollama_json.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_data.h"

namespace hearth::server::ollama {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(OllamaDuration, GoSyntax) {
  EXPECT_EQ(parse_go_duration("5m").value(), nanoseconds(300'000'000'000));
  EXPECT_EQ(parse_go_duration("1h30m").value(), nanoseconds(5'400'000'000'000));
  EXPECT_EQ(parse_go_duration("300ms").value(), nanoseconds(300'000'000));
  EXPECT_EQ(parse_go_duration("1.5s").value(), nanoseconds(1'500'000'000));
  EXPECT_EQ(parse_go_duration("2us").value(), nanoseconds(2000));
  EXPECT_EQ(parse_go_duration("2\xc2\xb5s").value(), nanoseconds(2000));
  EXPECT_EQ(parse_go_duration("-1s").value(), nanoseconds(-1'000'000'000));
  EXPECT_EQ(parse_go_duration("0").value(), nanoseconds(0));
  for (const char* bad : {"", "5", "m", "5x", "1..5s", "-", "5m3"})
    EXPECT_FALSE(parse_go_duration(bad).ok()) << bad;
}

TEST(OllamaDuration, KeepAlive) {
  EXPECT_FALSE(parse_keep_alive(nullptr).value().has_value());
  EXPECT_EQ(parse_keep_alive("5m").value(), milliseconds(300'000));
  EXPECT_EQ(parse_keep_alive("3600s").value(), milliseconds(3'600'000));
  EXPECT_EQ(parse_keep_alive(0).value(), milliseconds(0));
  EXPECT_EQ(parse_keep_alive("0").value(), milliseconds(0));
  EXPECT_EQ(parse_keep_alive(30).value(), milliseconds(30'000));
  EXPECT_EQ(parse_keep_alive(1.5).value(), milliseconds(1'500));
  // Negative (Home Assistant sends -1) and absurdly long both mean "forever".
  EXPECT_EQ(parse_keep_alive(-1).value(), kKeepAliveForever);
  EXPECT_EQ(parse_keep_alive("-1m").value(), kKeepAliveForever);
  EXPECT_EQ(parse_keep_alive("-1").value(), kKeepAliveForever);
  EXPECT_EQ(parse_keep_alive(1e30).value(), kKeepAliveForever);
  EXPECT_FALSE(parse_keep_alive("soon").ok());
  EXPECT_FALSE(parse_keep_alive(json::array()).ok());
  EXPECT_FALSE(parse_keep_alive(true).ok());
}

TEST(OllamaTime, Rfc3339WithNanoseconds) {
  using namespace std::chrono;
  const sys_days day = year(2023) / 8 / 4;
  const system_clock::time_point t = day + hours(19) + minutes(22) + seconds(45);
  EXPECT_EQ(rfc3339(t), "2023-08-04T19:22:45Z");
  EXPECT_EQ(rfc3339(t + duration_cast<system_clock::duration>(microseconds(499127))),
            "2023-08-04T19:22:45.499127Z");
  EXPECT_EQ(rfc3339(t + duration_cast<system_clock::duration>(nanoseconds(385406455))),
            "2023-08-04T19:22:45.385406455Z");
  EXPECT_EQ(ms_to_ns(1.5), 1'500'000);
  EXPECT_EQ(ms_to_ns(-3), 0);
}

TEST(OllamaOptions, DefaultsAndMapping) {
  Options o = default_options();
  EXPECT_FLOAT_EQ(o.sampling.temperature, 0.8f);
  EXPECT_EQ(o.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(o.sampling.top_p, 0.9f);
  EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.1f);
  EXPECT_EQ(o.num_predict, -1);
  ASSERT_TRUE(parse_options(json{{"temperature", 0},
                                 {"top_p", 0.5},
                                 {"top_k", 7},
                                 {"min_p", 0.1},
                                 {"repeat_penalty", 1.3},
                                 {"repeat_last_n", 16},
                                 {"presence_penalty", 0.5},
                                 {"frequency_penalty", 0.25},
                                 {"num_ctx", 8192.0},  // whole floats count as integers
                                 {"num_predict", 12},
                                 {"seed", 42},
                                 {"stop", {"\n", "user:"}},
                                 {"mirostat", 0},  // unknown keys are ignored, as Ollama does
                                 {"num_gpu", 1}},
                            o)
                  .ok());
  EXPECT_FLOAT_EQ(o.sampling.temperature, 0);
  EXPECT_FLOAT_EQ(o.sampling.top_p, 0.5f);
  EXPECT_EQ(o.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(o.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.3f);
  EXPECT_EQ(o.sampling.penalty_last_n, 16);
  EXPECT_FLOAT_EQ(o.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(o.sampling.frequency_penalty, 0.25f);
  EXPECT_EQ(o.num_ctx, 8192);
  EXPECT_EQ(o.num_predict, 12);
  EXPECT_EQ(o.sampling.seed, 42u);
  EXPECT_TRUE(o.seeded);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"\n", "user:"}));

  Options neg = default_options();
  ASSERT_TRUE(parse_options(json{{"num_predict", -2}, {"seed", -1}}, neg).ok());
  EXPECT_EQ(neg.num_predict, -1);
  EXPECT_FALSE(neg.seeded);
}

TEST(OllamaOptions, WrongTypesNameTheOption) {
  for (const json& bad : {json{{"temperature", "hot"}}, json{{"top_k", 1.5}},
                          json{{"num_ctx", -5}}, json{{"stop", 3}}, json{{"stop", {1, 2}}},
                          json{{"top_p", 2}}, json{{"seed", "x"}}}) {
    Options o = default_options();
    Status s = parse_options(bad, o);
    ASSERT_FALSE(s.ok()) << bad.dump();
    EXPECT_NE(s.error().message.find(bad.begin().key()), std::string::npos) << s.error().message;
  }
}

TEST(OllamaRequest, ChatAsHomeAssistantSendsIt) {
  // The shape of Home Assistant's conversation agent request (ollama python client).
  const json body = json::parse(R"({
    "model": "tiny:latest",
    "messages": [
      {"role": "system", "content": "You are a voice assistant for Home Assistant."},
      {"role": "user", "content": "turn on the kitchen light"},
      {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "HassTurnOn", "arguments": {"name": "kitchen light"}}}]},
      {"role": "tool", "content": "{\"success\": true}", "tool_name": "HassTurnOn"}
    ],
    "tools": [{"type": "function", "function": {"name": "HassTurnOn",
               "parameters": {"type": "object", "properties": {"name": {"type": "string"}}}}}],
    "stream": true,
    "keep_alive": "-1s",
    "options": {"num_ctx": 8192},
    "think": false,
    "format": null
  })");
  Result<ChatRequest> r = parse_chat_request(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "tiny:latest");
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->keep_alive, kKeepAliveForever);
  EXPECT_EQ(r->options.num_ctx, 8192);
  ASSERT_EQ(r->plain.size(), 4u);
  EXPECT_EQ(r->plain[1].content, "turn on the kitchen light");
  EXPECT_TRUE(r->has_tool_messages);
  ASSERT_TRUE(r->tools.is_array());
  // Templates get transformers' shape for tool calls, arguments as an object.
  const ordered_json& call = r->messages[2]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "HassTurnOn");
  EXPECT_EQ(call["function"]["arguments"]["name"], "kitchen light");
  EXPECT_EQ(r->messages[3]["name"], "HassTurnOn");
}

TEST(OllamaRequest, ChatDefaultsAndErrors) {
  Result<ChatRequest> r = parse_chat_request(json{{"model", "m"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stream);  // Ollama streams unless told not to
  EXPECT_TRUE(r->messages.empty());
  EXPECT_FALSE(r->keep_alive.has_value());
  EXPECT_TRUE(r->tools.is_null());

  const std::pair<json, const char*> bad[] = {
      {json{{"messages", json::array()}}, "model is required"},
      {json{{"model", 3}}, "model"},
      {json{{"model", "m"}, {"messages", "hi"}}, "messages"},
      {json{{"model", "m"}, {"messages", {{{"content", "x"}}}}}, "messages[0].role"},
      {json{{"model", "m"}, {"messages", {{{"role", "user"}, {"content", 5}}}}},
       "messages[0].content"},
      {json{{"model", "m"}, {"messages", {{{"role", "user"}, {"images", {"AAAA"}}}}}}, "images"},
      {json{{"model", "m"}, {"stream", "yes"}}, "stream"},
      {json{{"model", "m"}, {"options", 3}}, "options"},
      {json{{"model", "m"}, {"keep_alive", "later"}}, "keep_alive"},
      {json{{"model", "m"}, {"format", {{"type", "object"}, {"pattern", "x"}}}}, "pattern"},
      {json{{"model", "m"}, {"format", {{"type", "martian"}}}}, "martian"},
      {json{{"model", "m"}, {"format", 7}}, "format"},
      {json{{"model", "m"}, {"think", 3}}, "think"},
      {json{{"model", "m"}, {"tools", "x"}}, "tools"},
      {json{{"model", "m"}, {"tools", {{{"type", "function"}, {"function", {{"name", 4}}}}}}},
       "tools[0].function.name"},
      {json::array(), "JSON object"},
  };
  for (const auto& [body, needle] : bad) {
    Result<ChatRequest> e = parse_chat_request(body);
    ASSERT_FALSE(e.ok()) << body.dump();
    EXPECT_NE(e.error().message.find(needle), std::string::npos)
        << body.dump() << " -> " << e.error().message;
  }
}

TEST(OllamaRequest, Generate) {
  Result<GenerateRequest> r = parse_generate_request(
      json{{"model", "m"}, {"prompt", "Why?"}, {"system", "Be brief."}, {"stream", false},
           {"context", {1, 2, 3}}, {"keep_alive", 0}, {"options", {{"num_predict", 5}}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prompt, "Why?");
  EXPECT_EQ(r->system, "Be brief.");
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->context, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r->keep_alive, milliseconds(0));
  EXPECT_EQ(r->options.num_predict, 5);
  Result<GenerateRequest> raw =
      parse_generate_request(json{{"model", "m"}, {"prompt", "<s>[INST] x [/INST]"}, {"raw", true}});
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(raw->raw);
  for (const json& bad :
       {json{{"model", "m"}, {"suffix", "end"}}, json{{"model", "m"}, {"template", "{{ .Prompt }}"}},
        json{{"model", "m"}, {"context", {-1}}}, json{{"model", "m"}, {"context", "abc"}},
        json{{"model", "m"}, {"images", {"AAAA"}}}, json{{"model", "m"}, {"raw", 1}},
        json{{"model", "m"}, {"prompt", 1}}, json{{"model", "m"}, {"format", "yaml"}}}) {
    EXPECT_FALSE(parse_generate_request(bad).ok()) << bad.dump();
  }
}

TEST(OllamaResponse, ShapesAndTimings) {
  CompletionResult r;
  r.finish = FinishReason::kStop;
  r.tokens_prompt = 26;
  r.tokens_generated = 282;
  r.prefill_ms = 342.5;
  r.generate_ms = 4535.6;
  r.total_ms = 4900;
  const Timings t = timings_from(r, 1.5, 2.0);
  EXPECT_EQ(t.load_ns, 1'500'000);
  EXPECT_EQ(t.total_ns, 4'903'500'000);
  EXPECT_EQ(t.prompt_eval_count, 26);
  EXPECT_EQ(t.prompt_eval_ns, 342'500'000);
  EXPECT_EQ(t.eval_count, 282);
  EXPECT_EQ(t.eval_ns, 4'535'600'000);
  EXPECT_STREQ(done_reason(r), "stop");
  r.finish = FinishReason::kLength;
  EXPECT_STREQ(done_reason(r), "length");

  const json chunk = chat_chunk("tiny", "2023-08-04T19:22:45Z", "The");
  EXPECT_EQ(chunk, json::parse(R"({"model":"tiny","created_at":"2023-08-04T19:22:45Z",
      "message":{"role":"assistant","content":"The"},"done":false})"));
  const json fin = chat_final("tiny", "T", {{"role", "assistant"}, {"content", ""}}, "stop", t);
  for (const char* key : {"total_duration", "load_duration", "prompt_eval_count",
                          "prompt_eval_duration", "eval_count", "eval_duration"}) {
    ASSERT_TRUE(fin.contains(key)) << key;
    EXPECT_TRUE(fin[key].is_number_integer()) << key;
  }
  EXPECT_EQ(fin["done"], true);
  EXPECT_EQ(fin["done_reason"], "stop");
  const std::vector<int32_t> ctx = {1, 2};
  const json gen = generate_final("tiny", "T", "hi", "stop", t, &ctx);
  EXPECT_EQ(gen["context"], json({1, 2}));
  EXPECT_EQ(gen["response"], "hi");
  EXPECT_FALSE(generate_final("tiny", "T", "", "stop", t, nullptr).contains("context"));
  EXPECT_EQ(generate_chunk("m", "T", "x")["done"], false);

  // One line per object, whatever bytes the model produced.
  const std::string line = dump_line(chat_chunk("m", "T", std::string("a\n\xff", 3)));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_TRUE(json::accept(line));
}

TEST(OllamaModels, NamesSizesAndTypes) {
  EXPECT_EQ(display_name("tiny"), "tiny:latest");
  EXPECT_EQ(display_name("qwen:0.5b"), "qwen:0.5b");
  EXPECT_EQ(format_parameter_size(8030261248), "8.0B");
  EXPECT_EQ(format_parameter_size(1100048384), "1.1B");
  EXPECT_EQ(format_parameter_size(494032768), "494.03M");
  EXPECT_EQ(format_parameter_size(12500), "12.5K");
  EXPECT_EQ(format_parameter_size(12), "12");
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
  EXPECT_EQ(file_type_name(2), "Q4_0");
  EXPECT_EQ(file_type_name(1), "F16");
  EXPECT_EQ(file_type_name(999), "");
  const std::string d = file_digest("/m/a.gguf", 10, 20);
  EXPECT_EQ(d.size(), 64u);
  EXPECT_EQ(d.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(d, file_digest("/m/a.gguf", 10, 20));
  EXPECT_NE(d, file_digest("/m/a.gguf", 10, 21));
}

TEST(OllamaModels, FactsFromARealFile) {
  namespace fs = std::filesystem;
  const fs::path path = hearth::test::models_dir() / "synth" / "synth-llama-tiny-Q4_0.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "missing " << path;
  Result<gguf::File> f = gguf::File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const ModelFacts facts = model_facts(*f);
  EXPECT_FALSE(facts.architecture.empty());
  EXPECT_GT(facts.parameter_count, 0u);
  EXPECT_FALSE(facts.quantization_level.empty());
  EXPECT_EQ(facts.model_info["general.architecture"], facts.architecture);
  EXPECT_FALSE(facts.model_info.contains("tokenizer.chat_template"));
  const json details = details_json(facts);
  EXPECT_EQ(details["format"], "gguf");
  EXPECT_EQ(details["family"], facts.architecture);
  EXPECT_EQ(details["families"], json::array({facts.architecture}));
}

TEST(OllamaRequest, ThinkIsAcceptedAndIgnored) {
  // Home Assistant sends its "think" setting; no served model thinks, so it changes nothing.
  for (const json& think : {json(true), json(false), json("high")}) {
    Result<ChatRequest> r = parse_chat_request(
        {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"think", think}});
    ASSERT_TRUE(r.ok()) << think.dump() << ": " << r.error().message;
  }
}

}  // namespace
}  // namespace hearth::server::ollama
