// See server_config.h. toml++ is used header-only, in this file alone (it is a large header).
#include "server/server_config.h"

#include "router/router_config.h"  // [[local]], [[upstream]], [route]: parsed there

// Errors as values: parse() returns a parse_result instead of throwing.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace hearth::server {
namespace {

Error at(std::string_view origin, const toml::node& node, const std::string& message) {
  const toml::source_position p = node.source().begin;
  return Error{std::string(origin) + ":" + std::to_string(p.line) + ": " + message};
}

template <class T>
Status read_int(const toml::table& t, const char* key, std::string_view origin, T lo, T hi, T& out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  std::optional<int64_t> v = n->value<int64_t>();
  if (!v || *v < int64_t(lo) || *v > int64_t(hi))
    return at(origin, *n, std::string("'") + key + "' must be an integer from " + std::to_string(lo) +
                              " to " + std::to_string(hi));
  out = T(*v);
  return {};
}

Status read_string(const toml::table& t, const char* key, std::string_view origin, std::string& out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  std::optional<std::string> v = n->value<std::string>();
  if (!v) return at(origin, *n, std::string("'") + key + "' must be a string");
  out = *v;
  return {};
}

Status read_duration(const toml::table& t, const char* key, std::string_view origin,
                     std::optional<std::chrono::seconds>& out) {
  const toml::node* n = t.get(key);
  if (!n) return {};
  if (std::optional<int64_t> v = n->value<int64_t>()) {
    out = std::chrono::seconds(*v);
    return {};
  }
  std::optional<std::string> s = n->value<std::string>();
  if (!s) return at(origin, *n, std::string("'") + key + "' must be seconds or a duration like \"5m\"");
  Result<std::chrono::seconds> d = parse_duration(*s);
  if (!d) return at(origin, *n, std::string("'") + key + "': " + d.error().message);
  out = *d;
  return {};
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (s.empty()) return Error{"empty duration"};
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  int64_t total = 0;
  bool any = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i || j - i > 12) return Error{"not a duration: '" + s + "'"};
    const int64_t v = std::stoll(s.substr(i, j - i));
    int64_t unit = 1;
    if (j < s.size()) {
      switch (s[j]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        default: return Error{"not a duration: '" + s + "' (units: s, m, h)"};
      }
      ++j;
    } else if (any) {
      return Error{"not a duration: '" + s + "'"};
    }
    total += v * unit;
    any = true;
    i = j;
  }
  return std::chrono::seconds(negative ? -total : total);
}

Status parse_server_config(std::string_view text, std::string_view origin, ServerOptions& server,
                           RegistryOptions& registry) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ": " << e.description();
    return Error{msg.str()};
  }
  const toml::table& root = parsed.table();
  for (const auto& [key, node] : root) {
    // [wyoming]: read by wyoming/wyoming_config.cpp (the Wyoming service, docs/home-assistant.md).
    if (key != "server" && key != "models" && key != "wyoming" && key != "rag" && !router::is_router_table(key))
      return at(origin, node, "unknown section '" + std::string(key.str()) + "' (expected [server] or [[models]])");
  }
  if (const toml::node* sn = root.get("server")) {
    const toml::table* s = sn->as_table();
    if (!s) return at(origin, *sn, "[server] must be a table");
    if (Status st = read_string(*s, "host", origin, server.host); !st) return st;
    if (Status st = read_int(*s, "port", origin, 0, 65535, server.port); !st) return st;
    if (Status st = read_int(*s, "parallel", origin, 1, 64, registry.scheduler.n_slots); !st) return st;
    if (Status st = read_int<int64_t>(*s, "ctx_size", origin, 0, int64_t(1) << 24, registry.scheduler.n_ctx); !st) return st;
    if (Status st = read_int(*s, "queue", origin, 0, 4096, registry.scheduler.max_queue); !st) return st;
    if (Status st = read_int(*s, "threads", origin, 0, 1024, registry.scheduler.n_threads); !st) return st;
    if (Status st = read_int<size_t>(*s, "max_body_bytes", origin, 1024, size_t(1) << 32, server.max_body_bytes); !st) return st;
    if (Status st = read_int<int64_t>(*s, "max_tokens", origin, 0, int64_t(1) << 24, server.max_tokens_limit); !st) return st;
    if (Status st = read_int(*s, "drain_seconds", origin, 0, 3600, server.drain_seconds); !st) return st;
    std::string deltas;
    if (Status st = read_string(*s, "tool_call_deltas", origin, deltas); !st) return st;
    if (!deltas.empty() && deltas != "chunked" && deltas != "whole")
      return at(origin, *s->get("tool_call_deltas"), "'tool_call_deltas' must be \"chunked\" or \"whole\"");
    if (!deltas.empty()) server.tool_call_deltas_whole = deltas == "whole";
    std::string dir;
    if (Status st = read_string(*s, "models_dir", origin, dir); !st) return st;
    if (!dir.empty()) registry.models_dir = dir;
    std::optional<std::chrono::seconds> keep;
    if (Status st = read_duration(*s, "keep_alive", origin, keep); !st) return st;
    if (keep) registry.keep_alive = *keep;
    if (const toml::node* kn = s->get("api_keys")) {
      const toml::array* keys = kn->as_array();
      if (!keys) return at(origin, *kn, "'api_keys' must be a list of strings");
      for (const toml::node& k : *keys) {
        std::optional<std::string> v = k.value<std::string>();
        if (!v || v->empty()) return at(origin, k, "'api_keys' must be a list of non-empty strings");
        server.api_keys.push_back(*v);
      }
    }
  }
  if (const toml::node* rn = root.get("rag")) {  // chat from RAG collections (rag_chat.h)
    const toml::table* r = rn->as_table();
    if (!r) return at(origin, *rn, "[rag] must be a table");
    for (const auto& [key, node] : *r)
      if (key != "dir" && key != "model" && key != "prefill_rate")
        return at(origin, node, "unknown key '" + std::string(key.str()) + "' in [rag] (expected dir, model, prefill_rate)");
    if (Status st = read_string(*r, "dir", origin, server.rag.dir); !st) return st;
    if (Status st = read_string(*r, "model", origin, server.rag.model); !st) return st;
    if (const toml::node* pn = r->get("prefill_rate")) {
      std::optional<double> v = pn->value<double>();
      if (!v || !(*v > 0)) return at(origin, *pn, "'prefill_rate' must be a positive number (prompt tokens per second)");
      server.rag.prefill_tok_s = *v;
    }
  }
  if (const toml::node* mn = root.get("models")) {
    const toml::array* models = mn->as_array();
    if (!models) return at(origin, *mn, "models must be an array of tables: [[models]]");
    for (const toml::node& node : *models) {
      const toml::table* m = node.as_table();
      if (!m) return at(origin, node, "each [[models]] entry must be a table");
      ModelSpec spec;
      std::string path;
      if (Status st = read_string(*m, "path", origin, path); !st) return st;
      if (path.empty()) return at(origin, node, "a [[models]] entry needs a 'path'");
      spec.path = path;
      // Relative paths are relative to the config file's folder.
      if (spec.path.is_relative() && origin.size() && std::filesystem::path(origin).has_parent_path())
        spec.path = std::filesystem::path(origin).parent_path() / spec.path;
      if (Status st = read_string(*m, "alias", origin, spec.alias); !st) return st;
      if (spec.alias.empty()) spec.alias = spec.path.stem().string();
      if (Status st = read_int<int64_t>(*m, "ctx_size", origin, 0, int64_t(1) << 24, spec.n_ctx); !st) return st;
      if (Status st = read_int(*m, "parallel", origin, 0, 64, spec.n_slots); !st) return st;
      if (Status st = read_duration(*m, "keep_alive", origin, spec.keep_alive); !st) return st;
      if (Status st = read_string(*m, "chat_template", origin, spec.chat_template); !st) return st;
      registry.models.push_back(std::move(spec));
    }
  }
  return {};
}

Status load_server_config(const std::filesystem::path& path, ServerOptions& server,
                          RegistryOptions& registry) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read config " + path.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_server_config(ss.str(), path.string(), server, registry);
}

}  // namespace hearth::server
