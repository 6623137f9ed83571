// The three subword algorithms, each turning one stretch of raw text (no special tokens in
// it) into ids appended to `out`. Internal to the tokenizer; callers use tokenizer.h.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer::detail {

// SentencePiece BPE: `text` already has spaces written as U+2581.
void spm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
// Byte-level BPE after the vocabulary's pre-tokenizer.
void bpe_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
// WordPiece (BERT): lower-cased, accents stripped, split at whitespace and punctuation.
void wpm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);

}  // namespace hearth::tokenizer::detail
