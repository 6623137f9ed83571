// The Wyoming conversation service's logic, without sockets: `describe` → `info` (one handle
// program), `ping` → `pong`, `transcript` → a prompt through the model, whose output is
// constrained by a grammar to
//   {"intent": <a configured intent name | "none">, "entities": {<slot>: <value>, ...}, "text": "..."}
// and mapped to `intent` (name + entities, as Home Assistant's wyoming conversation agent hands
// them to intent.async_handle), `handled` (intent "none" with an answer) or `not-handled`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "sampling/grammar.h"
#include "wyoming/codec.h"

namespace hearth::wyoming {

struct IntentSpec {
  std::string name;                // e.g. HassTurnOn (a Home Assistant intent type)
  std::vector<std::string> slots;  // entity names it takes, e.g. name, area
  std::string description;         // for the prompt: when to choose it
};

// The [wyoming] section of the serve config (docs/home-assistant.md).
struct WyomingConfig {
  int port = -1;                   // < 0: no Wyoming service; 0: any free port
  std::string model;               // the model alias ("" : the first model)
  std::string name = "hearth";     // the handle program's name, as Home Assistant lists it
  std::string description = "hearth local LLM conversation agent";
  std::vector<std::string> languages = {"en"};
  std::vector<std::string> entities;  // Home Assistant entity names the model may pick for `name`
  std::vector<std::string> areas;     // area names for `area`
  std::vector<IntentSpec> intents;
  bool allow_none = true;          // false: the model must pick one of the intents
  // {entities}, {areas}, {intents} and {language} are replaced; "" : the built-in prompt.
  std::string system_prompt;
  int64_t max_tokens = 256;        // generated tokens per transcript
  int max_text_chars = 300;        // the answer's "text" field (bounds the grammar)
  float temperature = 0.2f;
  int max_connections = 8;         // more are refused with an error event
  int idle_seconds = 120;          // a connection with no complete event for this long is closed
};

// Runs a chat through the model with the grammar; the generated text, or an error.
// `keep_going` is polled while it runs (false: cancel, the server is stopping).
using Generate = std::function<Result<std::string>(const std::vector<chat::Message>& messages,
                                                   std::shared_ptr<const sampling::Grammar> grammar,
                                                   const WyomingConfig& config,
                                                   const std::function<bool()>& keep_going)>;

class Handler {
 public:
  // Checks the config (intent and slot names, limits) and compiles the output grammar.
  static Result<std::unique_ptr<Handler>> create(WyomingConfig config, std::string version);

  // The reply events to one received event (empty: nothing to answer, e.g. an audio chunk).
  std::vector<Event> handle(const Event& event, const Generate& generate,
                            const std::function<bool()>& keep_going = {}) const;

  Event info() const;
  // The JSON Schema the output follows (ordered: intent, entities, text).
  const nlohmann::ordered_json& schema() const { return schema_; }
  std::shared_ptr<const sampling::Grammar> grammar() const { return grammar_; }
  std::string system_prompt(const std::string& language) const;
  // The model's output → intent / handled / not-handled.
  Event map_output(const std::string& output) const;
  const WyomingConfig& config() const { return config_; }

 private:
  Handler() = default;
  WyomingConfig config_;
  std::string version_;
  nlohmann::ordered_json schema_;
  std::shared_ptr<const sampling::Grammar> grammar_;
};

// An `error` event (text, code), sent before closing a connection whose stream is broken.
Event error_event(const std::string& text, const std::string& code);

}  // namespace hearth::wyoming
