// Splits a template into text and tag tokens, applying whitespace control the way Jinja2 does:
// `{%-`/`-%}` strip all whitespace on that side, lstrip_blocks removes the indentation before a
// block or comment tag that starts its line, trim_blocks removes the one newline after one.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "chat/jinja_ast.h"

namespace hearth::jinja {

namespace {

constexpr const char* kSpace = " \t\r\n\f\v";

class Lexer {
 public:
  Lexer(const std::string& src, const LexOptions& opt) : src_(src), opt_(opt) {}

  std::vector<Token> run() {
    size_t pos = 0;
    bool strip_next = false;  // the previous tag ended with '-'
    bool trim_next = false;   // the previous tag was a block/comment: trim_blocks applies
    while (pos < src_.size()) {
      const size_t open = find_open(pos);
      std::string text = src_.substr(pos, open - pos);
      const SourcePos text_pos = pos_at(pos);
      if (strip_next) {
        text.erase(0, std::min(text.size(), text.find_first_not_of(kSpace)));
      } else if (trim_next && opt_.trim_blocks) {
        if (text.rfind("\r\n", 0) == 0)
          text.erase(0, 2);
        else if (!text.empty() && text[0] == '\n')
          text.erase(0, 1);
      }
      strip_next = trim_next = false;
      if (open == src_.size()) {
        emit_text(std::move(text), text_pos);
        break;
      }
      const char kind = src_[open + 1];  // '{', '%' or '#'
      size_t p = open + 2;
      const char marker = p < src_.size() ? src_[p] : '\0';
      if (marker == '-') {
        const size_t end = text.find_last_not_of(kSpace);
        text.erase(end == std::string::npos ? 0 : end + 1);
        ++p;
      } else if (marker == '+') {
        ++p;
      } else if (kind != '{' && opt_.lstrip_blocks) {
        lstrip_line(text, open);
      }
      emit_text(std::move(text), text_pos);

      if (kind == '#') {
        const size_t close = src_.find("#}", p);
        if (close == std::string::npos) fail(pos_at(open), "unterminated comment");
        strip_next = close > p && src_[close - 1] == '-';
        trim_next = !strip_next;
        pos = close + 2;
        continue;
      }
      const bool is_stmt = kind == '%';
      if (is_stmt && try_raw(p, open, pos, strip_next, trim_next)) continue;
      out_.push_back({is_stmt ? Token::Kind::kStmtOpen : Token::Kind::kExprOpen, "", pos_at(open)});
      pos = lex_tag(p, is_stmt, strip_next);
      trim_next = is_stmt && !strip_next;
    }
    out_.push_back({Token::Kind::kEnd, "", pos_at(src_.size())});
    return std::move(out_);
  }

 private:
  size_t find_open(size_t from) const {
    size_t k = from;
    while (true) {
      k = src_.find('{', k);
      if (k == std::string::npos || k + 1 >= src_.size()) return src_.size();
      const char c = src_[k + 1];
      if (c == '{' || c == '%' || c == '#') return k;
      ++k;
    }
  }

  // lstrip_blocks: drop spaces/tabs between the line start and the tag if nothing else is there.
  void lstrip_line(std::string& text, size_t open) const {
    const size_t nl = text.rfind('\n');
    const size_t line_start = nl == std::string::npos ? 0 : nl + 1;
    if (text.find_first_not_of(" \t", line_start) != std::string::npos) return;
    const size_t text_begin = open - text.size();
    if (nl == std::string::npos && text_begin != 0 && src_[text_begin - 1] != '\n') return;
    text.erase(line_start);
  }

  void emit_text(std::string text, SourcePos pos) {
    if (!text.empty()) out_.push_back({Token::Kind::kText, std::move(text), pos});
  }

  // `{% raw %}...{% endraw %}` becomes one text token.
  bool try_raw(size_t p, size_t open, size_t& pos, bool& strip_next, bool& trim_next) {
    size_t q = skip_ws(p);
    if (src_.compare(q, 3, "raw") != 0) return false;
    q = skip_ws(q + 3);
    bool strip_inner = false;
    if (q < src_.size() && src_[q] == '-') {
      strip_inner = true;
      ++q;
    }
    if (src_.compare(q, 2, "%}") != 0) return false;
    size_t body = q + 2;
    size_t search = body;
    while (true) {
      const size_t end_open = src_.find("{%", search);
      if (end_open == std::string::npos) fail(pos_at(open), "unterminated raw block");
      size_t e = end_open + 2;
      bool strip_before = false;
      if (e < src_.size() && (src_[e] == '-' || src_[e] == '+')) strip_before = src_[e++] == '-';
      e = skip_ws(e);
      if (src_.compare(e, 6, "endraw") != 0) {
        search = end_open + 2;
        continue;
      }
      e = skip_ws(e + 6);
      bool strip_after = false;
      if (e < src_.size() && src_[e] == '-') {
        strip_after = true;
        ++e;
      }
      if (src_.compare(e, 2, "%}") != 0) fail(pos_at(end_open), "malformed endraw");
      std::string text = src_.substr(body, end_open - body);
      if (strip_inner)
        text.erase(0, std::min(text.size(), text.find_first_not_of(" \t\r\n")));
      else if (opt_.trim_blocks && !text.empty() && text[0] == '\n')
        text.erase(0, 1);
      if (strip_before) {
        const size_t last = text.find_last_not_of(" \t\r\n");
        text.erase(last == std::string::npos ? 0 : last + 1);
      }
      emit_text(std::move(text), pos_at(body));
      pos = e + 2;
      strip_next = strip_after;
      trim_next = !strip_after;
      return true;
    }
  }

  size_t skip_ws(size_t p) const {
    while (p < src_.size() &&
           (src_[p] == ' ' || src_[p] == '\t' || src_[p] == '\r' || src_[p] == '\n'))
      ++p;
    return p;
  }

  // Lexes the inside of a tag; returns the position after its closing delimiter.
  size_t lex_tag(size_t p, bool is_stmt, bool& strip_next) {
    const char close0 = is_stmt ? '%' : '}';
    int depth = 0;  // open brackets: "}}" inside `{{ {'a': {}} }}` is not the end
    while (true) {
      p = skip_ws(p);
      if (p >= src_.size())
        fail(pos_at(p), is_stmt ? "unterminated '{%' tag" : "unterminated '{{' tag");
      const char c = src_[p];
      const SourcePos at = pos_at(p);
      if (depth == 0) {
        const std::string close{close0, '}'};
        const bool dash = c == '-' && src_.compare(p + 1, 2, close) == 0;
        const bool plus = c == '+' && src_.compare(p + 1, 2, close) == 0;
        if (dash || plus || src_.compare(p, 2, close) == 0) {
          strip_next = dash;
          out_.push_back({is_stmt ? Token::Kind::kStmtClose : Token::Kind::kExprClose, "", at});
          return p + (dash || plus ? 3 : 2);
        }
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t e = p;
        while (e < src_.size() &&
               (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
          ++e;
        out_.push_back({Token::Kind::kName, src_.substr(p, e - p), at});
        p = e;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        p = lex_number(p, at);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p, at);
      } else {
        static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*",
                                           "/",  "%",  "~",  "<",  ">",  "=",  "(", ")", "[",
                                           "]",  "{",  "}",  ",",  ".",  ":",  "|"};
        const char* op = nullptr;
        for (const char* cand : kOps) {
          if (src_.compare(p, std::strlen(cand), cand) == 0) {
            op = cand;
            break;
          }
        }
        if (!op) fail(at, std::string("unexpected character '") + c + "'");
        if (*op == '(' || *op == '[' || *op == '{') ++depth;
        if ((*op == ')' || *op == ']' || *op == '}') && depth > 0) --depth;
        out_.push_back({Token::Kind::kOp, op, at});
        p += std::strlen(op);
      }
    }
  }

  size_t lex_number(size_t p, SourcePos at) {
    size_t e = p;
    while (e < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
      ++e;
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      is_float = true;
      ++e;
      while (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) ++e;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && std::isdigit(static_cast<unsigned char>(src_[x]))) {
        is_float = true;
        e = x;
        while (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) ++e;
      }
    }
    std::string text;
    for (size_t k = p; k < e; ++k)
      if (src_[k] != '_') text += src_[k];
    Token t{is_float ? Token::Kind::kFloat : Token::Kind::kInt, text, at};
    if (is_float) {
      t.f = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      t.i = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) fail(at, "integer literal too large");
    }
    out_.push_back(std::move(t));
    return e;
  }

  size_t lex_string(size_t p, SourcePos at) {
    const char q = src_[p];
    std::string s;
    size_t k = p + 1;
    while (true) {
      if (k >= src_.size()) fail(at, "unterminated string literal");
      const char c = src_[k];
      if (c == q) break;
      if (c == '\\' && k + 1 < src_.size()) {
        const char n = src_[k + 1];
        k += 2;
        switch (n) {
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          case 'r':
            s += '\r';
            break;
          case '\\':
            s += '\\';
            break;
          case '\'':
            s += '\'';
            break;
          case '"':
            s += '"';
            break;
          case '\n':
            break;
          default:
            s += '\\';
            s += n;
        }
        continue;
      }
      s += c;
      ++k;
    }
    out_.push_back({Token::Kind::kString, std::move(s), at});
    return k + 1;
  }

  SourcePos pos_at(size_t offset) {
    // Incremental: lexing moves forward almost always, so scan from the last known point.
    if (offset < cached_off_) {
      cached_off_ = 0;
      cached_ = {1, 1};
    }
    for (; cached_off_ < offset && cached_off_ < src_.size(); ++cached_off_) {
      if (src_[cached_off_] == '\n') {
        ++cached_.line;
        cached_.col = 1;
      } else {
        ++cached_.col;
      }
    }
    return cached_;
  }

  const std::string& src_;
  LexOptions opt_;
  std::vector<Token> out_;
  size_t cached_off_ = 0;
  SourcePos cached_{1, 1};
};

}  // namespace

std::vector<Token> lex(const std::string& source, const LexOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace hearth::jinja
