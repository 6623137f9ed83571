// SentencePiece-style BPE over scores: start from single UTF-8 characters and keep merging the
// adjacent pair whose concatenation is the highest-scoring token (leftmost on ties); what
// never becomes a token is spelled in byte tokens (<0xHH>).
#include <queue>
#include <string>

#include "tokenizer/encode.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer::detail {
namespace {

struct Symbol {
  size_t start;
  size_t len;  // 0 once merged into its left neighbour
  int prev;
  int next;
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t len;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    // priority_queue pops the greatest: higher score, then the leftmost pair.
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void spm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({offset, len, index - 1, offset + len == text.size() ? -1 : index + 1});
    offset += len;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  const auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t len = symbols[left].len + symbols[right].len;
    const TokenId id = vocab.find(text.substr(symbols[left].start, len));
    if (id == kNoToken) return;
    queue.push({left, right, vocab.token(id).score, len});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // Stale: one side has merged since this pair was queued.
    if (left.len == 0 || right.len == 0 || left.next != bigram.right || left.len + right.len != bigram.len) continue;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].start, symbols[i].len);
    if (const TokenId id = vocab.find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const TokenId id = vocab.byte_token(static_cast<uint8_t>(c));
      if (id != kNoToken) {
        out.push_back(id);
      } else if (vocab.unk() != kNoToken) {
        out.push_back(vocab.unk());
      }
    }
  }
}

}  // namespace hearth::tokenizer::detail
