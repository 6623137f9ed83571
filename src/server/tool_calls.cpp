// See tool_calls.h. The parser is a table of tagged formats tried in order, then the generic
// JSON form. JSON bodies are cut out by a bracket scan (strings and escapes respected) and
// refused past json_limits' depth before nlohmann parses them: the text is the model's, so it
// is as hostile as any request body.
#include "server/tool_calls.h"

#include <algorithm>

#include "sampling/json_schema.h"
#include "server/json_limits.h"

namespace hearth::server {
namespace {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim_front(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// How the text after a tag is read.
enum class Body {
  kJson,     // one JSON object or list of calls (more values may follow)
  kMistral,  // kJson, or name[ARGS]{arguments}
};

struct Format {
  std::string_view name;
  std::string_view open;
  std::string_view close;  // "": the body runs to the next `open` or the end of the text
  bool anywhere;           // may follow prose (else only at the start of the answer)
  Body body;
};

// Order matters only where one tag contains another; none does.
constexpr Format kFormats[] = {
    {"hermes", "<tool_call>", "</tool_call>", true, Body::kJson},
    {"phi4", "<|tool_call|>", "<|/tool_call|>", true, Body::kJson},
    {"mistral", "[TOOL_CALLS]", "", true, Body::kMistral},
    {"llama3", "<|python_tag|>", "", true, Body::kJson},
    // A plain word, so only where the answer starts with it.
    {"functools", "functools", "", false, Body::kJson},
};

// The length of the JSON object or array at the start of `s` (brackets balanced outside
// strings), or 0 when it does not close or nests deeper than kMaxJsonDepth.
size_t json_value_length(std::string_view s) {
  if (s.empty() || (s[0] != '{' && s[0] != '[')) return 0;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return 0;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

// {"name", "arguments" | "parameters"} (or OpenAI's {"function": {...}}) as a call.
bool as_call(const ordered_json& j, ToolCall& out) {
  if (!j.is_object()) return false;
  const ordered_json* fn = &j;
  if (auto f = j.find("function"); f != j.end() && f->is_object()) fn = &*f;
  auto name = fn->find("name");
  if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) return false;
  ordered_json args = ordered_json::object();
  if (auto a = fn->find("arguments"); a != fn->end()) args = *a;
  else if (auto p = fn->find("parameters"); p != fn->end()) args = *p;
  else if (fn->size() != 1) return false;  // {"name": x} alone is a call without arguments
  if (args.is_string()) {
    // Some models (and OpenAI's own shape) write the arguments as a JSON string.
    const std::string& s = args.get_ref<const std::string&>();
    if (!json_nesting_within(s)) return false;
    ordered_json parsed = ordered_json::parse(s, nullptr, false);
    if (parsed.is_discarded()) return false;
    args = std::move(parsed);
  }
  if (args.is_null()) args = ordered_json::object();
  if (!args.is_object()) return false;
  out.name = name->get<std::string>();
  out.arguments = std::move(args);
  return true;
}

// An object or a non-empty list of objects that are all calls; false otherwise (nothing added).
bool calls_from_json(std::string_view text, std::vector<ToolCall>& calls) {
  ordered_json j = ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) return false;
  std::vector<ToolCall> found;
  if (j.is_array()) {
    if (j.empty()) return false;
    for (const ordered_json& e : j) {
      ToolCall c;
      if (!as_call(e, c)) return false;
      found.push_back(std::move(c));
    }
  } else {
    ToolCall c;
    if (!as_call(j, c)) return false;
    found.push_back(std::move(c));
  }
  for (ToolCall& c : found) calls.push_back(std::move(c));
  return true;
}

// JSON values of calls at the start of `body`, separated by whitespace, ';' or ','; returns
// what follows them. False when the first value is not calls.
bool json_calls(std::string_view body, std::vector<ToolCall>& calls, std::string_view& rest) {
  std::string_view s = trim_front(body);
  bool any = false;
  for (;;) {
    const size_t n = json_value_length(s);
    if (n == 0 || !calls_from_json(s.substr(0, n), calls)) break;
    any = true;
    s = trim_front(s.substr(n));
    if (!s.empty() && (s[0] == ';' || s[0] == ',')) s = trim_front(s.substr(1));
  }
  rest = s;
  return any;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// Mistral's v11 form: name[ARGS]{...}; also [CALL_ID]xxx before [ARGS] (v13) is skipped.
bool mistral_named_call(std::string_view body, std::vector<ToolCall>& calls, std::string_view& rest) {
  std::string_view s = trim_front(body);
  size_t i = 0;
  while (i < s.size() && name_char(s[i])) ++i;
  if (i == 0) return false;
  const std::string name(s.substr(0, i));
  s.remove_prefix(i);
  if (starts_with(s, "[CALL_ID]")) {
    s.remove_prefix(9);
    while (!s.empty() && name_char(s.front())) s.remove_prefix(1);
  }
  if (!starts_with(s, "[ARGS]")) return false;
  s = trim_front(s.substr(6));
  const size_t n = json_value_length(s);
  if (n == 0 || s[0] != '{') return false;
  ordered_json args = ordered_json::parse(s.substr(0, n), nullptr, false);
  if (args.is_discarded() || !args.is_object()) return false;
  calls.push_back({name, std::move(args)});
  rest = trim_front(s.substr(n));
  return true;
}

bool body_calls(const Format& f, std::string_view body, std::vector<ToolCall>& calls,
                std::string_view& rest) {
  if (json_calls(body, calls, rest)) return true;
  if (f.body != Body::kMistral || !mistral_named_call(body, calls, rest)) return false;
  // Several calls may follow one tag: name[ARGS]{...}name[ARGS]{...}
  for (std::string_view more = rest; mistral_named_call(more, calls, rest); more = rest) {
  }
  return true;
}

// Every block of format `f` in `text`; false (out untouched) when none held a call.
bool split_tagged(const Format& f, std::string_view text, ToolCallSplit& out) {
  if (!f.anywhere && !starts_with(trim_front(text), f.open)) return false;
  if (text.find(f.open) == std::string_view::npos) return false;
  std::string content;
  std::vector<ToolCall> calls;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = text.find(f.open, pos);
    if (start == std::string_view::npos) break;
    content += text.substr(pos, start - pos);
    const size_t body_start = start + f.open.size();
    size_t body_end, next;
    if (!f.close.empty()) {
      const size_t close = text.find(f.close, body_start);
      body_end = close == std::string_view::npos ? text.size() : close;  // unclosed: to the end
      next = close == std::string_view::npos ? text.size() : close + f.close.size();
    } else {
      const size_t again = text.find(f.open, body_start);
      body_end = next = again == std::string_view::npos ? text.size() : again;
    }
    const std::string_view body = text.substr(body_start, body_end - body_start);
    std::string_view rest;
    if (body_calls(f, body, calls, rest)) {
      if (!trim(rest).empty()) content += std::string(" ") + std::string(trim(rest));
    } else {
      content += text.substr(start, next - start);  // not a call: keep it as written
    }
    pos = next;
    if (!f.anywhere) break;  // a start-only word opens one block
  }
  if (pos < text.size()) content += text.substr(pos);
  if (calls.empty()) return false;
  out.content = std::string(trim(content));
  out.calls = std::move(calls);
  out.format = std::string(f.name);
  return true;
}

// The generic form: the whole answer (possibly in a ``` fence) a call or a list of calls.
bool split_json(std::string_view text, ToolCallSplit& out) {
  std::string_view t = trim(text);
  if (starts_with(t, "```")) {
    t.remove_prefix(3);
    while (!t.empty() && t.front() != '\n' && t.front() != '{' && t.front() != '[') t.remove_prefix(1);
    t = trim(t);
    if (t.size() >= 3 && t.substr(t.size() - 3) == "```") t = trim(t.substr(0, t.size() - 3));
  }
  std::vector<ToolCall> calls;
  std::string_view rest;
  if (!json_calls(t, calls, rest)) return false;
  out.content = std::string(trim(rest));
  out.calls = std::move(calls);
  out.format = "json";
  return true;
}

}  // namespace

ToolCallSplit parse_tool_calls(std::string_view text) {
  ToolCallSplit out;
  for (const Format& f : kFormats)
    if (split_tagged(f, text, out)) return out;
  if (split_json(text, out)) return out;
  out.content = std::string(text);
  return out;
}

// ---- streaming ---------------------------------------------------------------------------

std::string ToolCallStreamer::feed(std::string_view text) {
  held_ += text;
  if (capturing_) return {};
  if (!started_) {
    const std::string_view t = trim_front(held_);
    if (t.empty()) return {};
    bool maybe = false;
    const auto check = [&](std::string_view opener) {
      if (starts_with(t, opener)) capturing_ = true;
      else if (starts_with(opener, t)) maybe = true;  // could still become it: wait
    };
    for (std::string_view o : {"{", "[", "```"}) check(o);
    for (const Format& f : kFormats) check(f.open);
    if (capturing_) return {};
    if (maybe) return {};
    started_ = true;
  }
  // Prose: release all but a tail that may be the start of a tag.
  size_t first = std::string::npos;
  for (const Format& f : kFormats)
    if (f.anywhere) first = std::min(first, held_.find(f.open));
  if (first != std::string::npos) {
    std::string out = held_.substr(0, first);
    held_.erase(0, first);
    capturing_ = true;
    return out;
  }
  size_t keep = 0;
  for (const Format& f : kFormats) {
    if (!f.anywhere) continue;
    for (size_t k = std::min(f.open.size() - 1, held_.size()); k > keep; --k) {
      if (std::string_view(held_).substr(held_.size() - k) == f.open.substr(0, k)) {
        keep = k;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

ToolCallSplit ToolCallStreamer::finish() {
  ToolCallSplit s = parse_tool_calls(held_);
  held_.clear();
  return s;
}

// ---- requests ----------------------------------------------------------------------------

Result<std::vector<ToolSpec>> parse_tools(const ordered_json& tools, std::string_view where) {
  const std::string w(where);
  std::vector<ToolSpec> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) return Error{"'" + w + "' must be a list of tools"};
  for (size_t i = 0; i < tools.size(); ++i) {
    const ordered_json& t = tools[i];
    const std::string p = w + "[" + std::to_string(i) + "]";
    if (!t.is_object()) return Error{"'" + p + "' must be an object"};
    if (auto type = t.find("type"); type != t.end() && !type->is_null() &&
                                    (!type->is_string() || *type != "function"))
      return Error{"'" + p + ".type' must be \"function\""};
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) return Error{"'" + p + ".function' must be an object"};
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get<std::string>().empty())
      return Error{"'" + p + ".function.name' must be a non-empty string"};
    ToolSpec spec;
    spec.name = name->get<std::string>();
    if (auto params = fn->find("parameters"); params != fn->end() && !params->is_null()) {
      if (!params->is_object()) return Error{"'" + p + ".function.parameters' must be a JSON schema object"};
      spec.parameters = *params;
    }
    if (auto d = fn->find("description"); d != fn->end() && !d->is_null() && !d->is_string())
      return Error{"'" + p + ".function.description' must be a string"};
    out.push_back(std::move(spec));
  }
  return out;
}

Result<ToolChoice> parse_tool_choice(const json& v, const std::vector<ToolSpec>& tools) {
  ToolChoice c;
  if (v.is_null()) return c;
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "auto") c.mode = ToolChoice::Mode::kAuto;
    else if (s == "none") c.mode = ToolChoice::Mode::kNone;
    else if (s == "required") c.mode = ToolChoice::Mode::kRequired;
    else return Error{"'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}, got \"" + s + "\""};
    if (c.mode == ToolChoice::Mode::kRequired && tools.empty())
      return Error{"'tool_choice' \"required\" needs a non-empty 'tools'"};
    return c;
  }
  if (!v.is_object()) return Error{"'tool_choice' must be a string or an object"};
  auto type = v.find("type");
  if (type == v.end() || !type->is_string() || *type != "function")
    return Error{"'tool_choice.type' must be \"function\""};
  auto fn = v.find("function");
  if (fn == v.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
    return Error{"'tool_choice.function.name' must be a string"};
  c.mode = ToolChoice::Mode::kNamed;
  c.name = (*fn)["name"].get<std::string>();
  if (std::none_of(tools.begin(), tools.end(), [&](const ToolSpec& t) { return t.name == c.name; }))
    return Error{"'tool_choice.function.name': no tool named \"" + c.name + "\" in 'tools'"};
  return c;
}

Result<std::shared_ptr<const sampling::Grammar>> tool_call_grammar(const std::vector<ToolSpec>& tools,
                                                                   const ToolChoice& choice,
                                                                   const sampling::JsonGrammarOptions& options) {
  ordered_json alternatives = ordered_json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const ToolSpec& t = tools[i];
    if (choice.mode == ToolChoice::Mode::kNamed && t.name != choice.name) continue;
    ordered_json params = t.parameters.is_null() ? ordered_json{{"type", "object"}} : t.parameters;
    // Each alternative on its own first, so that an error names the tool.
    ordered_json one = {{"type", "object"},
                        {"properties", {{"name", {{"const", t.name}}}, {"arguments", params}}},
                        {"required", {"name", "arguments"}}};
    if (Result<std::string> g = sampling::json_schema_to_grammar(one, options); !g)
      return Error{"'tools[" + std::to_string(i) + "].function.parameters': " + g.error().message};
    alternatives.push_back(std::move(one));
  }
  if (alternatives.empty()) return Error{"'tool_choice': no tool to call"};
  const ordered_json schema =
      alternatives.size() == 1 ? alternatives[0] : ordered_json{{"anyOf", alternatives}};
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::compile_json_schema(schema, options);
  if (!g) return Error{"'tools': " + g.error().message};
  return *g;
}

std::string tool_system_prompt(const ordered_json& tools) {
  std::string s =
      "You can call the tools listed below. To call one, answer with only a JSON object "
      "{\"name\": <the tool's name>, \"arguments\": <an object matching its parameters>} "
      "(or a JSON list of such objects for several calls) and nothing else. Tool results come "
      "back in messages starting with \"Tool result\". If no tool fits, answer in plain text.\n"
      "Tools:\n";
  for (const ordered_json& t : tools) {
    const ordered_json& fn = t.contains("function") ? t["function"] : t;
    s += fn.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
  }
  return s;
}

ordered_json tool_chat_context(std::string_view template_source, ordered_json messages,
                               const ordered_json& tools) {
  ordered_json context = {{"add_generation_prompt", true}};
  const bool has_tools = tools.is_array() && !tools.empty();
  if (template_renders_tools(template_source)) {
    context["messages"] = std::move(messages);
    if (has_tools) context["tools"] = tools;
    return context;
  }
  // The template knows nothing of tools: say it all in plain messages.
  ordered_json out = ordered_json::array();
  for (ordered_json& m : messages) {
    const std::string role = m.value("role", "");
    std::string content = m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : "";
    if (role == "tool") {
      std::string who = m.value("name", "");
      if (who.empty()) who = m.value("tool_call_id", "");
      out.push_back({{"role", "user"},
                     {"content", "Tool result" + (who.empty() ? "" : " (" + who + ")") + ": " + content}});
      continue;
    }
    if (auto tc = m.find("tool_calls"); tc != m.end() && tc->is_array() && !tc->empty()) {
      ordered_json calls = ordered_json::array();
      for (const ordered_json& c : *tc) {
        const ordered_json& fn = c.contains("function") ? c["function"] : c;
        calls.push_back({{"name", fn.value("name", "")}, {"arguments", fn.value("arguments", ordered_json::object())}});
      }
      const std::string text = (calls.size() == 1 ? calls[0] : calls).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
      content = content.empty() ? text : content + "\n" + text;
    }
    out.push_back({{"role", role}, {"content", content}});
  }
  if (has_tools) {
    const std::string prompt = tool_system_prompt(tools);
    if (!out.empty() && out[0]["role"] == "system")
      out[0]["content"] = out[0]["content"].get<std::string>() + "\n\n" + prompt;
    else
      out.insert(out.begin(), ordered_json{{"role", "system"}, {"content", prompt}});
  }
  context["messages"] = std::move(out);
  return context;
}

bool template_renders_tools(std::string_view source) {
  return source.find("tools") != std::string_view::npos ||
         source.find("tool_calls") != std::string_view::npos;
}

}  // namespace hearth::server
