// The Wyoming handler without a model: info's fields (those Home Assistant's wyoming integration
// reads), the output schema/grammar, and the mapping of model output to intent / handled /
// not-handled, with a scripted Generate.
#include "wyoming/handler.h"

#include <gtest/gtest.h>

#include "sampling/grammar.h"
#include "wyoming/wyoming_config.h"

namespace hearth::wyoming {
namespace {

using nlohmann::json;

WyomingConfig home() {
  WyomingConfig c;
  c.port = 0;
  c.entities = {"kitchen light", "fan"};
  c.areas = {"kitchen", "bedroom"};
  c.intents = {{"HassTurnOn", {"name", "area"}, "switch something on"},
               {"HassTurnOff", {"name", "area"}, "switch something off"},
               {"HassGetWeather", {}, ""}};
  return c;
}

std::unique_ptr<Handler> make(WyomingConfig c = home()) {
  Result<std::unique_ptr<Handler>> h = Handler::create(std::move(c), "0.0.1");
  EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
  return h.ok() ? std::move(*h) : nullptr;
}

Event event(const std::string& type, json data = json::object()) {
  Event e;
  e.type = type;
  e.data = std::move(data);
  return e;
}

Generate scripted(std::string out, std::vector<chat::Message>* seen = nullptr) {
  return [out, seen](const std::vector<chat::Message>& m, std::shared_ptr<const sampling::Grammar>,
                     const WyomingConfig&, const std::function<bool()>&) -> Result<std::string> {
    if (seen) *seen = m;
    return out;
  };
}

bool grammar_accepts(const Handler& h, const std::string& text) {
  sampling::GrammarMatcher m(h.grammar());
  return m.accept(text) && m.complete();
}

TEST(WyomingHandler, DescribeAnswersInfoWithAHandleProgram) {
  auto h = make();
  std::vector<Event> out = h->handle(event("describe"), scripted(""));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "info");
  const json& handle = out[0].data["handle"];
  ASSERT_EQ(handle.size(), 1u);
  for (const char* key : {"name", "attribution", "installed", "description", "version", "models"})
    EXPECT_TRUE(handle[0].contains(key)) << key;
  EXPECT_EQ(handle[0]["installed"], true);
  EXPECT_EQ(handle[0]["supports_home_control"], true);  // intents are configured
  EXPECT_TRUE(handle[0]["attribution"].contains("name"));
  EXPECT_TRUE(handle[0]["attribution"].contains("url"));
  ASSERT_EQ(handle[0]["models"].size(), 1u);
  EXPECT_EQ(handle[0]["models"][0]["languages"], json::array({"en"}));
  EXPECT_EQ(handle[0]["models"][0]["installed"], true);
  for (const char* kind : {"asr", "tts", "intent", "wake"}) EXPECT_TRUE(out[0].data[kind].is_array()) << kind;
}

TEST(WyomingHandler, PingPongAndIgnoredEvents) {
  auto h = make();
  std::vector<Event> out = h->handle(event("ping", {{"text", "abc"}}), scripted(""));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "pong");
  EXPECT_EQ(out[0].data["text"], "abc");
  EXPECT_TRUE(h->handle(event("audio-chunk"), scripted("")).empty());
  out = h->handle(event("transcript", {{"text", 5}}), scripted(""));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "not-handled");
}

TEST(WyomingHandler, IntentWithItsOwnSlotsOnly) {
  auto h = make();
  std::vector<chat::Message> seen;
  const std::string model_out =
      R"({"intent":"HassTurnOn","entities":{"name":"kitchen light","area":"kitchen"},"text":"Turning it on"})";
  ASSERT_TRUE(grammar_accepts(*h, model_out));
  std::vector<Event> out = h->handle(
      event("transcript", {{"text", "turn on the kitchen light"}, {"language", "en"}, {"context", {{"conversation_id", "c1"}}}}),
      scripted(model_out, &seen));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "intent");
  EXPECT_EQ(out[0].data["name"], "HassTurnOn");
  EXPECT_EQ(out[0].data["entities"],
            json::parse(R"([{"name":"name","value":"kitchen light"},{"name":"area","value":"kitchen"}])"));
  EXPECT_EQ(out[0].data["text"], "Turning it on");
  EXPECT_EQ(out[0].data["context"]["conversation_id"], "c1");
  // The prompt names the configured entities, areas and intents, then the transcript.
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].role, "system");
  for (const char* part : {"kitchen light", "bedroom", "HassTurnOff", "none"})
    EXPECT_NE(seen[0].content.find(part), std::string::npos) << part;
  EXPECT_EQ(seen[1].content, "turn on the kitchen light");
  // An intent without slots drops whatever entities the output had.
  Event e = h->map_output(R"({"intent":"HassGetWeather","entities":{"name":"fan"},"text":""})");
  EXPECT_EQ(e.type, "intent");
  EXPECT_TRUE(e.data["entities"].empty());
  EXPECT_FALSE(e.data.contains("text"));
}

TEST(WyomingHandler, NoneIsHandledOrNotHandled) {
  auto h = make();
  Event e = h->map_output(R"({"intent":"none","entities":{},"text":"It is 5 o'clock."})");
  EXPECT_EQ(e.type, "handled");
  EXPECT_EQ(e.data["text"], "It is 5 o'clock.");
  EXPECT_EQ(h->map_output(R"({"intent":"none","entities":{},"text":""})").type, "not-handled");
  // Cut short (max_tokens), not JSON, an unknown intent without text: not-handled with a text.
  for (const char* bad : {R"({"intent":"HassTu)", "", "[1]", R"({"intent":3})", R"({"intent":"Other","text":""})"}) {
    Event b = h->map_output(bad);
    EXPECT_EQ(b.type, "not-handled") << bad;
    EXPECT_TRUE(b.data["text"].is_string()) << bad;
  }
  // The model failing is not-handled too.
  Generate failing = [](const std::vector<chat::Message>&, std::shared_ptr<const sampling::Grammar>,
                        const WyomingConfig&, const std::function<bool()>&) -> Result<std::string> {
    return Error{"model 'x' not found"};
  };
  std::vector<Event> out = h->handle(event("transcript", {{"text", "hi"}}), failing);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "not-handled");
  EXPECT_NE(out[0].data["text"].get<std::string>().find("not found"), std::string::npos);
}

TEST(WyomingHandler, GrammarAllowsOnlyConfiguredChoices) {
  auto h = make();
  EXPECT_TRUE(grammar_accepts(*h, R"({"intent":"none","entities":{},"text":"ok"})"));
  EXPECT_TRUE(grammar_accepts(*h, R"({"intent":"HassTurnOff","entities":{"area":"bedroom"},"text":""})"));
  EXPECT_FALSE(grammar_accepts(*h, R"({"intent":"HassUnlock","entities":{},"text":""})"));
  EXPECT_FALSE(grammar_accepts(*h, R"({"intent":"HassTurnOn","entities":{"name":"garage"},"text":""})"));
  EXPECT_FALSE(grammar_accepts(*h, R"({"intent":"none","text":"missing entities"})"));
  WyomingConfig strict = home();
  strict.allow_none = false;
  auto s = make(strict);
  EXPECT_FALSE(grammar_accepts(*s, R"({"intent":"none","entities":{},"text":"ok"})"));
  EXPECT_EQ(s->system_prompt("en").find("none,"), std::string::npos);
}

TEST(WyomingHandler, ConfigErrors) {
  WyomingConfig c = home();
  c.intents.push_back({"HassTurnOn", {}, ""});
  EXPECT_FALSE(Handler::create(c, "v").ok());
  c = home();
  c.intents[0].name = "none";
  EXPECT_FALSE(Handler::create(c, "v").ok());
  c = home();
  c.intents[0].slots = {"bad slot\""};
  EXPECT_FALSE(Handler::create(c, "v").ok());
  c = WyomingConfig();
  c.allow_none = false;
  EXPECT_FALSE(Handler::create(c, "v").ok());
  EXPECT_TRUE(Handler::create(WyomingConfig(), "v").ok());  // no intents: a plain chat agent
}

TEST(WyomingConfigFile, ParsesTheSectionAndNamesBadLines) {
  WyomingConfig c;
  const char* toml = R"(
[server]
port = 8080

[wyoming]
port = 10700
model = "qwen"
languages = ["en", "de"]
entities = ["kitchen light"]
areas = ["kitchen"]
allow_none = false
max_tokens = 128
temperature = 0.0

[[wyoming.intents]]
name = "HassTurnOn"
slots = ["name", "area"]
description = "turn on"
)";
  ASSERT_TRUE(parse_wyoming_config(toml, "t.toml", c).ok());
  EXPECT_EQ(c.port, 10700);
  EXPECT_EQ(c.model, "qwen");
  EXPECT_EQ(c.languages.size(), 2u);
  EXPECT_FALSE(c.allow_none);
  EXPECT_EQ(c.max_tokens, 128);
  ASSERT_EQ(c.intents.size(), 1u);
  EXPECT_EQ(c.intents[0].slots[1], "area");
  WyomingConfig d;
  Status st = parse_wyoming_config("[wyoming]\nport = 1\nprot = 2\n", "t.toml", d);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("t.toml:3"), std::string::npos) << st.error().message;
  EXPECT_FALSE(parse_wyoming_config("[wyoming]\nport = 70000\n", "t", d).ok());
  EXPECT_FALSE(parse_wyoming_config("[[wyoming.intents]]\nslots = [\"a\"]\n", "t", d).ok());
  WyomingConfig untouched;
  EXPECT_TRUE(parse_wyoming_config("[server]\nport = 1\n", "t", untouched).ok());
  EXPECT_EQ(untouched.port, -1);
}

}  // namespace
}  // namespace hearth::wyoming
