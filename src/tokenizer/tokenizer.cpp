#include "tokenizer/tokenizer.h"

#include <cctype>

#include "tokenizer/encode.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

// A stretch of the input: raw text still to be tokenized, or a special token cut out of it.
struct Fragment {
  TokenId id;  // kNoToken for raw text
  size_t offset;
  size_t length;
};

bool ascii_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Cuts every special token out of the raw fragments, longest token first, so the longest
// match wins where tokens overlap (as llama.cpp's tokenizer_st_partition).
std::vector<Fragment> partition(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});
  std::vector<Fragment> next;
  for (TokenId special : vocab.special_tokens()) {
    const TokenData& data = vocab.token(special);
    if (!parse_special && (data.attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string_view needle = data.text;
    bool found_any = false;
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.id != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.offset;
      size_t end = f.offset + f.length;
      while (begin < end) {
        const size_t match = text.substr(0, end).find(needle, begin);
        if (match == std::string_view::npos) break;
        found_any = true;
        size_t left_end = match;
        if (data.attr & kAttrLstrip) {
          while (left_end > begin && ascii_space(text[left_end - 1])) --left_end;
        }
        if (left_end > begin) next.push_back({kNoToken, begin, left_end - begin});
        next.push_back({special, match, needle.size()});
        begin = match + needle.size();
        if (data.attr & kAttrRstrip) {
          while (begin < end && ascii_space(text[begin])) ++begin;
        }
      }
      if (begin < end) next.push_back({kNoToken, begin, end - begin});
    }
    if (found_any) fragments.swap(next);
  }
  return fragments;
}

std::string escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ') {
      out += "\xE2\x96\x81";
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 3) == "\xE2\x96\x81") {
      out += ' ';
      i += 3;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// GPT-2 alphabet back to bytes; a character outside it is passed through as UTF-8.
std::string decode_byte_level(std::string_view text) {
  std::string out;
  size_t offset = 0;
  while (offset < text.size()) {
    const uint32_t cpt = decode_utf8(text, offset);
    const int byte = gpt2_cpt_to_byte(cpt);
    if (byte >= 0) {
      out += static_cast<char>(byte);
    } else {
      append_utf8(out, cpt);
    }
  }
  return out;
}

// llama.cpp's clean_up_tokenization_spaces: " ?" " !" " ." " ," lose the space; a lone
// apostrophe between spaces loses both; " 's" " 'm" " 're" " 've" lose the space.
std::string clean_spaces(std::string text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char x = text[i];
    if (i > 0 && text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') && !out.empty()) out.pop_back();
    out += x;
  }
  text.swap(out);
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const char x = text[i];
    if (i > 0 && x == '\'' && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
      if (!out.empty()) out.pop_back();
      out += x;
      ++i;  // the space after
      continue;
    }
    out += x;
  }
  text.swap(out);
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const char x = text[i];
    if (i > 0 && text[i - 1] == ' ' && x == '\'' && i + 1 < text.size()) {
      const char x1 = text[i + 1];
      const char x2 = i + 2 < text.size() ? text[i + 2] : '\0';
      if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
        if (!out.empty()) out.pop_back();
      }
    }
    out += x;
  }
  return out;
}

}  // namespace

std::vector<TokenId> tokenize(const Vocab& vocab, std::string_view text, bool add_special, bool parse_special) {
  std::vector<TokenId> out;
  const std::vector<Fragment> fragments = partition(vocab, text, parse_special);
  const bool bos = add_special && (vocab.add_bos() || vocab.kind() == VocabKind::kWpm) && vocab.bos() != kNoToken;
  if (bos) out.push_back(vocab.bos());

  bool prev_special = true;  // SentencePiece: text at the start or after a special token gets a space
  for (const Fragment& f : fragments) {
    if (f.id != kNoToken) {
      out.push_back(f.id);
      prev_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.offset, f.length);
    switch (vocab.kind()) {
      case VocabKind::kSpm: {
        std::string prefixed = vocab.add_space_prefix() && prev_special ? " " : "";
        prefixed += raw;
        detail::spm_encode(vocab, escape_spaces(prefixed), out);
        break;
      }
      case VocabKind::kBpe: detail::bpe_encode(vocab, raw, out); break;
      case VocabKind::kWpm: detail::wpm_encode(vocab, raw, out); break;
    }
    prev_special = false;
  }

  if (add_special && vocab.kind() == VocabKind::kWpm) {
    out.push_back(vocab.sep());
  } else if (add_special && vocab.add_eos() && vocab.eos() != kNoToken) {
    out.push_back(vocab.eos());
  }
  return out;
}

std::string token_to_piece(const Vocab& vocab, TokenId id, bool special) {
  if (!vocab.valid(id)) return {};
  const TokenData& t = vocab.token(id);
  if (t.attr & (kAttrUnknown | kAttrControl)) return special ? t.text : std::string();
  if (t.attr & kAttrUserDefined) return t.text;
  if (t.attr & kAttrByte) return std::string(1, static_cast<char>(vocab.byte_value(id)));
  if (t.attr & kAttrNormal) {
    return vocab.kind() == VocabKind::kBpe ? decode_byte_level(t.text) : unescape_spaces(t.text);
  }
  return {};  // unused and undefined tokens have no text
}

std::string detokenize(const Vocab& vocab, std::span<const TokenId> ids, const DetokenizeOptions& options) {
  bool remove_space = vocab.add_space_prefix();
  if (options.remove_special && vocab.add_bos() && !ids.empty() && ids.front() == vocab.bos()) {
    remove_space = false;
    ids = ids.subspan(1);
  }
  if (options.remove_special && vocab.add_eos() && !ids.empty() && ids.back() == vocab.eos()) {
    ids = ids.subspan(0, ids.size() - 1);
  }
  std::string text;
  for (TokenId id : ids) {
    std::string piece = token_to_piece(vocab, id, options.unparse_special);
    if (remove_space && !piece.empty() && piece.front() == ' ') piece.erase(0, 1);
    remove_space = false;
    text += piece;
  }
  if (options.clean_spaces.value_or(vocab.clean_spaces())) text = clean_spaces(std::move(text));
  return text;
}

std::string Detokenizer::push(TokenId id) {
  pending_ += token_to_piece(*vocab_, id, unparse_special_);
  return take_valid(/*final=*/false);
}

std::string Detokenizer::flush() { return take_valid(/*final=*/true); }

std::string Detokenizer::take_valid(bool final) {
  std::string out;
  std::string_view rest = pending_;
  while (!rest.empty()) {
    size_t tail = 0;
    const size_t valid = valid_utf8_prefix(rest, tail);
    out.append(rest.substr(0, valid));
    rest.remove_prefix(valid);
    if (rest.empty()) break;
    if (tail > 0 && !final) break;  // wait for the rest of this character
    // A byte that cannot start or continue a character (or a tail cut off at the end).
    const size_t bad = tail > 0 ? tail : 1;
    if (replace_invalid_)
      append_utf8(out, kReplacementChar);
    else
      out.append(rest.substr(0, bad));
    rest.remove_prefix(bad);
  }
  pending_.assign(rest);
  return out;
}

std::vector<TokenId> tokenize_rendered(const Vocab& vocab, std::string_view text) {
  std::vector<TokenId> ids = tokenize(vocab, text, false, true);
  if (vocab.add_bos() && vocab.valid(vocab.bos()) && (ids.empty() || ids.front() != vocab.bos()))
    ids.insert(ids.begin(), vocab.bos());
  return ids;
}

}  // namespace hearth::tokenizer
