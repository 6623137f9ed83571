#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace hearth::tokenizer {

Category category(uint32_t cpt) {
  if (cpt >= 0x110000) return Category::kUndefined;
  const auto* begin = tables::kCategoryRuns;
  const auto* end = begin + tables::kCategoryRunCount;
  const auto* it = std::upper_bound(begin, end, cpt,
                                    [](uint32_t c, const tables::CategoryRun& r) { return c < r.first; });
  return static_cast<Category>((it - 1)->category);
}

bool is_whitespace(uint32_t cpt) {
  return std::binary_search(tables::kWhitespace, tables::kWhitespace + tables::kWhitespaceCount, cpt);
}

uint32_t to_lower(uint32_t cpt) {
  const auto* begin = tables::kLowercase;
  const auto* end = begin + tables::kLowercaseCount;
  const auto* it = std::lower_bound(begin, end, cpt,
                                    [](const tables::CodepointPair& p, uint32_t c) { return p.from < c; });
  return it != end && it->from == cpt ? it->to : cpt;
}

uint32_t nfd_first(uint32_t cpt) {
  const auto* begin = tables::kNfdFirst;
  const auto* end = begin + tables::kNfdFirstCount;
  const auto* it = std::upper_bound(begin, end, cpt,
                                    [](uint32_t c, const tables::NfdRun& r) { return c < r.first; });
  if (it == begin) return cpt;
  --it;
  return cpt <= it->last ? it->base : cpt;
}

size_t utf8_sequence_length(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

uint32_t decode_utf8(std::string_view text, size_t& offset) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t b0 = byte(offset);
  const auto cont = [&](size_t i) { return offset + i < text.size() && (byte(offset + i) & 0xC0) == 0x80; };
  if (b0 < 0x80) {
    offset += 1;
    return b0;
  }
  // The same acceptance rules as llama.cpp's decoder (it does not reject overlong forms or
  // surrogates), so that ids match on any input.
  if ((b0 & 0xE0) == 0xC0 && cont(1)) {
    const uint32_t c = ((b0 & 0x1Fu) << 6) | (byte(offset + 1) & 0x3Fu);
    offset += 2;
    return c;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    const uint32_t c = ((b0 & 0x0Fu) << 12) | ((byte(offset + 1) & 0x3Fu) << 6) | (byte(offset + 2) & 0x3Fu);
    offset += 3;
    return c;
  }
  if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    const uint32_t c = ((b0 & 0x07u) << 18) | ((byte(offset + 1) & 0x3Fu) << 12) |
                       ((byte(offset + 2) & 0x3Fu) << 6) | (byte(offset + 3) & 0x3Fu);
    offset += 4;
    return c;
  }
  offset += 1;
  return kReplacementChar;
}

std::vector<uint32_t> decode_utf8(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) out.push_back(decode_utf8(text, offset));
  return out;
}

void append_utf8(std::string& out, uint32_t cpt) {
  if (cpt <= 0x7F) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    append_utf8(out, kReplacementChar);
  }
}

size_t valid_utf8_prefix(std::string_view bytes, size_t& incomplete_tail) {
  // Strict validation (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF): this is
  // what a terminal or JSON encoder downstream of the detokenizer will insist on.
  incomplete_tail = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    const uint8_t b0 = static_cast<uint8_t>(bytes[i]);
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    size_t k = 1;
    for (; k < n && i + k < bytes.size(); ++k) {
      const uint8_t b = static_cast<uint8_t>(bytes[i + k]);
      const uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) return i;
    }
    if (k < n) {  // ran out of bytes with the sequence still valid so far
      incomplete_tail = bytes.size() - i;
      return i;
    }
    i += n;
  }
  return i;
}

namespace {

struct Gpt2Maps {
  std::array<uint32_t, 256> byte_to_cpt{};
  std::array<int16_t, 324> cpt_to_byte{};  // every mapped code point is below 256 + 68
  Gpt2Maps() {
    cpt_to_byte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space,
    // DEL, NBSP, soft hyphen) are moved to U+0100 onwards, in byte order.
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_cpt[b] = printable ? static_cast<uint32_t>(b) : next++;
      cpt_to_byte[byte_to_cpt[b]] = static_cast<int16_t>(b);
    }
  }
};

const Gpt2Maps& gpt2_maps() {
  static const Gpt2Maps maps;  // immutable after construction
  return maps;
}

}  // namespace

uint32_t byte_to_gpt2_cpt(uint8_t byte) { return gpt2_maps().byte_to_cpt[byte]; }

int gpt2_cpt_to_byte(uint32_t cpt) {
  return cpt < gpt2_maps().cpt_to_byte.size() ? gpt2_maps().cpt_to_byte[cpt] : -1;
}

}  // namespace hearth::tokenizer
