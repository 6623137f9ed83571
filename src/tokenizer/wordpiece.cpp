// WordPiece (BERT): normalise (lower case; a precomposed letter becomes its base letter, as the
// reference does; combining marks in the input stay), split at whitespace and around
// punctuation and CJK ideographs, then cover each word greedily with the longest vocabulary
// entries; word-initial entries carry a U+2581 prefix in GGUF vocabularies. A word that
// cannot be covered becomes the unknown token.
#include <string>

#include "tokenizer/encode.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer::detail {
namespace {

bool is_chinese_char(uint32_t c) {
  // BERT's CJK blocks (its 0x2B920 lower bound, not the Unicode block's 0x2B820, kept).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words(1);
  for (uint32_t cpt : decode_utf8(text)) {
    cpt = nfd_first(cpt);
    if (is_whitespace(cpt)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    const Category cat = category(cpt);
    if (cpt == 0 || cpt == kReplacementChar || cat == Category::kControl) continue;
    std::string s;
    append_utf8(s, to_lower(cpt));
    if (cat == Category::kPunctuation || (cpt < 0x7F && cat == Category::kSymbol) || is_chinese_char(cpt)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void wpm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  for (const std::string& word : split_words(text)) {
    const std::string marked = "\xE2\x96\x81" + word;
    const size_t n = marked.size();
    const size_t before = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool matched = false;
      for (size_t j = std::min(n, i + vocab.max_token_length() + 1); j > i; --j) {
        const TokenId id = vocab.find(std::string_view(marked).substr(i, j - i));
        if (id != kNoToken) {
          out.push_back(id);
          matched = true;
          i = j - 1;
          break;
        }
      }
      if (!matched) {
        out.resize(before);
        break;
      }
    }
    if (out.size() == before && vocab.unk() != kNoToken) out.push_back(vocab.unk());
  }
}

}  // namespace hearth::tokenizer::detail
