// Tool calls (server/tool_calls.h, openai_tools.h): every output format the parser reads,
// malformed and hostile text (never a throw, never a call: plain content), the streaming
// hold-back, tools / tool_choice validation, the no-tools template fallback, and forced calls
// (tool_choice required / named) sampled from random-weight synthetic models over many seeds:
// every finished answer parses as one call whose arguments validate against the tool's schema.
#include "server/tool_calls.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"
#include "kernels/kernels.h"
#include "server/openai_api.h"
#include "server/openai_tools.h"
#include "server/scheduler.h"
#include "server/server_config.h"
#include "test_data.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

ToolCallSplit parse(std::string_view s) { return parse_tool_calls(s); }

TEST(ToolCallParser, EveryFormat) {
  struct Case {
    std::string text, format, content;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      // Qwen 2.5 / Hermes: prose, then one or more tagged objects.
      {"Sure.\n<tool_call>\n{\"name\": \"HassTurnOn\", \"arguments\": {\"name\": \"kitchen\"}}\n</tool_call>",
       "hermes", "Sure.", {"HassTurnOn"}},
      {"<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n<tool_call>{\"name\": \"b\", "
       "\"arguments\": {\"x\": 1}}</tool_call>",
       "hermes", "", {"a", "b"}},
      // Unclosed at the end of generation (max_tokens hit right after the object).
      {"<tool_call>{\"name\": \"a\", \"arguments\": {}}", "hermes", "", {"a"}},
      // Phi-4-mini.
      {"<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]<|/tool_call|>",
       "phi4", "", {"get_weather"}},
      // Phi-3 finetunes.
      {"functools[{\"name\": \"f\", \"arguments\": {\"q\": \"x\"}}]", "functools", "", {"f"}},
      // Mistral: a list after the tag, and the v11 name[ARGS]{...} form.
      {"[TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {}}]",
       "mistral", "", {"a", "b"}},
      {"[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", "mistral", "", {"get_weather"}},
      {"[TOOL_CALLS]a[ARGS]{}[TOOL_CALLS]b[ARGS]{\"k\": true}", "mistral", "", {"a", "b"}},
      // Llama 3.1 / 3.2: <|python_tag|> and the bare JSON with "parameters".
      {"<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", "llama3", "", {"f"}},
      {"<|python_tag|>{\"name\": \"f\", \"parameters\": {}}; {\"name\": \"g\", \"parameters\": {}}",
       "llama3", "", {"f", "g"}},
      {" {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Tokyo\"}}", "json", "", {"get_weather"}},
      // Generic: arguments as a JSON string, OpenAI's function wrapper, a list, a fence.
      {"{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}", "json", "", {"f"}},
      {"{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {}}}", "json", "", {"f"}},
      {"[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\"}]", "json", "", {"a", "b"}},
      {"```json\n{\"name\": \"f\", \"arguments\": {}}\n```", "json", "", {"f"}},
  };
  for (const Case& c : cases) {
    ToolCallSplit s = parse(c.text);
    EXPECT_EQ(s.format, c.format) << c.text;
    EXPECT_EQ(s.content, c.content) << c.text;
    ASSERT_EQ(s.calls.size(), c.names.size()) << c.text;
    for (size_t i = 0; i < c.names.size(); ++i) {
      EXPECT_EQ(s.calls[i].name, c.names[i]) << c.text;
      EXPECT_TRUE(s.calls[i].arguments.is_object()) << c.text;
    }
  }
  ToolCallSplit q = parse("<tool_call>{\"name\": \"t\", \"arguments\": {\"b\": 2, \"a\": [1, {\"c\": null}]}}</tool_call>");
  ASSERT_EQ(q.calls.size(), 1u);
  EXPECT_EQ(q.calls[0].arguments.dump(), "{\"b\":2,\"a\":[1,{\"c\":null}]}");  // order kept
}

TEST(ToolCallParser, MalformedAndHostileTextStaysContent) {
  std::vector<std::string> texts = {
      "", "   ", "The answer is {42}.", "{\"temperature\": 21}", "<tool_call>oops", "<tool_call></tool_call>",
      "[1, 2, 3]", "[]", "{}", "{\"name\": 3, \"arguments\": {}}", "{\"name\": \"\", \"arguments\": {}}",
      "{\"name\": \"f\", \"arguments\": [1]}", "{\"name\": \"f\", \"arguments\": \"not json\"}",
      "{\"name\": \"f\", \"arguments\": {}", "[TOOL_CALLS]", "[TOOL_CALLS] nothing", "[TOOL_CALLS]f[ARGS]nope",
      "<|python_tag|>print(1)", "functools[", "<|tool_call|>[{]<|/tool_call|>", "```\n```",
      "I use functools[{\"name\": \"f\", \"arguments\": {}}] a lot",  // the plain word mid-text
      "[{\"name\": \"a\", \"arguments\": {}}, 7]", "\xff\xfe{\"name\"", "</tool_call><tool_call>",
      std::string(100000, '{'), std::string(100000, '['), "<tool_call>" + std::string(50000, '['),
      "{\"name\": \"f\", \"arguments\": \"" + std::string(10000, '[') + "\"}",
  };
  std::string nested = "{\"name\": \"f\", \"arguments\": ";
  for (int i = 0; i < 200; ++i) nested += "{\"a\": ";
  nested += "1";
  for (int i = 0; i < 200; ++i) nested += "}";
  texts.push_back(nested + "}");  // deeper than kMaxJsonDepth: refused before parsing
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "<tool_call>x</tool_call>";
  texts.push_back(many);
  for (const std::string& t : texts) {
    ToolCallSplit s = parse(t);
    EXPECT_TRUE(s.calls.empty()) << t.substr(0, 80);
    EXPECT_EQ(s.content, t) << t.substr(0, 80);
  }
  // Random bytes and random splices of real calls: whatever comes out, no throw.
  uint64_t x = 88172645463325252ull;
  const std::string alphabet = "{}[]\":,<>|/_ \\ntool_callTOOLS[ARGS]namearguments0123";
  for (int round = 0; round < 3000; ++round) {
    std::string t;
    const int n = int(x % 64);
    for (int i = 0; i < n; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      t += alphabet[x % alphabet.size()];
    }
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    EXPECT_NO_THROW(parse(t));
  }
}

TEST(ToolCallStreamer, HoldsBackOnlyWhatMayBeACall) {
  {
    ToolCallStreamer s;
    std::string sent;
    for (const char* piece : {"The ", "light ", "is on", ". <tool", "_call>{\"name\": \"f\", ",
                              "\"arguments\": {}}</tool_call>"})
      sent += s.feed(piece);
    EXPECT_EQ(sent, "The light is on. ");
    ToolCallSplit rest = s.finish();
    EXPECT_EQ(rest.content, "");
    ASSERT_EQ(rest.calls.size(), 1u);
  }
  for (const char* opener : {"{\"na", "[TOOL_", "<|python", "functo", "```js", "<|tool_c"}) {
    ToolCallStreamer s;  // a call from the first character: nothing is streamed
    EXPECT_EQ(s.feed("  "), "");
    EXPECT_EQ(s.feed(opener), "") << opener;
  }
  {
    ToolCallStreamer s;
    std::string sent;
    for (const char* piece : {"  ", "{\"na", "me\": \"f\", \"arguments\": {\"a\": 1}}"}) sent += s.feed(piece);
    EXPECT_EQ(sent, "");
    EXPECT_EQ(s.finish().calls.size(), 1u);
  }
  {
    ToolCallStreamer s;  // "<" that is not a tool call is released once it cannot be one
    std::string sent = s.feed("a <");
    EXPECT_EQ(sent, "a ");
    sent += s.feed("b> c");
    EXPECT_EQ(sent, "a <b> c");
    ToolCallSplit rest = s.finish();
    EXPECT_EQ(rest.content, "");
    EXPECT_TRUE(rest.calls.empty());
  }
  {
    ToolCallStreamer s;  // a partial opener at the very end comes out at finish()
    std::string sent = s.feed("x <tool");
    ToolCallSplit rest = s.finish();
    EXPECT_EQ(sent + rest.content, "x <tool");
  }
  {
    ToolCallStreamer s;  // held text that turns out not to be a call is all released
    std::string sent = s.feed("{not a call}");
    ToolCallSplit rest = s.finish();
    EXPECT_EQ(sent + rest.content, "{not a call}");
  }
}

const char* kLightTools = R"([
  {"type": "function", "function": {"name": "HassTurnOn", "description": "Turns on a device",
    "parameters": {"type": "object", "properties": {
      "name": {"type": "string", "maxLength": 12},
      "domain": {"type": "array", "items": {"type": "string", "enum": ["light", "switch", "fan"]}, "maxItems": 2},
      "brightness": {"type": "integer", "minimum": 0, "maximum": 100}}, "required": ["name"]}}},
  {"type": "function", "function": {"name": "HassTurnOff",
    "parameters": {"type": "object", "properties": {"area": {"enum": ["kitchen", "hall"]}, "all": {"type": "boolean"}},
      "required": ["area", "all"]}}},
  {"type": "function", "function": {"name": "GetLiveContext", "description": "no parameters"}}
])";

TEST(ToolRequest, ToolsAndToolChoiceAreValidatedWithTheFieldNamed) {
  const ordered_json tools = ordered_json::parse(kLightTools);
  Result<std::vector<ToolSpec>> specs = parse_tools(tools);
  ASSERT_TRUE(specs.ok()) << specs.error().message;
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_TRUE((*specs)[2].parameters.is_null());
  EXPECT_EQ(parse_tool_choice("auto", *specs)->mode, ToolChoice::Mode::kAuto);
  EXPECT_EQ(parse_tool_choice("none", *specs)->mode, ToolChoice::Mode::kNone);
  EXPECT_EQ(parse_tool_choice("required", *specs)->mode, ToolChoice::Mode::kRequired);
  Result<ToolChoice> named = parse_tool_choice(
      json{{"type", "function"}, {"function", {{"name", "HassTurnOff"}}}}, *specs);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "HassTurnOff");

  const json base = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  const std::pair<json, std::string> bad[] = {
      {{{"tools", "x"}}, "tools"},
      {{{"tools", {7}}}, "tools[0]"},
      {{{"tools", {{{"type", "retrieval"}}}}}, "tools[0].type"},
      {{{"tools", {{{"type", "function"}}}}}, "tools[0].function"},
      {{{"tools", {{{"type", "function"}, {"function", {{"name", ""}}}}}}}, "tools[0].function.name"},
      {{{"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", 3}}}}}}},
       "tools[0].function.parameters"},
      {{{"tool_choice", "always"}, {"tools", json::parse(kLightTools)}}, "tool_choice"},
      {{{"tool_choice", "required"}}, "tool_choice"},
      {{{"tool_choice", {{"type", "function"}, {"function", {{"name", "Nope"}}}}}, {"tools", json::parse(kLightTools)}},
       "tool_choice.function.name"},
      {{{"tool_choice", "required"}, {"response_format", {{"type", "json_object"}}}, {"tools", json::parse(kLightTools)}},
       "tool_choice"},
      {{{"tool_choice", "required"},
        {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", {{"type", "string"}, {"pattern", "a"}}}}}}}}},
       "tools[0].function.parameters"},
      {{{"parallel_tool_calls", "yes"}}, "parallel_tool_calls"},
      {{{"messages", {{{"role", "tool"}, {"content", "ok"}}}}}, "messages[0].tool_call_id"},
      {{{"messages", {{{"role", "assistant"}, {"tool_calls", "x"}}}}}, "messages[0].tool_calls"},
      {{{"messages", {{{"role", "assistant"}, {"tool_calls", {{{"function", {{"name", 1}}}}}}}}}},
       "messages[0].tool_calls[0].function.name"},
      {{{"messages", {{{"role", "assistant"}, {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", 5}}}}}}}}}},
       "messages[0].tool_calls[0].function.arguments"},
  };
  for (const auto& [patch, param] : bad) {
    json b = base;
    b.update(patch);
    ApiError e;
    EXPECT_FALSE(parse_openai_request(b, true, e).ok()) << b.dump();
    EXPECT_EQ(e.param, param) << b.dump() << " -> " << e.message;
    EXPECT_EQ(e.status, 400);
  }
}

TEST(ToolRequest, MessagesCarryToolCallsAndResultsToTheTemplate) {
  const json body = json::parse(R"({"model": "m", "tools": [{"type": "function", "function": {"name": "HassTurnOn"}}],
    "messages": [{"role": "user", "content": "kitchen on"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "HassTurnOn", "arguments": "{\"name\": \"kitchen\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "{\"success\": true}"}]})");
  ApiError e;
  Result<OpenAiRequest> r = parse_openai_request(body, true, e);
  ASSERT_TRUE(r.ok()) << e.message;
  EXPECT_TRUE(r->parse_tool_calls);
  EXPECT_TRUE(r->has_tool_messages);
  EXPECT_EQ(r->template_messages[1]["tool_calls"][0]["function"]["arguments"]["name"], "kitchen");
  EXPECT_EQ(r->template_messages[2]["name"], "HassTurnOn");  // found through the call's id
  // tool_choice none: the tools are not offered at all.
  json none = body;
  none["tool_choice"] = "none";
  Result<OpenAiRequest> n = parse_openai_request(none, true, e);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->parse_tool_calls);
  EXPECT_TRUE(n->tools.is_null());

  // A template without tool support: tools in the system prompt, results as user turns.
  const ordered_json ctx = tool_chat_context("{% for m in messages %}{{ m.content }}{% endfor %}",
                                             r->template_messages, r->tools);
  const ordered_json& msgs = ctx["messages"];
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0]["role"], "system");
  EXPECT_NE(msgs[0]["content"].get<std::string>().find("\"name\":\"HassTurnOn\""), std::string::npos);
  EXPECT_EQ(msgs[2]["content"], "{\"name\":\"HassTurnOn\",\"arguments\":{\"name\":\"kitchen\"}}");
  EXPECT_EQ(msgs[3]["role"], "user");
  EXPECT_EQ(msgs[3]["content"], "Tool result (HassTurnOn): {\"success\": true}");
  EXPECT_FALSE(ctx.contains("tools"));
  // A template that renders tools gets them as they are.
  const ordered_json native = tool_chat_context("{{ tools }}", r->template_messages, r->tools);
  EXPECT_EQ(native["tools"], r->tools);
  EXPECT_EQ(native["messages"], r->template_messages);
}

TEST(ToolRequest, ATemplateWithToolsRendersThemAndTheCalls) {
  // Written for this test in the Hermes/Qwen 2.5 convention: tools in <tools>, an assistant's
  // calls as <tool_call> objects (arguments through tojson: they must be an object, as
  // transformers passes them), results in <tool_response>.
  const std::string source =
      "{%- if tools %}<|im_start|>system\n<tools>{% for t in tools %}{{ t | tojson }}{% endfor %}</tools><|im_end|>\n{% endif %}"
      "{%- for m in messages %}"
      "{%- if m.role == 'tool' %}<|im_start|>user\n<tool_response>{{ m.content }}</tool_response><|im_end|>\n"
      "{%- elif m.tool_calls %}<|im_start|>assistant\n{% for c in m.tool_calls %}<tool_call>{\"name\": \"{{ c.function.name }}\", "
      "\"arguments\": {{ c.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>\n"
      "{%- else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}"
      "{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  const char* text_body = R"({"model": "m", "tools": [{"type": "function", "function": {"name": "HassTurnOn",
      "parameters": {"type": "object", "properties": {"name": {"type": "string"}}}}}],
    "messages": [{"role": "user", "content": "kitchen on"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "HassTurnOn", "arguments": "{\"name\":\"kitchen\"}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "ok"}]})";
  const json body = json::parse(text_body);
  ApiError e;
  Result<OpenAiRequest> r = parse_openai_request(body, true, e);
  ASSERT_TRUE(r.ok()) << e.message;
  order_tools(ordered_json::parse(text_body), *r);  // as the server does, from the text
  Result<chat::ChatTemplate> t = chat::ChatTemplate::create(source, "", "");
  ASSERT_TRUE(t.ok()) << t.error().message;
  Result<std::string> text = t->apply_json(tool_chat_context(source, r->template_messages, r->tools));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_NE(text->find("<tools>{\"type\": \"function\""), std::string::npos) << *text;
  EXPECT_NE(text->find("<tool_call>{\"name\": \"HassTurnOn\", \"arguments\": {\"name\": \"kitchen\"}}</tool_call>"),
            std::string::npos) << *text;
  EXPECT_NE(text->find("<tool_response>ok</tool_response>"), std::string::npos) << *text;
  EXPECT_EQ(text->substr(text->size() - 22), "<|im_start|>assistant\n");
}

TEST(ToolResponse, OpenAiShapes) {
  std::vector<ToolCall> calls = {{"HassTurnOn", ordered_json::parse(R"({"name": "kitchen lamp — ü"})")}};
  const std::vector<std::string> ids = tool_call_ids(1);
  EXPECT_EQ(ids[0].rfind("call_", 0), 0u);
  const json tc = openai_tool_calls(calls, ids);
  EXPECT_EQ(tc[0]["type"], "function");
  EXPECT_EQ(tc[0]["function"]["arguments"], "{\"name\":\"kitchen lamp — ü\"}");
  const std::vector<json> deltas = tool_call_deltas(calls, ids, 5);
  ASSERT_GE(deltas.size(), 3u);
  EXPECT_EQ(deltas[0]["tool_calls"][0]["id"], ids[0]);
  EXPECT_EQ(deltas[0]["tool_calls"][0]["function"]["arguments"], "");
  std::string args;
  for (size_t i = 1; i < deltas.size(); ++i) {
    EXPECT_EQ(deltas[i]["tool_calls"][0]["index"], 0);
    EXPECT_FALSE(deltas[i]["tool_calls"][0].contains("id"));
    args += deltas[i]["tool_calls"][0]["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(args, tc[0]["function"]["arguments"]);  // no character was cut
  // --tool-call-deltas whole: one delta per call, complete.
  const std::vector<json> whole = tool_call_deltas(calls, ids, 5, true);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0]["tool_calls"][0]["function"]["name"], "HassTurnOn");
  EXPECT_EQ(whole[0]["tool_calls"][0]["function"]["arguments"], tc[0]["function"]["arguments"]);
}

TEST(ToolResponse, ConfigChoosesHowCallsStream) {
  ServerOptions so;
  RegistryOptions ro;
  ASSERT_TRUE(parse_server_config("[server]\ntool_call_deltas = \"whole\"\n", "c.toml", so, ro).ok());
  EXPECT_TRUE(so.tool_call_deltas_whole);
  ASSERT_TRUE(parse_server_config("[server]\ntool_call_deltas = \"chunked\"\n", "c.toml", so, ro).ok());
  EXPECT_FALSE(so.tool_call_deltas_whole);
  Status bad = parse_server_config("[server]\ntool_call_deltas = \"bits\"\n", "c.toml", so, ro);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("c.toml:2"), std::string::npos) << bad.error().message;
}

// A small validator for the schemas used here: type, properties, required, enum, const,
// maxLength, minimum/maximum, items, maxItems, no keys beyond properties.
bool valid(const json& v, const json& s) {
  if (s.contains("const") && v != s["const"]) return false;
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) return false;
  const std::string type = s.value("type", "");
  if (type == "object") {
    if (!v.is_object()) return false;
    const json props = s.value("properties", json::object());
    for (const auto& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return false;
    for (const auto& [k, x] : v.items()) {
      if (props.empty()) continue;  // no properties: any object
      if (!props.contains(k) || !valid(x, props[k])) return false;
    }
  } else if (type == "string") {
    if (!v.is_string()) return false;
    if (s.contains("maxLength") && v.get<std::string>().size() > 4 * s["maxLength"].get<size_t>()) return false;
  } else if (type == "integer") {
    if (!v.is_number_integer()) return false;
    if (s.contains("minimum") && v.get<int64_t>() < s["minimum"].get<int64_t>()) return false;
    if (s.contains("maximum") && v.get<int64_t>() > s["maximum"].get<int64_t>()) return false;
  } else if (type == "boolean") {
    if (!v.is_boolean()) return false;
  } else if (type == "array") {
    if (!v.is_array()) return false;
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return false;
    for (const json& e : v)
      if (!valid(e, s["items"])) return false;
  }
  return true;
}

void forced_calls_validate(const char* model_file) {
  const auto path = test::models_dir() / "synth" / model_file;
  HEARTH_REQUIRE_FILE(path);
  Result<std::shared_ptr<const Model>> model = Model::load(path, *choose_kernels().table);
  ASSERT_TRUE(model.ok()) << model.error().message;
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load((*model)->file());
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  SchedulerOptions o;
  o.n_slots = 4;
  o.n_ctx = 160;
  o.n_threads = 2;
  Result<std::unique_ptr<Scheduler>> sched = Scheduler::create(*model, *vocab, o);
  ASSERT_TRUE(sched.ok()) << sched.error().message;

  const json tools_json = json::parse(kLightTools);
  Result<std::vector<ToolSpec>> specs = parse_tools(ordered_json::parse(kLightTools));
  ASSERT_TRUE(specs.ok());
  sampling::JsonGrammarOptions go;
  go.max_ws = 1;  // a random model would otherwise spend its budget on whitespace
  std::vector<ToolChoice> choices(4);
  choices[0].mode = ToolChoice::Mode::kRequired;
  for (int i = 0; i < 3; ++i) {
    choices[i + 1].mode = ToolChoice::Mode::kNamed;
    choices[i + 1].name = (*specs)[i].name;
  }
  int completed = 0, total = 0;
  for (const ToolChoice& choice : choices) {
    Result<std::shared_ptr<const sampling::Grammar>> g = tool_call_grammar(*specs, choice, go);
    ASSERT_TRUE(g.ok()) << g.error().message;
    std::vector<std::shared_ptr<CompletionJob>> jobs;
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      CompletionRequest r;
      r.prompt = tokenizer::tokenize(*vocab, "Turn on the kitchen light", true, true);
      r.sampling.temperature = 1.0f;
      r.sampling.top_k = 0;
      r.sampling.top_p = 1.0f;
      r.sampling.min_p = 0.0f;
      r.sampling.seed = seed * 7919 + total;
      r.max_tokens = 80;
      r.grammar = *g;
      Submission s = (*sched)->submit(std::move(r));
      ASSERT_TRUE(s.job) << s.message;
      jobs.push_back(s.job);
    }
    for (auto& job : jobs) {
      ++total;
      CollectedCompletion c = Scheduler::collect(*job);
      ASSERT_NE(c.result.finish, FinishReason::kError) << c.result.error;
      if (c.result.finish != FinishReason::kStop) continue;  // cut by max_tokens: a prefix
      ++completed;
      ToolCallSplit split = parse_tool_calls(c.text);
      ASSERT_EQ(split.calls.size(), 1u) << c.text;
      EXPECT_EQ(split.content, "") << c.text;
      const ToolCall& call = split.calls[0];
      if (choice.mode == ToolChoice::Mode::kNamed) EXPECT_EQ(call.name, choice.name) << c.text;
      const json* fn = nullptr;
      for (const json& t : tools_json)
        if (t["function"]["name"] == call.name) fn = &t["function"];
      ASSERT_NE(fn, nullptr) << c.text;
      const json schema = fn->contains("parameters") ? (*fn)["parameters"] : json{{"type", "object"}};
      EXPECT_TRUE(valid(json(call.arguments), schema)) << c.text;
    }
  }
  EXPECT_GE(completed, total / 2) << "too few answers finished within max_tokens";
}

TEST(ToolGrammar, ForcedCallsValidateOnLlamaVocab) { forced_calls_validate("synth-llama-tiny-Q8_0.gguf"); }
// Same 512-piece vocabulary, another architecture's random logits.
TEST(ToolGrammar, ForcedCallsValidateOnQwen2Arch) { forced_calls_validate("synth-qwen2-tiny-Q8_0.gguf"); }

}  // namespace
}  // namespace hearth::server
