#include "tokenizer/pretokenize.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

using Span = std::pair<size_t, size_t>;  // [begin, end) in code points

struct Text {
  std::vector<uint32_t> cpts;
  std::vector<Category> cats;
  std::vector<uint8_t> ws;
  bool L(size_t i) const { return cats[i] == Category::kLetter; }
  bool N(size_t i) const { return cats[i] == Category::kNumber; }
  bool P(size_t i) const { return cats[i] == Category::kPunctuation; }
  bool S(size_t i) const { return ws[i] != 0; }
  // [^\s\p{L}\p{N}]
  bool other(size_t i) const { return !S(i) && !L(i) && !N(i); }
};

// Appends the words of [b, e) as successive spans; `emit(end)` closes the word running from
// the previous end.
class Emitter {
 public:
  Emitter(std::vector<Span>& out, size_t begin) : out_(out), prev_(begin) {}
  void emit(size_t end) {
    if (end > prev_) out_.emplace_back(prev_, end);
    prev_ = end;
  }

 private:
  std::vector<Span>& out_;
  size_t prev_;
};

bool is_contraction_tail(const Text& t, size_t pos, size_t e, bool any_case, size_t& len) {
  // 's 't 'm 'd (2 code points) or 're 've 'll (3), after the apostrophe at pos.
  if (t.cpts[pos] != '\'' || pos + 1 >= e) return false;
  const auto fold = [&](uint32_t c) { return any_case ? to_lower(c) : c; };
  const uint32_t c1 = fold(t.cpts[pos + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
    len = 2;
    return true;
  }
  if (pos + 2 >= e) return false;
  const uint32_t c2 = fold(t.cpts[pos + 2]);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
    len = 3;
    return true;
  }
  return false;
}

// Shared tail of both GPT-2 and Llama 3 rules: a whitespace run followed by a non-space
// keeps its last character for the next word (\s+(?!\S)); a run at the end goes whole (\s+).
size_t whitespace_run_end(const Text& t, size_t pos, size_t e) {
  size_t k = 0;
  while (pos + k < e && t.S(pos + k)) ++k;
  if (k > 1 && pos + k < e) return pos + k - 1;
  return pos + k;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void split_gpt2(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  Emitter w(out, b);
  for (size_t pos = b; pos < e;) {
    size_t len = 0;
    if (is_contraction_tail(t, pos, e, /*any_case=*/false, len)) {
      w.emit(pos += len);
      continue;
    }
    const size_t q = t.cpts[pos] == ' ' ? pos + 1 : pos;  // the optional leading space
    if (q < e) {
      bool (Text::*cls)(size_t) const = t.L(q) ? &Text::L : t.N(q) ? &Text::N : t.other(q) ? &Text::other : nullptr;
      if (cls) {
        pos = q;
        while (pos < e && (t.*cls)(pos)) ++pos;
        w.emit(pos);
        continue;
      }
    }
    const size_t ws_end = whitespace_run_end(t, pos, e);
    w.emit(pos = ws_end > pos ? ws_end : pos + 1);
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+        with D = 3 (Llama 3) or 1 (Qwen2, StableLM 2)
void split_llama3(const Text& t, size_t b, size_t e, size_t max_digits, std::vector<Span>& out) {
  Emitter w(out, b);
  const auto crlf = [&](size_t i) { return t.cpts[i] == '\r' || t.cpts[i] == '\n'; };
  for (size_t pos = b; pos < e;) {
    size_t len = 0;
    if (is_contraction_tail(t, pos, e, /*any_case=*/true, len)) {
      w.emit(pos += len);
      continue;
    }
    if (!crlf(pos) && !t.N(pos) && (t.L(pos) || (pos + 1 < e && t.L(pos + 1)))) {
      ++pos;  // a letter, or the one non-letter allowed before letters
      while (pos < e && t.L(pos)) ++pos;
      w.emit(pos);
      continue;
    }
    if (t.N(pos)) {
      size_t start = pos;
      while (pos < e && t.N(pos)) {
        if (++pos - start >= max_digits) {
          w.emit(pos);
          start = pos;
        }
      }
      w.emit(pos);
      continue;
    }
    const size_t q = t.cpts[pos] == ' ' ? pos + 1 : pos;
    if (q >= e || t.other(q)) {  // a lone trailing space also ends up here, as one word
      pos = q;
      while (pos < e && t.other(pos)) ++pos;
      while (pos < e && crlf(pos)) ++pos;
      w.emit(pos);
      continue;
    }
    size_t k = 0, last_newline_end = 0;
    while (pos + k < e && t.S(pos + k)) {
      if (crlf(pos + k)) last_newline_end = pos + k + 1;
      ++k;
    }
    if (last_newline_end > 0) {
      w.emit(pos = last_newline_end);
      continue;
    }
    const size_t ws_end = whitespace_run_end(t, pos, e);
    w.emit(pos = ws_end > pos ? ws_end : pos + 1);
  }
}

// Regex-iterator semantics for one pattern: the leftmost match, then the next after it; the
// gaps between matches are words too. `match(pos, e)` is the length matched at pos, 0 if none.
template <class Match>
void split_matches(size_t b, size_t e, std::vector<Span>& out, const Match& match) {
  size_t gap = b;
  for (size_t pos = b; pos < e;) {
    const size_t len = match(pos, e);
    if (len == 0) {
      ++pos;
      continue;
    }
    if (pos > gap) out.emplace_back(gap, pos);
    out.emplace_back(pos, pos + len);
    pos += len;
    gap = pos;
  }
  if (e > gap) out.emplace_back(gap, e);
}

// X+ where X is a per-code-point predicate.
template <class Pred>
auto run_of(const Pred& pred) {
  return [pred](size_t pos, size_t e) {
    size_t end = pos;
    while (end < e && pred(end)) ++end;
    return end - pos;
  };
}

// \s?X+  (also " ?X+" when only a plain space may lead)
template <class Lead, class Pred>
auto lead_then_run(const Lead& lead, const Pred& pred) {
  return [lead, pred](size_t pos, size_t e) -> size_t {
    size_t start = pos;
    if (lead(pos) && pos + 1 < e && pred(pos + 1)) start = pos + 1;
    if (!pred(start)) return 0;
    size_t end = start;
    while (end < e && pred(end)) ++end;
    return end - pos;
  };
}

bool in_ranges(uint32_t c, std::initializer_list<std::pair<uint32_t, uint32_t>> ranges) {
  for (const auto& [lo, hi] : ranges) {
    if (c >= lo && c <= hi) return true;
  }
  return false;
}

// DeepSeek LLM's letter class, as its tokenizer.json spells it (ranges of Latin, Greek,
// Cyrillic, Armenian, Georgian, Cherokee, Glagolitic, Coptic, Deseret, ... letters).
constexpr std::string_view kDeepseekLetters =
    "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
    "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
    "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
    "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
    "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE"
    "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC"
    "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
    "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3"
    "\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06"
    "\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3"
    "\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF"
    "\U0001E900-\U0001E943";

std::vector<std::pair<uint32_t, uint32_t>> parse_class(std::string_view spec) {
  const std::vector<uint32_t> c = decode_utf8(spec);
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (size_t i = 0; i < c.size();) {
    if (i + 2 < c.size() && c[i + 1] == '-') {
      ranges.emplace_back(c[i], c[i + 2]);
      i += 3;
    } else {
      ranges.emplace_back(c[i], c[i]);
      ++i;
    }
  }
  return ranges;
}

bool deepseek_letter(uint32_t c) {
  static const auto ranges = parse_class(kDeepseekLetters);  // immutable once built
  return std::any_of(ranges.begin(), ranges.end(), [c](const auto& r) { return c >= r.first && c <= r.second; });
}

using Step = void (*)(const Text&, size_t, size_t, std::vector<Span>&);

void step_gpt2(const Text& t, size_t b, size_t e, std::vector<Span>& out) { split_gpt2(t, b, e, out); }
void step_llama3(const Text& t, size_t b, size_t e, std::vector<Span>& out) { split_llama3(t, b, e, 3, out); }
void step_qwen2(const Text& t, size_t b, size_t e, std::vector<Span>& out) { split_llama3(t, b, e, 1, out); }

// \p{N}
void step_digit(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, [&](size_t pos, size_t) -> size_t { return t.N(pos) ? 1 : 0; });
}
// \p{N}+
void step_digits(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, run_of([&](size_t i) { return t.N(i); }));
}
// [0-9][0-9][0-9]
void step_ascii_triples(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  const auto digit = [&](size_t i) { return t.cpts[i] >= '0' && t.cpts[i] <= '9'; };
  split_matches(b, e, out, [&](size_t pos, size_t end) -> size_t {
    return pos + 2 < end && digit(pos) && digit(pos + 1) && digit(pos + 2) ? 3 : 0;
  });
}
// [\p{P}\$\+<=>\^~\|]+  (the default rules; falcon also lists the backquote)
bool ascii_symbol(uint32_t c, bool backquote) {
  return c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' || c == '|' ||
         (backquote && c == '`');
}
void step_punct_default(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, run_of([&](size_t i) { return t.P(i) || ascii_symbol(t.cpts[i], false); }));
}
void step_punct_falcon(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, run_of([&](size_t i) { return t.P(i) || ascii_symbol(t.cpts[i], true); }));
}
// [\r\n]
void step_newline(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, [&](size_t pos, size_t) -> size_t { return t.cpts[pos] == '\r' || t.cpts[pos] == '\n'; });
}
// \s?\p{L}+  and  \s?\p{P}+
void step_ws_letters(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, lead_then_run([&](size_t i) { return t.S(i); }, [&](size_t i) { return t.L(i); }));
}
void step_ws_punct(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, lead_then_run([&](size_t i) { return t.S(i); }, [&](size_t i) { return t.P(i); }));
}
// [一-龥ࠀ-一가-퟿]+  (whitespace never matches: the reference engine turns it into \v first)
void step_cjk(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, run_of([&](size_t i) {
                  return !t.S(i) && in_ranges(t.cpts[i], {{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}});
                }));
}
void step_deepseek_letters(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  split_matches(b, e, out, lead_then_run([&](size_t i) { return t.S(i); }, [&](size_t i) { return deepseek_letter(t.cpts[i]); }));
}
// \s?[!-/:-~！-／：-～‘-‟　-。]+
void step_deepseek_punct(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  const auto pred = [&](size_t i) {
    return !t.S(i) && in_ranges(t.cpts[i], {{0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
                                            {0x2018, 0x201F}, {0x3000, 0x3002}});
  };
  split_matches(b, e, out, lead_then_run([&](size_t i) { return t.S(i); }, pred));
}
// \s+$ : one search for where the trailing whitespace starts, not one per position.
void step_trailing_ws(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  size_t start = e;
  while (start > b && t.S(start - 1)) --start;
  if (start > b) out.emplace_back(b, start);
  if (e > start) out.emplace_back(start, e);
}
//  ?[^(\s|.,!?…。，、।۔،)]+
void step_bloom(const Text& t, size_t b, size_t e, std::vector<Span>& out) {
  const auto word = [&](size_t i) {
    return !t.S(i) && !in_ranges(t.cpts[i], {{'(', ')'}, {'|', '|'}, {'.', '.'}, {',', ','}, {'!', '!'}, {'?', '?'},
                                             {0x2026, 0x2026}, {0x3002, 0x3002}, {0xFF0C, 0xFF0C}, {0x3001, 0x3001},
                                             {0x0964, 0x0964}, {0x06D4, 0x06D4}, {0x060C, 0x060C}});
  };
  split_matches(b, e, out, lead_then_run([&](size_t i) { return t.cpts[i] == ' '; }, word));
}

std::vector<Step> steps_for(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::kDefault: return {step_punct_default, step_gpt2, step_digits, step_ascii_triples};
    case PreTokenizer::kGpt2: return {step_gpt2};
    case PreTokenizer::kLlama3: return {step_llama3};
    case PreTokenizer::kQwen2: return {step_qwen2};
    case PreTokenizer::kStarcoder: return {step_digit, step_gpt2};
    case PreTokenizer::kDeepseekCoder: return {step_newline, step_ws_letters, step_ws_punct, step_cjk, step_digit};
    case PreTokenizer::kDeepseekLlm:
      return {step_newline, step_deepseek_letters, step_deepseek_punct, step_trailing_ws, step_cjk, step_digits};
    case PreTokenizer::kFalcon: return {step_punct_falcon, step_gpt2, step_ascii_triples};
    case PreTokenizer::kBloom: return {step_bloom};
    case PreTokenizer::kViking: return {step_bloom, step_digit};
  }
  return {step_gpt2};
}

}  // namespace

std::vector<std::string> pre_tokenize(PreTokenizer kind, std::string_view text) {
  Text t;
  t.cpts = decode_utf8(text);
  const size_t n = t.cpts.size();
  t.cats.resize(n);
  t.ws.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t.cats[i] = category(t.cpts[i]);
    t.ws[i] = is_whitespace(t.cpts[i]);
  }
  std::vector<Span> spans;
  if (n > 0) spans.emplace_back(0, n);
  for (Step step : steps_for(kind)) {
    std::vector<Span> next;
    next.reserve(spans.size() * 2);
    for (const auto& [b, e] : spans) step(t, b, e, next);
    spans = std::move(next);
  }
  std::vector<std::string> words;
  words.reserve(spans.size());
  for (const auto& [b, e] : spans) {
    std::string w;
    for (size_t i = b; i < e; ++i) append_utf8(w, t.cpts[i]);
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace hearth::tokenizer
