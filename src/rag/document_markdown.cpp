// Markdown → blocks. Not a full CommonMark parser: the store needs the text and its structure
// (headings for the chunker's heading path, code kept verbatim, list items and table rows as
// units), not rendering fidelity. Block structure is read line by line; inline markup is removed
// in one linear pass per paragraph (bracket and backtick matches are precomputed), so no input
// can make it quadratic.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>

#include "rag/document_internal.h"

namespace hearth::rag::detail {
namespace {

using Kind = Block::Kind;
constexpr size_t npos = std::string_view::npos;

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n'; }
bool is_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

size_t indent_of(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && is_space(line[n])) ++n;
  return n;
}

// --- inline markup ---------------------------------------------------------------------------

// Emphasis delimiters are removed when they could open or close emphasis (CommonMark's flanking
// rule, simplified); "2 * 3" and snake_case keep theirs.
bool is_emphasis_run(std::string_view s, size_t begin, size_t end) {
  const char prev = begin == 0 ? ' ' : s[begin - 1];
  const char next = end >= s.size() ? ' ' : s[end];
  const bool left = !is_ws(next) && (!is_punct(next) || is_ws(prev) || is_punct(prev));
  const bool right = !is_ws(prev) && (!is_punct(prev) || is_ws(next) || is_punct(next));
  const bool intraword = std::isalnum(static_cast<unsigned char>(prev)) &&
                         std::isalnum(static_cast<unsigned char>(next));
  return (left || right) && !intraword;
}

// Autolinks are visible text (the URL is what the reader sees), unlike tags.
size_t autolink_end(std::string_view s, size_t p) {
  size_t i = p + 1;
  bool scheme_or_at = false;
  while (i < s.size() && i - p < 2048) {
    const char c = s[i];
    if (c == '>') return scheme_or_at ? i : npos;
    if (is_ws(c) || c == '<') return npos;
    if (c == ':' || c == '@') scheme_or_at = true;
    ++i;
  }
  return npos;
}

// End (one past '>') of an HTML tag starting at s[p] == '<', or npos when it is not one.
size_t tag_end(std::string_view s, size_t p) {
  size_t i = p + 1;
  if (i < s.size() && s[i] == '/') ++i;
  if (i >= s.size() || !std::isalpha(static_cast<unsigned char>(s[i]))) return npos;
  char quote = 0;
  for (; i < s.size() && i - p < 1024; ++i) {
    const char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    } else if (c == '<') {
      return npos;
    }
  }
  return npos;
}

class InlineStripper {
 public:
  explicit InlineStripper(std::string_view s) : s_(s) { match_brackets(); }

  std::string run() {
    std::string out;
    out.reserve(s_.size());
    std::vector<std::pair<size_t, size_t>> jumps;  // at a link's ']' → skip to past its target
    size_t p = 0;
    while (p < s_.size()) {
      while (!jumps.empty() && p >= jumps.back().first) {
        const auto [at, to] = jumps.back();
        jumps.pop_back();
        if (p == at) p = to;
      }
      if (p >= s_.size()) break;
      const char c = s_[p];
      if (c == '\\' && p + 1 < s_.size() && is_punct(s_[p + 1])) {
        out.push_back(s_[p + 1]);
        p += 2;
      } else if (c == '`') {
        p = code_span(p, out);
      } else if ((c == '[' || (c == '!' && p + 1 < s_.size() && s_[p + 1] == '[')) &&
                 link_target_end(c == '!' ? p + 1 : p) != npos) {
        const size_t open = c == '!' ? p + 1 : p;
        jumps.emplace_back(close_[open], link_target_end(open));
        p = open + 1;  // the label's text is read like any other text
      } else if (c == '*' || c == '_' || c == '~') {
        size_t e = p;
        while (e < s_.size() && s_[e] == c) ++e;
        const bool strip = (c != '~' || e - p == 2) && is_emphasis_run(s_, p, e);
        if (!strip) out.append(s_.substr(p, e - p));
        p = e;
      } else if (c == '<') {
        p = angle(p, out);
      } else if (c == '&') {
        const size_t n = decode_entity(s_.substr(p), out);
        if (n == 0) out.push_back('&');
        p += n == 0 ? 1 : n;
      } else {
        out.push_back(c);
        ++p;
      }
    }
    return out;
  }

 private:
  // Matching ']' for each '[' and ')' for each '(' by a stack pass, skipping escapes and code
  // spans (whose content is literal); the backtick runs are indexed first for that.
  void match_brackets() {
    for (size_t i = 0; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == '`') {
        size_t e = i;
        while (e < s_.size() && s_[e] == '`') ++e;
        ticks_[e - i].push_back(i);
        i = e - 1;
      }
    }
    std::vector<size_t> sq, par;
    for (size_t i = 0; i < s_.size(); ++i) {
      const char c = s_[i];
      if (c == '\\') {
        ++i;
      } else if (c == '`') {
        size_t e = i;
        while (e < s_.size() && s_[e] == '`') ++e;
        const size_t close = closing_run(i, e - i);
        i = (close == npos ? e : close + (e - i)) - 1;
      } else if (c == '[') {
        sq.push_back(i);
      } else if (c == ']' && !sq.empty()) {
        close_[sq.back()] = i;
        sq.pop_back();
      } else if (c == '(') {
        par.push_back(i);
      } else if (c == ')' && !par.empty()) {
        close_[par.back()] = i;
        par.pop_back();
      }
    }
  }

  // Start of the first backtick run of exactly n after p, or npos.
  size_t closing_run(size_t p, size_t n) const {
    const auto r = ticks_.find(n);
    if (r == ticks_.end()) return npos;
    const auto it = std::upper_bound(r->second.begin(), r->second.end(), p);
    return it == r->second.end() ? npos : *it;
  }

  // For '[' at `open`: one past the end of "[label](target)" or "[label][ref]", else npos.
  size_t link_target_end(size_t open) const {
    const auto it = close_.find(open);
    if (it == close_.end()) return npos;
    const size_t after = it->second + 1;
    if (after >= s_.size() || (s_[after] != '(' && s_[after] != '[')) return npos;
    const auto t = close_.find(after);
    if (t == close_.end()) return npos;
    if (s_[after] == '[' && s_[t->second] != ']') return npos;
    if (s_[after] == '(' && s_[t->second] != ')') return npos;
    return t->second + 1;
  }

  size_t code_span(size_t p, std::string& out) {
    size_t e = p;
    while (e < s_.size() && s_[e] == '`') ++e;
    const size_t n = e - p;
    const size_t close = closing_run(p, n);
    if (close == npos) {
      out.append(s_.substr(p, n));
      return e;
    }
    std::string_view content = s_.substr(e, close - e);
    if (content.size() >= 2 && content.front() == ' ' && content.back() == ' ' &&
        !trim(content).empty()) {
      content = content.substr(1, content.size() - 2);
    }
    out.append(content);
    return close + n;
  }

  size_t angle(size_t p, std::string& out) {
    if (s_.substr(p, 4) == "<!--") {
      if (!no_comment_close_) {
        const size_t close = s_.find("-->", p + 4);
        if (close != npos) return close + 3;
        no_comment_close_ = true;  // none later either: stop searching
      }
    } else if (const size_t a = autolink_end(s_, p); a != npos) {
      out.append(s_.substr(p + 1, a - p - 1));
      return a + 1;
    } else if (const size_t t = tag_end(s_, p); t != npos) {
      return t;
    }
    out.push_back('<');
    return p + 1;
  }

  std::string_view s_;
  std::map<size_t, size_t> close_;
  std::map<size_t, std::vector<size_t>> ticks_;  // backtick run length → run starts, ascending
  bool no_comment_close_ = false;
};

std::string inline_text(std::string_view s) { return collapse_whitespace(InlineStripper(s).run()); }

// --- block structure -------------------------------------------------------------------------

bool is_fence(std::string_view rest, char* ch, size_t* len) {
  if (rest.size() < 3 || (rest[0] != '`' && rest[0] != '~')) return false;
  size_t n = 0;
  while (n < rest.size() && rest[n] == rest[0]) ++n;
  if (n < 3) return false;
  if (rest[0] == '`' && rest.substr(n).find('`') != npos) return false;  // inline code, not fence
  *ch = rest[0];
  *len = n;
  return true;
}

int atx_level(std::string_view rest) {
  size_t n = 0;
  while (n < rest.size() && rest[n] == '#') ++n;
  if (n == 0 || n > 6) return 0;
  if (n < rest.size() && !is_space(rest[n])) return 0;
  return static_cast<int>(n);
}

std::string_view atx_content(std::string_view rest, int level) {
  std::string_view c = trim(rest.substr(static_cast<size_t>(level)));
  size_t e = c.size();
  while (e > 0 && c[e - 1] == '#') --e;
  if (e == 0) return {};
  if (e < c.size() && is_space(c[e - 1])) c = trim(c.substr(0, e));
  return c;
}

bool all_of_char(std::string_view s, char ch) {
  s = trim(s);
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return c == ch; });
}

bool is_thematic_break(std::string_view rest) {
  if (rest.empty() || (rest[0] != '-' && rest[0] != '*' && rest[0] != '_')) return false;
  size_t n = 0;
  for (char c : rest) {
    if (c == rest[0]) {
      ++n;
    } else if (!is_ws(c)) {
      return false;
    }
  }
  return n >= 3;
}

// Length of a list marker with its following space ("- ", "12. ", "3) "), or 0.
size_t list_marker(std::string_view rest) {
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '*' || rest[0] == '+')) {
    if (rest.size() == 1) return 1;
    return is_space(rest[1]) ? 2 : 0;
  }
  size_t d = 0;
  while (d < rest.size() && d < 9 && std::isdigit(static_cast<unsigned char>(rest[d]))) ++d;
  if (d == 0 || d >= rest.size() || (rest[d] != '.' && rest[d] != ')')) return 0;
  if (d + 1 == rest.size()) return d + 1;
  return is_space(rest[d + 1]) ? d + 2 : 0;
}

std::vector<std::string_view> split_cells(std::string_view row) {
  row = trim(row);
  if (!row.empty() && row.front() == '|') row.remove_prefix(1);
  if (!row.empty() && row.back() == '|' && (row.size() < 2 || row[row.size() - 2] != '\\')) {
    row.remove_suffix(1);
  }
  std::vector<std::string_view> cells;
  size_t begin = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\') {
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(trim(row.substr(begin, i - begin)));
      begin = i + 1;
    }
  }
  cells.push_back(trim(row.substr(begin)));
  return cells;
}

bool is_table_separator(std::string_view line) {
  if (line.find('-') == npos || line.find('|') == npos) {
    // A one-column separator may lack pipes only when the header had them; not worth the case.
    return false;
  }
  for (std::string_view cell : split_cells(line)) {
    if (cell.empty()) return false;
    size_t i = 0;
    if (cell[i] == ':') ++i;
    const size_t dashes = i;
    while (i < cell.size() && cell[i] == '-') ++i;
    if (i == dashes) return false;
    if (i < cell.size() && cell[i] == ':') ++i;
    if (i != cell.size()) return false;
  }
  return true;
}

// Empty cells are kept so a row still lines up with its header ("a |  | c").
std::string table_row(std::string_view line) {
  std::string row;
  bool any = false;
  bool first = true;
  for (std::string_view cell : split_cells(line)) {
    std::string t = inline_text(cell);
    any = any || !t.empty();
    if (!first) row += " | ";
    row += t;
    first = false;
  }
  return any ? row : std::string();
}

class BlockParser {
 public:
  explicit BlockParser(bool in_quote) : in_quote_(in_quote) {}

  std::vector<Block> run(const std::vector<std::string_view>& lines, size_t first) {
    size_t i = first;
    while (i < lines.size()) i = line(lines, i);
    flush();
    return std::move(out_);
  }

 private:
  size_t line(const std::vector<std::string_view>& lines, size_t i) {
    const std::string_view ln = lines[i];
    const size_t ind = indent_of(ln);
    const std::string_view rest = ln.substr(ind);
    if (trim(rest).empty()) {
      flush();
      in_table_ = false;
      return i + 1;
    }
    char fence_ch = 0;
    size_t fence_len = 0;
    if (ind <= 3 && is_fence(rest, &fence_ch, &fence_len)) return fenced(lines, i, ind, fence_ch, fence_len);
    if (ind >= 4 && para_.empty() && !list_context_) return indented(lines, i);
    if (ind <= 3 && rest[0] == '>' && !in_quote_) return quote(lines, i);
    if (const int level = ind <= 3 ? atx_level(rest) : 0; level > 0) {
      flush();
      emit(in_quote_ ? Kind::kParagraph : Kind::kHeading, in_quote_ ? 0 : level,
           inline_text(atx_content(rest, level)));
      list_context_ = false;
      return i + 1;
    }
    if (ind <= 3 && !para_.empty() && para_kind_ == Kind::kParagraph &&
        (all_of_char(rest, '=') || all_of_char(rest, '-'))) {
      const int level = rest[0] == '=' ? 1 : 2;
      std::string text = paragraph_text();
      para_.clear();
      emit(in_quote_ ? Kind::kParagraph : Kind::kHeading, in_quote_ ? 0 : level, std::move(text));
      return i + 1;
    }
    if (ind <= 3 && is_thematic_break(rest)) {
      flush();
      list_context_ = false;
      return i + 1;
    }
    if (const size_t m = list_marker(rest); m > 0) {
      flush();
      para_kind_ = Kind::kListItem;
      para_.push_back(rest.substr(m));
      list_context_ = true;
      return i + 1;
    }
    const bool starts_table = rest[0] == '|' || (rest.find('|') != npos && i + 1 < lines.size() &&
                                                 is_table_separator(lines[i + 1]));
    if ((in_table_ && rest.find('|') != npos) || (!in_table_ && starts_table)) {
      flush();
      in_table_ = true;
      if (!is_table_separator(rest)) emit(Kind::kTableRow, 0, table_row(rest));
      return i + 1;
    }
    in_table_ = false;
    if (para_.empty()) {
      para_kind_ = Kind::kParagraph;
      if (ind < 2) list_context_ = false;
    }
    para_.push_back(rest);
    return i + 1;
  }

  size_t fenced(const std::vector<std::string_view>& lines, size_t i, size_t ind, char ch,
                size_t len) {
    flush();
    std::string code;
    size_t k = i + 1;
    for (; k < lines.size(); ++k) {
      const std::string_view ln = lines[k];
      const size_t li = indent_of(ln);
      std::string_view r = trim(ln.substr(li));
      size_t n = 0;
      while (n < r.size() && r[n] == ch) ++n;
      if (li <= 3 && n >= len && n == r.size()) break;
      // Content lines lose as much indentation as the opening fence had (CommonMark).
      const size_t drop = std::min(li, ind);
      if (!code.empty() || k > i + 1) code.push_back('\n');
      code.append(ln.substr(drop));
    }
    if (k == lines.size()) {  // unclosed: the file's final newline is not code
      while (!code.empty() && code.back() == '\n') code.pop_back();
    }
    emit_code(std::move(code));
    return k < lines.size() ? k + 1 : k;
  }

  size_t indented(const std::vector<std::string_view>& lines, size_t i) {
    flush();
    std::string code;
    size_t k = i;
    size_t last_content = i;
    std::vector<std::string_view> body;
    for (; k < lines.size(); ++k) {
      const std::string_view ln = lines[k];
      if (trim(ln).empty()) {
        body.push_back({});
        continue;
      }
      if (indent_of(ln) < 4) break;
      body.push_back(ln.substr(ln[0] == '\t' ? 1 : 4));
      last_content = k;
    }
    body.resize(last_content - i + 1);  // trailing blank lines belong to what follows
    for (size_t j = 0; j < body.size(); ++j) {
      if (j) code.push_back('\n');
      code.append(body[j]);
    }
    emit_code(std::move(code));
    return last_content + 1;
  }

  // Quoted lines lose every leading '>' and are parsed again as a nested document; nested quotes
  // are flattened (their text is what matters), which also keeps the recursion one level deep.
  size_t quote(const std::vector<std::string_view>& lines, size_t i) {
    flush();
    std::vector<std::string_view> inner;
    size_t k = i;
    for (; k < lines.size(); ++k) {
      std::string_view ln = lines[k];
      size_t ind = indent_of(ln);
      if (ind > 3 || ind >= ln.size() || ln[ind] != '>') break;
      while (ind < ln.size() && ln[ind] == '>') {
        ln.remove_prefix(ind + 1);
        if (!ln.empty() && is_space(ln[0])) ln.remove_prefix(1);
        ind = indent_of(ln);
        if (ind >= ln.size() || ln[ind] != '>') break;
      }
      inner.push_back(ln);
    }
    for (Block& b : BlockParser(true).run(inner, 0)) out_.push_back(std::move(b));
    list_context_ = false;
    return k;
  }

  std::string paragraph_text() const {
    std::string joined;
    for (std::string_view l : para_) {
      if (!joined.empty()) joined.push_back('\n');
      joined.append(l);
    }
    return inline_text(joined);
  }

  void flush() {
    if (!para_.empty()) emit(para_kind_, 0, paragraph_text());
    para_.clear();
    para_kind_ = Kind::kParagraph;
  }

  void emit(Kind kind, int level, std::string text) {
    if (!text.empty()) out_.push_back(Block{kind, level, std::move(text)});
  }

  void emit_code(std::string code) {
    if (!trim(code).empty()) out_.push_back(Block{Kind::kCode, 0, std::move(code)});
  }

  bool in_quote_;
  std::vector<Block> out_;
  std::vector<std::string_view> para_;
  Kind para_kind_ = Kind::kParagraph;
  bool in_table_ = false;
  bool list_context_ = false;  // an indented line after a list item continues it, not code
};

}  // namespace

std::vector<Block> parse_markdown(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  // YAML front matter is metadata for site generators, not prose; only a closed block counts.
  size_t first = 0;
  if (!lines.empty() && trim(lines[0]) == "---") {
    for (size_t k = 1; k < lines.size(); ++k) {
      if (trim(lines[k]) == "---" || trim(lines[k]) == "...") {
        first = k + 1;
        break;
      }
    }
  }
  return BlockParser(false).run(lines, first);
}

}  // namespace hearth::rag::detail
