// Which chat template a GGUF model gets: its own `tokenizer.chat_template`, else a built-in
// detected from its special tokens, architecture and name; plus the BOS/EOS texts templates use.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "gguf/reader.h"

namespace hearth::chat {

struct ModelTemplate {
  std::string source;
  std::string origin;  // "tokenizer.chat_template" or "builtin:<name>"
  std::string bos_token;
  std::string eos_token;
};

// `override_name` (a built-in name, e.g. from --chat-template) wins over the file's template.
Result<ModelTemplate> model_chat_template(const gguf::File& file,
                                          std::string_view override_name = {});

}  // namespace hearth::chat
