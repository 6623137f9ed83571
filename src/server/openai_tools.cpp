// See openai_tools.h. Semantics follow OpenAI's chat completions reference; where hearth
// differs: `tool_choice: "none"` keeps the tools out of the prompt altogether (the model is
// not told about them, and its answer is plain content); `parallel_tool_calls` is accepted
// and, when false, only the first parsed call is returned; a forced call (required / named)
// is always exactly one call.
#include "server/openai_tools.h"

#include <random>

#include "server/json_limits.h"
#include "server/openai_api.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

ApiError invalid(std::string param, std::string message) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

// tool_calls.h errors quote the field first ("'tools[1].function.name' must ..."): that is
// the param.
ApiError from_tool_error(const std::string& message, const std::string& fallback) {
  std::string param = fallback;
  if (message.size() > 2 && message[0] == '\'') {
    const size_t end = message.find('\'', 1);
    if (end != std::string::npos) param = message.substr(1, end - 1);
  }
  return invalid(param, message);
}

// A forced call is read by a program, never shown: no room for whitespace, which a weak model
// would otherwise spend tokens on (up to 20 at every place JSON allows it).
sampling::JsonGrammarOptions forced_call_options() {
  sampling::JsonGrammarOptions o;
  o.max_ws = 1;
  return o;
}

}  // namespace

bool read_message_tools(const json& m, const std::string& p, ordered_json& tm,
                        std::vector<std::pair<std::string, std::string>>& call_names,
                        ApiError& err) {
  if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
    if (!tc->is_array()) return err = invalid(p + ".tool_calls", "'" + p + ".tool_calls' must be a list"), false;
    ordered_json calls = ordered_json::array();
    for (size_t k = 0; k < tc->size(); ++k) {
      const json& c = (*tc)[k];
      const std::string q = p + ".tool_calls[" + std::to_string(k) + "]";
      if (!c.is_object()) return err = invalid(q, "'" + q + "' must be an object"), false;
      auto fn = c.find("function");
      if (fn == c.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
        return err = invalid(q + ".function.name", "'" + q + ".function.name' must be a string"), false;
      ordered_json args = ordered_json::object();
      if (auto a = fn->find("arguments"); a != fn->end() && !a->is_null()) {
        if (a->is_string()) {
          // OpenAI sends the arguments as JSON text; templates expect the object.
          const std::string& s = a->get_ref<const std::string&>();
          ordered_json parsed = json_nesting_within(s) ? ordered_json::parse(s, nullptr, false)
                                                       : ordered_json(nullptr);
          args = parsed.is_discarded() || parsed.is_null() ? ordered_json(s) : parsed;
        } else if (a->is_object()) {
          args = ordered_json(*a);
        } else {
          return err = invalid(q + ".function.arguments",
                               "'" + q + ".function.arguments' must be a JSON string"),
                 false;
        }
      }
      std::string id;
      if (auto i = c.find("id"); i != c.end() && !i->is_null()) {
        if (!i->is_string()) return err = invalid(q + ".id", "'" + q + ".id' must be a string"), false;
        id = i->get<std::string>();
      }
      const std::string name = (*fn)["name"].get<std::string>();
      if (!id.empty()) call_names.emplace_back(id, name);
      ordered_json call = {{"type", "function"}, {"function", {{"name", name}, {"arguments", args}}}};
      if (!id.empty()) call["id"] = id;
      calls.push_back(std::move(call));
    }
    if (!calls.empty()) tm["tool_calls"] = std::move(calls);
  }
  if (auto id = m.find("tool_call_id"); id != m.end() && !id->is_null()) {
    if (!id->is_string()) return err = invalid(p + ".tool_call_id", "'" + p + ".tool_call_id' must be a string"), false;
    tm["tool_call_id"] = id->get<std::string>();
    for (const auto& [cid, name] : call_names)
      if (cid == id->get<std::string>()) tm["name"] = name;
  }
  if (auto n = m.find("name"); n != m.end() && !n->is_null()) {
    if (!n->is_string()) return err = invalid(p + ".name", "'" + p + ".name' must be a string"), false;
    tm["name"] = n->get<std::string>();
  }
  if (tm["role"] == "tool" && !tm.contains("tool_call_id") && !tm.contains("name"))
    return err = invalid(p + ".tool_call_id", "'" + p + ".tool_call_id' is required for a tool message"), false;
  return true;
}

bool read_tools(const json& body, OpenAiRequest& r, ApiError& err) {
  const ordered_json tools = body.contains("tools") ? ordered_json(body["tools"]) : ordered_json();
  Result<std::vector<ToolSpec>> specs = parse_tools(tools);
  if (!specs) return err = from_tool_error(specs.error().message, "tools"), false;
  r.tool_specs = std::move(*specs);
  Result<ToolChoice> choice =
      parse_tool_choice(body.contains("tool_choice") ? body["tool_choice"] : json(), r.tool_specs);
  if (!choice) return err = from_tool_error(choice.error().message, "tool_choice"), false;
  r.tool_choice = *choice;
  if (auto it = body.find("parallel_tool_calls"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean())
      return err = invalid("parallel_tool_calls", "'parallel_tool_calls' must be a boolean"), false;
    r.parallel_tool_calls = it->get<bool>();
  }
  const bool offered = !r.tool_specs.empty() && r.tool_choice.mode != ToolChoice::Mode::kNone;
  if (!offered) return true;
  r.tools = tools;
  r.parse_tool_calls = true;
  if (r.tool_choice.mode == ToolChoice::Mode::kRequired || r.tool_choice.mode == ToolChoice::Mode::kNamed) {
    if (r.grammar)
      return err = invalid("tool_choice", "'tool_choice' \"required\" or a named tool cannot be combined with 'response_format'"), false;
    Result<std::shared_ptr<const sampling::Grammar>> g =
        tool_call_grammar(r.tool_specs, r.tool_choice, forced_call_options());
    if (!g) return err = from_tool_error(g.error().message, "tools"), false;
    r.grammar = *g;
  }
  return true;
}

void order_tools(const ordered_json& body, OpenAiRequest& r) {
  if (!r.parse_tool_calls || !body.is_object() || !body.contains("tools")) return;
  Result<std::vector<ToolSpec>> specs = parse_tools(body["tools"]);
  if (!specs) return;  // validated before: cannot happen
  r.tools = body["tools"];
  r.tool_specs = std::move(*specs);
  if (r.grammar && (r.tool_choice.mode == ToolChoice::Mode::kRequired ||
                    r.tool_choice.mode == ToolChoice::Mode::kNamed))
    if (auto g = tool_call_grammar(r.tool_specs, r.tool_choice, forced_call_options())) r.grammar = *g;
}

std::vector<std::string> tool_call_ids(size_t n) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::mt19937_64 rng((uint64_t(rd()) << 32) ^ rd());
  std::vector<std::string> ids;
  for (size_t k = 0; k < n; ++k) {
    std::string id = "call_";
    for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof(kChars) - 1)];
    ids.push_back(std::move(id));
  }
  return ids;
}

json openai_tool_calls(const std::vector<ToolCall>& calls, const std::vector<std::string>& ids) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    out.push_back({{"id", ids[i]},
                   {"type", "function"},
                   {"function",
                    {{"name", calls[i].name},
                     {"arguments", calls[i].arguments.dump(-1, ' ', false, ordered_json::error_handler_t::replace)}}}});
  }
  return out;
}

std::vector<json> tool_call_deltas(const std::vector<ToolCall>& calls,
                                   const std::vector<std::string>& ids, size_t piece, bool whole) {
  std::vector<json> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string args =
        calls[i].arguments.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    out.push_back({{"tool_calls",
                    json::array({{{"index", i},
                                  {"id", ids[i]},
                                  {"type", "function"},
                                  {"function", {{"name", calls[i].name}, {"arguments", whole ? args : ""}}}}})}});
    if (whole) continue;
    size_t pos = 0;
    while (pos < args.size()) {
      size_t n = std::min(piece, args.size() - pos);
      // Never cut a UTF-8 character: each piece is its own JSON string.
      while (pos + n < args.size() && n > 1 && (static_cast<unsigned char>(args[pos + n]) & 0xC0) == 0x80) --n;
      out.push_back({{"tool_calls",
                      json::array({{{"index", i}, {"function", {{"arguments", args.substr(pos, n)}}}}})}});
      pos += n;
    }
  }
  return out;
}

}  // namespace hearth::server
