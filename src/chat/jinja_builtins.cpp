// Filters, tests, string/dict methods and globals: the ones chat templates use, with Python's
// behaviour where a template can tell the difference (split(), strip(), title(), indent, tojson).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "chat/jinja_interp.h"

namespace hearth::jinja {

namespace {

constexpr SourcePos kNoPos{0, 0};  // eval_call fills in the call site
constexpr const char* kPyWhitespace = " \t\n\r\x0b\x0c";
constexpr int64_t kMaxRange = 1'000'000;

std::string strip(const std::string& s, const char* chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && std::strchr(chars, s[b]) && s[b] != '\0') ++b;
  if (right)
    while (e > b && std::strchr(chars, s[e - 1]) && s[e - 1] != '\0') --e;
  return s.substr(b, e - b);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string title(std::string s) {
  bool prev_alpha = false;
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool alpha = std::isalpha(u);
    c = static_cast<char>(alpha && !prev_alpha ? std::toupper(u) : std::tolower(u));
    prev_alpha = alpha;
  }
  return s;
}
std::string capitalize(std::string s) {
  s = lower(std::move(s));
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}
std::string replace_all(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  if (from.empty()) return s;
  std::string out;
  size_t k = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(from, k);
    if (hit == std::string::npos) break;
    out.append(s, k, hit - k);
    out += to;
    k = hit + from.size();
    ++done;
  }
  out.append(s, k, std::string::npos);
  return out;
}

Value split(const std::string& s, const Value* sep, int64_t maxsplit) {
  Value out = Value::make_list();
  if (!sep || sep->is_none()) {  // runs of whitespace, no empty pieces
    size_t k = 0;
    int64_t n = 0;
    while (true) {
      while (k < s.size() && std::strchr(kPyWhitespace, s[k])) ++k;
      if (k >= s.size()) break;
      if (maxsplit >= 0 && n == maxsplit) {
        out.push(Value::string(strip(s.substr(k), kPyWhitespace, false, true)));
        break;
      }
      size_t e = k;
      while (e < s.size() && !std::strchr(kPyWhitespace, s[e])) ++e;
      out.push(Value::string(s.substr(k, e - k)));
      ++n;
      k = e;
    }
    return out;
  }
  if (!sep->is_string() || sep->s.empty())
    fail(kNoPos, "split: separator must be a non-empty string");
  size_t k = 0;
  int64_t n = 0;
  while (maxsplit < 0 || n < maxsplit) {
    const size_t hit = s.find(sep->s, k);
    if (hit == std::string::npos) break;
    out.push(Value::string(s.substr(k, hit - k)));
    k = hit + sep->s.size();
    ++n;
  }
  out.push(Value::string(s.substr(k)));
  return out;
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  const auto one = [&](const Value& a) {
    if (!a.is_string()) fail(kNoPos, "startswith/endswith expects a string");
    if (a.s.size() > s.size()) return false;
    return prefix ? s.compare(0, a.s.size(), a.s) == 0
                  : s.compare(s.size() - a.s.size(), a.s.size(), a.s) == 0;
  };
  if (affix.is_list()) {
    for (const Value& a : *affix.list)
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

int64_t to_int(const Value* v, int64_t dflt) {
  if (!v) return dflt;
  if (v->kind == Value::Kind::kInt) return v->i;
  if (v->kind == Value::Kind::kBool) return v->b;
  if (v->kind == Value::Kind::kFloat)
    return std::isfinite(v->f) ? static_cast<int64_t>(v->f) : dflt;
  if (v->is_string()) {
    const std::string t = strip(v->s, kPyWhitespace, true, true);
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(t.c_str(), &end, 10);
    if (!t.empty() && end && *end == '\0' && errno == 0) return x;
    const double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end && *end == '\0' && std::isfinite(d)) return static_cast<int64_t>(d);
  }
  return dflt;
}

std::string expect_string(const Value* v, const char* what) {
  if (!v) fail(kNoPos, std::string(what) + ": missing argument");
  if (!v->is_string())
    fail(kNoPos, std::string(what) + ": expected a string, got " + kind_name(v->kind));
  return v->s;
}

std::string format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_idx = 0;
  for (size_t k = 0; k < fmt.size(); ++k) {
    const char c = fmt[k];
    if (c == '{' && k + 1 < fmt.size() && fmt[k + 1] == '{') {
      out += '{';
      ++k;
    } else if (c == '}' && k + 1 < fmt.size() && fmt[k + 1] == '}') {
      out += '}';
      ++k;
    } else if (c == '{') {
      const size_t close = fmt.find('}', k);
      if (close == std::string::npos) fail(kNoPos, "format: unmatched '{'");
      const std::string field = fmt.substr(k + 1, close - k - 1);
      const Value* v = nullptr;
      if (field.empty())
        v = args.arg(auto_idx++, "");
      else if (std::isdigit(static_cast<unsigned char>(field[0])))
        v = args.arg(static_cast<size_t>(std::atoi(field.c_str())), "");
      else
        v = args.kw(field);
      if (!v) fail(kNoPos, "format: no value for field '{" + field + "}'");
      out += v->str();
      k = close;
    } else {
      out += c;
    }
  }
  return out;
}

int compare_values(const Value& a, const Value& b) {
  if ((a.is_number() || a.kind == Value::Kind::kBool) &&
      (b.is_number() || b.kind == Value::Kind::kBool)) {
    return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double() ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  fail(kNoPos, std::string("cannot compare ") + kind_name(a.kind) + " with " + kind_name(b.kind));
}

Value string_method(const std::string& s, const std::string& name) {
  const auto m = [&](auto body) {
    return Value::function([s, body](CallArgs& args) { return body(s, args); });
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool l = name != "rstrip", r = name != "lstrip";
    return m([l, r](const std::string& self, CallArgs& args) {
      const Value* chars = args.arg(0, "chars");
      const std::string set = chars && chars->is_string() ? chars->s : kPyWhitespace;
      return Value::string(strip(self, set.c_str(), l, r));
    });
  }
  if (name == "split")
    return m([](const std::string& self, CallArgs& args) {
      return split(self, args.arg(0, "sep"), to_int(args.arg(1, "maxsplit"), -1));
    });
  if (name == "startswith" || name == "endswith") {
    const bool prefix = name == "startswith";
    return m([prefix](const std::string& self, CallArgs& args) {
      const Value* a = args.arg(0, "prefix");
      if (!a) fail(kNoPos, "startswith/endswith: missing argument");
      return Value::boolean(affix_match(self, *a, prefix));
    });
  }
  if (name == "upper")
    return m([](const std::string& self, CallArgs&) { return Value::string(upper(self)); });
  if (name == "lower")
    return m([](const std::string& self, CallArgs&) { return Value::string(lower(self)); });
  if (name == "title")
    return m([](const std::string& self, CallArgs&) { return Value::string(title(self)); });
  if (name == "capitalize")
    return m([](const std::string& self, CallArgs&) { return Value::string(capitalize(self)); });
  if (name == "replace")
    return m([](const std::string& self, CallArgs& args) {
      return Value::string(replace_all(self, expect_string(args.arg(0, "old"), "replace"),
                                       expect_string(args.arg(1, "new"), "replace"),
                                       to_int(args.arg(2, "count"), -1)));
    });
  if (name == "format")
    return m(
        [](const std::string& self, CallArgs& args) { return Value::string(format(self, args)); });
  if (name == "join")
    return m([](const std::string& self, CallArgs& args) {
      const Value* items = args.arg(0, "iterable");
      if (!items || !items->is_list()) fail(kNoPos, "join expects a list");
      std::string out;
      for (size_t k = 0; k < items->list->size(); ++k) {
        if (k) out += self;
        out += (*items->list)[k].str();
      }
      return Value::string(std::move(out));
    });
  if (name == "find" || name == "count")
    return m([name](const std::string& self, CallArgs& args) {
      const std::string sub = expect_string(args.arg(0, "sub"), name.c_str());
      if (name == "find") {
        const size_t at = self.find(sub);
        return Value::integer(at == std::string::npos ? -1 : static_cast<int64_t>(at));
      }
      if (sub.empty()) return Value::integer(static_cast<int64_t>(self.size()) + 1);
      int64_t n = 0;
      for (size_t at = self.find(sub); at != std::string::npos;
           at = self.find(sub, at + sub.size()))
        ++n;
      return Value::integer(n);
    });
  return Value::undefined(name);
}

Value dict_method(const Value& d, const std::string& name) {
  if (name == "items")
    return Value::function([d](CallArgs&) {
      Value out = Value::make_list();
      for (const auto& [k, v] : d.dict->items) out.push(Value::make_list({Value::string(k), v}));
      return out;
    });
  if (name == "keys")
    return Value::function([d](CallArgs&) {
      Value out = Value::make_list();
      for (const auto& kv : d.dict->items) out.push(Value::string(kv.first));
      return out;
    });
  if (name == "values")
    return Value::function([d](CallArgs&) {
      Value out = Value::make_list();
      for (const auto& kv : d.dict->items) out.push(kv.second);
      return out;
    });
  if (name == "get")
    return Value::function([d](CallArgs& args) {
      const Value* key = args.arg(0, "key");
      if (!key) fail(kNoPos, "get: missing key");
      const Value* found = d.dict->find(key->str());
      if (found) return *found;
      const Value* dflt = args.arg(1, "default");
      return dflt ? *dflt : Value::none();
    });
  return Value::undefined(name);
}

}  // namespace

std::vector<Value> Interp::iterate(const Value& v, SourcePos pos) {
  switch (v.kind) {
    case Value::Kind::kList:
      return *v.list;
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& kv : v.dict->items) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (std::string_view c : utf8_chars(v.s)) chars.push_back(Value::string(std::string(c)));
      return chars;
    }
    case Value::Kind::kUndefined:
      return {};  // Jinja's default Undefined iterates as empty
    default:
      error(pos, std::string("'") + kind_name(v.kind) + "' object is not iterable");
  }
}

Value Interp::get_attr(const Value& obj, const std::string& name, SourcePos pos) {
  switch (obj.kind) {
    case Value::Kind::kUndefined:
      error(pos, "'" + (obj.s.empty() ? std::string("value") : obj.s) +
                     "' is undefined (reading '." + name + "')");
    case Value::Kind::kDict: {
      if (!obj.dict->is_namespace) {
        Value method = dict_method(obj, name);
        if (!method.is_undefined()) return method;
      }
      const Value* v = obj.dict->find(name);
      return v ? *v : Value::undefined(name);
    }
    case Value::Kind::kString:
      return string_method(obj.s, name);
    default:
      return Value::undefined(name);
  }
}

Value Interp::make_global(const std::string& name, SourcePos pos) {
  if (name == "range")
    return Value::function([this, pos](CallArgs& args) {
      int64_t start = 0, stop = 0, stride = 1;
      const auto& p = args.positional;
      const auto num = [](const Value& v) {
        if (v.kind != Value::Kind::kInt) fail(kNoPos, "range expects integers");
        return v.i;
      };
      if (p.size() == 1)
        stop = num(p[0]);
      else if (p.size() == 2 || p.size() == 3) {
        start = num(p[0]);
        stop = num(p[1]);
        if (p.size() == 3) stride = num(p[2]);
      } else
        fail(kNoPos, "range expects 1 to 3 arguments");
      if (stride == 0) fail(kNoPos, "range step cannot be zero");
      Value out = Value::make_list();
      for (int64_t k = start; stride > 0 ? k < stop : k > stop; k += stride) {
        if (static_cast<int64_t>(out.list->size()) >= kMaxRange) fail(kNoPos, "range too large");
        step(pos);
        out.push(Value::integer(k));
      }
      return out;
    });
  if (name == "namespace" || name == "dict")
    return Value::function([name](CallArgs& args) {
      Value d = Value::make_dict();
      d.dict->is_namespace = name == "namespace";
      for (const Value& p : args.positional)
        if (p.is_dict())
          for (const auto& [k, v] : p.dict->items) d.set(k, v);
      for (auto& [k, v] : args.keyword) d.set(k, v);
      return d;
    });
  if (name == "raise_exception")
    return Value::function([](CallArgs& args) -> Value {
      fail(kNoPos, "template raised an exception: " +
                       (args.positional.empty() ? std::string() : args.positional[0].str()));
    });
  if (name == "strftime_now")
    return Value::function([this](CallArgs& args) {
      const std::string fmt = expect_string(args.arg(0, "format"), "strftime_now");
      if (fmt.size() > 256) fail(kNoPos, "strftime_now: format too long");
      const std::time_t t =
          options_.now_unix >= 0 ? static_cast<std::time_t>(options_.now_unix) : std::time(nullptr);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[1024];
      const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
      return Value::string(std::string(buf, n));
    });
  return Value::undefined(name);
}

bool Interp::apply_test(const std::string& name, const Value& v, CallArgs& args, SourcePos pos) {
  using K = Value::Kind;
  const Value* arg = args.arg(0, "value");
  const auto need = [&]() -> const Value& {
    if (!arg) error(pos, "test '" + name + "' needs an argument");
    return *arg;
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == K::kBool;
  if (name == "true") return v.kind == K::kBool && v.b;
  if (name == "false") return v.kind == K::kBool && !v.b;
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == K::kInt;
  if (name == "float") return v.kind == K::kFloat;
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "callable") return v.kind == K::kFunction;
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, need());
  if (name == "ne" || name == "!=") return !equals(v, need());
  if (name == "lt" || name == "lessthan") return compare_values(v, need()) < 0;
  if (name == "le") return compare_values(v, need()) <= 0;
  if (name == "gt" || name == "greaterthan") return compare_values(v, need()) > 0;
  if (name == "ge") return compare_values(v, need()) >= 0;
  if (name == "in") {
    const Value& c = need();
    if (c.is_list())
      return std::any_of(c.list->begin(), c.list->end(),
                         [&](const Value& x) { return equals(x, v); });
    if (c.is_string()) return v.is_string() && c.s.find(v.s) != std::string::npos;
    if (c.is_dict()) return v.is_string() && c.dict->find(v.s);
    return false;
  }
  if (name == "odd" || name == "even") {
    if (v.kind != K::kInt) error(pos, "test '" + name + "' needs an integer");
    return (v.i % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const int64_t d = to_int(&need(), 0);
    if (v.kind != K::kInt || d == 0) return false;
    return v.i % d == 0;
  }
  if (name == "lower") return v.is_string() && lower(v.s) == v.s;
  if (name == "upper") return v.is_string() && upper(v.s) == v.s;
  error(pos, "unknown test '" + name + "'");
}

Value Interp::apply_filter(const std::string& name, const Value& v, CallArgs& args, SourcePos pos) {
  using K = Value::Kind;
  const auto str_of = [&](const Value& x) {
    if (x.is_undefined()) return std::string();
    return x.str();
  };
  if (name == "safe") return v;
  if (name == "trim") {
    const Value* chars = args.arg(0, "chars");
    const std::string set = chars && chars->is_string() ? chars->s : kPyWhitespace;
    return Value::string(strip(str_of(v), set.c_str(), true, true));
  }
  if (name == "upper") return Value::string(upper(str_of(v)));
  if (name == "lower") return Value::string(lower(str_of(v)));
  if (name == "title") return Value::string(title(str_of(v)));
  if (name == "capitalize") return Value::string(capitalize(str_of(v)));
  if (name == "string") return Value::string(str_of(v));
  if (name == "length" || name == "count") {
    switch (v.kind) {
      case K::kString:
        return Value::integer(static_cast<int64_t>(utf8_chars(v.s).size()));
      case K::kList:
        return Value::integer(static_cast<int64_t>(v.list->size()));
      case K::kDict:
        return Value::integer(static_cast<int64_t>(v.dict->items.size()));
      case K::kUndefined:
        return Value::integer(0);
      default:
        error(pos, std::string("object of type ") + kind_name(v.kind) + " has no length");
    }
  }
  if (name == "tojson") {
    const Value* indent = args.arg(0, "indent");
    return Value::string(v.to_json(indent && indent->kind == K::kInt
                                       ? static_cast<int>(std::clamp<int64_t>(indent->i, 0, 64))
                                       : -1));
  }
  if (name == "default" || name == "d") {
    const Value* boolean = args.arg(1, "boolean");
    const bool use_default = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
    if (!use_default) return v;
    const Value* dflt = args.arg(0, "default_value");
    return dflt ? *dflt : Value::string("");
  }
  if (name == "join") {
    const Value* sep = args.arg(0, "d");
    const Value* attr = args.arg(1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v, pos)) {
      if (!first) out += sep ? sep->str() : "";
      first = false;
      out += attr ? str_of(get_item(item, *attr, pos)) : str_of(item);
      if (out.size() > options_.limits.max_output_bytes) error(pos, "string too long");
    }
    return Value::string(std::move(out));
  }
  if (name == "first" || name == "last") {
    std::vector<Value> items = iterate(v, pos);
    if (items.empty()) return Value::undefined(name);
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::make_list(iterate(v, pos));
  if (name == "reverse") {
    if (v.is_string()) {
      auto chars = utf8_chars(v.s);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value::string(std::move(out));
    }
    std::vector<Value> items = iterate(v, pos);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "int") return Value::integer(to_int(&v, to_int(args.arg(0, "default"), 0)));
  if (name == "float") {
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
      char* end = nullptr;
      const double d = std::strtod(v.s.c_str(), &end);
      if (end && *end == '\0' && !v.s.empty()) return Value::number(d);
    }
    const Value* dflt = args.arg(0, "default");
    return dflt ? *dflt : Value::number(0.0);
  }
  if (name == "abs") {
    if (v.kind == K::kInt) return Value::integer(v.i < 0 ? -v.i : v.i);
    if (v.kind == K::kFloat) return Value::number(std::fabs(v.f));
    error(pos, "abs expects a number");
  }
  if (name == "round") {
    const int64_t precision = to_int(args.arg(0, "precision"), 0);
    const double scale =
        std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -20, 20)));
    return Value::number(std::round(v.as_double() * scale) / scale);
  }
  if (name == "replace") {
    return Value::string(replace_all(str_of(v), expect_string(args.arg(0, "old"), "replace"),
                                     expect_string(args.arg(1, "new"), "replace"),
                                     to_int(args.arg(2, "count"), -1)));
  }
  if (name == "indent") {
    const Value* w = args.arg(0, "width");
    const std::string pad =
        w && w->is_string()
            ? w->s
            : std::string(static_cast<size_t>(std::clamp<int64_t>(to_int(w, 4), 0, 256)), ' ');
    const Value* first_v = args.arg(1, "first");
    const Value* blank_v = args.arg(2, "blank");
    const bool first = first_v && first_v->truthy(), blank = blank_v && blank_v->truthy();
    std::vector<std::string> lines;
    const std::string s = str_of(v) + "\n";  // as Jinja: so splitlines keeps a trailing empty line
    size_t k = 0;
    while (k < s.size()) {
      const size_t nl = s.find('\n', k);
      lines.push_back(s.substr(k, nl - k));
      k = nl + 1;
    }
    std::string out = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i)
      out += "\n" + ((blank || !lines[i].empty()) ? pad + lines[i] : lines[i]);
    if (first) out = pad + out;
    return Value::string(std::move(out));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::make_list();
    if (!v.is_dict()) error(pos, "items expects a mapping");
    CallArgs none;
    return (*dict_method(v, "items").fn)(none);
  }
  if (name == "dictsort") {
    if (!v.is_dict()) error(pos, "dictsort expects a mapping");
    auto items = v.dict->items;
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Value out = Value::make_list();
    for (auto& [k, x] : items) out.push(Value::make_list({Value::string(k), x}));
    return out;
  }
  if (name == "map") {
    Value out = Value::make_list();
    const Value* attr = args.kw("attribute");
    for (const Value& item : iterate(v, pos)) {
      step(pos);
      if (attr) {
        Value x = get_item(item, *attr, pos);
        if (x.is_undefined())
          if (const Value* dflt = args.kw("default")) x = *dflt;
        out.push(std::move(x));
      } else {
        if (args.positional.empty() || !args.positional[0].is_string())
          error(pos, "map needs a filter name or attribute=");
        CallArgs rest;
        rest.positional.assign(args.positional.begin() + 1, args.positional.end());
        out.push(apply_filter(args.positional[0].s, item, rest, pos));
      }
    }
    return out;
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name.size() > 6;
    const bool keep_if = name[0] == 's';
    size_t k = 0;
    Value attr;
    if (by_attr) {
      if (args.positional.empty()) error(pos, name + " needs an attribute name");
      attr = args.positional[k++];
    }
    std::string test;
    if (k < args.positional.size()) test = args.positional[k++].str();
    CallArgs test_args;
    test_args.positional.assign(args.positional.begin() + static_cast<long>(k),
                                args.positional.end());
    Value out = Value::make_list();
    for (const Value& item : iterate(v, pos)) {
      step(pos);
      const Value subject = by_attr ? get_item(item, attr, pos) : item;
      const bool pass = test.empty() ? subject.truthy() : apply_test(test, subject, test_args, pos);
      if (pass == keep_if) out.push(item);
    }
    return out;
  }
  if (name == "unique") {
    Value out = Value::make_list();
    for (const Value& item : iterate(v, pos)) {
      step(pos);
      bool seen = false;
      for (const Value& x : *out.list) seen = seen || equals(x, item);
      if (!seen) out.push(item);
    }
    return out;
  }
  if (name == "sort") {
    std::vector<Value> items = iterate(v, pos);
    const Value* reverse = args.arg(0, "reverse");
    const Value* attr = args.kw("attribute");
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      const Value x = attr ? get_item(a, *attr, pos) : a;
      const Value y = attr ? get_item(b, *attr, pos) : b;
      return compare_values(x, y) < 0;
    });
    if (reverse && reverse->truthy()) std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "sum") {
    int64_t isum = 0;
    double fsum = 0;
    bool is_float = false;
    for (const Value& item : iterate(v, pos)) {
      if (item.kind == K::kFloat)
        is_float = true;
      else if (item.kind != K::kInt)
        error(pos, "sum expects numbers");
      isum += item.kind == K::kInt ? item.i : 0;
      fsum += item.as_double();
    }
    return is_float ? Value::number(fsum) : Value::integer(isum);
  }
  if (name == "escape" || name == "e") {
    std::string out;
    for (char c : str_of(v)) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out += c;
      }
    }
    return Value::string(std::move(out));
  }
  error(pos, "unknown filter '" + name + "'");
}

}  // namespace hearth::jinja
