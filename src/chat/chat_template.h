// Chat prompt formatting: the model's own `tokenizer.chat_template` rendered by the Jinja subset,
// or, for files without one, a built-in template picked by name or detected from the model.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja.h"
#include "core/status.h"

namespace hearth::chat {

struct Message {
  std::string role;  // "system", "user", "assistant", "tool", ...
  std::string content;
};

// JSON → template values, keeping object key order (use nlohmann::ordered_json for that).
jinja::Value value_from_json(const nlohmann::ordered_json& j);

// A parsed template with the model's special tokens; parse once, apply per turn.
class ChatTemplate {
 public:
  static Result<ChatTemplate> create(const std::string& source, std::string bos_token,
                                     std::string eos_token);

  Result<std::string> apply(std::span<const Message> messages, bool add_generation_prompt,
                            const nlohmann::ordered_json& extra = nlohmann::ordered_json::object(),
                            const jinja::RenderOptions& options = {}) const;
  // Full control: `context` holds messages (with tool_calls etc.), tools, flags. bos_token and
  // eos_token are added unless present.
  Result<std::string> apply_json(const nlohmann::ordered_json& context,
                                 const jinja::RenderOptions& options = {}) const;

 private:
  ChatTemplate(jinja::Template t, std::string bos, std::string eos)
      : template_(std::move(t)), bos_(std::move(bos)), eos_(std::move(eos)) {}
  jinja::Template template_;
  std::string bos_, eos_;
};

// One-shot: parse and render. `extra` entries become template globals (tools, date_string, ...).
Result<std::string> render(const std::string& template_source, std::span<const Message> messages,
                           bool add_generation_prompt, const std::string& bos_token,
                           const std::string& eos_token,
                           const nlohmann::ordered_json& extra = nlohmann::ordered_json::object(),
                           const jinja::RenderOptions& options = {});

// Built-in templates: chatml, llama2, llama3, zephyr, phi3, mistral. Empty when unknown.
std::string_view builtin_template(std::string_view name);
std::vector<std::string_view> builtin_template_names();

// Which built-in suits a model without `tokenizer.chat_template`, from its special tokens, then
// its architecture (`general.architecture`) and name (`general.name`). Never empty: chatml last.
std::string_view detect_builtin(std::string_view architecture, std::string_view model_name,
                                std::span<const std::string> token_texts);

}  // namespace hearth::chat
