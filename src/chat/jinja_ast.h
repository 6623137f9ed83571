// Internal to the Jinja interpreter: tokens, the syntax tree, and the error type thrown inside
// lexer/parser/evaluator. The public entry (jinja.h) catches it and returns it as a value.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/jinja_value.h"

namespace hearth::jinja {

struct SourcePos {
  int line = 1;
  int col = 1;
};

struct TemplateError {
  std::string message;
  SourcePos pos;
};

[[noreturn]] inline void fail(SourcePos pos, std::string message) {
  throw TemplateError{std::move(message), pos};
}

struct Token {
  enum class Kind {
    kText,
    kExprOpen,
    kExprClose,
    kStmtOpen,
    kStmtClose,
    kName,
    kString,
    kInt,
    kFloat,
    kOp,
    kEnd
  };
  Kind kind;
  std::string text;  // text, name, decoded string, operator
  SourcePos pos;
  int64_t i = 0;
  double f = 0.0;
};

struct LexOptions {
  bool trim_blocks = true;  // HF renders with trim_blocks and lstrip_blocks on
  bool lstrip_blocks = true;
};

std::vector<Token> lex(const std::string& source, const LexOptions& options);

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    // expressions
    kLiteral,
    kName,
    kGetAttr,
    kGetItem,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kUnary,
    kBinary,
    kTernary,
    kListLit,
    kDictLit,
    // statements
    kText,
    kEmit,
    kIf,
    kFor,
    kSet,
    kSetBlock,
    kMacro,
    kBreak,
    kContinue,
    kBlock,
  };
  Kind kind;
  SourcePos pos;
  std::string str;                 // name, attribute, operator, filter/test name, text
  Value lit;                       // kLiteral
  std::vector<NodePtr> a;          // operands / positional args / list items / if conditions
  std::vector<std::string> names;  // keyword names (aligned with kw), for targets, macro params
  std::vector<NodePtr> kw;         // keyword values / macro defaults (may hold nullptr)
  std::vector<Body> blocks;        // statement bodies: if branches (+else), for body (+else)
  bool negated = false;            // `is not`
};

// Parses a whole template into top-level statements.
Body parse(const std::vector<Token>& tokens);

}  // namespace hearth::jinja
