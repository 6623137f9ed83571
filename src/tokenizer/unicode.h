// Unicode helpers for the tokenizers: lenient UTF-8 decoding (as llama.cpp decodes: a bad byte
// becomes U+FFFD and decoding resumes at the next byte), categories from the generated tables,
// and the GPT-2 byte <-> printable code point map that byte-level BPE vocabularies are written in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tokenizer {

enum class Category : uint8_t {
  kUndefined = 0,
  kNumber = 1,
  kLetter = 2,
  kSeparator = 3,
  kMark = 4,
  kPunctuation = 5,
  kSymbol = 6,
  kControl = 7,
};

inline constexpr uint32_t kReplacementChar = 0xFFFD;

Category category(uint32_t cpt);
bool is_whitespace(uint32_t cpt);
inline bool is_letter(uint32_t cpt) { return category(cpt) == Category::kLetter; }
inline bool is_number(uint32_t cpt) { return category(cpt) == Category::kNumber; }
uint32_t to_lower(uint32_t cpt);
// First code point of the canonical decomposition (cpt itself when it has none).
uint32_t nfd_first(uint32_t cpt);

// Number of bytes the UTF-8 sequence starting with `lead` claims (1 for continuation bytes).
size_t utf8_sequence_length(uint8_t lead);
// Decodes the code point at `offset` and advances it; invalid or truncated sequences give
// U+FFFD and advance by one byte.
uint32_t decode_utf8(std::string_view text, size_t& offset);
std::vector<uint32_t> decode_utf8(std::string_view text);
void append_utf8(std::string& out, uint32_t cpt);
// Length of the longest prefix of `bytes` that is complete, valid UTF-8... except that an
// incomplete but so-far-valid sequence at the very end is reported in `incomplete_tail`.
size_t valid_utf8_prefix(std::string_view bytes, size_t& incomplete_tail);

// GPT-2's byte-level alphabet: each byte maps to one printable code point.
uint32_t byte_to_gpt2_cpt(uint8_t byte);
// The byte a GPT-2 code point stands for, or -1 when the code point is not in the alphabet.
int gpt2_cpt_to_byte(uint32_t cpt);

}  // namespace hearth::tokenizer
