// See json_schema.h. Each schema node becomes a grammar expression; objects, arrays and $refs
// get their own rules. Integer bounds compile to exact digit-range rules (as one would write a
// regular expression for 17..342 by hand); other number bounds only fix the sign.
#include "sampling/json_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace hearth::sampling {
namespace {

using json = nlohmann::json;

// Keywords whose meaning the grammar cannot (yet) express: refused, so a client never gets
// output that silently ignores its constraint.
const std::set<std::string> kUnsupported = {
    "allOf", "not", "if", "then", "else", "pattern", "patternProperties", "dependentRequired",
    "dependentSchemas", "propertyNames", "contains", "minContains", "maxContains", "uniqueItems",
    "multipleOf", "prefixItems", "unevaluatedProperties", "unevaluatedItems", "minProperties",
    "maxProperties", "additionalItems", "$dynamicRef", "dependencies"};

constexpr int kMaxDigits = 16;  // per integer or fraction part

std::string literal(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string digits_class(char lo, char hi) {
  if (lo == hi) return std::string("\"") + lo + "\"";
  return std::string("[") + lo + "-" + hi + "]";
}

// Decimal strings a..b of the same length, a <= b: an expression matching exactly them.
std::string same_length_range(const std::string& a, const std::string& b) {
  if (a.empty()) return "\"\"";
  if (a == b) return literal(a);
  const size_t rest = a.size() - 1;
  const std::string zeros(rest, '0'), nines(rest, '9');
  const std::string any = rest == 0 ? "" : " [0-9]{" + std::to_string(rest) + "}";
  if (a[0] == b[0]) return std::string("\"") + a[0] + "\" (" + same_length_range(a.substr(1), b.substr(1)) + ")";
  if (a.substr(1) == zeros && b.substr(1) == nines) return digits_class(a[0], b[0]) + any;
  std::vector<std::string> alts;
  alts.push_back(std::string("\"") + a[0] + "\" (" + same_length_range(a.substr(1), nines) + ")");
  if (b[0] - a[0] > 1) alts.push_back(digits_class(char(a[0] + 1), char(b[0] - 1)) + any);
  alts.push_back(std::string("\"") + b[0] + "\" (" + same_length_range(zeros, b.substr(1)) + ")");
  std::string out;
  for (const std::string& s : alts) out += (out.empty() ? "(" : " | ") + s;
  return out + ")";
}

// Non-negative integers in [lo, hi] written without leading zeros; hi absent: up to
// kMaxDigits digits.
std::string natural_range(uint64_t lo, std::optional<uint64_t> hi) {
  std::vector<std::string> alts;
  const size_t max_len = hi ? std::to_string(*hi).size() : kMaxDigits;
  for (size_t len = std::to_string(lo).size(); len <= max_len; ++len) {
    const uint64_t first = len == 1 ? 0 : uint64_t(std::pow(10.0, double(len - 1)));
    const std::string last_s(len, '9');
    uint64_t last = std::stoull(last_s);
    const uint64_t a = std::max(lo, first);
    const uint64_t b = hi ? std::min(*hi, last) : last;
    if (a > b) continue;
    alts.push_back(same_length_range(std::to_string(a), std::to_string(b)));
  }
  if (alts.empty()) return "";
  std::string out;
  for (const std::string& s : alts) out += (out.empty() ? "(" : " | ") + s;
  return out + ")";
}

// J: nlohmann::json or ordered_json; the latter keeps the declared order of properties.
template <class J>
class Compiler {
 public:
  Compiler(const J& root, const JsonGrammarOptions& o) : root_(root), o_(o) {}

  Result<std::string> run() {
    Result<std::string> e = visit(root_, "schema");
    if (!e) return e;
    std::string text = "root ::= " + *e + "\n" + rules_ + base_rules(o_);
    return text;
  }

  static std::string base_rules(const JsonGrammarOptions& o) {
    const int ws = std::max(0, o.max_ws);
    return "ws ::= " + (ws == 0 ? std::string("\"\"") : "[ \\t\\n]{0," + std::to_string(ws) + "}") +
           "\n"
           "value ::= object | array | string | number | \"true\" | \"false\" | \"null\"\n"
           "object ::= \"{\" ws ( string ws \":\" ws value ws ( \",\" ws string ws \":\" ws value ws )* )? \"}\"\n"
           "array ::= \"[\" ws ( value ws ( \",\" ws value ws )* )? \"]\"\n"
           "string ::= \"\\\"\" char* \"\\\"\"\n"
           // No lone surrogates in \u escapes: strict JSON parsers refuse them.
           "char ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( [0-9a-cA-CeEfF] hex{3} | [dD] [0-7] hex{2} ) )\n"
           "hex ::= [0-9a-fA-F]\n"
           "integer ::= \"-\"? natural\n"
           "natural ::= \"0\" | [1-9] [0-9]{0,15}\n"
           "fraction ::= \".\" [0-9]{1,16}\n"
           "exponent ::= [eE] [-+]? [0-9]{1,3}\n"
           "number ::= integer fraction? exponent?\n";
  }

 private:
  static Error fail(const std::string& path, const std::string& what) {
    return Error{path + ": " + what};
  }

  std::string new_rule(const std::string& body) {
    std::string name = "r";  // appended, not "r" + ...: GCC 12 warns falsely (-Wrestrict)
    name += std::to_string(++counter_);
    rules_ += name + " ::= " + body + "\n";
    return name;
  }

  Result<std::string> visit(const J& s, const std::string& path) {
    if (s.is_boolean()) {
      if (s.template get<bool>()) return std::string("value");
      return fail(path, "the schema 'false' matches nothing");
    }
    if (!s.is_object()) return fail(path, "a schema must be an object or a boolean");
    if (++depth_ > 64) return fail(path, "schema nested too deeply");
    // Every entry of a `type` list visits the sub-schemas again, so a small schema can ask
    // for exponentially many visits; a request's schema is refused past a fixed budget.
    if (++visits_ > kMaxVisits)
      return fail(path, "schema too large to compile (over " + std::to_string(kMaxVisits) + " sub-schema visits)");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    for (const auto& [key, _] : s.items())
      if (kUnsupported.count(key)) return fail(path, "'" + key + "' is not supported");
    if (auto it = s.find("$ref"); it != s.end()) return ref(*it, path);
    if (auto it = s.find("const"); it != s.end()) return literal(it->dump());
    if (auto it = s.find("enum"); it != s.end()) {
      if (!it->is_array() || it->empty()) return fail(path + ".enum", "must be a non-empty list");
      std::string out;
      for (const J& v : *it) out += (out.empty() ? "(" : " | ") + literal(v.dump());
      return out + ")";
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      auto it = s.find(key);
      if (it == s.end()) continue;
      if (!it->is_array() || it->empty())
        return fail(path + "." + key, "must be a non-empty list of schemas");
      std::string out;
      for (size_t i = 0; i < it->size(); ++i) {
        Result<std::string> e = visit((*it)[i], path + "." + key + "[" + std::to_string(i) + "]");
        if (!e) return e;
        out += (out.empty() ? "(" : " | ") + *e;
      }
      return out + ")";
    }
    auto type = s.find("type");
    if (type == s.end() || type->is_null()) {
      if (s.contains("properties")) return object(s, path);
      if (s.contains("items")) return array(s, path);
      return std::string("value");
    }
    if (type->is_array()) {
      if (type->empty()) return fail(path + ".type", "must not be an empty list");
      std::string out;
      for (const J& t : *type) {
        if (!t.is_string()) return fail(path + ".type", "must be a string or a list of strings");
        Result<std::string> e = typed(s, t.template get<std::string>(), path);
        if (!e) return e;
        out += (out.empty() ? "(" : " | ") + *e;
      }
      return out + ")";
    }
    if (!type->is_string()) return fail(path + ".type", "must be a string or a list of strings");
    return typed(s, type->template get<std::string>(), path);
  }

  Result<std::string> typed(const J& s, const std::string& t, const std::string& path) {
    if (t == "object") return object(s, path);
    if (t == "array") return array(s, path);
    if (t == "string") return string(s, path);
    if (t == "integer") return integer(s, path);
    if (t == "number") return number(s, path);
    if (t == "boolean") return std::string("(\"true\" | \"false\")");
    if (t == "null") return std::string("\"null\"");
    return fail(path + ".type", "unknown type '" + t + "'");
  }

  Result<std::optional<int64_t>> count(const J& s, const char* key, const std::string& path) {
    auto it = s.find(key);
    if (it == s.end() || it->is_null()) return std::optional<int64_t>{};
    if (!it->is_number_integer() || it->template get<int64_t>() < 0 || it->template get<int64_t>() > 10000)
      return fail(path + "." + key, "must be an integer from 0 to 10000");
    return std::optional<int64_t>(it->template get<int64_t>());
  }

  static std::string repeat(const std::string& x, int64_t lo, std::optional<int64_t> hi) {
    if (hi) {
      if (*hi == 0) return "\"\"";
      return "(" + x + "){" + std::to_string(lo) + "," + std::to_string(*hi) + "}";
    }
    return "(" + x + "){" + std::to_string(lo) + ",}";
  }

  Result<std::string> string(const J& s, const std::string& path) {
    Result<std::optional<int64_t>> lo = count(s, "minLength", path);
    if (!lo) return lo.error();
    Result<std::optional<int64_t>> hi = count(s, "maxLength", path);
    if (!hi) return hi.error();
    if (*hi && **hi < lo->value_or(0))
      return fail(path, "'maxLength' is smaller than 'minLength'");
    if (!*lo && !*hi) return std::string("string");
    return "\"\\\"\" " + repeat("char", lo->value_or(0), *hi) + " \"\\\"\"";
  }

  Result<std::optional<double>> bound(const J& s, const char* key, const std::string& path) {
    auto it = s.find(key);
    if (it == s.end() || it->is_null()) return std::optional<double>{};
    if (!it->is_number()) return fail(path + "." + key, "must be a number");
    return std::optional<double>(it->template get<double>());
  }

  Result<std::string> integer(const J& s, const std::string& path) {
    std::optional<double> lo, hi;
    for (const char* key : {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}) {
      Result<std::optional<double>> b = bound(s, key, path);
      if (!b) return b.error();
      if (!*b) continue;
      const double v = **b;
      const std::string k = key;
      if (k == "minimum") lo = std::max(lo.value_or(-INFINITY), std::ceil(v));
      if (k == "exclusiveMinimum") lo = std::max(lo.value_or(-INFINITY), std::floor(v) + 1);
      if (k == "maximum") hi = std::min(hi.value_or(INFINITY), std::floor(v));
      if (k == "exclusiveMaximum") hi = std::min(hi.value_or(INFINITY), std::ceil(v) - 1);
    }
    if (!lo && !hi) return std::string("integer");
    constexpr double kLimit = 1e15;  // beyond 16 digits the bound is the digit limit anyway
    if ((lo && std::fabs(*lo) > kLimit) || (hi && std::fabs(*hi) > kLimit))
      return fail(path, "integer bounds beyond 10^15 are not supported");
    if (lo && hi && *lo > *hi) return fail(path, "the integer bounds leave no value");
    std::vector<std::string> alts;
    // Negative values: "-" then the magnitude in [max(1, -hi), -lo].
    if (!lo || *lo < 0) {
      const uint64_t mag_lo = hi && *hi < 0 ? uint64_t(-*hi) : 1;
      const std::optional<uint64_t> mag_hi =
          lo ? std::optional<uint64_t>(uint64_t(-*lo)) : std::nullopt;
      const std::string r = natural_range(mag_lo, mag_hi);
      if (!r.empty()) alts.push_back("\"-\" " + r);
    }
    if (!hi || *hi >= 0) {
      const uint64_t nat_lo = lo && *lo > 0 ? uint64_t(*lo) : 0;
      const std::optional<uint64_t> nat_hi = hi ? std::optional<uint64_t>(uint64_t(*hi)) : std::nullopt;
      const std::string r = natural_range(nat_lo, nat_hi);
      if (!r.empty()) alts.push_back(r);
    }
    if (alts.empty()) return fail(path, "the integer bounds leave no value");
    std::string body;
    for (const std::string& a : alts) body += (body.empty() ? "" : " | ") + a;
    return new_rule(body);
  }

  Result<std::string> number(const J& s, const std::string& path) {
    std::optional<double> lo, hi;
    for (const char* key : {"minimum", "exclusiveMinimum"}) {
      Result<std::optional<double>> b = bound(s, key, path);
      if (!b) return b.error();
      if (*b) lo = std::max(lo.value_or(-INFINITY), **b);
    }
    for (const char* key : {"maximum", "exclusiveMaximum"}) {
      Result<std::optional<double>> b = bound(s, key, path);
      if (!b) return b.error();
      if (*b) hi = std::min(hi.value_or(INFINITY), **b);
    }
    // Only the sign is enforced (docs/server.md): no negative numbers when minimum >= 0, only
    // negative ones (or zero) when maximum <= 0.
    if (lo && *lo >= 0) return std::string("(natural fraction? exponent?)");
    if (hi && *hi <= 0) return std::string("(\"-\" natural fraction? exponent? | \"0\")");
    return std::string("number");
  }

  Result<std::string> array(const J& s, const std::string& path) {
    std::string item = "value";
    if (auto it = s.find("items"); it != s.end()) {
      Result<std::string> e = visit(*it, path + ".items");
      if (!e) return e;
      item = *e;
    }
    Result<std::optional<int64_t>> lo = count(s, "minItems", path);
    if (!lo) return lo.error();
    Result<std::optional<int64_t>> hi = count(s, "maxItems", path);
    if (!hi) return hi.error();
    const int64_t min = lo->value_or(0);
    if (*hi && **hi < min) return fail(path, "'maxItems' is smaller than 'minItems'");
    const auto more = [&](int64_t a, std::optional<int64_t> b) {
      return repeat("\",\" ws " + item + " ws", a, b);
    };
    std::string body;
    if (*hi && **hi == 0) {
      body = "\"[\" ws \"]\"";
    } else if (min == 0) {
      body = "\"[\" ws ( " + item + " ws " +
             more(0, *hi ? std::optional<int64_t>(**hi - 1) : std::nullopt) + " )? \"]\"";
    } else {
      body = "\"[\" ws " + item + " ws " +
             more(min - 1, *hi ? std::optional<int64_t>(**hi - 1) : std::nullopt) + " \"]\"";
    }
    return new_rule(body);
  }

  Result<std::string> object(const J& s, const std::string& path) {
    auto props = s.find("properties");
    if (props != s.end() && !props->is_object())
      return fail(path + ".properties", "must be an object");
    std::set<std::string> required;
    if (auto it = s.find("required"); it != s.end()) {
      if (!it->is_array()) return fail(path + ".required", "must be a list of names");
      for (const J& n : *it) {
        if (!n.is_string()) return fail(path + ".required", "must be a list of names");
        if (props == s.end() || !props->contains(n.template get<std::string>()))
          return fail(path + ".required", "names '" + n.template get<std::string>() + "', which is not in 'properties'");
        required.insert(n.template get<std::string>());
      }
    }
    if (props == s.end() || props->empty()) {
      auto extra = s.find("additionalProperties");
      if (extra != s.end() && extra->is_boolean() && !extra->template get<bool>())
        return new_rule("\"{\" ws \"}\"");
      if (extra == s.end() || extra->is_boolean()) return std::string("object");
      Result<std::string> v = visit(*extra, path + ".additionalProperties");
      if (!v) return v;
      return new_rule("\"{\" ws ( string ws \":\" ws " + *v + " ws ( \",\" ws string ws \":\" ws " +
                      *v + " ws )* )? \"}\"");
    }
    // Properties in declared order, each required one present, optional ones in any subset:
    //   first_i: nothing written yet from property i on; next_i: something was (a comma first).
    std::vector<std::string> kv;
    std::vector<bool> req;
    for (const auto& [name, sub] : props->items()) {
      Result<std::string> v = visit(sub, path + ".properties." + name);
      if (!v) return v;
      kv.push_back(literal(J(name).dump()) + " ws \":\" ws " + *v + " ws");
      req.push_back(required.count(name) > 0);
    }
    const size_t n = kv.size();
    std::vector<std::string> first(n + 1), next(n + 1);
    first[n] = next[n] = "\"\"";
    for (size_t i = n; i-- > 0;) {
      const std::string after = next[i + 1];
      next[i] = new_rule("\",\" ws " + kv[i] + " " + after + (req[i] ? "" : " | " + after));
      first[i] = new_rule(kv[i] + " " + after + (req[i] ? "" : " | " + first[i + 1]));
    }
    return new_rule("\"{\" ws " + first[0] + " \"}\"");
  }

  Result<std::string> ref(const J& r, const std::string& path) {
    if (!r.is_string()) return fail(path + ".$ref", "must be a string");
    const std::string target = r.template get<std::string>();
    if (auto it = refs_.find(target); it != refs_.end()) return it->second;
    if (target.empty() || target[0] != '#')
      return fail(path + ".$ref", "only local references ('#/$defs/...') are supported");
    typename J::json_pointer ptr;
    try {
      ptr = typename J::json_pointer(target.substr(1));
    } catch (const nlohmann::json::exception&) {
      return fail(path + ".$ref", "'" + target + "' is not a JSON pointer");
    }
    if (!root_.contains(ptr)) return fail(path + ".$ref", "'" + target + "' does not exist");
    // A rule name first, so that a recursive reference finds it.
    std::string name = "ref";
    name += std::to_string(++counter_);
    refs_[target] = name;
    Result<std::string> e = visit(root_.at(ptr), target);
    if (!e) return e;
    rules_ += name + " ::= " + *e + "\n";
    return name;
  }

  const J& root_;
  JsonGrammarOptions o_;
  std::string rules_;
  std::map<std::string, std::string> refs_;
  int counter_ = 0;
  int depth_ = 0;
  static constexpr int kMaxVisits = 10000;
  int visits_ = 0;
};

}  // namespace

Result<std::string> json_schema_to_grammar(const json& schema, const JsonGrammarOptions& options) {
  return Compiler<json>(schema, options).run();
}
Result<std::string> json_schema_to_grammar(const nlohmann::ordered_json& schema,
                                           const JsonGrammarOptions& options) {
  return Compiler<nlohmann::ordered_json>(schema, options).run();
}

namespace {
Result<std::shared_ptr<const Grammar>> parse_text(Result<std::string> text) {
  if (!text) return text.error();
  Result<std::shared_ptr<const Grammar>> g = Grammar::parse(*text);
  // A schema that yields a bad grammar is our bug or a left-recursive $ref chain; say which.
  if (!g) return Error{"schema: " + g.error().message};
  return g;
}
}  // namespace

Result<std::shared_ptr<const Grammar>> compile_json_schema(const json& schema,
                                                           const JsonGrammarOptions& options) {
  return parse_text(json_schema_to_grammar(schema, options));
}
Result<std::shared_ptr<const Grammar>> compile_json_schema(const nlohmann::ordered_json& schema,
                                                           const JsonGrammarOptions& options) {
  return parse_text(json_schema_to_grammar(schema, options));
}

std::string json_object_grammar(const JsonGrammarOptions& options) {
  return "root ::= object\n" + Compiler<json>::base_rules(options);
}

std::shared_ptr<const Grammar> compile_json_object(const JsonGrammarOptions& options) {
  Result<std::shared_ptr<const Grammar>> g = Grammar::parse(json_object_grammar(options));
  return g ? *g : nullptr;  // a fixed text: parses unless the base rules are broken (tested)
}

}  // namespace hearth::sampling
