// A tokenizer vocabulary read from GGUF metadata alone (`tokenizer.ggml.*`), validated as the
// untrusted input it is: every array's element type and length, every special-token id, every
// byte token, token type and merge is checked at load, so tokenizing and detokenizing never
// index out of bounds afterwards. One Vocab is immutable once loaded and shared read-only by
// every session (STYLE habit 6); per-call scratch lives in the tokenizer functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "gguf/reader.h"

namespace hearth::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// tokenizer.ggml.model
enum class VocabKind { kSpm, kBpe, kWpm };

// tokenizer.ggml.pre: which splitting rules byte-level BPE applies before merging.
enum class PreTokenizer {
  kDefault,        // "default" on a gpt2 vocab: punctuation runs, GPT-2 rules, digit runs, triples
  kGpt2,           // gpt-2, phi-2, mpt, olmo, jais, ...
  kLlama3,         // llama3/llama-bpe: contractions, letters, digits in 3s, newlines
  kQwen2,          // qwen2, stablelm2: the llama3 rules with single digits
  kStarcoder,      // starcoder, refact, command-r, smollm: single digits, then GPT-2 rules
  kDeepseekCoder,  // newlines, letter runs, punctuation runs, CJK runs, single digits
  kDeepseekLlm,    // newlines, Latin/Greek/Cyrillic-ish letters, punctuation, CJK, digit runs
  kFalcon,         // punctuation runs, GPT-2 rules, digit triples
  kBloom,          // bloom, poro-chat, gpt3-finnish: words up to punctuation
  kViking,         // bloom's rule, then single digits
};

// Bit flags, as llama.cpp's token attributes (derived from tokenizer.ggml.token_type).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 6,  // a special token that eats the whitespace before it
  kAttrRstrip = 1u << 7,  // ... after it
};

struct TokenData {
  std::string text;
  float score = 0.0f;
  uint32_t attr = kAttrNormal;
};

// Heterogeneous string hashing, so look-ups by string_view need no allocation.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Vocab {
 public:
  static Result<Vocab> load(const gguf::File& file);

  VocabKind kind() const { return kind_; }
  PreTokenizer pre_tokenizer() const { return pre_; }
  const std::string& model_name() const { return model_; }  // tokenizer.ggml.model
  const std::string& pre_name() const { return pre_name_; }
  size_t size() const { return tokens_.size(); }
  bool valid(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < tokens_.size(); }
  const TokenData& token(TokenId id) const { return tokens_[static_cast<size_t>(id)]; }
  TokenId find(std::string_view text) const;

  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  TokenId eot() const { return eot_; }
  TokenId eom() const { return eom_; }
  TokenId unk() const { return unk_; }
  TokenId sep() const { return sep_; }
  TokenId pad() const { return pad_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool remove_extra_whitespaces() const { return remove_extra_whitespaces_; }
  bool clean_spaces() const { return clean_spaces_; }
  bool ignore_merges() const { return ignore_merges_; }
  size_t max_token_length() const { return max_token_len_; }
  // End of generation: EOS, EOT, EOM and the end-of-turn tokens found by name.
  bool is_eog(TokenId id) const;
  const std::vector<TokenId>& eog_ids() const { return eog_; }

  // Control, user-defined and unknown tokens, longest text first: the order in which
  // tokenize() cuts them out of raw text.
  const std::vector<TokenId>& special_tokens() const { return special_; }
  // Token for a raw byte: <0xXX> (SPM) or the GPT-2 alphabet character (BPE); kNoToken if absent.
  TokenId byte_token(uint8_t byte) const { return byte_tokens_[byte]; }
  // For byte tokens (attr kAttrByte): the byte they stand for.
  uint8_t byte_value(TokenId id) const { return byte_values_[static_cast<size_t>(id)]; }

  // BPE merge of two adjacent tokens: rank (lower merges first) and the merged token.
  struct Merge {
    int32_t rank;
    TokenId result;
  };
  const Merge* find_merge(TokenId left, TokenId right) const;

 private:
  Vocab() = default;
  Status load_impl(const gguf::File& file);
  Status read_model(const gguf::File& file);
  Status read_tokens(const gguf::File& file);
  Status read_merges(const gguf::File& file);
  Status read_specials(const gguf::File& file);
  void find_special_tokens(const gguf::File& file);

  VocabKind kind_ = VocabKind::kSpm;
  PreTokenizer pre_ = PreTokenizer::kDefault;
  std::string model_;
  std::string pre_name_;
  std::vector<TokenData> tokens_;
  std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>> by_text_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::vector<TokenId> special_;
  std::vector<TokenId> eog_;
  std::vector<TokenId> byte_tokens_ = std::vector<TokenId>(256, kNoToken);
  std::vector<uint8_t> byte_values_;
  size_t max_token_len_ = 0;

  TokenId bos_ = kNoToken, eos_ = kNoToken, eot_ = kNoToken, eom_ = kNoToken;
  TokenId unk_ = kNoToken, sep_ = kNoToken, pad_ = kNoToken;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
  bool remove_extra_whitespaces_ = false, clean_spaces_ = false, ignore_merges_ = false;
};

}  // namespace hearth::tokenizer
