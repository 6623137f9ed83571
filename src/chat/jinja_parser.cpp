// Recursive-descent parser with Jinja2's precedence, lowest first:
//   ternary < or < and < not < comparisons/in < ~ < + - < * / // % < ** < unary - < postfix
//   (. [] ()) and filters/tests, which bind to the operand on their left (`a + b|trim` trims b).
#include <unordered_set>

#include "chat/jinja_ast.h"

namespace hearth::jinja {

namespace {

constexpr int kMaxDepth = 128;  // nesting of expressions and blocks; hostile input stops here

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}

  Body parse_template() {
    Body body = parse_body({});
    if (cur().kind != Token::Kind::kEnd)
      fail(cur().pos, "unexpected tag '" + peek_tag_name() + "'");
    return body;
  }

 private:
  using K = Token::Kind;

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) fail(p_.cur().pos, "template nesting too deep");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  const Token& cur() const { return t_[k_]; }
  const Token& next() const { return t_[k_ + 1 < t_.size() ? k_ + 1 : k_]; }
  void advance() {
    if (k_ + 1 < t_.size()) ++k_;
  }
  bool is_op(const char* op) const { return cur().kind == K::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == K::kName && cur().text == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail(cur().pos, std::string("expected '") + op + "', found " + describe(cur()));
    advance();
  }
  void expect_name(const char* n) {
    if (!is_name(n)) fail(cur().pos, std::string("expected '") + n + "', found " + describe(cur()));
    advance();
  }
  std::string expect_identifier() {
    if (cur().kind != K::kName) fail(cur().pos, "expected a name, found " + describe(cur()));
    std::string s = cur().text;
    advance();
    return s;
  }
  void expect_stmt_close() {
    if (cur().kind != K::kStmtClose) fail(cur().pos, "expected '%}', found " + describe(cur()));
    advance();
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case K::kEnd:
        return "end of template";
      case K::kStmtClose:
        return "'%}'";
      case K::kExprClose:
        return "'}}'";
      case K::kText:
        return "text";
      default:
        return "'" + t.text + "'";
    }
  }
  std::string peek_tag_name() const { return next().kind == K::kName ? next().text : "?"; }

  NodePtr node(Node::Kind kind, SourcePos pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }

  // Statements until a `{% name %}` with name in `ends` (left unconsumed) or the end.
  Body parse_body(const std::unordered_set<std::string>& ends) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == K::kEnd) {
        if (!ends.empty()) fail(t.pos, "unexpected end of template: a block was not closed");
        return body;
      }
      if (t.kind == K::kText) {
        auto n = node(Node::Kind::kText, t.pos);
        n->str = t.text;
        body.push_back(std::move(n));
        advance();
      } else if (t.kind == K::kExprOpen) {
        advance();
        auto n = node(Node::Kind::kEmit, t.pos);
        n->a.push_back(parse_expr());
        if (cur().kind != K::kExprClose) fail(cur().pos, "expected '}}', found " + describe(cur()));
        advance();
        body.push_back(std::move(n));
      } else if (t.kind == K::kStmtOpen) {
        if (next().kind == K::kName && ends.count(next().text)) return body;
        advance();
        body.push_back(parse_statement());
      } else {
        fail(t.pos, "unexpected " + describe(t));
      }
    }
  }

  NodePtr parse_statement() {
    const Token& t = cur();
    if (t.kind != K::kName) fail(t.pos, "expected a statement name");
    const std::string name = t.text;
    const SourcePos pos = t.pos;
    advance();
    if (name == "if") return parse_if(pos);
    if (name == "for") return parse_for(pos);
    if (name == "set") return parse_set(pos);
    if (name == "macro") return parse_macro(pos);
    if (name == "break" || name == "continue") {
      expect_stmt_close();
      return node(name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, pos);
    }
    if (name == "generation") {  // HF's assistant-mask extension: renders its body unchanged
      expect_stmt_close();
      auto n = node(Node::Kind::kBlock, pos);
      n->blocks.push_back(parse_body({"endgeneration"}));
      close_block("endgeneration");
      return n;
    }
    fail(pos, "unknown or unsupported statement '" + name + "'");
  }

  void close_block(const char* end) {
    // cur() is the StmtOpen before `end`
    advance();
    expect_name(end);
    expect_stmt_close();
  }

  NodePtr parse_if(SourcePos pos) {
    auto n = node(Node::Kind::kIf, pos);
    n->a.push_back(parse_expr());
    expect_stmt_close();
    n->blocks.push_back(parse_body({"elif", "else", "endif"}));
    while (true) {
      advance();  // StmtOpen
      const std::string tag = cur().text;
      advance();
      if (tag == "elif") {
        n->a.push_back(parse_expr());
        expect_stmt_close();
        n->blocks.push_back(parse_body({"elif", "else", "endif"}));
      } else if (tag == "else") {
        expect_stmt_close();
        n->blocks.push_back(parse_body({"endif"}));
        advance();
        expect_name("endif");
        expect_stmt_close();
        return n;
      } else {
        expect_stmt_close();
        return n;
      }
    }
  }

  NodePtr parse_for(SourcePos pos) {
    auto n = node(Node::Kind::kFor, pos);
    n->names.push_back(expect_identifier());
    while (is_op(",")) {
      advance();
      n->names.push_back(expect_identifier());
    }
    expect_name("in");
    n->a.push_back(parse_ternary(/*allow_if=*/false));
    if (is_name("if")) {
      advance();
      n->a.push_back(parse_ternary(false));
    }
    if (is_name("recursive")) fail(cur().pos, "recursive loops are not supported");
    expect_stmt_close();
    n->blocks.push_back(parse_body({"else", "endfor"}));
    advance();
    if (is_name("else")) {
      advance();
      expect_stmt_close();
      n->blocks.push_back(parse_body({"endfor"}));
      advance();
    }
    expect_name("endfor");
    expect_stmt_close();
    return n;
  }

  NodePtr parse_set(SourcePos pos) {
    // Targets: `x`, `a, b`, or `ns.attr`.
    std::vector<std::string> targets{expect_identifier()};
    std::string attr;
    if (is_op(".")) {
      advance();
      attr = expect_identifier();
    }
    while (is_op(",")) {
      advance();
      targets.push_back(expect_identifier());
    }
    if (cur().kind == K::kStmtClose) {  // block set: {% set x %}...{% endset %}
      if (targets.size() != 1 || !attr.empty()) fail(pos, "block set takes one plain name");
      advance();
      auto n = node(Node::Kind::kSetBlock, pos);
      n->names = targets;
      n->blocks.push_back(parse_body({"endset"}));
      close_block("endset");
      return n;
    }
    expect_op("=");
    auto n = node(Node::Kind::kSet, pos);
    n->names = targets;
    n->str = attr;
    n->a.push_back(parse_expr());
    expect_stmt_close();
    return n;
  }

  NodePtr parse_macro(SourcePos pos) {
    auto n = node(Node::Kind::kMacro, pos);
    n->str = expect_identifier();
    expect_op("(");
    while (!is_op(")")) {
      n->names.push_back(expect_identifier());
      if (is_op("=")) {
        advance();
        n->kw.push_back(parse_expr());
      } else {
        n->kw.push_back(nullptr);
      }
      if (!is_op(",")) break;
      advance();
    }
    expect_op(")");
    expect_stmt_close();
    n->blocks.push_back(parse_body({"endmacro"}));
    close_block("endmacro");
    return n;
  }

  // ---- expressions ----
  NodePtr parse_expr() { return parse_ternary(true); }

  NodePtr parse_ternary(bool allow_if) {
    DepthGuard guard(*this);
    NodePtr e = parse_or();
    while (allow_if && is_name("if")) {
      const SourcePos pos = cur().pos;
      advance();
      auto n = node(Node::Kind::kTernary, pos);
      NodePtr cond = parse_or();
      NodePtr other;
      if (is_name("else")) {
        advance();
        other = parse_ternary(true);
      }
      n->a.push_back(std::move(cond));
      n->a.push_back(std::move(e));
      n->a.push_back(std::move(other));
      e = std::move(n);
    }
    return e;
  }

  NodePtr binary(std::string op, NodePtr l, NodePtr r, SourcePos pos) {
    auto n = node(Node::Kind::kBinary, pos);
    n->str = std::move(op);
    n->a.push_back(std::move(l));
    n->a.push_back(std::move(r));
    return n;
  }

  NodePtr parse_or() {
    NodePtr l = parse_and();
    while (is_name("or")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("or", std::move(l), parse_and(), pos);
    }
    return l;
  }

  NodePtr parse_and() {
    NodePtr l = parse_not();
    while (is_name("and")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("and", std::move(l), parse_not(), pos);
    }
    return l;
  }

  NodePtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto n = node(Node::Kind::kUnary, cur().pos);
      advance();
      n->str = "not";
      n->a.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  NodePtr parse_compare() {
    NodePtr l = parse_concat();
    while (true) {
      const SourcePos pos = cur().pos;
      if (cur().kind == K::kOp && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                   cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
        std::string op = cur().text;
        advance();
        l = binary(op, std::move(l), parse_concat(), pos);
      } else if (is_name("in")) {
        advance();
        l = binary("in", std::move(l), parse_concat(), pos);
      } else if (is_name("not") && next().kind == K::kName && next().text == "in") {
        advance();
        advance();
        l = binary("not in", std::move(l), parse_concat(), pos);
      } else {
        return l;
      }
    }
  }

  NodePtr parse_concat() {
    NodePtr l = parse_add();
    while (is_op("~")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("~", std::move(l), parse_add(), pos);
    }
    return l;
  }

  NodePtr parse_add() {
    NodePtr l = parse_mul();
    while (is_op("+") || is_op("-")) {
      const SourcePos pos = cur().pos;
      std::string op = cur().text;
      advance();
      l = binary(op, std::move(l), parse_mul(), pos);
    }
    return l;
  }

  NodePtr parse_mul() {
    NodePtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const SourcePos pos = cur().pos;
      std::string op = cur().text;
      advance();
      l = binary(op, std::move(l), parse_pow(), pos);
    }
    return l;
  }

  NodePtr parse_pow() {
    NodePtr l = parse_unary();
    while (is_op("**")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("**", std::move(l), parse_unary(), pos);
    }
    return l;
  }

  NodePtr parse_unary() {
    DepthGuard guard(*this);
    if (is_op("-") || is_op("+")) {
      auto n = node(Node::Kind::kUnary, cur().pos);
      n->str = cur().text;
      advance();
      n->a.push_back(parse_unary());
      return parse_filters(std::move(n));
    }
    return parse_filters(parse_postfix(parse_primary()));
  }

  NodePtr parse_primary() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    switch (t.kind) {
      case K::kName: {
        auto n = node(Node::Kind::kLiteral, pos);
        const std::string& s = t.text;
        if (s == "true" || s == "True")
          n->lit = Value::boolean(true);
        else if (s == "false" || s == "False")
          n->lit = Value::boolean(false);
        else if (s == "none" || s == "None")
          n->lit = Value::none();
        else {
          n->kind = Node::Kind::kName;
          n->str = s;
        }
        advance();
        return n;
      }
      case K::kString: {
        auto n = node(Node::Kind::kLiteral, pos);
        std::string s;
        while (cur().kind == K::kString) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        n->lit = Value::string(std::move(s));
        return n;
      }
      case K::kInt: {
        auto n = node(Node::Kind::kLiteral, pos);
        n->lit = Value::integer(t.i);
        advance();
        return n;
      }
      case K::kFloat: {
        auto n = node(Node::Kind::kLiteral, pos);
        n->lit = Value::number(t.f);
        advance();
        return n;
      }
      case K::kOp:
        if (t.text == "(") {
          advance();
          if (is_op(")")) {
            advance();
            return node(Node::Kind::kListLit, pos);
          }
          NodePtr e = parse_expr();
          if (is_op(",")) {  // tuple: behaves as a list here
            auto n = node(Node::Kind::kListLit, pos);
            n->a.push_back(std::move(e));
            while (is_op(",")) {
              advance();
              if (is_op(")")) break;
              n->a.push_back(parse_expr());
            }
            e = std::move(n);
          }
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          advance();
          auto n = node(Node::Kind::kListLit, pos);
          while (!is_op("]")) {
            n->a.push_back(parse_expr());
            if (!is_op(",")) break;
            advance();
          }
          expect_op("]");
          return n;
        }
        if (t.text == "{") {
          advance();
          auto n = node(Node::Kind::kDictLit, pos);
          while (!is_op("}")) {
            n->a.push_back(parse_expr());
            expect_op(":");
            n->kw.push_back(parse_expr());
            if (!is_op(",")) break;
            advance();
          }
          expect_op("}");
          return n;
        }
        break;
      default:
        break;
    }
    fail(pos, "unexpected " + describe(t) + " in expression");
  }

  void parse_call_args(Node& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (cur().kind == K::kName && next().kind == K::kOp && next().text == "=") {
        n.names.push_back(cur().text);
        advance();
        advance();
        n.kw.push_back(parse_expr());
      } else {
        n.a.push_back(parse_expr());
      }
      if (!is_op(",")) break;
      advance();
    }
    expect_op(")");
  }

  NodePtr parse_postfix(NodePtr e) {
    while (true) {
      const SourcePos pos = cur().pos;
      if (is_op(".")) {
        advance();
        auto n = node(Node::Kind::kGetAttr, pos);
        if (cur().kind == K::kInt) {
          n->kind = Node::Kind::kGetItem;
          auto idx = node(Node::Kind::kLiteral, cur().pos);
          idx->lit = Value::integer(cur().i);
          advance();
          n->a.push_back(std::move(e));
          n->a.push_back(std::move(idx));
        } else {
          n->str = expect_identifier();
          n->a.push_back(std::move(e));
        }
        e = std::move(n);
      } else if (is_op("[")) {
        advance();
        e = parse_subscript(std::move(e), pos);
      } else if (is_op("(")) {
        DepthGuard guard(*this);
        auto n = node(Node::Kind::kCall, pos);
        n->a.push_back(std::move(e));
        parse_call_args(*n);
        e = std::move(n);
      } else {
        return e;
      }
    }
  }

  NodePtr parse_subscript(NodePtr obj, SourcePos pos) {
    DepthGuard guard(*this);
    NodePtr parts[3];
    int colons = 0;
    while (!is_op("]")) {
      if (is_op(":")) {
        if (++colons > 2) fail(cur().pos, "too many ':' in slice");
        advance();
        continue;
      }
      if (parts[colons]) fail(cur().pos, "malformed subscript");
      parts[colons] = parse_expr();
    }
    expect_op("]");
    if (colons == 0) {
      if (!parts[0]) fail(pos, "empty subscript");
      auto n = node(Node::Kind::kGetItem, pos);
      n->a.push_back(std::move(obj));
      n->a.push_back(std::move(parts[0]));
      return n;
    }
    auto n = node(Node::Kind::kSlice, pos);
    n->a.push_back(std::move(obj));
    for (auto& p : parts) n->a.push_back(std::move(p));
    return n;
  }

  NodePtr parse_filters(NodePtr e) {
    while (true) {
      const SourcePos pos = cur().pos;
      if (is_op("|")) {
        advance();
        auto n = node(Node::Kind::kFilter, pos);
        n->str = expect_identifier();
        n->a.push_back(std::move(e));
        if (is_op("(")) parse_call_args(*n);
        e = std::move(n);
      } else if (is_name("is")) {
        advance();
        auto n = node(Node::Kind::kTest, pos);
        if (is_name("not")) {
          n->negated = true;
          advance();
        }
        // `is none` / `is true`: those names lex as literals elsewhere, here they are tests.
        n->str = expect_identifier();
        n->a.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*n);
        } else if (cur().kind == K::kString || cur().kind == K::kInt || cur().kind == K::kFloat ||
                   (cur().kind == K::kName && !is_name("and") && !is_name("or") &&
                    !is_name("else") && !is_name("if") && !is_name("not") && !is_name("in") &&
                    !is_name("is"))) {
          n->a.push_back(parse_postfix(parse_primary()));  // one bare argument: `is divisibleby 3`
        }
        e = std::move(n);
      } else {
        return e;
      }
    }
  }

  const std::vector<Token>& t_;
  size_t k_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_template(); }

}  // namespace hearth::jinja
