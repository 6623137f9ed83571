// The text form of a grammar (see grammar.h) → Grammar. A recursive-descent parser; groups and
// repetitions become anonymous rules (`name_N`), so the matcher only ever sees sequences of
// character sets and rule references.
#include <map>

#include "sampling/grammar.h"

namespace hearth::sampling {
namespace {

using Element = Grammar::Element;
using Kind = Grammar::Kind;
using Seq = std::vector<Element>;

// Repetition counts are expanded into rules: keep a grammar from becoming huge.
constexpr int kMaxRepeat = 10000;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::shared_ptr<const Grammar>> run() {
    skip_space();
    while (i_ < s_.size()) {
      const std::string name = read_name();
      if (name.empty()) return fail("expected a rule name");
      skip_space();
      if (s_.substr(i_, 3) != "::=") return fail("expected '::=' after '" + name + "'");
      i_ += 3;
      const uint32_t id = rule(name);
      if (defined_[id]) return fail("rule '" + name + "' is defined twice");
      defined_[id] = true;
      if (!alternatives(id)) return error_;
      // Bounded repetitions expand into one rule per count ({0,10000}: 10000 rules), so a
      // short schema can ask for millions; the total is capped (~40 MB of rules).
      if (names_.size() > kMaxRules)
        return fail("the grammar expands to more than " + std::to_string(kMaxRules) + " rules");
      skip_space();
    }
    if (alts_.empty()) return Error{"grammar: no rules"};
    for (size_t r = 0; r < names_.size(); ++r)
      if (!defined_[r]) return Error{"grammar: rule '" + names_[r] + "' is used but not defined"};
    auto g = std::make_shared<Grammar>();
    g->sets = std::move(sets_);
    for (CharSet& cs : g->sets) cs.finalize();
    g->rule_names = names_;
    g->rule_alts.resize(alts_.size());
    for (size_t r = 0; r < alts_.size(); ++r) {
      for (const Seq& seq : alts_[r]) {
        g->rule_alts[r].push_back(uint32_t(g->elements.size()));
        g->elements.insert(g->elements.end(), seq.begin(), seq.end());
        g->elements.push_back({Kind::kEnd, 0});
      }
    }
    auto root = by_name_.find("root");
    g->root = root != by_name_.end() ? root->second : 0;
    if (Status s = check_left_recursion(*g); !s) return s.error();
    return std::shared_ptr<const Grammar>(std::move(g));
  }

 private:
  Error fail(const std::string& what) {
    int line = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) line += s_[k] == '\n';
    error_ = Error{"grammar line " + std::to_string(line) + ": " + what};
    return error_;
  }

  void skip_space() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else {
        break;
      }
    }
  }

  std::string read_name() {
    const size_t start = i_;
    while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // Whether a rule definition ("name ::=") starts at i_: ends the current rule.
  bool at_rule_start() const {
    size_t k = i_;
    while (k < s_.size() && is_name_char(s_[k])) ++k;
    if (k == i_) return false;
    while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t' || s_[k] == '\n' || s_[k] == '\r')) ++k;
    return s_.substr(k, 3) == "::=";
  }

  uint32_t rule(const std::string& name) {
    auto [it, inserted] = by_name_.emplace(name, uint32_t(names_.size()));
    if (inserted) {
      names_.push_back(name);
      alts_.emplace_back();
      defined_.push_back(false);
    }
    return it->second;
  }

  uint32_t anonymous(uint32_t parent) {
    const uint32_t id = rule(names_[parent] + "_" + std::to_string(names_.size()));
    defined_[id] = true;
    return id;
  }

  uint32_t add_set(CharSet cs) {
    sets_.push_back(std::move(cs));
    return uint32_t(sets_.size() - 1);
  }

  Element single(uint32_t cp) {
    CharSet cs;
    cs.ranges.push_back({cp, cp});
    return {Kind::kChars, add_set(std::move(cs))};
  }

  // alternatives of rule `id` up to ')' (nested) or the next rule / end of text.
  bool alternatives(uint32_t id, bool nested = false) {
    for (;;) {
      Seq seq;
      if (!sequence(id, seq)) return false;
      alts_[id].push_back(std::move(seq));
      skip_space();
      if (i_ < s_.size() && s_[i_] == '|') {
        ++i_;
        continue;
      }
      if (nested) {
        if (i_ >= s_.size() || s_[i_] != ')') return fail("expected ')'"), false;
        ++i_;
      }
      return true;
    }
  }

  bool sequence(uint32_t id, Seq& seq) {
    for (;;) {
      skip_space();
      if (i_ >= s_.size() || s_[i_] == '|' || s_[i_] == ')' || at_rule_start()) return true;
      Seq atom;
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"') {
          uint32_t cp = 0;
          if (!read_char(cp)) return false;
          atom.push_back(single(cp));
        }
        if (i_ >= s_.size()) return fail("unterminated string literal"), false;
        ++i_;
      } else if (c == '[') {
        if (!char_class(atom)) return false;
      } else if (c == '.') {
        ++i_;
        CharSet any;
        any.negated = true;
        atom.push_back({Kind::kChars, add_set(std::move(any))});
      } else if (c == '(') {
        ++i_;
        const uint32_t group = anonymous(id);
        if (!alternatives(group, true)) return false;
        atom.push_back({Kind::kRef, group});
      } else if (is_name_char(c)) {
        atom.push_back({Kind::kRef, rule(read_name())});
      } else {
        return fail(std::string("unexpected '") + c + "'"), false;
      }
      if (!postfix(id, atom)) return false;
      seq.insert(seq.end(), atom.begin(), atom.end());
    }
  }

  // Applies * + ? {m} {m,} {m,n} following an atom, if any.
  bool postfix(uint32_t id, Seq& atom) {
    if (i_ >= s_.size()) return true;
    int lo = 0, hi = 0;  // hi < 0: unbounded
    const char c = s_[i_];
    if (c == '*') {
      lo = 0, hi = -1;
    } else if (c == '+') {
      lo = 1, hi = -1;
    } else if (c == '?') {
      lo = 0, hi = 1;
    } else if (c == '{') {
      ++i_;
      if (!read_int(lo)) return false;
      hi = lo;
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        hi = -1;
        if (i_ < s_.size() && s_[i_] != '}' && !read_int(hi)) return false;
      }
      if (i_ >= s_.size() || s_[i_] != '}') return fail("expected '}'"), false;
      if (hi >= 0 && hi < lo) return fail("repetition {m,n} needs m <= n"), false;
    } else {
      return true;
    }
    ++i_;
    if (atom.size() > 1) {  // a literal of several characters repeats as a whole
      const uint32_t r = anonymous(id);
      alts_[r].push_back(atom);
      atom = {{Kind::kRef, r}};
    }
    const Element x = atom[0];
    Seq out(size_t(lo), x);
    if (hi < 0) {
      const uint32_t star = anonymous(id);  // star ::= x star | ε
      alts_[star].push_back({x, {Kind::kRef, star}});
      alts_[star].push_back({});
      out.push_back({Kind::kRef, star});
    } else if (hi > lo) {
      // x{0,k} as nested optionals, x (x (x)?)?, so each count has exactly one parse.
      uint32_t inner = anonymous(id);
      alts_[inner].push_back({x});
      alts_[inner].push_back({});
      for (int k = 1; k < hi - lo; ++k) {
        const uint32_t outer = anonymous(id);
        alts_[outer].push_back({x, {Kind::kRef, inner}});
        alts_[outer].push_back({});
        inner = outer;
      }
      out.push_back({Kind::kRef, inner});
    }
    atom = std::move(out);
    return true;
  }

  bool read_int(int& out) {
    const size_t start = i_;
    long v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && v <= kMaxRepeat)
      v = v * 10 + (s_[i_++] - '0');
    if (i_ == start) return fail("expected a number"), false;
    if (v > kMaxRepeat)
      return fail("repetition count above " + std::to_string(kMaxRepeat)), false;
    out = int(v);
    return true;
  }

  bool char_class(Seq& atom) {
    ++i_;  // '['
    CharSet cs;
    if (i_ < s_.size() && s_[i_] == '^') {
      cs.negated = true;
      ++i_;
    }
    while (i_ < s_.size() && s_[i_] != ']') {
      uint32_t lo = 0, hi = 0;
      if (!read_char(lo)) return false;
      hi = lo;
      if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        if (!read_char(hi)) return false;
        if (hi < lo) return fail("character range out of order"), false;
      }
      cs.ranges.push_back({lo, hi});
    }
    if (i_ >= s_.size()) return fail("unterminated character class"), false;
    ++i_;
    atom.push_back({Kind::kChars, add_set(std::move(cs))});
    return true;
  }

  bool hex(int digits, uint32_t& out) {
    out = 0;
    for (int k = 0; k < digits; ++k, ++i_) {
      if (i_ >= s_.size()) return fail("truncated escape"), false;
      const char c = s_[i_];
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0) return fail("bad hex digit in escape"), false;
      out = out * 16 + uint32_t(v);
    }
    if (out > 0x10FFFF || (out >= 0xD800 && out <= 0xDFFF))
      return fail("escape is not a Unicode scalar value"), false;
    return true;
  }

  // One character of a literal or class: an escape or one UTF-8 sequence of the grammar text.
  bool read_char(uint32_t& cp) {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\\') {
      if (++i_ >= s_.size()) return fail("truncated escape"), false;
      const char e = s_[i_++];
      switch (e) {
        case 'n': cp = '\n'; return true;
        case 'r': cp = '\r'; return true;
        case 't': cp = '\t'; return true;
        case 'x': return hex(2, cp);
        case 'u': return hex(4, cp);
        case 'U': return hex(8, cp);
        default: cp = static_cast<unsigned char>(e); return true;  // \\ \" \] \[ \- ...
      }
    }
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i_ + size_t(len) > s_.size()) return fail("invalid UTF-8 in grammar"), false;
    cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s_[i_ + k]) & 0x3F);
    i_ += size_t(len);
    return true;
  }

  // A rule that can reach itself without consuming a character would make the matcher's
  // expansion loop; refuse it here, naming the rule.
  static Status check_left_recursion(const Grammar& g) {
    const size_t n = g.rule_alts.size();
    std::vector<bool> nullable(n, false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (uint32_t pos : g.rule_alts[r]) {
          bool all = true;
          for (uint32_t k = pos; g.elements[k].kind != Kind::kEnd && all; ++k)
            all = g.elements[k].kind == Kind::kRef && nullable[g.elements[k].value];
          if (all) {
            nullable[r] = changed = true;
            break;
          }
        }
      }
    }
    std::vector<std::vector<uint32_t>> left(n);  // rules reachable at the left edge
    for (size_t r = 0; r < n; ++r)
      for (uint32_t pos : g.rule_alts[r])
        for (uint32_t k = pos; g.elements[k].kind == Kind::kRef; ++k) {
          left[r].push_back(g.elements[k].value);
          if (!nullable[g.elements[k].value]) break;
        }
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<uint32_t, size_t>> stack;
    for (uint32_t start = 0; start < n; ++start) {
      if (color[start]) continue;
      stack.push_back({start, 0});
      color[start] = 1;
      while (!stack.empty()) {
        auto& [r, next] = stack.back();
        if (next < left[r].size()) {
          const uint32_t to = left[r][next++];
          if (color[to] == 1)
            return Error{"grammar: rule '" + g.rule_names[to] + "' is left-recursive"};
          if (color[to] == 0) {
            color[to] = 1;
            stack.push_back({to, 0});
          }
        } else {
          color[r] = 2;
          stack.pop_back();
        }
      }
    }
    return {};
  }

  std::string_view s_;
  size_t i_ = 0;
  Error error_{""};
  std::map<std::string, uint32_t> by_name_;
  static constexpr size_t kMaxRules = 100000;
  std::vector<std::string> names_;
  std::vector<std::vector<Seq>> alts_;
  std::vector<bool> defined_;
  std::vector<CharSet> sets_;
};

}  // namespace

Result<std::shared_ptr<const Grammar>> Grammar::parse(std::string_view text) {
  return Parser(text).run();
}

}  // namespace hearth::sampling
