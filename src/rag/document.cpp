// Entry point of the document parsers: validation (the store only indexes text, so a NUL byte or
// invalid UTF-8 means "not a text file" and is reported with its offset so the user can look),
// normalisation (BOM, CRLF), plain-text paragraphs, and the helpers Markdown and HTML share.
#include "rag/document.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "rag/document_internal.h"

namespace hearth::rag {
namespace {

// Returns the offset of the first byte that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF included), or npos.
size_t first_invalid_utf8(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// BOM stripped, CRLF and lone CR turned into LF, so the parsers only ever see "\n".
std::string normalize(std::string_view s) {
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; });
}

std::vector<Block> parse_text(std::string_view text) {
  std::vector<Block> out;
  size_t para_begin = std::string_view::npos;
  size_t pos = 0;
  auto flush = [&](size_t end) {
    if (para_begin == std::string_view::npos) return;
    std::string t = detail::collapse_whitespace(text.substr(para_begin, end - para_begin));
    if (!t.empty()) out.push_back(Block{Block::Kind::kParagraph, 0, std::move(t)});
    para_begin = std::string_view::npos;
  };
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (blank(line)) {
      flush(pos);
    } else if (para_begin == std::string_view::npos) {
      para_begin = pos;
    }
    pos = nl + 1;
  }
  flush(text.size());
  return out;
}

struct NamedEntity {
  std::string_view name;
  uint32_t cp;
};

// HTML's names for U+00A0..U+00FF, in code point order.
constexpr std::array<std::string_view, 96> kLatin1Names = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",
    "uml",    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",
    "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",  "para",   "middot",
    "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil",
    "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave", "Iacute", "Icirc",  "Iuml",
    "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",   "times",
    "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",
    "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",
    "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

constexpr NamedEntity kOtherEntities[] = {
    {"amp", '&'},         {"lt", '<'},          {"gt", '>'},          {"quot", '"'},
    {"apos", '\''},       {"hellip", 0x2026},   {"mdash", 0x2014},    {"ndash", 0x2013},
    {"lsquo", 0x2018},    {"rsquo", 0x2019},    {"sbquo", 0x201A},    {"ldquo", 0x201C},
    {"rdquo", 0x201D},    {"bdquo", 0x201E},    {"euro", 0x20AC},     {"trade", 0x2122},
    {"bull", 0x2022},     {"dagger", 0x2020},   {"Dagger", 0x2021},   {"permil", 0x2030},
    {"lsaquo", 0x2039},   {"rsaquo", 0x203A},   {"prime", 0x2032},    {"Prime", 0x2033},
    {"ensp", 0x2002},     {"emsp", 0x2003},     {"thinsp", 0x2009},   {"zwnj", 0x200C},
    {"zwj", 0x200D},      {"lrm", 0x200E},      {"rlm", 0x200F},      {"OElig", 0x152},
    {"oelig", 0x153},     {"Scaron", 0x160},    {"scaron", 0x161},    {"Yuml", 0x178},
    {"fnof", 0x192},      {"circ", 0x2C6},      {"tilde", 0x2DC},     {"larr", 0x2190},
    {"uarr", 0x2191},     {"rarr", 0x2192},     {"darr", 0x2193},     {"harr", 0x2194},
    {"minus", 0x2212},    {"le", 0x2264},       {"ge", 0x2265},       {"ne", 0x2260},
    {"asymp", 0x2248},    {"infin", 0x221E},    {"equiv", 0x2261},    {"sum", 0x2211},
    {"radic", 0x221A},    {"alpha", 0x3B1},     {"beta", 0x3B2},      {"gamma", 0x3B3},
    {"delta", 0x3B4},     {"epsilon", 0x3B5},   {"theta", 0x3B8},     {"lambda", 0x3BB},
    {"mu", 0x3BC},        {"pi", 0x3C0},        {"sigma", 0x3C3},     {"tau", 0x3C4},
    {"phi", 0x3C6},       {"omega", 0x3C9},     {"Delta", 0x394},     {"Sigma", 0x3A3},
    {"Omega", 0x3A9},     {"hearts", 0x2665},   {"check", 0x2713},    {"star", 0x2606},
};

// Browsers read &#128;..&#159; as Windows-1252, because that is what pages meant by them.
constexpr std::array<uint16_t, 32> kCp1252 = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

int64_t lookup_entity(std::string_view name) {
  for (size_t i = 0; i < kLatin1Names.size(); ++i) {
    if (kLatin1Names[i] == name) return static_cast<int64_t>(0xA0 + i);
  }
  for (const auto& e : kOtherEntities) {
    if (e.name == name) return e.cp;
  }
  return -1;
}

}  // namespace

namespace detail {

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false, brk = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
    } else if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      space = true;
      ++i;
    } else if (c == kHardBreak) {
      brk = true;
    } else {
      if (!out.empty()) {
        if (brk) {
          out.push_back('\n');
        } else if (space) {
          out.push_back(' ');
        }
      }
      space = brk = false;
      out.push_back(c);
    }
  }
  return out;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t decode_entity(std::string_view s, std::string& out) {
  if (s.size() < 3 || s[0] != '&') return 0;
  if (s[1] == '#') {
    const bool hex = s[2] == 'x' || s[2] == 'X';
    size_t i = hex ? 3 : 2;
    const size_t digits_begin = i;
    uint64_t v = 0;
    bool overflow = false;
    while (i < s.size() && (hex ? std::isxdigit(static_cast<unsigned char>(s[i]))
                                : std::isdigit(static_cast<unsigned char>(s[i])))) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
      v = v * (hex ? 16 : 10) + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
      if (v > 0x10FFFF) overflow = true, v = 0x110000;  // keep reading the digits, stay bounded
      ++i;
    }
    if (i == digits_begin) return 0;
    if (i < s.size() && s[i] == ';') ++i;  // browsers accept a missing ';' here
    uint32_t cp = overflow ? 0xFFFD : static_cast<uint32_t>(v);
    if (cp == 0) cp = 0xFFFD;
    if (cp >= 0x80 && cp <= 0x9F) cp = kCp1252[cp - 0x80];
    append_utf8(cp, out);
    return i;
  }
  size_t i = 1;
  while (i < s.size() && i <= 32 && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 1 || i >= s.size() || s[i] != ';') return 0;
  const int64_t cp = lookup_entity(s.substr(1, i - 1));
  if (cp < 0) return 0;
  append_utf8(static_cast<uint32_t>(cp), out);
  return i + 1;
}

}  // namespace detail

Format format_from_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".md" || ext == ".markdown" || ext == ".mdown") return Format::kMarkdown;
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return Format::kHtml;
  return Format::kText;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::kMarkdown:
      return "markdown";
    case Format::kHtml:
      return "html";
    case Format::kText:
      break;
  }
  return "text";
}

Result<std::vector<Block>> parse_document(std::string_view bytes, Format format) {
  // Offsets are reported in the caller's bytes, before the BOM is stripped, so `xxd -s` finds them.
  if (size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    return Error{"not a text file: NUL byte at byte " + std::to_string(nul)};
  }
  if (size_t bad = first_invalid_utf8(bytes); bad != std::string_view::npos) {
    return Error{"not a text file: invalid UTF-8 at byte " + std::to_string(bad)};
  }
  const std::string text = normalize(bytes);
  switch (format) {
    case Format::kMarkdown:
      return detail::parse_markdown(text);
    case Format::kHtml:
      return detail::parse_html(text);
    case Format::kText:
      break;
  }
  return parse_text(text);
}

}  // namespace hearth::rag
