// Values of the Jinja subset: what templates see (messages, tools, flags) and what they compute.
// Lists and dicts are shared by reference, as in Python, so `namespace()` attributes set inside a
// loop are visible after it. Dicts keep insertion order (Python 3.7+ order is what HF renders).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::jinja {

struct Value;
struct CallArgs;
using List = std::vector<Value>;
using Function = std::function<Value(CallArgs&)>;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;

  const Value* find(std::string_view key) const;
  void set(std::string key, Value v);
};

struct Value {
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;  // string; for kUndefined, the name that was missing
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;
  std::shared_ptr<Function> fn;

  static Value undefined(std::string name = {});
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value make_list(List items = {});
  static Value make_dict();
  static Value function(Function f);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_dict() const { return kind == Kind::kDict; }
  double as_double() const {
    return kind == Kind::kInt ? static_cast<double>(i) : kind == Kind::kBool ? b : f;
  }

  bool truthy() const;
  // Python str(): None → "None", True → "True", lists and dicts as their repr; undefined → "".
  std::string str() const;
  // Python repr(): strings quoted.
  std::string repr() const;
  // json.dumps as HF's tojson calls it: ensure_ascii=False, insertion order, indent < 0 → one line.
  std::string to_json(int indent = -1) const;

  // Convenience for building contexts.
  Value& push(Value v);                          // list append
  Value& set(std::string key, Value v);          // dict insert/replace
  const Value* get(std::string_view key) const;  // dict lookup
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  const Value* kw(std::string_view name) const;
  // Positional index `pos`, else keyword `name`, else nullptr.
  const Value* arg(size_t pos, std::string_view name) const;
};

const char* kind_name(Value::Kind k);
bool equals(const Value& a, const Value& b);
std::string format_float(double v);  // Python float repr

// UTF-8 helpers: Python indexes strings by code point.
std::vector<std::string_view> utf8_chars(std::string_view s);

}  // namespace hearth::jinja
