// The server's pure parts: OpenAI request validation (errors name the field), the error shape,
// SSE framing, stop-string matching across pieces, durations and the TOML config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/openai_api.h"
#include "server/server_config.h"
#include "server/sse.h"
#include "server/stop_matcher.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;

json chat_body() { return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

std::string param_of(const json& body, bool chat = true) {
  ApiError e;
  Result<OpenAiRequest> r = parse_openai_request(body, chat, e);
  EXPECT_FALSE(r.ok()) << body.dump();
  return e.param;
}

TEST(OpenAiRequest, ValidChatWithEveryField) {
  json b = chat_body();
  b["messages"].push_back({{"role", "assistant"}, {"content", nullptr}});
  b["messages"].push_back({{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}});
  b["max_completion_tokens"] = 7;
  b["temperature"] = 0.5;
  b["top_p"] = 0.9;
  b["stop"] = "END";
  b["seed"] = 42;
  b["presence_penalty"] = 0.5;
  b["frequency_penalty"] = -0.5;
  b["n"] = 1;
  b["logprobs"] = true;
  b["top_logprobs"] = 2;
  b["stream"] = true;
  b["stream_options"] = {{"include_usage", true}};
  ApiError e;
  Result<OpenAiRequest> r = parse_openai_request(b, true, e);
  ASSERT_TRUE(r.ok()) << e.message;
  EXPECT_EQ(r->model, "m");
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[1].content, "");
  EXPECT_EQ(r->messages[2].content, "ab");
  EXPECT_EQ(r->max_tokens, 7);
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r->sampling.top_p, 0.9f);
  EXPECT_EQ(r->sampling.top_k, 0);  // OpenAI semantics: no top-k unless asked
  EXPECT_EQ(r->stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r->sampling.seed, 42u);
  EXPECT_FLOAT_EQ(r->sampling.frequency_penalty, -0.5f);
  EXPECT_EQ(r->top_logprobs, 2);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
}

TEST(OpenAiRequest, CompletionPrompts) {
  ApiError e;
  Result<OpenAiRequest> one = parse_openai_request({{"prompt", "x"}, {"logprobs", 2}}, false, e);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prompts, std::vector<std::string>{"x"});
  EXPECT_EQ(one->top_logprobs, 2);
  Result<OpenAiRequest> two = parse_openai_request({{"prompt", {"a", "b"}}, {"stop", {"x", "y"}}}, false, e);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->prompts.size(), 2u);
  EXPECT_EQ(two->stop.size(), 2u);
  EXPECT_EQ(param_of({{"prompt", 5}}, false), "prompt");
  EXPECT_EQ(param_of({{"prompt", {"a", 1}}}, false), "prompt");
  EXPECT_EQ(param_of({{"prompt", json::array()}}, false), "prompt");
  EXPECT_EQ(param_of(json::object(), false), "prompt");
  EXPECT_EQ(param_of({{"prompt", "x"}, {"echo", "yes"}}, false), "echo");
}

TEST(OpenAiRequest, WrongTypesAndRangesNameTheField) {
  const auto with = [](const char* key, json v) {
    json b = chat_body();
    b[key] = std::move(v);
    return b;
  };
  EXPECT_EQ(param_of(json::array()), "");
  EXPECT_EQ(param_of({{"model", "m"}}), "messages");
  EXPECT_EQ(param_of(with("messages", "hi")), "messages");
  EXPECT_EQ(param_of(with("messages", json::array())), "messages");
  EXPECT_EQ(param_of(with("messages", {{{"content", "x"}}})), "messages[0].role");
  EXPECT_EQ(param_of(with("messages", {{{"role", "user"}, {"content", 1}}})), "messages[0].content");
  EXPECT_EQ(param_of(with("messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}})),
            "messages[0].content[0].type");
  EXPECT_EQ(param_of(with("model", 3)), "model");
  EXPECT_EQ(param_of(with("max_tokens", "10")), "max_tokens");
  EXPECT_EQ(param_of(with("max_tokens", 0)), "max_tokens");
  EXPECT_EQ(param_of(with("max_tokens", 2.5)), "max_tokens");
  EXPECT_EQ(param_of(with("max_completion_tokens", -1)), "max_completion_tokens");
  EXPECT_EQ(param_of(with("temperature", "hot")), "temperature");
  EXPECT_EQ(param_of(with("temperature", 3)), "temperature");
  EXPECT_EQ(param_of(with("top_p", 1.5)), "top_p");
  EXPECT_EQ(param_of(with("presence_penalty", 9)), "presence_penalty");
  EXPECT_EQ(param_of(with("frequency_penalty", true)), "frequency_penalty");
  EXPECT_EQ(param_of(with("seed", "x")), "seed");
  EXPECT_EQ(param_of(with("stop", 5)), "stop");
  EXPECT_EQ(param_of(with("stop", {"a", 2})), "stop");
  EXPECT_EQ(param_of(with("n", 2)), "n");
  EXPECT_EQ(param_of(with("stream", "true")), "stream");
  EXPECT_EQ(param_of(with("stream_options", 1)), "stream_options");
  EXPECT_EQ(param_of(with("stream_options", {{"include_usage", 1}})), "stream_options.include_usage");
  EXPECT_EQ(param_of(with("logprobs", 1)), "logprobs");
  EXPECT_EQ(param_of(with("top_logprobs", 3)), "top_logprobs");  // without logprobs: true
  json b = with("logprobs", true);
  b["top_logprobs"] = 21;
  EXPECT_EQ(param_of(b), "top_logprobs");
}

TEST(OpenAiRequest, UnseededRequestsDrawASeed) {
  ApiError e;
  Result<OpenAiRequest> a = parse_openai_request(chat_body(), true, e);
  Result<OpenAiRequest> b = parse_openai_request(chat_body(), true, e);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->sampling.seed, b->sampling.seed);
}

TEST(OpenAiError, Shape) {
  ApiError e;
  e.status = 404;
  e.message = "no such model";
  e.param = "model";
  e.code = "model_not_found";
  const json j = error_body(e);
  EXPECT_EQ(j["error"]["message"], "no such model");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "model");
  EXPECT_EQ(j["error"]["code"], "model_not_found");
  ApiError bare;
  bare.message = "x";
  const json k = error_body(bare);
  EXPECT_TRUE(k["error"]["param"].is_null());
  EXPECT_TRUE(k["error"]["code"].is_null());
}

TEST(Sse, Framing) {
  EXPECT_EQ(sse_data(json{{"a", "line\nbreak"}}), "data: {\"a\":\"line\\nbreak\"}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  // Invalid UTF-8 never throws: it is replaced.
  const std::string bad = sse_data(json{{"t", std::string("\xff")}});
  EXPECT_EQ(bad, "data: {\"t\":\"\xEF\xBF\xBD\"}\n\n");
}

// Feeds `pieces` through a matcher, returns what came out and whether it matched.
std::pair<std::string, bool> run_stop(std::vector<std::string> stops, std::vector<std::string> pieces) {
  StopMatcher m(std::move(stops));
  std::string out;
  for (const std::string& p : pieces) out += m.push(p);
  if (!m.matched()) out += m.flush();
  return {out, m.matched()};
}

TEST(StopMatcher, CutsAcrossPieces) {
  EXPECT_EQ(run_stop({"STOP"}, {"abc", "ST", "O", "Pxyz"}), std::make_pair(std::string("abc"), true));
  EXPECT_EQ(run_stop({"STOP"}, {"abSTOPc"}), std::make_pair(std::string("ab"), true));
  EXPECT_EQ(run_stop({"STOP"}, {"ST", "AR"}), std::make_pair(std::string("STAR"), false));
  EXPECT_EQ(run_stop({"STOP"}, {"STO"}), std::make_pair(std::string("STO"), false));  // flushed at the end
  EXPECT_EQ(run_stop({}, {"a", "b"}), std::make_pair(std::string("ab"), false));
  EXPECT_EQ(run_stop({""}, {"a"}), std::make_pair(std::string("a"), false));
  // The earliest match wins, whichever stop string it is.
  EXPECT_EQ(run_stop({"world", "lo w"}, {"hello world"}), std::make_pair(std::string("hel"), true));
  EXPECT_EQ(run_stop({"\n\n"}, {"a\n", "\nb"}), std::make_pair(std::string("a"), true));
  // Multi-byte: the held tail starts on a character.
  EXPECT_EQ(run_stop({"éé"}, {"aé", "b"}), std::make_pair(std::string("aéb"), false));
}

TEST(StopMatcher, HoldsOnlyWhatCouldStillMatch) {
  StopMatcher m({"<|end|>"});
  EXPECT_EQ(m.push("hello <|"), "hello ");
  EXPECT_EQ(m.held_bytes(), 2u);
  EXPECT_EQ(m.push("x"), "<|x");
  EXPECT_EQ(m.held_bytes(), 0u);
  EXPECT_EQ(m.push("<|end"), "");
  EXPECT_EQ(m.push("|> tail"), "");
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.matched_stop(), "<|end|>");
  EXPECT_EQ(m.push("more"), "");
}

TEST(ServerConfig, Durations) {
  EXPECT_EQ(parse_duration("300")->count(), 300);
  EXPECT_EQ(parse_duration("30s")->count(), 30);
  EXPECT_EQ(parse_duration("5m")->count(), 300);
  EXPECT_EQ(parse_duration("1h30m")->count(), 5400);
  EXPECT_EQ(parse_duration("-1")->count(), -1);
  EXPECT_EQ(parse_duration("0")->count(), 0);
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("5x").ok());
  EXPECT_FALSE(parse_duration("m").ok());
  EXPECT_FALSE(parse_duration("5m3").ok());
}

TEST(ServerConfig, Toml) {
  ServerOptions so;
  RegistryOptions ro;
  Status s = parse_server_config(R"(
[server]
host = "0.0.0.0"
port = 11434
parallel = 4
ctx_size = 2048
queue = 8
keep_alive = "10m"
api_keys = ["a", "b"]
max_tokens = 512

[[models]]
alias = "tiny"
path = "/models/tiny.gguf"
ctx_size = 1024
keep_alive = -1

[[models]]
path = "models/other.gguf"
chat_template = "chatml"
)", "/etc/hearth/serve.toml", so, ro);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(so.host, "0.0.0.0");
  EXPECT_EQ(so.port, 11434);
  EXPECT_EQ(ro.scheduler.n_slots, 4);
  EXPECT_EQ(ro.scheduler.n_ctx, 2048);
  EXPECT_EQ(ro.scheduler.max_queue, 8);
  EXPECT_EQ(ro.keep_alive.count(), 600);
  EXPECT_EQ(so.api_keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(so.max_tokens_limit, 512);
  ASSERT_EQ(ro.models.size(), 2u);
  EXPECT_EQ(ro.models[0].alias, "tiny");
  EXPECT_EQ(ro.models[0].n_ctx, 1024);
  EXPECT_EQ(ro.models[0].keep_alive->count(), -1);
  EXPECT_EQ(ro.models[1].alias, "other");
  EXPECT_EQ(ro.models[1].path, "/etc/hearth/models/other.gguf");
  EXPECT_EQ(ro.models[1].chat_template, "chatml");
}

TEST(ServerConfig, ErrorsNameTheLine) {
  ServerOptions so;
  RegistryOptions ro;
  Status bad_type = parse_server_config("[server]\nport = \"eighty\"\n", "c.toml", so, ro);
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.error().message.find("c.toml:2"), std::string::npos) << bad_type.error().message;
  EXPECT_NE(bad_type.error().message.find("port"), std::string::npos);
  EXPECT_FALSE(parse_server_config("[server\n", "c.toml", so, ro).ok());
  EXPECT_FALSE(parse_server_config("[[models]]\nalias = \"x\"\n", "c.toml", so, ro).ok());  // no path
  EXPECT_FALSE(parse_server_config("[sever]\n", "c.toml", so, ro).ok());
  EXPECT_FALSE(parse_server_config("[server]\nkeep_alive = \"soon\"\n", "c.toml", so, ro).ok());
}

}  // namespace
}  // namespace hearth::server
