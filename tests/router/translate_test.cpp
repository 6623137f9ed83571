#include "router/translate.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hearth::router {
namespace {

using json = nlohmann::json;

TEST(Translate, OllamaChatBecomesChatCompletions) {
  json in = {{"model", "smart"},
             {"messages", {{{"role", "user"}, {"content", "hi"}}}},
             {"options", {{"temperature", 0.5}, {"num_predict", 12}, {"seed", 7}, {"stop", {"\n"}}}}};
  Result<TranslatedRequest> t = ollama_to_openai(in, false, "llama3.1-8b");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->path, "/chat/completions");
  EXPECT_TRUE(t->stream);  // Ollama's default
  EXPECT_EQ(t->body["model"], "llama3.1-8b");
  EXPECT_EQ(t->body["messages"][0]["content"], "hi");
  EXPECT_EQ(t->body["max_tokens"], 12);
  EXPECT_EQ(t->body["temperature"], 0.5);
  EXPECT_EQ(t->body["seed"], 7);
  EXPECT_EQ(t->body["stop"][0], "\n");
  EXPECT_EQ(t->body["stream_options"]["include_usage"], true);
}

TEST(Translate, OllamaGenerate) {
  Result<TranslatedRequest> t =
      ollama_to_openai({{"prompt", "why"}, {"system", "be brief"}, {"stream", false}}, true, "m");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->stream);
  EXPECT_EQ(t->path, "/chat/completions");
  EXPECT_EQ(t->body["messages"].size(), 2u);
  EXPECT_EQ(t->body["messages"][1]["content"], "why");
  t = ollama_to_openai({{"prompt", "raw text"}, {"raw", true}}, true, "m");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/completions");
  EXPECT_EQ(t->body["prompt"], "raw text");
  EXPECT_FALSE(ollama_to_openai({{"messages", "x"}}, false, "m"));
  EXPECT_FALSE(ollama_to_openai({{"prompt", 3}}, true, "m"));
}

TEST(Translate, SseEventsSplitAcrossPieces) {
  std::string buf = "data: {\"a\":1}\n\ndata: [DO";
  std::vector<std::string> e = take_sse_events(buf);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "{\"a\":1}");
  EXPECT_EQ(buf, "data: [DO");
  buf += "NE]\r\n\r\n: comment\n\n";
  e = take_sse_events(buf);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "[DONE]");
  EXPECT_TRUE(buf.empty());
}

TEST(Translate, StreamBecomesNdjson) {
  SseToNdjson t("smart", false);
  const std::string sse =
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"length\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  std::string out;
  for (char c : sse) out += t.feed(std::string(1, c));  // byte by byte: events split anywhere
  out += t.finish();                                    // already finished: nothing more
  std::istringstream lines(out);
  std::vector<json> js;
  for (std::string l; std::getline(lines, l);) js.push_back(json::parse(l));
  ASSERT_EQ(js.size(), 3u);
  EXPECT_EQ(js[0]["message"]["content"], "Hel");
  EXPECT_EQ(js[0]["done"], false);
  EXPECT_EQ(js[0]["model"], "smart");
  EXPECT_EQ(js[1]["message"]["content"], "lo");
  EXPECT_EQ(js[2]["done"], true);
  EXPECT_EQ(js[2]["done_reason"], "length");
  EXPECT_EQ(js[2]["prompt_eval_count"], 5);
  EXPECT_EQ(js[2]["eval_count"], 2);
}

TEST(Translate, WholeAnswer) {
  json a = {{"choices", {{{"message", {{"role", "assistant"}, {"content", "ok"}}}, {"finish_reason", "stop"}}}},
            {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 1}}}};
  json o = openai_to_ollama(a, "smart", false, 0.5);
  EXPECT_EQ(o["message"]["content"], "ok");
  EXPECT_EQ(o["done"], true);
  EXPECT_EQ(o["eval_count"], 1);
  EXPECT_EQ(o["total_duration"], 500000000);
  json g = openai_to_ollama(a, "smart", true, 0);
  EXPECT_EQ(g["response"], "ok");
}

}  // namespace
}  // namespace hearth::router
