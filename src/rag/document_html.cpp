// HTML → blocks with a small tolerant tokenizer instead of a library: the store wants visible
// text cut at block elements, not a DOM. What a browser would not show (script, style, noscript,
// template, svg, comments, CDATA, doctype) is dropped; everything else a reader sees lands in a
// block, whatever the markup's mistakes. Tag scans are bounded or memoised, so malformed input
// (stray '<', unclosed quotes or tags) stays linear and never fails.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "rag/document_internal.h"

namespace hearth::rag::detail {
namespace {

using Kind = Block::Kind;
constexpr size_t npos = std::string_view::npos;
constexpr size_t kMaxStack = 256;   // deeper nesting still breaks blocks, it is just not tracked
constexpr size_t kMaxQuote = 4096;  // an attribute value longer than this is taken as unclosed

bool is_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Elements that start and end a block of text.
bool is_block(std::string_view n) {
  return one_of(n, {"address", "article", "aside", "blockquote", "body", "center", "details",
                    "dialog", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure",
                    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header",
                    "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol",
                    "option", "p", "pre", "section", "summary", "ul", "caption", "table",
                    "tbody", "thead", "tfoot", "tr", "td", "th", "textarea", "listing"});
}

// Content a browser does not display; script and style are raw text (no tags inside).
bool is_dropped(std::string_view n) {
  return one_of(n, {"script", "style", "noscript", "template", "svg", "math", "iframe"});
}

bool ieq_prefix(std::string_view s, size_t at, std::string_view lower) {
  if (at + lower.size() > s.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[at + i])) != lower[i]) return false;
  }
  return true;
}

// Case-insensitive search for "</name" from `from`; npos when absent.
size_t find_end_tag(std::string_view s, size_t from, std::string_view name) {
  for (size_t i = s.find("</", from); i != npos; i = s.find("</", i + 2)) {
    if (ieq_prefix(s, i + 2, name)) {
      const size_t after = i + 2 + name.size();
      if (after >= s.size() || is_html_space(s[after]) || s[after] == '>' || s[after] == '/') return i;
    }
  }
  return npos;
}

struct Tag {
  std::string name;  // lowercase
  bool end = false;
  bool self_closing = false;
  size_t next = 0;  // offset just past the tag
};

class HtmlParser {
 public:
  explicit HtmlParser(std::string_view s) : s_(s) {}

  std::vector<Block> run() {
    size_t p = 0;
    while (p < s_.size()) {
      const size_t lt = s_.find('<', p);
      text(s_.substr(p, (lt == npos ? s_.size() : lt) - p));
      if (lt == npos) break;
      p = markup(lt);
    }
    end_row();
    flush();
    if (!saw_h1_ && !title_.empty()) {
      out_.insert(out_.begin(), Block{Kind::kHeading, 1, title_});
    }
    return std::move(out_);
  }

 private:
  struct Open {
    std::string name;
    Kind kind;
    int level;
  };

  // Handles the '<' at p; returns where to continue.
  size_t markup(size_t p) {
    if (s_.compare(p, 4, "<!--") == 0) return skip_past(p + 4, "-->");
    if (s_.compare(p, 9, "<![CDATA[") == 0) return skip_past(p + 9, "]]>");
    if (s_.compare(p, 2, "<!") == 0 || s_.compare(p, 2, "<?") == 0) return skip_past(p + 2, ">");
    Tag tag;
    if (!read_tag(p, &tag)) {
      if (drop_depth_ == 0) text("<");
      return p + 1;
    }
    if (drop_depth_ > 0) {
      if (tag.name == drop_name_ && !tag.self_closing) drop_depth_ += tag.end ? -1 : 1;
      return tag.next;
    }
    if (tag.end) {
      end_tag(tag.name);
      return tag.next;
    }
    if (tag.name == "script" || tag.name == "style" || tag.name == "xmp") {
      if (tag.self_closing) return tag.next;
      const size_t e = find_end_tag(s_, tag.next, tag.name);
      return e == npos ? s_.size() : skip_past(e, ">");
    }
    if (tag.name == "title") {
      const size_t e = find_end_tag(s_, tag.next, "title");
      const size_t stop = e == npos ? s_.size() : e;
      if (title_.empty()) title_ = collapse_whitespace(decode(s_.substr(tag.next, stop - tag.next)));
      return e == npos ? stop : skip_past(e, ">");
    }
    if (is_dropped(tag.name)) {
      if (!tag.self_closing) {
        drop_name_ = tag.name;
        drop_depth_ = 1;
      }
      return tag.next;
    }
    start_tag(tag.name);
    if (tag.name == "textarea") {  // RCDATA: visible, but its content is not markup
      const size_t e = find_end_tag(s_, tag.next, "textarea");
      const size_t stop = e == npos ? s_.size() : e;
      text(s_.substr(tag.next, stop - tag.next));
      if (e == npos) return stop;
      end_tag("textarea");
      return skip_past(e, ">");
    }
    return tag.next;
  }

  size_t skip_past(size_t from, std::string_view marker) const {
    const size_t e = s_.find(marker, from);
    return e == npos ? s_.size() : e + marker.size();
  }

  // Next '>' at or after p, memoised: between from and the answer there is no '>', so repeated
  // failing scans (thousands of stray '<') cost nothing.
  size_t next_gt(size_t p) {
    if (!(p >= gt_from_ && p <= gt_at_)) {
      gt_from_ = p;
      gt_at_ = s_.find('>', p);
    }
    return gt_at_;
  }

  bool read_tag(size_t p, Tag* tag) {
    size_t i = p + 1;
    if (i < s_.size() && s_[i] == '/') {
      tag->end = true;
      ++i;
    }
    if (i >= s_.size() || !std::isalpha(static_cast<unsigned char>(s_[i]))) return false;
    const size_t gt = next_gt(i);
    if (gt == npos) return false;  // "a < b" at the end of a page is text
    while (i < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i])) || s_[i] == '-' ||
                             s_[i] == ':' || s_[i] == '_')) {
      tag->name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s_[i]))));
      ++i;
    }
    // Attributes: only quotes matter, because a quoted '>' does not end the tag.
    while (i < s_.size()) {
      const char c = s_[i];
      if (c == '>') {
        tag->self_closing = i > p + 1 && s_[i - 1] == '/';
        tag->next = i + 1;
        return true;
      }
      if ((c == '"' || c == '\'') && i > 0 && (s_[i - 1] == '=' || is_html_space(s_[i - 1]))) {
        const size_t q = s_.find(c, i + 1);
        if (q == npos || q - i > kMaxQuote) {
          tag->next = gt + 1;  // unclosed quote: end at the first '>' rather than eat the page
          return true;
        }
        i = q + 1;
        continue;
      }
      ++i;
    }
    tag->next = gt + 1;
    return true;
  }

  std::string decode(std::string_view t) const {
    std::string out;
    out.reserve(t.size());
    for (size_t i = 0; i < t.size();) {
      if (t[i] == '&') {
        const size_t n = decode_entity(t.substr(i), out);
        if (n > 0) {
          i += n;
          continue;
        }
      }
      out.push_back(t[i++]);
    }
    return out;
  }

  Kind top_kind() const { return stack_.empty() ? Kind::kParagraph : stack_.back().kind; }
  int top_level() const { return stack_.empty() ? 0 : stack_.back().level; }

  void text(std::string_view raw) {
    if (raw.empty() || drop_depth_ > 0) return;
    std::string t = decode(raw);
    if (in_row_) {
      cell_ += t;
      return;
    }
    if (strip_pre_newline_) {
      strip_pre_newline_ = false;
      if (!t.empty() && t[0] == '\n') t.erase(0, 1);
    }
    buf_ += t;
  }

  void start_tag(const std::string& n) {
    if (n == "br") {
      if (in_row_) {
        cell_ += ' ';
      } else {
        buf_ += top_kind() == Kind::kCode ? '\n' : kHardBreak;
      }
      return;
    }
    if (n == "td" || n == "th") {
      if (!in_row_) start_row();
      end_cell();
      return;
    }
    if (n == "tr") {
      end_row();
      start_row();
      return;
    }
    if (n == "table" || n == "tbody" || n == "thead" || n == "tfoot") {
      end_row();
      flush();
      return;
    }
    if (!is_block(n)) return;  // inline elements change nothing about the text
    if (in_row_) {
      cell_ += ' ';
      return;
    }
    flush();
    // Implied end tags: a new item closes the open one.
    if (!stack_.empty()) {
      const std::string& t = stack_.back().name;
      if ((n == "li" && t == "li") || (n == "p" && t == "p") ||
          ((n == "dt" || n == "dd") && (t == "dt" || t == "dd")) ||
          (n == "option" && t == "option")) {
        stack_.pop_back();
      }
    }
    Open o{n, Kind::kParagraph, 0};
    if (n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6') {
      o.kind = Kind::kHeading;
      o.level = n[1] - '0';
    } else if (n == "li") {
      o.kind = Kind::kListItem;
    } else if (n == "pre" || n == "listing") {
      o.kind = Kind::kCode;
      strip_pre_newline_ = true;
    } else if (n != "hr") {
      o.kind = top_kind();  // <li><p>…</p></li> is still the list item's text
      o.level = top_level();
    }
    if (n != "hr" && stack_.size() < kMaxStack) stack_.push_back(std::move(o));
  }

  void end_tag(const std::string& n) {
    if (n == "br") {  // browsers read </br> as <br>
      start_tag("br");
      return;
    }
    if (n == "td" || n == "th") {
      end_cell();
      return;
    }
    if (n == "tr" || n == "table" || n == "tbody" || n == "thead" || n == "tfoot") {
      end_row();
      flush();
      return;
    }
    if (!is_block(n)) return;
    if (in_row_) {
      cell_ += ' ';
      return;
    }
    flush();
    for (size_t k = stack_.size(); k > 0; --k) {
      if (stack_[k - 1].name == n) {
        stack_.resize(k - 1);
        break;
      }
    }
  }

  void start_row() {
    flush();
    in_row_ = true;
  }

  void end_cell() {
    std::string c = collapse_whitespace(cell_);
    if (!c.empty()) cells_.push_back(std::move(c));
    cell_.clear();
  }

  void end_row() {
    if (!in_row_) return;
    end_cell();
    std::string row;
    for (const std::string& c : cells_) {
      if (!row.empty()) row += " | ";
      row += c;
    }
    if (!row.empty()) out_.push_back(Block{Kind::kTableRow, 0, std::move(row)});
    cells_.clear();
    in_row_ = false;
  }

  void flush() {
    strip_pre_newline_ = false;
    if (buf_.empty()) return;
    const Kind kind = top_kind();
    if (kind == Kind::kCode) {
      std::string code = std::move(buf_);
      while (!code.empty() && is_html_space(code.back())) code.pop_back();
      size_t first = 0;  // leading blank lines, not leading indentation
      for (size_t i = 0; i < code.size() && is_html_space(code[i]); ++i) {
        if (code[i] == '\n') first = i + 1;
      }
      code.erase(0, first);
      if (code.find_first_not_of(" \t\n\f\r") != std::string::npos) {
        out_.push_back(Block{Kind::kCode, 0, std::move(code)});
      }
    } else {
      std::string t = collapse_whitespace(buf_);
      if (!t.empty()) {
        if (kind == Kind::kHeading && top_level() == 1) saw_h1_ = true;
        out_.push_back(Block{kind, kind == Kind::kHeading ? top_level() : 0, std::move(t)});
      }
    }
    buf_.clear();
  }

  std::string_view s_;
  std::vector<Block> out_;
  std::vector<Open> stack_;
  std::string buf_;  // the current block's text, entities decoded, whitespace not yet collapsed
  bool in_row_ = false;
  std::vector<std::string> cells_;
  std::string cell_;
  std::string drop_name_;
  int drop_depth_ = 0;
  bool strip_pre_newline_ = false;  // the newline right after <pre> is markup, not content
  bool saw_h1_ = false;
  std::string title_;
  size_t gt_from_ = 1, gt_at_ = 0;  // empty memo
};

}  // namespace

std::vector<Block> parse_html(std::string_view text) { return HtmlParser(text).run(); }

}  // namespace hearth::rag::detail
