#include "chat/model_template.h"

#include <vector>

#include "chat/chat_template.h"

namespace hearth::chat {

namespace {

// Token text for a special-token id; empty when the id or the vocabulary is unusable (the
// tokenizer reports those; a chat template can still render without it).
std::string token_text(const gguf::File& file, const gguf::Array* tokens, std::string_view key) {
  if (!tokens) return {};
  auto id = file.get_uint(key);
  if (!id || *id >= tokens->items.size()) return {};
  const std::string* s = tokens->items[*id].as_string();
  return s ? *s : std::string();
}

}  // namespace

Result<ModelTemplate> model_chat_template(const gguf::File& file, std::string_view override_name) {
  ModelTemplate out;
  auto tokens_r = file.get_array("tokenizer.ggml.tokens");
  const gguf::Array* tokens = tokens_r ? *tokens_r : nullptr;
  out.bos_token = token_text(file, tokens, "tokenizer.ggml.bos_token_id");
  out.eos_token = token_text(file, tokens, "tokenizer.ggml.eos_token_id");

  if (!override_name.empty()) {
    const std::string_view src = builtin_template(override_name);
    if (src.empty()) {
      std::string names;
      for (std::string_view n : builtin_template_names())
        names += (names.empty() ? "" : ", ") + std::string(n);
      return Error{"unknown chat template '" + std::string(override_name) +
                   "' (built-ins: " + names + ")"};
    }
    out.source = src;
    out.origin = "builtin:" + std::string(override_name);
    return out;
  }
  if (const gguf::Value* v = file.find("tokenizer.chat_template")) {
    const std::string* s = v->as_string();
    if (!s) return Error{file.name() + ": tokenizer.chat_template is not a string"};
    out.source = *s;
    out.origin = "tokenizer.chat_template";
    return out;
  }
  std::vector<std::string> texts;
  if (tokens) {
    for (const gguf::Value& t : tokens->items)
      if (const std::string* s = t.as_string();
          s && s->size() > 2 && s->size() < 32 && ((*s)[0] == '<' || (*s)[0] == '['))
        texts.push_back(*s);  // only marker-looking tokens can decide the format
  }
  auto arch = file.get_string("general.architecture");
  auto name = file.get_string("general.name");
  const std::string_view pick =
      detect_builtin(arch ? *arch : std::string(), name ? *name : std::string(), texts);
  out.source = builtin_template(pick);
  out.origin = "builtin:" + std::string(pick);
  return out;
}

}  // namespace hearth::chat
