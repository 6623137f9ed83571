// Byte-level BPE (GPT-2 family): each pre-tokenized word is written in the GPT-2 byte
// alphabet, split into its characters, and the adjacent pair with the lowest merge rank is
// merged until no listed merge applies.
#include <queue>
#include <string>

#include "tokenizer/encode.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer::detail {
namespace {

struct Symbol {
  TokenId id;    // kNoToken for a character the vocabulary lacks (it never merges)
  size_t start;  // in the encoded word
  size_t len;    // 0 once merged into its left neighbour
  int prev;
  int next;
};

struct Bigram {
  int left;
  int right;
  int32_t rank;
  TokenId left_id;
  TokenId right_id;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    // priority_queue pops the greatest: lowest rank, then the leftmost pair.
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

void encode_word(const Vocab& vocab, const std::string& word, std::vector<TokenId>& out) {
  if (vocab.ignore_merges()) {
    if (const TokenId id = vocab.find(word); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < word.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(word[offset])), word.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({vocab.find(std::string_view(word).substr(offset, len)), offset, len, index - 1,
                       offset + len == word.size() ? -1 : index + 1});
    offset += len;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  const auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const TokenId l = symbols[left].id, r = symbols[right].id;
    if (l == kNoToken || r == kNoToken) return;
    if (const Vocab::Merge* m = vocab.find_merge(l, r)) queue.push({left, right, m->rank, l, r});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.len == 0 || right.len == 0 || left.next != bigram.right || left.id != bigram.left_id ||
        right.id != bigram.right_id) {
      continue;  // stale: a side has merged since
    }
    left.id = vocab.find_merge(left.id, right.id)->result;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    if (symbols[i].id != kNoToken) {
      out.push_back(symbols[i].id);
      continue;
    }
    // A character outside the vocabulary: its bytes, where they happen to be tokens.
    for (size_t k = 0; k < symbols[i].len; ++k) {
      const TokenId id = vocab.find(std::string_view(word).substr(symbols[i].start + k, 1));
      if (id != kNoToken) out.push_back(id);
    }
  }
}

}  // namespace

void bpe_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  std::string encoded;
  for (const std::string& word : pre_tokenize(vocab.pre_tokenizer(), text)) {
    encoded.clear();
    for (char c : word) append_utf8(encoded, byte_to_gpt2_cpt(static_cast<uint8_t>(c)));
    encode_word(vocab, encoded, out);
  }
}

}  // namespace hearth::tokenizer::detail
