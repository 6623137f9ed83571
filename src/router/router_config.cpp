// See router_config.h. toml++ is header-only; errors as values (no exceptions), with the
// source line of the offending node in every message.
#include "router/router_config.h"

#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace hearth::router {
namespace {

Error at(std::string_view origin, const toml::node& node, const std::string& message) {
  return Error{std::string(origin) + ":" + std::to_string(node.source().begin.line) + ": " + message};
}

// One table's keys: each read marks its key, and unknown() names the first key nobody read, so a
// typo ("wake_adress") is an error with its line instead of a silently ignored setting.
class Reader {
 public:
  Reader(const toml::table& t, std::string_view origin, std::string_view what)
      : t_(t), origin_(origin), what_(what) {}

  Status str(const char* key, std::string& out) {
    const toml::node* n = get(key);
    if (!n) return {};
    std::optional<std::string> v = n->value<std::string>();
    if (!v) return at(origin_, *n, std::string("'") + key + "' must be a string");
    out = *v;
    return {};
  }
  Status number(const char* key, double lo, double hi, double& out) {
    const toml::node* n = get(key);
    if (!n) return {};
    std::optional<double> v = n->value<double>();  // integers convert
    if (!v || !(*v >= lo && *v <= hi))
      return at(origin_, *n, std::string("'") + key + "' must be a number from " + fmt(lo) + " to " + fmt(hi));
    out = *v;
    return {};
  }
  template <class T>
  Status integer(const char* key, int64_t lo, int64_t hi, T& out) {
    const toml::node* n = get(key);
    if (!n) return {};
    std::optional<int64_t> v = n->value<int64_t>();
    if (!v || *v < lo || *v > hi)
      return at(origin_, *n, std::string("'") + key + "' must be an integer from " + std::to_string(lo) +
                                 " to " + std::to_string(hi));
    out = T(*v);
    return {};
  }
  Status boolean(const char* key, bool& out) {
    const toml::node* n = get(key);
    if (!n) return {};
    std::optional<bool> v = n->value<bool>();
    if (!v) return at(origin_, *n, std::string("'") + key + "' must be true or false");
    out = *v;
    return {};
  }
  // A string or a list of strings.
  Status strings(const char* key, std::vector<std::string>& out) {
    const toml::node* n = get(key);
    if (!n) return {};
    if (std::optional<std::string> v = n->value<std::string>()) {
      out = {*v};
      return {};
    }
    const toml::array* a = n->as_array();
    if (!a) return at(origin_, *n, std::string("'") + key + "' must be a string or a list of strings");
    out.clear();
    for (const toml::node& e : *a) {
      std::optional<std::string> v = e.value<std::string>();
      if (!v || v->empty()) return at(origin_, e, std::string("'") + key + "' must list non-empty strings");
      out.push_back(*v);
    }
    return {};
  }
  const toml::node* get(const char* key) {
    read_.insert(key);
    return t_.get(key);
  }
  Status unknown() const {
    for (const auto& [key, node] : t_)
      if (!read_.count(std::string(key.str())))
        return at(origin_, node, "unknown key '" + std::string(key.str()) + "' in " + std::string(what_));
    return {};
  }
  const toml::table& table() const { return t_; }

 private:
  static std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }
  const toml::table& t_;
  std::string_view origin_;
  std::string_view what_;
  std::set<std::string> read_;
};

#define HEARTH_TRY(expr)            \
  do {                              \
    if (Status st_ = (expr); !st_) \
      return st_.error();           \
  } while (0)

Result<std::vector<const toml::table*>> array_of_tables(const toml::node& node, std::string_view origin,
                                                        const char* name) {
  const toml::array* a = node.as_array();
  if (!a) return at(origin, node, std::string(name) + " must be an array of tables: [[" + name + "]]");
  std::vector<const toml::table*> out;
  for (const toml::node& e : *a) {
    const toml::table* t = e.as_table();
    if (!t) return at(origin, e, std::string("each [[") + name + "]] entry must be a table");
    out.push_back(t);
  }
  return out;
}

Result<LocalBackend> parse_local(const toml::table& t, std::string_view origin) {
  Reader r(t, origin, "[[local]]");
  LocalBackend b;
  HEARTH_TRY(r.str("name", b.name));
  std::string model;
  HEARTH_TRY(r.str("model", model));
  HEARTH_TRY(r.strings("alias", b.aliases));
  HEARTH_TRY(r.number("prefill_tps", 0, 1e7, b.prefill_tps));
  HEARTH_TRY(r.number("gen_tps", 0, 1e7, b.gen_tps));
  HEARTH_TRY(r.unknown());
  if (model.empty()) return at(origin, t, "a [[local]] backend needs 'model' (a GGUF path)");
  b.model = model;
  if (b.model.is_relative() && std::filesystem::path(origin).has_parent_path())
    b.model = std::filesystem::path(origin).parent_path() / b.model;
  if (b.name.empty()) b.name = b.model.stem().string();
  return b;
}

Result<UpstreamBackend> parse_upstream(const toml::table& t, std::string_view origin) {
  Reader r(t, origin, "[[upstream]]");
  UpstreamBackend u;
  HEARTH_TRY(r.str("name", u.name));
  HEARTH_TRY(r.str("url", u.url));
  HEARTH_TRY(r.strings("models", u.models));
  HEARTH_TRY(r.boolean("discover", u.discover));
  HEARTH_TRY(r.str("api_key", u.api_key));
  HEARTH_TRY(r.number("timeout_s", 0.001, 86400, u.timeout_s));
  HEARTH_TRY(r.number("health_timeout_s", 0.001, 600, u.health_timeout_s));
  HEARTH_TRY(r.number("health_interval_s", 0.001, 600, u.health_interval_s));
  HEARTH_TRY(r.integer("failure_threshold", 1, 1000, u.failure_threshold));
  HEARTH_TRY(r.number("backoff_s", 0, 86400, u.backoff_s));
  std::string mac;
  HEARTH_TRY(r.str("wake_mac", mac));
  WakeConfig w;
  bool any_wake = !mac.empty();
  for (const char* k : {"wake_address", "wake_port", "wake_wait_s", "wake_resend_s", "wake_policy"})
    any_wake = any_wake || t.contains(k);
  HEARTH_TRY(r.str("wake_address", w.address));
  HEARTH_TRY(r.integer("wake_port", 1, 65535, w.port));
  HEARTH_TRY(r.number("wake_wait_s", 0, 3600, w.wait_s));
  HEARTH_TRY(r.number("wake_resend_s", 0.01, 3600, w.resend_s));
  std::string policy = "hold";
  HEARTH_TRY(r.str("wake_policy", policy));
  HEARTH_TRY(r.number("sleep_after_idle_s", 0, 86400 * 30, u.sleep_after_idle_s));
  HEARTH_TRY(r.str("sleep_command", u.sleep_command));
  HEARTH_TRY(r.number("sleep_command_timeout_s", 0.1, 3600, u.sleep_command_timeout_s));
  HEARTH_TRY(r.unknown());

  if (u.name.empty()) return at(origin, t, "an [[upstream]] needs a 'name'");
  if (u.url.empty()) return at(origin, t, "upstream '" + u.name + "' needs a 'url' (http://host:port/v1)");
  if (u.url.rfind("http://", 0) != 0)
    return at(origin, *t.get("url"), "upstream '" + u.name + "': only http:// URLs are supported (got '" + u.url + "')");
  while (u.url.size() > 7 && u.url.back() == '/') u.url.pop_back();
  if (u.models.empty() && !u.discover)
    return at(origin, t, "upstream '" + u.name + "' needs 'models' (a list) or discover = true");
  if (policy == "hold")
    w.policy = WakePolicy::kHold;
  else if (policy == "local")
    w.policy = WakePolicy::kLocal;
  else
    return at(origin, *t.get("wake_policy"), "'wake_policy' must be \"hold\" or \"local\" (got \"" + policy + "\")");
  if (any_wake) {
    if (mac.empty()) return at(origin, t, "upstream '" + u.name + "': a Wake-on-LAN block needs 'wake_mac'");
    Result<std::array<uint8_t, 6>> m = parse_mac(mac);
    if (!m) return at(origin, *t.get("wake_mac"), m.error().message);
    w.mac = *m;
    u.wake = w;
  }
  if (u.sleep_after_idle_s > 0 && u.sleep_command.empty())
    return at(origin, *t.get("sleep_after_idle_s"), "'sleep_after_idle_s' needs a 'sleep_command'");
  return u;
}

Status parse_route(const toml::table& t, std::string_view origin, RouteConfig& route) {
  Reader r(t, origin, "[route]");
  HEARTH_TRY(r.number("latency_budget_s", 0, 86400, route.latency_budget_s));
  HEARTH_TRY(r.str("local", route.local));
  HEARTH_TRY(r.str("upstream", route.upstream));
  HEARTH_TRY(r.strings("auto_models", route.auto_models));
  HEARTH_TRY(r.number("default_prefill_tps", 0.001, 1e7, route.default_prefill_tps));
  HEARTH_TRY(r.number("default_gen_tps", 0.001, 1e7, route.default_gen_tps));
  HEARTH_TRY(r.integer("default_max_tokens", 1, int64_t(1) << 24, route.default_max_tokens));
  HEARTH_TRY(r.number("chars_per_token", 0.5, 100, route.chars_per_token));
  if (const toml::node* cn = r.get("classifier")) {
    const toml::table* c = cn->as_table();
    if (!c) return at(origin, *cn, "[route.classifier] must be a table");
    Reader cr(*c, origin, "[route.classifier]");
    ClassifierConfig& cc = route.classifier;
    HEARTH_TRY(cr.str("model", cc.model));
    HEARTH_TRY(cr.str("prompt", cc.prompt));
    HEARTH_TRY(cr.integer("max_chars", 1, 1 << 20, cc.max_chars));
    HEARTH_TRY(cr.number("threshold", 0, 1, cc.threshold));
    HEARTH_TRY(cr.number("timeout_s", 0.01, 600, cc.timeout_s));
    HEARTH_TRY(cr.boolean("chat", cc.chat));
    if (const toml::node* ln = cr.get("labels")) {
      const toml::table* lt = ln->as_table();
      if (!lt) return at(origin, *ln, "'labels' must be a table: label = \"backend\"");
      for (const auto& [label, backend] : *lt) {
        std::optional<std::string> v = backend.value<std::string>();
        if (!v) return at(origin, backend, "label '" + std::string(label.str()) + "' must name a backend");
        cc.labels[std::string(label.str())] = *v;
      }
    }
    HEARTH_TRY(cr.unknown());
    if (!cc.model.empty() && (cc.labels.empty() || cc.prompt.find("{input}") == std::string::npos))
      return at(origin, *cn, "a classifier needs 'labels' and a 'prompt' containing {input}");
  }
  return r.unknown();
}

// Names and aliases are unique across backends, and every reference names a backend.
Status validate(const RouterConfig& c, std::string_view origin) {
  std::set<std::string> names, aliases;
  auto add_name = [&](const std::string& n) -> Status {
    if (!names.insert(n).second) return Error{std::string(origin) + ": backend name '" + n + "' is used twice"};
    return {};
  };
  auto add_alias = [&](const std::string& a, const std::string& owner) -> Status {
    if (!aliases.insert(a).second || (names.count(a) && a != owner))
      return Error{std::string(origin) + ": model name '" + a + "' maps to two backends"};
    return {};
  };
  for (const LocalBackend& l : c.locals) HEARTH_TRY(add_name(l.name));
  for (const UpstreamBackend& u : c.upstreams) HEARTH_TRY(add_name(u.name));
  for (const LocalBackend& l : c.locals)
    for (const std::string& a : l.aliases) HEARTH_TRY(add_alias(a, l.name));
  for (const UpstreamBackend& u : c.upstreams)
    for (const std::string& a : u.models) HEARTH_TRY(add_alias(a, u.name));
  const RouteConfig& r = c.route;
  if (!r.local.empty() && !c.find_local(r.local))
    return Error{std::string(origin) + ": [route] local = '" + r.local + "' is not a [[local]] backend"};
  if (!r.upstream.empty() && !c.find_upstream(r.upstream))
    return Error{std::string(origin) + ": [route] upstream = '" + r.upstream + "' is not an [[upstream]]"};
  if (!r.classifier.model.empty()) {
    if (!c.find_local(r.classifier.model))
      return Error{std::string(origin) + ": classifier model '" + r.classifier.model + "' is not a [[local]] backend"};
    for (const auto& [label, backend] : r.classifier.labels)
      if (!c.find_local(backend) && !c.find_upstream(backend))
        return Error{std::string(origin) + ": classifier label '" + label + "' names no backend ('" + backend + "')"};
  }
  if (!c.upstreams.empty() && c.locals.empty() && r.local.empty()) {
    // Allowed: an upstream-only front door (fallback then has nowhere to go: 503).
  }
  return {};
}

}  // namespace

const LocalBackend* RouterConfig::find_local(std::string_view name) const {
  for (const LocalBackend& l : locals)
    if (l.name == name) return &l;
  return nullptr;
}

const UpstreamBackend* RouterConfig::find_upstream(std::string_view name) const {
  for (const UpstreamBackend& u : upstreams)
    if (u.name == name) return &u;
  return nullptr;
}

bool is_router_table(std::string_view key) { return key == "local" || key == "upstream" || key == "route"; }

Result<std::array<uint8_t, 6>> parse_mac(std::string_view text) {
  std::array<uint8_t, 6> mac{};
  std::string hex;
  char sep = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      hex.push_back(c);
    } else if (c == ':' || c == '-') {
      if (sep && c != sep) return Error{"MAC address '" + std::string(text) + "' mixes ':' and '-'"};
      sep = c;
      // Separators only between pairs of hex digits.
      if (hex.size() % 2 != 0 || hex.empty() || i + 1 == text.size())
        return Error{"MAC address '" + std::string(text) + "': expected six pairs of hex digits like aa:bb:cc:dd:ee:ff"};
    } else {
      return Error{"MAC address '" + std::string(text) + "': unexpected character '" + std::string(1, c) + "'"};
    }
  }
  if (hex.size() != 12)
    return Error{"MAC address '" + std::string(text) + "': expected six pairs of hex digits like aa:bb:cc:dd:ee:ff"};
  if (sep && std::count(text.begin(), text.end(), sep) != 5)
    return Error{"MAC address '" + std::string(text) + "': expected six pairs of hex digits like aa:bb:cc:dd:ee:ff"};
  for (int i = 0; i < 6; ++i) mac[i] = uint8_t(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return mac;
}

Result<RouterConfig> parse_router_config(std::string_view text, std::string_view origin) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ": " << e.description();
    return Error{msg.str()};
  }
  const toml::table& root = parsed.table();
  RouterConfig c;
  if (const toml::node* n = root.get("local")) {
    Result<std::vector<const toml::table*>> ts = array_of_tables(*n, origin, "local");
    if (!ts) return ts.error();
    for (const toml::table* t : *ts) {
      Result<LocalBackend> b = parse_local(*t, origin);
      if (!b) return b.error();
      c.locals.push_back(std::move(*b));
    }
  }
  if (const toml::node* n = root.get("upstream")) {
    Result<std::vector<const toml::table*>> ts = array_of_tables(*n, origin, "upstream");
    if (!ts) return ts.error();
    for (const toml::table* t : *ts) {
      Result<UpstreamBackend> u = parse_upstream(*t, origin);
      if (!u) return u.error();
      c.upstreams.push_back(std::move(*u));
    }
  }
  if (const toml::node* n = root.get("route")) {
    const toml::table* t = n->as_table();
    if (!t) return at(origin, *n, "[route] must be a table");
    HEARTH_TRY(parse_route(*t, origin, c.route));
  }
  HEARTH_TRY(validate(c, origin));
  return c;
}

Result<RouterConfig> load_router_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read config " + path.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_router_config(ss.str(), path.string());
}

}  // namespace hearth::router
