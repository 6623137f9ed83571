// See handler.h.
#include "wyoming/handler.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "sampling/json_schema.h"

namespace hearth::wyoming {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kDefaultPrompt =
    "You control a smart home. Answer with one JSON object and nothing else.\n"
    "Choose \"intent\" from: {intents}.\n"
    "Devices (for the \"name\" entity): {entities}.\n"
    "Areas (for the \"area\" entity): {areas}.\n"
    "Put the entities the intent needs in \"entities\" and a short reply for the user, in "
    "language {language}, in \"text\". When the request is not one of the intents, use intent "
    "\"none\" and answer the question in \"text\".";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

void replace_all(std::string& s, const std::string& key, const std::string& value) {
  for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
    s.replace(at, key.size(), value);
}

// Intent and slot names go into the grammar as enum literals and into Home Assistant as
// intent types / slot names: keep them to identifier characters.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

Event make(std::string type, json data) {
  Event e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

Event not_handled(const std::string& text) { return make("not-handled", {{"text", text}}); }

}  // namespace

Event error_event(const std::string& text, const std::string& code) {
  return make("error", {{"text", text}, {"code", code}});
}

Result<std::unique_ptr<Handler>> Handler::create(WyomingConfig config, std::string version) {
  std::set<std::string> names;
  std::vector<std::string> slots;  // every slot of every intent, first use order
  for (const IntentSpec& i : config.intents) {
    if (!valid_name(i.name) || i.name == "none")
      return Error{"wyoming: intent name '" + i.name + "' must be 1-64 letters, digits, _ - . (and not 'none')"};
    if (!names.insert(i.name).second) return Error{"wyoming: intent '" + i.name + "' is listed twice"};
    for (const std::string& s : i.slots) {
      if (!valid_name(s)) return Error{"wyoming: intent " + i.name + ": slot '" + s + "' is not a valid name"};
      if (std::find(slots.begin(), slots.end(), s) == slots.end()) slots.push_back(s);
    }
  }
  if (config.intents.empty() && !config.allow_none)
    return Error{"wyoming: allow_none = false needs at least one [[wyoming.intents]]"};
  if (config.max_tokens < 16) return Error{"wyoming: max_tokens must be at least 16"};
  if (config.max_text_chars < 1 || config.max_text_chars > 4000)
    return Error{"wyoming: max_text_chars must be from 1 to 4000"};
  if (config.languages.empty()) return Error{"wyoming: languages must not be empty"};

  auto h = std::unique_ptr<Handler>(new Handler());
  h->config_ = std::move(config);
  h->version_ = std::move(version);
  const WyomingConfig& c = h->config_;
  ordered_json choices = ordered_json::array();
  for (const IntentSpec& i : c.intents) choices.push_back(i.name);
  if (c.allow_none) choices.push_back("none");
  ordered_json slot_props = ordered_json::object();
  for (const std::string& s : slots) {
    // A slot with a configured list is an enum of it, so the model can only name what exists.
    const std::vector<std::string>* list = s == "name" ? &c.entities : s == "area" ? &c.areas : nullptr;
    if (list && !list->empty())
      slot_props[s] = {{"enum", *list}};
    else
      slot_props[s] = {{"type", "string"}, {"maxLength", 64}};
  }
  h->schema_ = {{"type", "object"},
                {"properties",
                 {{"intent", {{"enum", choices}}},
                  {"entities", {{"type", "object"}, {"properties", slot_props}}},
                  {"text", {{"type", "string"}, {"maxLength", c.max_text_chars}}}}},
                {"required", {"intent", "entities", "text"}}};
  sampling::JsonGrammarOptions go;
  go.max_ws = 2;  // a small model should spend its tokens on the answer, not on spaces
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::compile_json_schema(h->schema_, go);
  if (!g) return Error{"wyoming: output grammar: " + g.error().message};
  h->grammar_ = *g;
  return h;
}

Event Handler::info() const {
  const json attribution = {{"name", "hearth"}, {"url", "https://github.com/hearth-llm/hearth"}};
  json model = {{"name", config_.model.empty() ? "default" : config_.model},
                {"attribution", attribution},
                {"installed", true},
                {"description", "local model served by hearth"},
                {"version", version_},
                {"languages", config_.languages}};
  json program = {{"name", config_.name},
                  {"attribution", attribution},
                  {"installed", true},
                  {"description", config_.description},
                  {"version", version_},
                  {"models", json::array({model})},
                  // One `handled` per transcript: Home Assistant's conversation agent waits
                  // for a terminal handled / not-handled / intent, not for streamed chunks.
                  {"supports_handled_streaming", false},
                  // Newer peers read this to offer the agent for device control: true when it
                  // can answer with intents.
                  {"supports_home_control", !config_.intents.empty()}};
  // The other service kinds are listed empty: older readers index them without a default.
  return make("info", {{"asr", json::array()},
                       {"tts", json::array()},
                       {"handle", json::array({program})},
                       {"intent", json::array()},
                       {"wake", json::array()}});
}

std::string Handler::system_prompt(const std::string& language) const {
  std::string p = config_.system_prompt.empty() ? kDefaultPrompt : config_.system_prompt;
  std::vector<std::string> intents;
  for (const IntentSpec& i : config_.intents)
    intents.push_back(i.description.empty() ? i.name : i.name + " (" + i.description + ")");
  if (config_.allow_none) intents.push_back("none");
  replace_all(p, "{intents}", join(intents));
  replace_all(p, "{entities}", join(config_.entities));
  replace_all(p, "{areas}", join(config_.areas));
  replace_all(p, "{language}", language);
  return p;
}

Event Handler::map_output(const std::string& output) const {
  const json j = json::parse(output, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("intent") || !j["intent"].is_string())
    return not_handled("Sorry, I could not work out what to do.");
  const std::string intent = j["intent"].get<std::string>();
  const std::string text = j.contains("text") && j["text"].is_string() ? j["text"].get<std::string>() : "";
  auto spec = std::find_if(config_.intents.begin(), config_.intents.end(),
                           [&](const IntentSpec& i) { return i.name == intent; });
  if (spec == config_.intents.end()) {
    if (text.empty()) return not_handled("Sorry, I have no answer to that.");
    return make("handled", {{"text", text}});
  }
  json entities = json::array();
  if (j.contains("entities") && j["entities"].is_object()) {
    // Only the slots this intent declares: Home Assistant rejects unexpected slots.
    for (const std::string& slot : spec->slots) {
      auto v = j["entities"].find(slot);
      if (v != j["entities"].end() && v->is_string() && !v->get_ref<const std::string&>().empty())
        entities.push_back({{"name", slot}, {"value", *v}});
    }
  }
  json data = {{"name", intent}, {"entities", entities}};
  if (!text.empty()) data["text"] = text;
  return make("intent", data);
}

std::vector<Event> Handler::handle(const Event& event, const Generate& generate,
                                   const std::function<bool()>& keep_going) const {
  if (event.type == "describe") return {info()};
  if (event.type == "ping") {
    json data = json::object();
    if (auto t = event.data.find("text"); t != event.data.end() && t->is_string()) data["text"] = *t;
    return {make("pong", data)};
  }
  if (event.type != "transcript") return {};  // audio, run-pipeline, ...: not ours to answer
  auto t = event.data.find("text");
  if (t == event.data.end() || !t->is_string())
    return {not_handled("The transcript had no text.")};
  const std::string text = t->get<std::string>();
  std::string language = config_.languages.front();
  if (auto l = event.data.find("language"); l != event.data.end() && l->is_string() && !l->get_ref<const std::string&>().empty())
    language = l->get<std::string>();
  std::vector<chat::Message> messages = {{"system", system_prompt(language)}, {"user", text}};
  Result<std::string> out = generate(messages, grammar_, config_, keep_going);
  if (!out) return {not_handled("The model could not answer: " + out.error().message)};
  Event reply = map_output(*out);
  // Home Assistant passes the transcript's context back with the reply (conversation id).
  if (auto c = event.data.find("context"); c != event.data.end() && c->is_object()) reply.data["context"] = *c;
  return {reply};
}

}  // namespace hearth::wyoming
