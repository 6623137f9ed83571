#include "chat/chat_template.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace hearth::chat {

namespace {

struct Builtin {
  std::string_view name;
  std::string_view source;
};

// Written for hearth in the families' documented prompt formats. bos_token is emitted by the
// template where the family's own template does it, so callers tokenize with BOS-adding off.
constexpr Builtin kBuiltins[] = {
    {"chatml",
     "{%- for message in messages -%}"
     "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"},
    {"llama2",
     "{%- if messages and messages[0]['role'] == 'system' -%}"
     "{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}"
     "{%- else -%}{%- set system = none -%}{%- set turns = messages -%}{%- endif -%}"
     "{%- for message in turns -%}"
     "{%- if message['role'] == 'user' -%}"
     "{%- set text = message['content'] | trim -%}"
     "{%- if loop.first and system is not none -%}"
     "{%- set text = '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + text -%}{%- endif -%}"
     "{{- bos_token + '[INST] ' + text + ' [/INST]' -}}"
     "{%- elif message['role'] == 'assistant' -%}"
     "{{- ' ' + (message['content'] | trim) + ' ' + eos_token -}}"
     "{%- endif -%}"
     "{%- endfor -%}"},
    {"llama3",
     "{{- bos_token -}}"
     "{%- for message in messages -%}"
     "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
     "(message['content'] | trim) + '<|eot_id|>' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' "
     "-}}{%- endif -%}"},
    {"zephyr",
     "{%- for message in messages -%}"
     "{{- '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"phi3",
     "{%- for message in messages -%}"
     "{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' -}}"
     "{%- endfor -%}"
     "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"mistral",
     "{%- if messages and messages[0]['role'] == 'system' -%}"
     "{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}"
     "{%- else -%}{%- set system = none -%}{%- set turns = messages -%}{%- endif -%}"
     "{{- bos_token -}}"
     "{%- for message in turns -%}"
     "{%- if message['role'] == 'user' -%}"
     "{%- if loop.first and system is not none -%}"
     "{{- '[INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' -}}"
     "{%- else -%}{{- '[INST] ' + message['content'] + ' [/INST]' -}}{%- endif -%}"
     "{%- elif message['role'] == 'assistant' -%}"
     "{{- message['content'] + eos_token -}}"
     "{%- endif -%}"
     "{%- endfor -%}"},
};

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

jinja::Value value_from_json(const nlohmann::ordered_json& j) {
  using jinja::Value;
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      return u > static_cast<uint64_t>(INT64_MAX) ? Value::number(static_cast<double>(u))
                                                  : Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Value list = Value::make_list();
      for (const auto& item : j) list.push(value_from_json(item));
      return list;
    }
    case nlohmann::ordered_json::value_t::object: {
      Value dict = Value::make_dict();
      for (const auto& [k, v] : j.items()) dict.set(k, value_from_json(v));
      return dict;
    }
    default:
      return Value::none();
  }
}

Result<ChatTemplate> ChatTemplate::create(const std::string& source, std::string bos_token,
                                          std::string eos_token) {
  auto t = jinja::Template::parse(source);
  if (!t) return t.error();
  return ChatTemplate(std::move(*t), std::move(bos_token), std::move(eos_token));
}

Result<std::string> ChatTemplate::apply(std::span<const Message> messages,
                                        bool add_generation_prompt,
                                        const nlohmann::ordered_json& extra,
                                        const jinja::RenderOptions& options) const {
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  auto& list = context["messages"] = nlohmann::ordered_json::array();
  for (const Message& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  context["add_generation_prompt"] = add_generation_prompt;
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) context[k] = v;
  return apply_json(context, options);
}

Result<std::string> ChatTemplate::apply_json(const nlohmann::ordered_json& context,
                                             const jinja::RenderOptions& options) const {
  if (!context.is_object()) return Error{"chat template: context must be a JSON object"};
  jinja::Value globals = value_from_json(context);
  if (!globals.get("bos_token")) globals.set("bos_token", jinja::Value::string(bos_));
  if (!globals.get("eos_token")) globals.set("eos_token", jinja::Value::string(eos_));
  if (!globals.get("add_generation_prompt"))
    globals.set("add_generation_prompt", jinja::Value::boolean(false));
  // transformers passes these as None when the caller gives none; templates test `tools is none`.
  if (!globals.get("tools")) globals.set("tools", jinja::Value::none());
  if (!globals.get("documents")) globals.set("documents", jinja::Value::none());
  return template_.render(globals, options);
}

Result<std::string> render(const std::string& template_source, std::span<const Message> messages,
                           bool add_generation_prompt, const std::string& bos_token,
                           const std::string& eos_token, const nlohmann::ordered_json& extra,
                           const jinja::RenderOptions& options) {
  auto t = ChatTemplate::create(template_source, bos_token, eos_token);
  if (!t) return t.error();
  return t->apply(messages, add_generation_prompt, extra, options);
}

std::string_view builtin_template(std::string_view name) {
  for (const Builtin& b : kBuiltins)
    if (b.name == name) return b.source;
  return {};
}

std::vector<std::string_view> builtin_template_names() {
  std::vector<std::string_view> names;
  for (const Builtin& b : kBuiltins) names.push_back(b.name);
  return names;
}

std::string_view detect_builtin(std::string_view architecture, std::string_view model_name,
                                std::span<const std::string> token_texts) {
  const std::unordered_set<std::string_view> tokens(token_texts.begin(), token_texts.end());
  const auto has = [&](std::string_view t) { return tokens.count(t) != 0; };
  // Special tokens are the strongest evidence: they exist only for their format.
  if (has("<|im_start|>") && has("<|im_end|>")) return "chatml";
  if (has("<|start_header_id|>") && has("<|eot_id|>")) return "llama3";
  if (has("<|assistant|>") && has("<|end|>")) return "phi3";
  if (has("<|assistant|>") && has("<|user|>")) return "zephyr";
  if (has("[INST]")) return "mistral";
  const std::string name = lowercase(model_name);
  if (name.find("mistral") != std::string::npos || name.find("mixtral") != std::string::npos)
    return "mistral";
  if (name.find("zephyr") != std::string::npos || name.find("tinyllama") != std::string::npos)
    return "zephyr";
  if (name.find("llama-3") != std::string::npos || name.find("llama 3") != std::string::npos)
    return "llama3";
  if (architecture == "qwen2" || architecture == "qwen") return "chatml";
  if (architecture == "phi3") return "phi3";
  if (architecture == "stablelm") return "zephyr";
  if (architecture == "llama") return "llama2";
  return "chatml";
}

}  // namespace hearth::chat
