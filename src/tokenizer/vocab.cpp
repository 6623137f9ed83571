#include "tokenizer/vocab.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

constexpr std::string_view kKeyModel = "tokenizer.ggml.model";
constexpr std::string_view kKeyPre = "tokenizer.ggml.pre";
constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kKeyScores = "tokenizer.ggml.scores";
constexpr std::string_view kKeyTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";

// tokenizer.ggml.token_type values (GGUF / llama.cpp's llama_token_type).
constexpr int64_t kTypeUndefined = 0, kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3,
                  kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6;

Error error(std::string_view key, const std::string& what) {
  return Error{fmt::format("{}: {}", key, what)};
}

// Printable form of token text for error messages (it may hold any bytes).
std::string show_text(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xHH>" -> HH, or -1.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

struct PreInfo {
  std::string_view name;
  PreTokenizer kind;
  bool clean_spaces;
  bool ignore_merges;
};

// tokenizer.ggml.pre names and what llama.cpp does with each (clean_up_tokenization_spaces,
// whole-word look-up before merging).
constexpr PreInfo kPreTokenizers[] = {
    {"default", PreTokenizer::kDefault, true, false},
    {"gpt-2", PreTokenizer::kGpt2, true, false},
    {"phi-2", PreTokenizer::kGpt2, true, false},
    {"mpt", PreTokenizer::kGpt2, true, false},
    {"olmo", PreTokenizer::kGpt2, true, false},
    {"jais", PreTokenizer::kGpt2, true, false},
    {"jina-es", PreTokenizer::kGpt2, true, false},
    {"jina-de", PreTokenizer::kGpt2, true, false},
    {"jina-v2-es", PreTokenizer::kGpt2, true, false},
    {"jina-v2-de", PreTokenizer::kGpt2, true, false},
    {"exaone4", PreTokenizer::kGpt2, true, false},
    {"trillion", PreTokenizer::kGpt2, false, false},
    {"llama3", PreTokenizer::kLlama3, true, true},
    {"llama-v3", PreTokenizer::kLlama3, true, true},
    {"llama-bpe", PreTokenizer::kLlama3, true, true},
    {"falcon3", PreTokenizer::kLlama3, true, true},
    {"pixtral", PreTokenizer::kLlama3, true, true},
    {"dbrx", PreTokenizer::kLlama3, true, false},
    {"smaug-bpe", PreTokenizer::kLlama3, true, false},
    {"qwen2", PreTokenizer::kQwen2, false, false},
    {"deepseek-r1-qwen", PreTokenizer::kQwen2, false, false},
    {"megrez", PreTokenizer::kQwen2, true, false},
    {"stablelm2", PreTokenizer::kQwen2, true, false},
    {"starcoder", PreTokenizer::kStarcoder, true, false},
    {"refact", PreTokenizer::kStarcoder, true, false},
    {"command-r", PreTokenizer::kStarcoder, false, false},
    {"smollm", PreTokenizer::kStarcoder, false, false},
    {"codeshell", PreTokenizer::kStarcoder, true, false},
    {"exaone", PreTokenizer::kStarcoder, true, false},
    {"minerva-7b", PreTokenizer::kStarcoder, true, false},
    {"deepseek-coder", PreTokenizer::kDeepseekCoder, false, false},
    {"deepseek-llm", PreTokenizer::kDeepseekLlm, false, false},
    {"falcon", PreTokenizer::kFalcon, true, false},
    {"bloom", PreTokenizer::kBloom, true, false},
    {"gpt3-finnish", PreTokenizer::kBloom, true, false},
    {"poro-chat", PreTokenizer::kBloom, false, false},
    {"viking", PreTokenizer::kViking, false, false},
};

// End-of-turn spellings that mark the end of generation even when the file names no EOT id.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};

}  // namespace

Result<Vocab> Vocab::load(const gguf::File& file) {
  Vocab vocab;
  if (Status s = vocab.load_impl(file); !s) {
    return Error{fmt::format("{}: tokenizer: {}", file.name(), s.error().message)};
  }
  return vocab;
}

TokenId Vocab::find(std::string_view text) const {
  const auto it = by_text_.find(text);
  return it == by_text_.end() ? kNoToken : it->second;
}

bool Vocab::is_eog(TokenId id) const {
  return id != kNoToken && std::find(eog_.begin(), eog_.end(), id) != eog_.end();
}

const Vocab::Merge* Vocab::find_merge(TokenId left, TokenId right) const {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  const auto it = merges_.find(key);
  return it == merges_.end() ? nullptr : &it->second;
}

Status Vocab::load_impl(const gguf::File& file) {
  if (Status s = read_model(file); !s) return s;
  if (Status s = read_tokens(file); !s) return s;
  if (kind_ == VocabKind::kBpe) {
    if (Status s = read_merges(file); !s) return s;
  }
  if (Status s = read_specials(file); !s) return s;
  find_special_tokens(file);
  return {};
}

Status Vocab::read_model(const gguf::File& file) {
  auto model = file.get_string(kKeyModel);
  if (!model) return model.error();
  model_ = *model;
  if (model_ == "llama") {
    kind_ = VocabKind::kSpm;
    bos_ = 1, eos_ = 2, unk_ = 0;
    add_space_prefix_ = true, add_bos_ = true;
  } else if (model_ == "gpt2") {
    kind_ = VocabKind::kBpe;
    bos_ = 11, eos_ = 11;
    clean_spaces_ = true;
  } else if (model_ == "bert") {
    kind_ = VocabKind::kWpm;
    bos_ = 101, unk_ = 100, sep_ = 102, pad_ = 0;
    add_bos_ = true, clean_spaces_ = true;
  } else {
    return error(kKeyModel, fmt::format("unknown tokenizer model {} (supported: llama, gpt2, bert)", show_text(model_)));
  }

  if (const gguf::Value* v = file.find(kKeyPre)) {
    const std::string* s = v->as_string();
    if (s == nullptr) return error(kKeyPre, fmt::format("is {}, expected string", gguf::value_type_name(v->type)));
    pre_name_ = *s;
  }
  if (kind_ == VocabKind::kBpe) {
    const std::string name = pre_name_.empty() ? std::string("default") : pre_name_;
    const auto* it = std::find_if(std::begin(kPreTokenizers), std::end(kPreTokenizers),
                                  [&](const PreInfo& p) { return p.name == name; });
    if (it == std::end(kPreTokenizers)) {
      return error(kKeyPre, fmt::format("unknown pre-tokenizer {}", show_text(name)));
    }
    pre_ = it->kind;
    clean_spaces_ = it->clean_spaces;
    ignore_merges_ = it->ignore_merges;
    if (pre_ == PreTokenizer::kLlama3 && it->ignore_merges) add_bos_ = true;
  }

  for (auto [key, flag] : {std::pair{"tokenizer.ggml.add_space_prefix", &add_space_prefix_},
                           std::pair{"tokenizer.ggml.remove_extra_whitespaces", &remove_extra_whitespaces_}}) {
    if (file.find(key) == nullptr) continue;
    auto b = file.get_bool(key);
    if (!b) return b.error();
    *flag = *b;
  }
  return {};
}

Status Vocab::read_tokens(const gguf::File& file) {
  auto tokens = file.get_array(kKeyTokens);
  if (!tokens) return tokens.error();
  const gguf::Array& list = **tokens;
  if (list.element_type != gguf::ValueType::kString) {
    return error(kKeyTokens, fmt::format("is an array of {}, expected string", gguf::value_type_name(list.element_type)));
  }
  const size_t n = list.items.size();
  if (n == 0) return error(kKeyTokens, "is empty");
  if (n > static_cast<size_t>(std::numeric_limits<TokenId>::max())) return error(kKeyTokens, "has too many tokens");

  // Companion arrays must describe exactly these tokens.
  const auto companion = [&](std::string_view key, std::initializer_list<gguf::ValueType> types,
                             const gguf::Array*& out) -> Status {
    out = nullptr;
    if (file.find(key) == nullptr) return {};
    auto arr = file.get_array(key);
    if (!arr) return arr.error();
    if (std::find(types.begin(), types.end(), (*arr)->element_type) == types.end()) {
      return error(key, fmt::format("is an array of {}, expected {}", gguf::value_type_name((*arr)->element_type),
                                    gguf::value_type_name(*types.begin())));
    }
    if ((*arr)->items.size() != n) {
      return error(key, fmt::format("has {} entries but {} has {}", (*arr)->items.size(), kKeyTokens, n));
    }
    out = *arr;
    return {};
  };
  const gguf::Array* scores = nullptr;
  const gguf::Array* types = nullptr;
  if (Status s = companion(kKeyScores, {gguf::ValueType::kFloat32, gguf::ValueType::kInt32}, scores); !s) return s;
  if (Status s = companion(kKeyTypes, {gguf::ValueType::kInt32}, types); !s) return s;

  tokens_.resize(n);
  byte_values_.assign(n, 0);
  by_text_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& t = tokens_[i];
    const std::string* text = list.items[i].as_string();
    if (text == nullptr) return error(kKeyTokens, fmt::format("[{}] is not a string", i));
    t.text = text->empty() ? fmt::format("[EMPTY_{}]", i) : *text;  // as llama.cpp names them
    if (scores) {
      const auto f = scores->items[i].as_f64();
      if (!f || std::isnan(*f)) return error(kKeyScores, fmt::format("[{}] is not a number", i));
      t.score = static_cast<float>(*f);
    }
    if (types) {
      const auto type = types->items[i].as_i64();
      if (!type) return error(kKeyTypes, fmt::format("[{}] is not an integer", i));
      switch (*type) {
        case kTypeUndefined: t.attr = kAttrUndefined; break;
        case kTypeNormal: t.attr = kAttrNormal; break;
        case kTypeUnknown: t.attr = kAttrUnknown; break;
        case kTypeControl: t.attr = kAttrControl; break;
        case kTypeUserDefined: t.attr = kAttrUserDefined; break;
        case kTypeUnused: t.attr = kAttrUnused; break;
        case kTypeByte: t.attr = kAttrByte; break;
        default:
          return error(kKeyTypes, fmt::format("[{}] = {} is not a known token type (0-6)", i, *type));
      }
    }
    if (t.attr & kAttrByte) {
      const int b = parse_byte_token(t.text);
      if (b < 0 || kind_ == VocabKind::kWpm) {
        return error(kKeyTokens, fmt::format("[{}] = {} has type byte but is not of the form <0xHH>", i, show_text(t.text)));
      }
      byte_values_[i] = static_cast<uint8_t>(b);
    }
    const auto [it, inserted] = by_text_.emplace(t.text, static_cast<TokenId>(i));
    if (!inserted) {
      return error(kKeyTokens, fmt::format("[{}] = {} repeats token {}", i, show_text(t.text), it->second));
    }
    max_token_len_ = std::max(max_token_len_, t.text.size());
  }

  for (int b = 0; b < 256; ++b) {
    TokenId id = kNoToken;
    if (kind_ == VocabKind::kBpe) {
      std::string ch;
      append_utf8(ch, byte_to_gpt2_cpt(static_cast<uint8_t>(b)));
      id = find(ch);
    } else {
      id = find(fmt::format("<0x{:02X}>", b));
      if (id == kNoToken) id = find(std::string(1, static_cast<char>(b)));
    }
    byte_tokens_[b] = id;
  }
  return {};
}

Status Vocab::read_merges(const gguf::File& file) {
  auto merges = file.get_array(kKeyMerges);
  if (!merges) return merges.error();
  const gguf::Array& list = **merges;
  if (list.element_type != gguf::ValueType::kString) {
    return error(kKeyMerges, fmt::format("is an array of {}, expected string", gguf::value_type_name(list.element_type)));
  }
  if (list.items.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) return error(kKeyMerges, "is too long");
  merges_.reserve(list.items.size());
  for (size_t i = 0; i < list.items.size(); ++i) {
    const std::string* m = list.items[i].as_string();
    if (m == nullptr) return error(kKeyMerges, fmt::format("[{}] is not a string", i));
    // The separator is the first space after the first byte (a left part may itself be a space).
    const size_t space = m->size() > 1 ? m->find(' ', 1) : std::string::npos;
    if (space == std::string::npos) return error(kKeyMerges, fmt::format("[{}] = {} is not two tokens separated by a space", i, show_text(*m)));
    const std::string_view left = std::string_view(*m).substr(0, space);
    const std::string_view right = std::string_view(*m).substr(space + 1);
    const TokenId l = find(left), r = find(right);
    if (l == kNoToken || r == kNoToken) {
      return error(kKeyMerges, fmt::format("[{}] = {} names a token that is not in the vocabulary", i, show_text(*m)));
    }
    const TokenId result = find(std::string(left) + std::string(right));
    if (result == kNoToken) {
      return error(kKeyMerges, fmt::format("[{}] = {} makes a token that is not in the vocabulary", i, show_text(*m)));
    }
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
    merges_.emplace(key, Merge{static_cast<int32_t>(i), result});  // a repeated pair keeps its first rank
  }
  return {};
}

Status Vocab::read_specials(const gguf::File& file) {
  const TokenId n = static_cast<TokenId>(tokens_.size());
  // Built-in defaults that do not fit this vocabulary are dropped, as llama.cpp does; ids the
  // file itself states must fit.
  for (TokenId* id : {&bos_, &eos_, &unk_, &sep_, &pad_}) {
    if (*id >= n) *id = kNoToken;
  }
  const std::pair<std::string_view, TokenId*> keys[] = {
      {"tokenizer.ggml.bos_token_id", &bos_},       {"tokenizer.ggml.eos_token_id", &eos_},
      {"tokenizer.ggml.eot_token_id", &eot_},       {"tokenizer.ggml.eom_token_id", &eom_},
      {"tokenizer.ggml.unknown_token_id", &unk_},   {"tokenizer.ggml.seperator_token_id", &sep_},
      {"tokenizer.ggml.padding_token_id", &pad_},   {"tokenizer.ggml.cls_token_id", nullptr},
      {"tokenizer.ggml.mask_token_id", nullptr},
  };
  for (const auto& [key, id] : keys) {
    if (file.find(key) == nullptr) continue;
    auto v = file.get_uint(key);
    if (!v) return v.error();
    if (*v >= static_cast<uint64_t>(n)) {
      return error(key, fmt::format("= {} is past the end of the vocabulary ({} tokens)", *v, n));
    }
    if (id) *id = static_cast<TokenId>(*v);
  }
  for (auto [key, flag] : {std::pair{"tokenizer.ggml.add_bos_token", &add_bos_},
                           std::pair{"tokenizer.ggml.add_eos_token", &add_eos_}}) {
    if (file.find(key) == nullptr) continue;
    auto b = file.get_bool(key);
    if (!b) return b.error();
    *flag = *b;
  }
  if (add_bos_ && bos_ == kNoToken) return error("tokenizer.ggml.add_bos_token", "is true but there is no BOS token");
  if (add_eos_ && eos_ == kNoToken) return error("tokenizer.ggml.add_eos_token", "is true but there is no EOS token");
  if (kind_ == VocabKind::kWpm && sep_ == kNoToken) return error("tokenizer.ggml.seperator_token_id", "is needed by a bert vocabulary");
  if (kind_ == VocabKind::kWpm && bos_ == kNoToken) return error("tokenizer.ggml.bos_token_id", "is needed by a bert vocabulary");
  return {};
}

void Vocab::find_special_tokens(const gguf::File& file) {
  const TokenId n = static_cast<TokenId>(tokens_.size());
  // Files converted without explicit end-of-turn ids still mark the turn end by its text;
  // those tokens become control tokens whatever their stored type (as in llama.cpp).
  for (TokenId id = 0; id < n; ++id) {
    TokenData& t = tokens_[static_cast<size_t>(id)];
    const bool eot_text = std::find(std::begin(kEotTexts), std::end(kEotTexts), t.text) != std::end(kEotTexts);
    if (eot_text || t.text == "<|eom_id|>") {
      if (eot_text && eot_ == kNoToken) eot_ = id;
      if (!eot_text && eom_ == kNoToken) eom_ = id;
      t.attr |= kAttrControl;
      eog_.push_back(id);
    }
  }
  for (TokenId id : {eos_, eot_, eom_}) {
    if (id != kNoToken && !is_eog(id)) eog_.push_back(id);
  }
  std::sort(eog_.begin(), eog_.end());

  for (TokenId id = 0; id < n; ++id) {
    if (tokens_[static_cast<size_t>(id)].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) special_.push_back(id);
  }
  std::stable_sort(special_.begin(), special_.end(), [&](TokenId a, TokenId b) {
    return tokens_[static_cast<size_t>(a)].text.size() > tokens_[static_cast<size_t>(b)].text.size();
  });

  // Phi-3's special tokens swallow the whitespace after them (its tokenizer_config says
  // rstrip), except the three that start or pad a text.
  std::string name;
  if (const gguf::Value* v = file.find("general.name"); v && v->as_string()) name = *v->as_string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (TokenId id : special_) tokens_[static_cast<size_t>(id)].attr |= kAttrRstrip;
    if (TokenId id = find("</s>"); id != kNoToken) tokens_[static_cast<size_t>(id)].attr |= kAttrRstrip;
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (TokenId id = find(text); id != kNoToken) tokens_[static_cast<size_t>(id)].attr &= ~kAttrRstrip;
    }
  }
}

}  // namespace hearth::tokenizer
