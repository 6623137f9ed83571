// Text <-> token ids for a loaded Vocab, with llama.cpp's conventions so ids match its output
// exactly: special tokens are cut out of the text first (longest first), the model's BOS/EOS
// flags decide what is added, and SentencePiece text gets its leading space.
// Everything here is a pure function of (vocab, input): safe to call from many threads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

// add_special: BOS/EOS (CLS/SEP for BERT) as the vocabulary asks.
// parse_special: control tokens written in the text (e.g. "<|im_start|>") become their ids;
// user-defined tokens are always recognised.
std::vector<TokenId> tokenize(const Vocab& vocab, std::string_view text, bool add_special = true,
                              bool parse_special = true);

// A chat template's rendering as tokens: control tokens in it are parsed, and BOS is put first
// when the vocabulary wants one and the template did not write it (never twice).
std::vector<TokenId> tokenize_rendered(const Vocab& vocab, std::string_view text);

// The bytes one token stands for. Control and unknown tokens give their text only when
// `special` is set. An id outside the vocabulary gives "". May be partial UTF-8.
std::string token_to_piece(const Vocab& vocab, TokenId id, bool special = true);

struct DetokenizeOptions {
  bool remove_special = false;              // drop a leading BOS / trailing EOS the vocab adds
  bool unparse_special = false;             // render control tokens as their text
  std::optional<bool> clean_spaces;         // default: the vocabulary's own setting
};

// Whole-sequence detokenization as llama.cpp's llama_detokenize: the first piece loses one
// leading space when the vocabulary adds a space prefix (unless a BOS was removed first).
std::string detokenize(const Vocab& vocab, std::span<const TokenId> ids, const DetokenizeOptions& options = {});

// Streaming detokenization for generation: text is released only in whole UTF-8 characters.
// Pieces that split a character (byte tokens, byte-level BPE) are held back until it is
// complete; bytes that can never form a character come out as U+FFFD.
class Detokenizer {
 public:
  // replace_invalid: bytes that can never form UTF-8 become U+FFFD (what JSON APIs need);
  // off, they pass through unchanged, so a terminal gets exactly the model's bytes. Either
  // way a character split across tokens is held back until it is complete.
  explicit Detokenizer(const Vocab& vocab, bool unparse_special = false, bool replace_invalid = true)
      : vocab_(&vocab), unparse_special_(unparse_special), replace_invalid_(replace_invalid) {}
  // The text completed by this token (possibly empty).
  std::string push(TokenId id);
  // Whatever is still held back; an incomplete character at the end becomes U+FFFD
  // (or its raw bytes without replace_invalid).
  std::string flush();
  size_t pending_bytes() const { return pending_.size(); }

 private:
  std::string take_valid(bool final);
  const Vocab* vocab_;
  bool unparse_special_;
  bool replace_invalid_;
  std::string pending_;
};

}  // namespace hearth::tokenizer
