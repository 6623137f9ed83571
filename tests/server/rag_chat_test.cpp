// The pure parts of chat from RAG collections (server/rag_chat.h): the request's "rag" field
// and rag:<collection> model, the sources system message merged into a conversation, the
// reply's "sources" and "rag" fields, and the [rag] config section.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/rag_chat.h"
#include "server/server_config.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;

std::optional<RagRequest> parse_ok(const json& body, std::string_view model = "synth") {
  RagFailure f;
  Result<std::optional<RagRequest>> r = parse_rag_request(body, model, f);
  EXPECT_TRUE(r.ok()) << body.dump() << ": " << (r ? "" : r.error().message);
  return r ? *r : std::nullopt;
}

RagFailure parse_fails(const json& body, std::string_view model = "synth") {
  RagFailure f;
  Result<std::optional<RagRequest>> r = parse_rag_request(body, model, f);
  EXPECT_FALSE(r.ok()) << body.dump();
  if (!r) EXPECT_EQ(r.error().message, f.message);
  return f;
}

TEST(RagRequest, AbsentIsNotRag) {
  EXPECT_FALSE(parse_ok(json::object()).has_value());
  EXPECT_FALSE(parse_ok({{"rag", nullptr}}).has_value());
  EXPECT_FALSE(parse_ok(json::object(), "ragged").has_value());  // the prefix is "rag:"
}

TEST(RagRequest, ModelAlias) {
  std::optional<RagRequest> r = parse_ok(json::object(), "rag:house");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection, "house");
  EXPECT_TRUE(r->by_alias);
  EXPECT_EQ(r->k, 5);
  EXPECT_DOUBLE_EQ(r->ttft_target_s, 3.0);
  EXPECT_TRUE(r->sources_in_content);
}

TEST(RagRequest, ShorthandAndObject) {
  std::optional<RagRequest> r = parse_ok({{"rag", "house"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection, "house");
  EXPECT_FALSE(r->by_alias);

  r = parse_ok({{"rag", {{"collection", "docs.v2"}, {"k", 3}, {"ttft_target", 1.5}, {"sources_in_content", false}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection, "docs.v2");
  EXPECT_EQ(r->k, 3);
  EXPECT_DOUBLE_EQ(r->ttft_target_s, 1.5);
  EXPECT_FALSE(r->sources_in_content);

  r = parse_ok({{"rag", {{"k", 2.0}}}}, "rag:house");  // options only, the model names it
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection, "house");
  EXPECT_EQ(r->k, 2);
  r = parse_ok({{"rag", "house"}}, "rag:house");  // the same collection twice is fine
  ASSERT_TRUE(r);
}

TEST(RagRequest, BadFieldsNameTheField) {
  EXPECT_EQ(parse_fails({{"rag", 7}}).param, "rag");
  EXPECT_EQ(parse_fails({{"rag", json::array()}}).param, "rag");
  EXPECT_EQ(parse_fails({{"rag", {{"collection", 3}}}}).param, "rag.collection");
  EXPECT_EQ(parse_fails({{"rag", {{"k", 0}}}}, "rag:h").param, "rag.k");
  EXPECT_EQ(parse_fails({{"rag", {{"k", 51}}}}, "rag:h").param, "rag.k");
  EXPECT_EQ(parse_fails({{"rag", {{"k", 2.5}}}}, "rag:h").param, "rag.k");
  EXPECT_EQ(parse_fails({{"rag", {{"ttft_target", 0}}}}, "rag:h").param, "rag.ttft_target");
  EXPECT_EQ(parse_fails({{"rag", {{"ttft_target", "3"}}}}, "rag:h").param, "rag.ttft_target");
  EXPECT_EQ(parse_fails({{"rag", {{"sources_in_content", 1}}}}, "rag:h").param, "rag.sources_in_content");
  RagFailure f = parse_fails({{"rag", {{"colection", "house"}}}});
  EXPECT_EQ(f.param, "rag.colection");
  EXPECT_NE(f.message.find("unknown"), std::string::npos);
  EXPECT_EQ(parse_fails({{"rag", json::object()}}).param, "rag.collection");  // no collection
  EXPECT_EQ(parse_fails({{"rag", "other"}}, "rag:house").param, "rag.collection");  // two names
  EXPECT_EQ(parse_fails(json::object(), "rag:").param, "model");
  f = parse_fails(json::object(), "rag:../etc");
  EXPECT_EQ(f.param, "model");
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(parse_fails({{"rag", ".hidden"}}).param, "rag.collection");
}

TEST(RagMessages, LastUserMessageIsTheQuestion) {
  const std::vector<chat::Message> m = {{"system", "be brief"}, {"user", "first"}, {"assistant", "ok"},
                                        {"user", "second"}, {"assistant", "partial"}};
  EXPECT_EQ(last_user_content(m), "second");
  EXPECT_FALSE(last_user_content(std::vector<chat::Message>{{"system", "x"}}).has_value());
}

TEST(RagMessages, SourcesPrependedOrMerged) {
  const std::vector<chat::Message> plain = {{"user", "q"}};
  std::vector<chat::Message> out = with_sources(plain, "SOURCES");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].role, "system");
  EXPECT_EQ(out[0].content, "SOURCES");
  EXPECT_EQ(out[1].content, "q");

  const std::vector<chat::Message> with_system = {{"system", "You are a house assistant."}, {"user", "q"}};
  out = with_sources(with_system, "SOURCES");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].content, "You are a house assistant.\n\nSOURCES");

  out = with_sources(with_system, "");  // nothing fitted: the conversation as it was
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].content, "You are a house assistant.");

  // A system message later in the conversation is not the leading one: prepend.
  const std::vector<chat::Message> late = {{"user", "q"}, {"system", "late"}};
  out = with_sources(late, "S");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].content, "S");
  EXPECT_EQ(out[2].content, "late");
}

TEST(RagMessages, SourcesInTemplateJson) {
  nlohmann::ordered_json m = nlohmann::ordered_json::array(
      {{{"role", "user"}, {"content", "q"}},
       {{"role", "assistant"}, {"content", ""}, {"tool_calls", nlohmann::ordered_json::array()}}});
  nlohmann::ordered_json out = with_sources(m, "S");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["role"], "system");
  EXPECT_EQ(out[0]["content"], "S");
  EXPECT_TRUE(out[2].contains("tool_calls"));

  m.insert(m.begin(), nlohmann::ordered_json{{"role", "system"}, {"content", "sys"}});
  out = with_sources(m, "S");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["content"], "sys\n\nS");
  EXPECT_EQ(with_sources(m, ""), m);
}

TEST(RagReply, SourcesAndBudgetFields) {
  RagPlan plan;
  plan.collection = "house";
  rag::SearchHit a;
  a.chunk.path = "/docs/boiler.md";
  a.chunk.heading = "Boiler > Reset";
  a.chunk.ord = 3;
  a.score = 0.032;
  rag::SearchHit b;
  b.chunk.path = "/docs/wifi.txt";
  b.chunk.ord = 0;
  b.score = 0.016;
  plan.used = {a, b};
  plan.budget_tokens = 300;
  plan.prompt_tokens = 280;
  plan.dropped = 1;
  plan.retrieved = 3;
  plan.ttft_target_s = 3;
  plan.rate = {100, "--rag-prefill-rate"};
  json reply = {{"id", "x"}};
  add_rag_fields(reply, plan);
  ASSERT_EQ(reply["sources"].size(), 2u);
  EXPECT_EQ(reply["sources"][0], (json{{"index", 1}, {"path", "/docs/boiler.md"}, {"heading", "Boiler > Reset"},
                                       {"chunk", 3}, {"score", 0.032}}));
  EXPECT_EQ(reply["sources"][1]["index"], 2);
  EXPECT_EQ(reply["sources"][1]["heading"], "");
  const json& r = reply["rag"];
  EXPECT_EQ(r["collection"], "house");
  EXPECT_EQ(r["budget_tokens"], 300);
  EXPECT_EQ(r["prompt_tokens"], 280);
  EXPECT_EQ(r["prefill_tok_s"], 100.0);
  EXPECT_EQ(r["rate_source"], "--rag-prefill-rate");
  EXPECT_EQ(r["chunks_used"], 2);
  EXPECT_EQ(r["chunks_dropped"], 1);
  EXPECT_EQ(r["chunks_retrieved"], 3);
  EXPECT_EQ(reply["id"], "x");
}

TEST(RagConfig, Section) {
  ServerOptions so;
  RegistryOptions ro;
  ASSERT_TRUE(parse_server_config("[rag]\ndir = \"/srv/rag\"\nmodel = \"qwen\"\nprefill_rate = 42.5\n", "t.toml", so, ro).ok());
  EXPECT_EQ(so.rag.dir, "/srv/rag");
  EXPECT_EQ(so.rag.model, "qwen");
  EXPECT_DOUBLE_EQ(so.rag.prefill_tok_s, 42.5);
  Status s = parse_server_config("[rag]\nprefill = 3\n", "t.toml", so, ro);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("t.toml:2"), std::string::npos) << s.error().message;
  EXPECT_FALSE(parse_server_config("[rag]\nprefill_rate = -1\n", "t.toml", so, ro).ok());
  EXPECT_FALSE(parse_server_config("rag = 3\n", "t.toml", so, ro).ok());
}

}  // namespace
}  // namespace hearth::server
