// Chunker design: a section's blocks become "units" — byte ranges of one block, each counted once
// and each ≤ max_tokens (a block that fits is one unit; a longer one is cut at sentences, then
// words, then code-point halves; code at lines first). Units are packed greedily by the sum of
// their counts, and each packed chunk is verified with one real count; when the sum was too
// optimistic, a binary search over the number of units finds the largest prefix that fits. The
// counter is a real tokenizer, so the cost stays O(text × log) rather than a count per candidate.
// Units of one block are ranges, so consecutive units are emitted as the block's own bytes
// (original spacing and code indentation kept).
#include "rag/chunker.h"

#include <algorithm>

namespace hearth::rag {
namespace {

constexpr size_t npos = std::string_view::npos;

struct Unit {
  size_t block;  // index into the section's blocks
  size_t begin, end;
  int64_t tokens;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool is_cont(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Half-open [begin, end) ranges of s[from, to) separated by whitespace, or ending after a
// sentence end: [.!?] (plus closing quotes/brackets) before whitespace, CJK 。！？ anywhere, or a
// line break in prose. mode: 0 sentences, 1 lines (code), 2 words.
std::vector<std::pair<size_t, size_t>> pieces(std::string_view s, size_t from, size_t to,
                                              int mode) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t begin = npos;
  auto close = [&](size_t end) {
    if (begin != npos && end > begin) out.emplace_back(begin, end);
    begin = npos;
  };
  for (size_t i = from; i < to; ++i) {
    const char c = s[i];
    if (mode == 1) {
      if (c == '\n') {
        close(i);
      } else if (begin == npos) {
        begin = i;  // lines keep their indentation
      }
      continue;
    }
    if (is_space(c)) {
      if (mode == 2 || c == '\n') {
        close(i);
      } else if (begin != npos) {
        size_t k = i;  // sentence end = punctuation, optionally closed, right before this space
        while (k > begin && std::string_view("\"')]\xE2\x80\x9D\xE2\x80\x99").find(s[k - 1]) != npos) {
          --k;
        }
        if (k > begin && (s[k - 1] == '.' || s[k - 1] == '!' || s[k - 1] == '?')) close(i);
      }
      continue;
    }
    if (begin == npos) begin = i;
    // 。(E3 80 82) ！(EF BC 81) ？(EF BC 9F)
    if (mode == 0 && i + 2 < to &&
        ((c == '\xE3' && s[i + 1] == '\x80' && s[i + 2] == '\x82') ||
         (c == '\xEF' && s[i + 1] == '\xBC' && (s[i + 2] == '\x81' || s[i + 2] == '\x9F')))) {
      i += 2;
      close(i + 1);
    }
  }
  close(to);
  // Trailing whitespace inside a sentence piece is separator, not content.
  for (auto& [b, e] : out) {
    while (e > b && is_space(s[e - 1])) --e;
  }
  std::erase_if(out, [](const auto& p) { return p.second <= p.first; });
  return out;
}

class Packer {
 public:
  Packer(const ChunkOptions& o, const TokenCounter& count) : opt_(o), count_(count) {
    sep_tokens_ = count_("\n\n");
  }

  // Packs one section (its non-heading blocks) into chunks under `heading`.
  void section(const std::vector<const Block*>& blocks, const std::string& heading,
               std::vector<Chunk>& out) {
    blocks_ = &blocks;
    units_.clear();
    for (size_t b = 0; b < blocks.size(); ++b) {
      const std::string& t = blocks[b]->text;
      if (t.find_first_not_of(" \t\n\r\f") == std::string::npos) continue;
      size_t from = 0, to = t.size();
      if (blocks[b]->kind != Block::Kind::kCode) {
        from = t.find_first_not_of(" \t\n\r\f");
        to = t.find_last_not_of(" \t\n\r\f") + 1;
      }
      split(b, from, to, blocks[b]->kind == Block::Kind::kCode ? 1 : 0, -1);
    }
    std::string prev;
    for (size_t i = 0; i < units_.size();) {
      Chunk c;
      c.heading = heading;
      i = pack(i, prev, &c);
      prev = c.text;
      out.push_back(std::move(c));
    }
  }

 private:
  // Appends units covering t[from, to) of block b; `known` is its count when already known.
  void split(size_t b, size_t from, size_t to, int mode, int64_t known) {
    const std::string_view t = (*blocks_)[b]->text;
    const int64_t n = known >= 0 ? known : count_(t.substr(from, to - from));
    if (n <= opt_.max_tokens) {
      units_.push_back(Unit{b, from, to, n});
      return;
    }
    if (mode <= 2) {
      auto parts = pieces(t, from, to, mode);
      if (parts.size() > 1) {
        for (const auto& [pb, pe] : parts) split(b, pb, pe, mode == 2 ? 3 : 2, -1);
        return;
      }
      if (!parts.empty()) {
        from = parts[0].first;
        to = parts[0].second;
      }
      split(b, from, to, mode == 2 ? 3 : 2, mode == 2 ? -1 : n);
      return;
    }
    // One "word" longer than the limit: halve at a code point boundary.
    size_t mid = from + (to - from) / 2;
    while (mid > from && is_cont(t[mid])) --mid;
    if (mid == from) {
      mid = from + 1;
      while (mid < to && is_cont(t[mid])) ++mid;
    }
    if (mid >= to) {  // a single code point over the limit: nothing smaller exists
      units_.push_back(Unit{b, from, to, n});
      return;
    }
    split(b, from, mid, 3, -1);
    split(b, mid, to, 3, -1);
  }

  // Text of units [i, j) after `prefix`: units of one block are its bytes from the first's
  // begin to the last's end; blocks are joined by a blank line.
  std::string build(const std::string& prefix, size_t i, size_t j) const {
    std::string s = prefix;
    for (size_t k = i; k < j; ++k) {
      const Unit& u = units_[k];
      const std::string& t = (*blocks_)[u.block]->text;
      if (k > i && units_[k - 1].block == u.block) {
        s.append(t, units_[k - 1].end, u.end - units_[k - 1].end);
        continue;
      }
      if (!s.empty()) s += joiner(k);
      s.append(t, u.begin, u.end - u.begin);
    }
    return s;
  }

  // What goes before unit k: the block's own separator when k continues the block the previous
  // unit (or the overlap taken from it) came from, else a blank line.
  std::string joiner(size_t k) const {
    if (k > 0 && units_[k - 1].block == units_[k].block) {
      const std::string& t = (*blocks_)[units_[k].block]->text;
      return t.substr(units_[k - 1].end, units_[k].begin - units_[k - 1].end);
    }
    return "\n\n";
  }

  int64_t estimate_join(size_t k) const {
    return k > 0 && units_[k - 1].block == units_[k].block ? 0 : sep_tokens_;
  }

  // Fills *c from unit i on; returns the first unit not taken.
  size_t pack(size_t i, const std::string& prev, Chunk* c) {
    std::string prefix;
    int64_t prefix_tokens = 0;
    if (!prev.empty() && opt_.overlap_tokens > 0) {
      const int64_t budget =
          std::min(opt_.overlap_tokens, opt_.max_tokens - units_[i].tokens - sep_tokens_);
      if (budget > 0) prefix = tail(prev, budget, &prefix_tokens);
    }
    for (;;) {
      int64_t est = prefix_tokens + (prefix.empty() ? 0 : estimate_join(i)) + units_[i].tokens;
      size_t j = i + 1;
      while (j < units_.size() && est + estimate_join(j) + units_[j].tokens <= opt_.max_tokens) {
        est += estimate_join(j) + units_[j].tokens;
        ++j;
      }
      std::string text = build(prefix, i, j);
      int64_t n = count_(text);
      if (n > opt_.max_tokens && j - i > 1) {
        // The sum was optimistic: the largest prefix of [i, j) that fits, by real counts.
        size_t lo = i, hi = j - 1;  // lo: known to fit (i = none), hi: largest candidate
        std::string best;
        int64_t best_n = 0;
        while (lo < hi) {
          const size_t mid = lo + (hi - lo + 1) / 2;
          std::string t = build(prefix, i, mid);
          const int64_t m = count_(t);
          if (m <= opt_.max_tokens) {
            lo = mid;
            best = std::move(t);
            best_n = m;
          } else {
            hi = mid - 1;
          }
        }
        if (lo > i) {
          text = std::move(best);
          n = best_n;
          j = lo;
        } else {
          j = i + 1;
          text = build(prefix, i, j);
          n = count_(text);
        }
      }
      if (n > opt_.max_tokens && !prefix.empty()) {  // the overlap is what does not fit
        prefix.clear();
        prefix_tokens = 0;
        continue;
      }
      c->text = std::move(text);
      c->n_tokens = n;
      return j;
    }
  }

  // The longest suffix of prev starting at a sentence (else word) start, shorter than prev,
  // whose count ≤ budget; counts shrink as the start moves right, so a binary search suffices.
  std::string tail(const std::string& prev, int64_t budget, int64_t* tokens) const {
    for (int mode : {0, 2}) {
      auto parts = pieces(prev, 0, prev.size(), mode);
      if (parts.size() < 2) continue;
      size_t lo = 1, hi = parts.size();  // candidates parts[1..size-1]; hi = none found
      int64_t best_n = 0;
      while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int64_t m = count_(std::string_view(prev).substr(parts[mid].first));
        if (m <= budget) {
          hi = mid;
          best_n = m;
        } else {
          lo = mid + 1;
        }
      }
      if (hi < parts.size()) {
        *tokens = best_n;
        return prev.substr(parts[hi].first);
      }
    }
    *tokens = 0;
    return {};
  }

  ChunkOptions opt_;
  const TokenCounter& count_;
  int64_t sep_tokens_ = 0;
  const std::vector<const Block*>* blocks_ = nullptr;
  std::vector<Unit> units_;
};

}  // namespace

std::vector<Chunk> chunk_blocks(std::span<const Block> blocks, const ChunkOptions& options,
                                const TokenCounter& count) {
  ChunkOptions opt = options;
  opt.max_tokens = std::max<int64_t>(opt.max_tokens, 16);
  opt.overlap_tokens = std::clamp<int64_t>(opt.overlap_tokens, 0, opt.max_tokens / 2 - 1);
  std::vector<Chunk> out;
  if (blocks.empty()) return out;
  Packer packer(opt, count);
  std::vector<std::string> path;  // path[k] = the level-(k+1) heading in force, or empty
  std::vector<const Block*> body;
  auto joined_path = [&] {
    std::string h;
    for (const std::string& p : path) {
      if (p.empty()) continue;
      if (!h.empty()) h += " > ";
      h += p;
    }
    return h;
  };
  // A heading with no body before the next heading at its level or above (or the end) would
  // vanish from every chunk, so it becomes a chunk of its own text.
  const Block* pending_heading = nullptr;
  std::string pending_parent;
  auto close_section = [&](int next_level) {
    if (!body.empty()) {
      packer.section(body, joined_path(), out);
      body.clear();
      pending_heading = nullptr;
    }
    if (pending_heading && next_level <= std::clamp(pending_heading->level, 1, 6)) {
      // Packed like a paragraph, because a setext "heading" can be a whole paragraph long.
      packer.section({pending_heading}, pending_parent, out);
      pending_heading = nullptr;
    }
  };
  for (const Block& b : blocks) {
    if (b.kind != Block::Kind::kHeading) {
      if (b.text.find_first_not_of(" \t\n\r\f") != std::string::npos) body.push_back(&b);
      continue;
    }
    const int level = std::clamp(b.level, 1, 6);
    close_section(level);
    if (b.text.find_first_not_of(" \t\n\r\f") == std::string::npos) continue;
    path.resize(static_cast<size_t>(level - 1));
    pending_parent = joined_path();
    path.push_back(b.text);
    pending_heading = &b;
  }
  close_section(1);
  return out;
}

}  // namespace hearth::rag
