// Internal: the tree-walking evaluator shared by jinja_eval.cpp (statements, operators) and
// jinja_builtins.cpp (filters, tests, methods, globals). One Interp per render call.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"

namespace hearth::jinja {

class Interp {
 public:
  explicit Interp(const RenderOptions& options);

  std::string run(const Body& body, const Value& context);

  Value eval(const Node& n);
  void step(SourcePos pos);
  [[noreturn]] void error(SourcePos pos, const std::string& message) const { fail(pos, message); }

  // jinja_builtins.cpp
  Value apply_filter(const std::string& name, const Value& v, CallArgs& args, SourcePos pos);
  bool apply_test(const std::string& name, const Value& v, CallArgs& args, SourcePos pos);
  Value get_attr(const Value& obj, const std::string& name, SourcePos pos);
  Value make_global(const std::string& name, SourcePos pos);
  std::vector<Value> iterate(const Value& v, SourcePos pos);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using Frame = std::unordered_map<std::string, Value>;

  Flow exec(const Body& body);
  Flow exec_for(const Node& n);
  void exec_set(const Node& n);
  Value call_macro(const Node& macro, CallArgs& args, SourcePos pos);
  Value eval_binary(const Node& n);
  Value eval_call(const Node& n);
  Value get_item(const Value& obj, const Value& key, SourcePos pos);
  Value slice(const Value& obj, const Node& n);
  CallArgs eval_args(const Node& n, size_t first_positional);

  Value lookup(const std::string& name, SourcePos pos);
  void assign(const std::string& name, Value v) { (*frames_.back())[name] = std::move(v); }
  void write(const std::string& s, SourcePos pos);

  const RenderOptions& options_;
  std::vector<std::shared_ptr<Frame>> frames_;  // [0] globals + top-level sets
  std::string out_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int eval_depth_ = 0;
};

}  // namespace hearth::jinja
