// Statements, operators and scoping. Scoping follows Jinja2: a for-loop body (and a macro) gets
// its own frame, so `set` inside a loop does not leak out of it — templates carry state across
// iterations with namespace() objects instead; `if` blocks share the enclosing frame.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "chat/jinja_interp.h"

namespace hearth::jinja {

namespace {

struct DepthGuard {
  DepthGuard(int& d, int limit, SourcePos pos) : d_(d) {
    if (++d_ > limit) fail(pos, "expression or call nesting too deep");
  }
  ~DepthGuard() { --d_; }
  int& d_;
};

}  // namespace

struct Template::Program {
  Body body;
};

Interp::Interp(const RenderOptions& options) : options_(options) {}

void Interp::step(SourcePos pos) {
  if (++steps_ > options_.limits.max_steps) fail(pos, "template exceeded its work limit");
}

void Interp::write(const std::string& s, SourcePos pos) {
  if (out_.size() + s.size() > options_.limits.max_output_bytes)
    fail(pos,
         "template output exceeds " + std::to_string(options_.limits.max_output_bytes) + " bytes");
  out_ += s;
}

std::string Interp::run(const Body& body, const Value& context) {
  auto globals = std::make_shared<Frame>();
  if (context.is_dict())
    for (const auto& [k, v] : context.dict->items) (*globals)[k] = v;
  frames_ = {globals};
  out_.clear();
  if (exec(body) != Flow::kNormal) fail({}, "'break' or 'continue' outside a loop");
  return std::move(out_);
}

Value Interp::lookup(const std::string& name, SourcePos pos) {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    auto found = (*it)->find(name);
    if (found != (*it)->end()) return found->second;
  }
  return make_global(name, pos);
}

Interp::Flow Interp::exec(const Body& body) {
  for (const NodePtr& p : body) {
    const Node& n = *p;
    step(n.pos);
    switch (n.kind) {
      case Node::Kind::kText:
        write(n.str, n.pos);
        break;
      case Node::Kind::kEmit:
        write(eval(*n.a[0]).str(), n.pos);
        break;
      case Node::Kind::kIf: {
        size_t branch = 0;
        while (branch < n.a.size() && !eval(*n.a[branch]).truthy()) ++branch;
        if (branch < n.blocks.size()) {
          const Flow f = exec(n.blocks[branch]);
          if (f != Flow::kNormal) return f;
        }
        break;
      }
      case Node::Kind::kFor:
        exec_for(n);
        break;
      case Node::Kind::kSet:
        exec_set(n);
        break;
      case Node::Kind::kSetBlock: {
        std::string saved = std::move(out_);
        out_.clear();
        const Flow f = exec(n.blocks[0]);
        std::string captured = std::move(out_);
        out_ = std::move(saved);
        if (f != Flow::kNormal) error(n.pos, "'break' or 'continue' inside a set block");
        assign(n.names[0], Value::string(std::move(captured)));
        break;
      }
      case Node::Kind::kMacro: {
        const Node* macro = &n;
        assign(n.str, Value::function([this, macro](CallArgs& args) {
                 return call_macro(*macro, args, macro->pos);
               }));
        break;
      }
      case Node::Kind::kBreak:
        return Flow::kBreak;
      case Node::Kind::kContinue:
        return Flow::kContinue;
      case Node::Kind::kBlock: {
        const Flow f = exec(n.blocks[0]);
        if (f != Flow::kNormal) return f;
        break;
      }
      default:
        error(n.pos, "internal: expression in statement position");
    }
  }
  return Flow::kNormal;
}

Interp::Flow Interp::exec_for(const Node& n) {
  const Value seq = eval(*n.a[0]);
  std::vector<Value> items = iterate(seq, n.a[0]->pos);
  auto frame = std::make_shared<Frame>();
  frames_.push_back(frame);
  struct Pop {
    std::vector<std::shared_ptr<Frame>>& f;
    ~Pop() { f.pop_back(); }
  } pop{frames_};

  const auto bind = [&](const Value& item) {
    if (n.names.size() == 1) {
      (*frame)[n.names[0]] = item;
      return;
    }
    std::vector<Value> parts = iterate(item, n.pos);
    if (parts.size() != n.names.size())
      error(n.pos, "cannot unpack " + std::to_string(parts.size()) + " values into " +
                       std::to_string(n.names.size()) + " names");
    for (size_t k = 0; k < parts.size(); ++k) (*frame)[n.names[k]] = parts[k];
  };

  if (n.a.size() > 1) {  // `for x in xs if cond`: filter first; loop.* counts what is left
    std::vector<Value> kept;
    for (const Value& item : items) {
      step(n.pos);
      bind(item);
      if (eval(*n.a[1]).truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    if (n.blocks.size() > 1) {
      frames_.pop_back();
      frames_.push_back(std::make_shared<Frame>());
      exec(n.blocks[1]);
    }
    return Flow::kNormal;
  }
  const auto length = static_cast<int64_t>(items.size());
  for (int64_t k = 0; k < length; ++k) {
    step(n.pos);
    bind(items[static_cast<size_t>(k)]);
    Value loop = Value::make_dict();
    loop.set("index", Value::integer(k + 1));
    loop.set("index0", Value::integer(k));
    loop.set("revindex", Value::integer(length - k));
    loop.set("revindex0", Value::integer(length - k - 1));
    loop.set("first", Value::boolean(k == 0));
    loop.set("last", Value::boolean(k == length - 1));
    loop.set("length", Value::integer(length));
    loop.set("previtem", k > 0 ? items[static_cast<size_t>(k - 1)] : Value::undefined("previtem"));
    loop.set("nextitem",
             k + 1 < length ? items[static_cast<size_t>(k + 1)] : Value::undefined("nextitem"));
    loop.set("cycle", Value::function([k](CallArgs& args) {
               if (args.positional.empty()) return Value::none();
               return args.positional[static_cast<size_t>(k) % args.positional.size()];
             }));
    (*frame)["loop"] = loop;
    const Flow f = exec(n.blocks[0]);
    if (f == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

void Interp::exec_set(const Node& n) {
  Value v = eval(*n.a[0]);
  if (!n.str.empty()) {  // ns.attr = v
    Value target = lookup(n.names[0], n.pos);
    if (!target.is_dict() || !target.dict->is_namespace)
      error(n.pos, "cannot set attribute '" + n.str + "' on '" + n.names[0] + "': not a namespace");
    target.dict->set(n.str, std::move(v));
    return;
  }
  if (n.names.size() == 1) {
    assign(n.names[0], std::move(v));
    return;
  }
  std::vector<Value> parts = iterate(v, n.pos);
  if (parts.size() != n.names.size()) error(n.pos, "wrong number of values to unpack in set");
  for (size_t k = 0; k < parts.size(); ++k) assign(n.names[k], parts[k]);
}

Value Interp::call_macro(const Node& macro, CallArgs& args, SourcePos pos) {
  DepthGuard guard(call_depth_, options_.limits.max_call_depth, pos);
  auto frame = std::make_shared<Frame>();
  for (size_t k = 0; k < macro.names.size(); ++k) {
    const Value* given = args.arg(k, macro.names[k]);
    if (given)
      (*frame)[macro.names[k]] = *given;
    else if (macro.kw[k])
      (*frame)[macro.names[k]] = eval(*macro.kw[k]);
    else
      (*frame)[macro.names[k]] = Value::undefined(macro.names[k]);
  }
  // A macro sees the template's globals and its own arguments, not its caller's locals.
  std::vector<std::shared_ptr<Frame>> saved_frames = {frames_[0], frame};
  std::swap(saved_frames, frames_);
  std::string saved_out = std::move(out_);
  out_.clear();
  try {
    exec(macro.blocks[0]);
  } catch (...) {
    std::swap(saved_frames, frames_);
    throw;
  }
  std::swap(saved_frames, frames_);
  std::string result = std::move(out_);
  out_ = std::move(saved_out);
  return Value::string(std::move(result));
}

CallArgs Interp::eval_args(const Node& n, size_t first_positional) {
  CallArgs args;
  for (size_t k = first_positional; k < n.a.size(); ++k) args.positional.push_back(eval(*n.a[k]));
  for (size_t k = 0; k < n.kw.size(); ++k) args.keyword.emplace_back(n.names[k], eval(*n.kw[k]));
  return args;
}

Value Interp::eval(const Node& n) {
  DepthGuard guard(eval_depth_, 256, n.pos);
  step(n.pos);
  switch (n.kind) {
    case Node::Kind::kLiteral:
      return n.lit;
    case Node::Kind::kName:
      return lookup(n.str, n.pos);
    case Node::Kind::kGetAttr: {
      const Value obj = eval(*n.a[0]);
      return get_attr(obj, n.str, n.pos);
    }
    case Node::Kind::kGetItem: {
      const Value obj = eval(*n.a[0]);
      return get_item(obj, eval(*n.a[1]), n.pos);
    }
    case Node::Kind::kSlice:
      return slice(eval(*n.a[0]), n);
    case Node::Kind::kCall:
      return eval_call(n);
    case Node::Kind::kFilter: {
      const Value v = eval(*n.a[0]);
      CallArgs args = eval_args(n, 1);
      return apply_filter(n.str, v, args, n.pos);
    }
    case Node::Kind::kTest: {
      const Value v = eval(*n.a[0]);
      CallArgs args = eval_args(n, 1);
      return Value::boolean(apply_test(n.str, v, args, n.pos) != n.negated);
    }
    case Node::Kind::kUnary: {
      const Value v = eval(*n.a[0]);
      if (n.str == "not") return Value::boolean(!v.truthy());
      if (v.kind == Value::Kind::kInt || v.kind == Value::Kind::kBool) {
        const int64_t x = v.kind == Value::Kind::kBool ? v.b : v.i;
        if (n.str == "+") return Value::integer(x);
        if (x == std::numeric_limits<int64_t>::min()) error(n.pos, "integer overflow");
        return Value::integer(-x);
      }
      if (v.kind == Value::Kind::kFloat) return Value::number(n.str == "-" ? -v.f : v.f);
      error(n.pos, std::string("bad operand type for unary ") + n.str + ": " + kind_name(v.kind));
    }
    case Node::Kind::kBinary:
      return eval_binary(n);
    case Node::Kind::kTernary: {
      if (eval(*n.a[0]).truthy()) return eval(*n.a[1]);
      return n.a[2] ? eval(*n.a[2]) : Value::undefined();
    }
    case Node::Kind::kListLit: {
      Value list = Value::make_list();
      for (const NodePtr& item : n.a) list.push(eval(*item));
      return list;
    }
    case Node::Kind::kDictLit: {
      Value dict = Value::make_dict();
      for (size_t k = 0; k < n.a.size(); ++k) {
        const Value key = eval(*n.a[k]);
        dict.set(key.str(), eval(*n.kw[k]));
      }
      return dict;
    }
    default:
      error(n.pos, "internal: statement in expression position");
  }
}

Value Interp::eval_call(const Node& n) {
  const Value callee = eval(*n.a[0]);
  if (callee.kind != Value::Kind::kFunction) {
    std::string what = n.a[0]->kind == Node::Kind::kName || n.a[0]->kind == Node::Kind::kGetAttr
                           ? "'" + n.a[0]->str + "'"
                           : "value";
    if (callee.is_undefined()) error(n.pos, what + " is undefined");
    error(n.pos, what + " is not callable");
  }
  CallArgs args = eval_args(n, 1);
  try {
    return (*callee.fn)(args);
  } catch (TemplateError& e) {
    if (e.pos.line == 0) e.pos = n.pos;  // builtins report without a position
    throw;
  }
}

Value Interp::get_item(const Value& obj, const Value& key, SourcePos pos) {
  if (obj.is_undefined()) error(pos, "'" + obj.s + "' is undefined");
  if (obj.is_dict()) {
    const Value* v = obj.dict->find(key.str());
    return v ? *v : Value::undefined(key.str());
  }
  if (obj.is_list() || obj.is_string()) {
    if (key.kind != Value::Kind::kInt)
      return obj.is_list() ? Value::undefined() : get_attr(obj, key.str(), pos);
    if (obj.is_list()) {
      const auto size = static_cast<int64_t>(obj.list->size());
      const int64_t k = key.i < 0 ? key.i + size : key.i;
      if (k < 0 || k >= size) {
        // Appended piecewise: GCC 12 -O3 warns (-Wrestrict, falsely) on "[" + to_string() + "]".
        std::string name = std::to_string(key.i);
        name.insert(name.begin(), '[');
        name.push_back(']');
        return Value::undefined(std::move(name));
      }
      return (*obj.list)[static_cast<size_t>(k)];
    }
    const auto chars = utf8_chars(obj.s);
    const auto size = static_cast<int64_t>(chars.size());
    const int64_t k = key.i < 0 ? key.i + size : key.i;
    if (k < 0 || k >= size) return Value::undefined();
    return Value::string(std::string(chars[static_cast<size_t>(k)]));
  }
  return Value::undefined();
}

Value Interp::slice(const Value& obj, const Node& n) {
  const auto bound = [&](const NodePtr& p, const char* what) -> std::optional<int64_t> {
    if (!p) return std::nullopt;
    const Value v = eval(*p);
    if (v.is_none()) return std::nullopt;
    if (v.kind != Value::Kind::kInt)
      error(n.pos, std::string("slice ") + what + " must be an integer");
    return v.i;
  };
  const auto start = bound(n.a[1], "start");
  const auto stop = bound(n.a[2], "stop");
  const auto stride = bound(n.a[3], "step");
  const int64_t st = stride.value_or(1);
  if (st == 0) error(n.pos, "slice step cannot be zero");

  std::vector<std::string_view> chars;
  int64_t len = 0;
  if (obj.is_list()) {
    len = static_cast<int64_t>(obj.list->size());
  } else if (obj.is_string()) {
    chars = utf8_chars(obj.s);
    len = static_cast<int64_t>(chars.size());
  } else {
    error(n.pos, std::string("cannot slice a value of type ") + kind_name(obj.kind));
  }
  // Python's slice.indices()
  const auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x += len;
    if (st > 0) return std::clamp<int64_t>(x, 0, len);
    return std::clamp<int64_t>(x, -1, len - 1);
  };
  const int64_t b = clamp(start, st > 0 ? 0 : len - 1);
  const int64_t e = clamp(stop, st > 0 ? len : -1);
  std::vector<size_t> idx;
  for (int64_t k = b; st > 0 ? k < e : k > e; k += st) idx.push_back(static_cast<size_t>(k));
  if (obj.is_list()) {
    Value out = Value::make_list();
    for (size_t k : idx) out.push((*obj.list)[k]);
    return out;
  }
  std::string out;
  for (size_t k : idx) out += chars[k];
  return Value::string(std::move(out));
}

Value Interp::eval_binary(const Node& n) {
  const std::string& op = n.str;
  if (op == "and") {
    Value l = eval(*n.a[0]);
    return l.truthy() ? eval(*n.a[1]) : l;
  }
  if (op == "or") {
    Value l = eval(*n.a[0]);
    return l.truthy() ? l : eval(*n.a[1]);
  }
  const Value l = eval(*n.a[0]);
  const Value r = eval(*n.a[1]);
  using K = Value::Kind;
  if (op == "==") return Value::boolean(equals(l, r));
  if (op == "!=") return Value::boolean(!equals(l, r));
  if (op == "~") {
    std::string s = l.str() + r.str();
    if (s.size() > options_.limits.max_output_bytes) error(n.pos, "string too long");
    return Value::string(std::move(s));
  }
  if (op == "in" || op == "not in") {
    bool found = false;
    if (r.is_string()) {
      if (!l.is_string()) error(n.pos, "'in <string>' requires a string on the left");
      found = r.s.find(l.s) != std::string::npos;
    } else if (r.is_list()) {
      for (const Value& item : *r.list)
        if (equals(item, l)) found = true;
    } else if (r.is_dict()) {
      found = r.dict->find(l.str()) != nullptr && l.is_string();
    } else if (r.is_undefined()) {
      found = false;  // Undefined iterates as empty in Jinja2, so nothing is in it
    } else {
      error(n.pos, std::string("argument of type ") + kind_name(r.kind) + " is not iterable");
    }
    return Value::boolean(found != (op == "not in"));
  }
  const bool l_num = l.is_number() || l.kind == K::kBool;
  const bool r_num = r.is_number() || r.kind == K::kBool;
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    int c = 0;
    if (l_num && r_num) {
      const double x = l.as_double(), y = r.as_double();
      c = x < y ? -1 : x > y ? 1 : 0;
    } else if (l.is_string() && r.is_string()) {
      c = l.s.compare(r.s) < 0 ? -1 : l.s == r.s ? 0 : 1;
    } else {
      error(n.pos,
            std::string("cannot compare ") + kind_name(l.kind) + " with " + kind_name(r.kind));
    }
    if (op == "<") return Value::boolean(c < 0);
    if (op == ">") return Value::boolean(c > 0);
    if (op == "<=") return Value::boolean(c <= 0);
    return Value::boolean(c >= 0);
  }
  if (l.is_undefined() || r.is_undefined())
    error(n.pos, "'" + (l.is_undefined() ? l.s : r.s) + "' is undefined");
  if (op == "+") {
    if (l.is_string() && r.is_string()) {
      if (l.s.size() + r.s.size() > options_.limits.max_output_bytes)
        error(n.pos, "string too long");
      return Value::string(l.s + r.s);
    }
    if (l.is_list() && r.is_list()) {
      List items = *l.list;
      items.insert(items.end(), r.list->begin(), r.list->end());
      return Value::make_list(std::move(items));
    }
  }
  if (op == "*" && ((l.is_string() || l.is_list()) && r.kind == K::kInt)) {
    const int64_t times = std::max<int64_t>(r.i, 0);
    const size_t unit = l.is_string() ? l.s.size() : l.list->size() * 16;
    if (times > 0 && unit > 0 &&
        static_cast<uint64_t>(times) > options_.limits.max_output_bytes / unit)
      error(n.pos, "repetition too large");
    if (l.is_string()) {
      std::string s;
      for (int64_t k = 0; k < times; ++k) s += l.s;
      return Value::string(std::move(s));
    }
    List items;
    for (int64_t k = 0; k < times; ++k) items.insert(items.end(), l.list->begin(), l.list->end());
    return Value::make_list(std::move(items));
  }
  if (!l_num || !r_num)
    error(n.pos, std::string("unsupported operand types for ") + op + ": " + kind_name(l.kind) +
                     " and " + kind_name(r.kind));
  const bool both_int = l.kind != K::kFloat && r.kind != K::kFloat;
  const int64_t x = l.kind == K::kBool ? l.b : l.i, y = r.kind == K::kBool ? r.b : r.i;
  const double fx = l.as_double(), fy = r.as_double();
  int64_t res = 0;
  if (op == "+") {
    if (!both_int) return Value::number(fx + fy);
    if (__builtin_add_overflow(x, y, &res)) error(n.pos, "integer overflow");
    return Value::integer(res);
  }
  if (op == "-") {
    if (!both_int) return Value::number(fx - fy);
    if (__builtin_sub_overflow(x, y, &res)) error(n.pos, "integer overflow");
    return Value::integer(res);
  }
  if (op == "*") {
    if (!both_int) return Value::number(fx * fy);
    if (__builtin_mul_overflow(x, y, &res)) error(n.pos, "integer overflow");
    return Value::integer(res);
  }
  if (op == "/") {
    if (fy == 0.0) error(n.pos, "division by zero");
    return Value::number(fx / fy);
  }
  if (op == "//" || op == "%") {
    if (both_int) {
      if (y == 0) error(n.pos, "integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) error(n.pos, "integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward -infinity
        --q;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (fy == 0.0) error(n.pos, "float division or modulo by zero");
    const double q = std::floor(fx / fy);
    return Value::number(op == "//" ? q : fx - q * fy);
  }
  if (op == "**") {
    if (both_int && y >= 0) {
      int64_t acc = 1;
      for (int64_t k = 0; k < y; ++k) {
        if (__builtin_mul_overflow(acc, x, &acc)) error(n.pos, "integer overflow");
        if (acc == 0 || acc == 1) break;
        step(n.pos);
      }
      return Value::integer(acc);
    }
    return Value::number(std::pow(fx, fy));
  }
  error(n.pos, "unknown operator " + op);
}

Result<Template> Template::parse(const std::string& source) {
  try {
    auto program = std::make_shared<Program>();
    // Jinja2's keep_trailing_newline=False: one final newline of the source is not output.
    std::string text = source;
    if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0)
      text.resize(text.size() - 2);
    else if (!text.empty() && text.back() == '\n')
      text.pop_back();
    program->body = jinja::parse(lex(text, LexOptions{}));
    return Template(std::move(program));
  } catch (const TemplateError& e) {
    return Error{"chat template: line " + std::to_string(e.pos.line) + ", column " +
                 std::to_string(e.pos.col) + ": " + e.message};
  } catch (const std::bad_alloc&) {
    return Error{"chat template: out of memory"};
  } catch (const std::exception& e) {
    return Error{std::string("chat template: ") + e.what()};
  }
}

Result<std::string> Template::render(const Value& context, const RenderOptions& options) const {
  try {
    Interp interp(options);
    return interp.run(program_->body, context);
  } catch (const TemplateError& e) {
    if (e.pos.line == 0) return Error{"chat template: " + e.message};
    return Error{"chat template: line " + std::to_string(e.pos.line) + ", column " +
                 std::to_string(e.pos.col) + ": " + e.message};
  } catch (const std::bad_alloc&) {
    return Error{"chat template: out of memory"};
  } catch (const std::exception& e) {
    return Error{std::string("chat template: ") + e.what()};
  }
}

}  // namespace hearth::jinja
