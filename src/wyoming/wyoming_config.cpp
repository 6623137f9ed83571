// See wyoming_config.h.
#include "wyoming/wyoming_config.h"

#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace hearth::wyoming {
namespace {

Error at(std::string_view origin, const toml::node& node, const std::string& message) {
  return Error{std::string(origin) + ":" + std::to_string(node.source().begin.line) + ": " + message};
}

Status strings(const toml::node& n, std::string_view origin, const char* key, std::vector<std::string>& out) {
  const toml::array* a = n.as_array();
  if (!a) return at(origin, n, std::string("'") + key + "' must be a list of strings");
  out.clear();
  for (const toml::node& e : *a) {
    std::optional<std::string> v = e.value<std::string>();
    if (!v || v->empty()) return at(origin, e, std::string("'") + key + "' must be a list of non-empty strings");
    out.push_back(*v);
  }
  return {};
}

Status string(const toml::node& n, std::string_view origin, const char* key, std::string& out) {
  std::optional<std::string> v = n.value<std::string>();
  if (!v) return at(origin, n, std::string("'") + key + "' must be a string");
  out = *v;
  return {};
}

template <class T>
Status integer(const toml::node& n, std::string_view origin, const char* key, int64_t lo, int64_t hi, T& out) {
  std::optional<int64_t> v = n.value<int64_t>();
  if (!v || *v < lo || *v > hi)
    return at(origin, n, std::string("'") + key + "' must be an integer from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
  out = T(*v);
  return {};
}

Status intent(const toml::node& node, std::string_view origin, IntentSpec& out) {
  const toml::table* t = node.as_table();
  if (!t) return at(origin, node, "each [[wyoming.intents]] entry must be a table");
  for (const auto& [k, n] : *t) {
    const std::string key(k.str());
    Status st;
    if (key == "name") st = string(n, origin, "name", out.name);
    else if (key == "description") st = string(n, origin, "description", out.description);
    else if (key == "slots") st = strings(n, origin, "slots", out.slots);
    else st = at(origin, n, "unknown key '" + key + "' in [[wyoming.intents]]");
    if (!st) return st;
  }
  if (out.name.empty()) return at(origin, node, "a [[wyoming.intents]] entry needs a 'name'");
  return {};
}

}  // namespace

Status parse_wyoming_config(std::string_view text, std::string_view origin, WyomingConfig& c) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    std::ostringstream msg;
    msg << origin << ":" << parsed.error().source().begin.line << ": " << parsed.error().description();
    return Error{msg.str()};
  }
  const toml::node* wn = parsed.table().get("wyoming");
  if (!wn) return {};
  const toml::table* w = wn->as_table();
  if (!w) return at(origin, *wn, "[wyoming] must be a table");
  for (const auto& [k, n] : *w) {
    const std::string key(k.str());
    Status st;
    if (key == "port") st = integer(n, origin, "port", 0, 65535, c.port);
    else if (key == "model") st = string(n, origin, "model", c.model);
    else if (key == "name") st = string(n, origin, "name", c.name);
    else if (key == "description") st = string(n, origin, "description", c.description);
    else if (key == "languages") st = strings(n, origin, "languages", c.languages);
    else if (key == "entities") st = strings(n, origin, "entities", c.entities);
    else if (key == "areas") st = strings(n, origin, "areas", c.areas);
    else if (key == "allow_none") {
      std::optional<bool> v = n.value<bool>();
      if (!v) st = at(origin, n, "'allow_none' must be true or false");
      else c.allow_none = *v;
    } else if (key == "system_prompt") st = string(n, origin, "system_prompt", c.system_prompt);
    else if (key == "max_tokens") st = integer(n, origin, "max_tokens", 16, 8192, c.max_tokens);
    else if (key == "max_text_chars") st = integer(n, origin, "max_text_chars", 1, 4000, c.max_text_chars);
    else if (key == "max_connections") st = integer(n, origin, "max_connections", 1, 256, c.max_connections);
    else if (key == "idle_seconds") st = integer(n, origin, "idle_seconds", 1, 86400, c.idle_seconds);
    else if (key == "temperature") {
      std::optional<double> v = n.value<double>();
      if (!v || *v < 0 || *v > 2) st = at(origin, n, "'temperature' must be a number from 0 to 2");
      else c.temperature = float(*v);
    } else if (key == "intents") {
      const toml::array* a = n.as_array();
      if (!a) { st = at(origin, n, "intents must be an array of tables: [[wyoming.intents]]"); }
      else {
        c.intents.clear();
        for (const toml::node& e : *a) {
          IntentSpec spec;
          if (Status s2 = intent(e, origin, spec); !s2) return s2;
          c.intents.push_back(std::move(spec));
        }
      }
    } else st = at(origin, n, "unknown key '" + key + "' in [wyoming]");
    if (!st) return st;
  }
  return {};
}

Status load_wyoming_config(const std::filesystem::path& path, WyomingConfig& config) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read config " + path.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_wyoming_config(ss.str(), path.string(), config);
}

}  // namespace hearth::wyoming
