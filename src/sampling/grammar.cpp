// See grammar.h: character sets, the token trie, and the matcher (the parser of the text form
// is in grammar_parser.cpp).
#include "sampling/grammar.h"

#include <algorithm>
#include <unordered_map>

#include "tokenizer/tokenizer.h"

namespace hearth::sampling {

// ---- CharSet ---------------------------------------------------------------------------------

void CharSet::finalize() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  ranges = std::move(merged);
  ascii[0] = ascii[1] = 0;
  for (uint32_t c = 0; c < 128; ++c) {
    bool in = false;
    for (const auto& r : ranges) in = in || (c >= r.first && c <= r.second);
    if (in != negated) ascii[c >> 6] |= uint64_t(1) << (c & 63);
  }
}

bool CharSet::contains(uint32_t cp) const {
  if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
  for (const auto& r : ranges)
    if (cp >= r.first && cp <= r.second) return !negated;
  return negated;
}

bool CharSet::intersects(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (const auto& r : ranges)
      if (r.first <= hi && r.second >= lo) return true;
    return false;
  }
  // Negated: empty only when one merged range covers all of [lo, hi].
  for (const auto& r : ranges)
    if (r.first <= lo && r.second >= hi) return false;
  return true;
}

// ---- TokenTrie -------------------------------------------------------------------------------

TokenTrie::TokenTrie(const std::vector<std::string>& pieces) : n_tokens_(pieces.size()) {
  // Build with per-node child maps, then flatten into contiguous edge runs sorted by byte so
  // the walk touches memory in order.
  struct Build {
    std::vector<std::pair<uint8_t, uint32_t>> children;
    std::vector<int32_t> ids;
  };
  std::vector<Build> b(1);
  for (size_t id = 0; id < pieces.size(); ++id) {
    const std::string& p = pieces[id];
    if (p.empty()) continue;
    uint32_t n = 0;
    for (unsigned char c : p) {
      uint32_t next = 0;
      for (const auto& [byte, child] : b[n].children)
        if (byte == c) next = child;
      if (next == 0) {
        next = uint32_t(b.size());
        b[n].children.push_back({c, next});
        b.emplace_back();
      }
      n = next;
    }
    b[n].ids.push_back(int32_t(id));
  }
  nodes_.resize(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    std::sort(b[i].children.begin(), b[i].children.end());
    nodes_[i].first_edge = uint32_t(edges_.size());
    nodes_[i].n_edges = uint32_t(b[i].children.size());
    for (const auto& [byte, child] : b[i].children) edges_.push_back({byte, child});
    nodes_[i].first_token = uint32_t(tokens_.size());
    nodes_[i].n_tokens = uint32_t(b[i].ids.size());
    tokens_.insert(tokens_.end(), b[i].ids.begin(), b[i].ids.end());
  }
}

TokenTrie make_token_trie(const tokenizer::Vocab& vocab) {
  std::vector<std::string> pieces(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id)
    pieces[id] = tokenizer::token_to_piece(vocab, tokenizer::TokenId(id), /*special=*/false);
  return TokenTrie(pieces);
}

// ---- GrammarMatcher --------------------------------------------------------------------------

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : g_(std::move(grammar)) {
  for (uint32_t alt : g_->rule_alts[g_->root]) expand(alt, -1, heads_, 0);
}

int32_t GrammarMatcher::push_node(uint32_t pos, int32_t parent) {
  pool_.push_back({pos, parent});
  return int32_t(pool_.size() - 1);
}

// Brings a parse position to the heads: a character set becomes a head; a rule reference
// pushes its continuation and expands every alternative; the end of an alternative pops.
// Refused left recursion guarantees this terminates; the depth cap is a second fence.
void GrammarMatcher::expand(uint32_t pos, int32_t parent, std::vector<int32_t>& out, int depth) {
  if (depth > 2000) return;
  const Grammar::Element& e = g_->elements[pos];
  switch (e.kind) {
    case Grammar::Kind::kEnd:
      if (parent < 0) {
        if (std::find(out.begin(), out.end(), kAccepted) == out.end()) out.push_back(kAccepted);
      } else {
        const Node p = pool_[size_t(parent)];
        expand(p.pos, p.parent, out, depth + 1);
      }
      return;
    case Grammar::Kind::kChars:
      // The same position over the same stack is the same future: keep one.
      for (int32_t h : out)
        if (h >= 0 && pool_[size_t(h)].pos == pos && pool_[size_t(h)].parent == parent) return;
      if (out.size() >= kMaxHeads) {
        overflowed_ = true;
        return;
      }
      out.push_back(push_node(pos, parent));
      return;
    case Grammar::Kind::kRef: {
      const uint32_t cont = pos + 1;
      // A reference in tail position needs no continuation (keeps `x*` from growing the stack).
      const int32_t p =
          g_->elements[cont].kind == Grammar::Kind::kEnd ? parent : push_node(cont, parent);
      for (uint32_t alt : g_->rule_alts[e.value]) expand(alt, p, out, depth + 1);
      return;
    }
  }
}

void GrammarMatcher::advance(std::span<const int32_t> in, uint32_t cp, std::vector<int32_t>& out) {
  out.clear();
  for (int32_t h : in) {
    if (h < 0) continue;
    const Node n = pool_[size_t(h)];
    if (g_->sets[g_->elements[n.pos].value].contains(cp)) expand(n.pos + 1, n.parent, out, 0);
  }
}

bool GrammarMatcher::step(std::span<const int32_t> in, Utf8& u, uint8_t byte,
                          std::vector<int32_t>& out) {
  if (u.need == 0) {
    if (byte < 0x80) {
      advance(in, byte, out);
      return !out.empty();
    }
    if (byte >= 0xC2 && byte <= 0xDF) {
      u = {uint32_t(byte & 0x1F), 1, 2};
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      u = {uint32_t(byte & 0x0F), 2, 3};
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      u = {uint32_t(byte & 0x07), 3, 4};
    } else {
      return false;  // a continuation byte without a lead, or a byte UTF-8 never uses
    }
  } else {
    if ((byte & 0xC0) != 0x80) return false;
    u.cp = (u.cp << 6) | (byte & 0x3F);
    --u.need;
  }
  if (u.need == 0) {
    const uint32_t cp = u.cp;
    const uint8_t len = u.len;
    u = {};
    // Overlong forms, surrogates and values past U+10FFFF are not characters.
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    advance(in, cp, out);
    return !out.empty();
  }
  // A partial character: keep the heads whose sets hold some character it can still become,
  // so that a lone lead byte is refused where no such character fits.
  const uint32_t lo = u.cp << (6 * u.need);
  const uint32_t hi = lo | ((uint32_t(1) << (6 * u.need)) - 1);
  const uint32_t min_cp = u.len == 2 ? 0x80 : u.len == 3 ? 0x800 : 0x10000;
  const uint32_t a = std::max(lo, min_cp), b = std::min(hi, 0x10FFFFu);
  // Only overlong forms, past U+10FFFF, or only surrogates: no character can come of it, and
  // accepting the byte would leave the state with no way forward.
  if (a > b || (a >= 0xD800 && b <= 0xDFFF)) return false;
  out.clear();
  for (int32_t h : in) {
    if (h < 0) continue;
    if (g_->sets[g_->elements[pool_[size_t(h)].pos].value].intersects(a, b)) out.push_back(h);
  }
  return !out.empty();
}

bool GrammarMatcher::accept(std::string_view bytes) {
  std::vector<int32_t> cur = heads_, next;
  Utf8 u = utf8_;
  const size_t pool_mark = pool_.size();
  for (unsigned char c : bytes) {
    if (!step(cur, u, c, next)) {
      pool_.resize(pool_mark);
      return false;
    }
    cur.swap(next);
  }
  heads_ = std::move(cur);
  utf8_ = u;
  compact();
  return true;
}

bool GrammarMatcher::complete() const {
  return utf8_.need == 0 && std::find(heads_.begin(), heads_.end(), kAccepted) != heads_.end();
}

bool GrammarMatcher::can_continue() const {
  return std::any_of(heads_.begin(), heads_.end(), [](int32_t h) { return h >= 0; });
}

// Copies the stacks the heads reach into a fresh pool, merging identical stacks (same
// positions all the way down), so memory follows the stack depth and equal heads collapse.
void GrammarMatcher::compact() {
  std::vector<Node> fresh;
  std::unordered_map<uint64_t, int32_t> interned;  // (pos, new parent) → new index
  std::unordered_map<int32_t, int32_t> moved;      // old index → new index
  const auto copy = [&](auto& self, int32_t old) -> int32_t {
    if (old < 0) return old;
    if (auto it = moved.find(old); it != moved.end()) return it->second;
    const Node n = pool_[size_t(old)];
    const int32_t parent = self(self, n.parent);
    const uint64_t key = (uint64_t(n.pos) << 32) | uint32_t(parent);
    auto [it, inserted] = interned.emplace(key, int32_t(fresh.size()));
    if (inserted) fresh.push_back({n.pos, parent});
    moved[old] = it->second;
    return it->second;
  };
  std::vector<int32_t> heads;
  for (int32_t h : heads_) {
    const int32_t n = copy(copy, h);
    if (std::find(heads.begin(), heads.end(), n) == heads.end()) heads.push_back(n);
  }
  pool_ = std::move(fresh);
  heads_ = std::move(heads);
}

void GrammarMatcher::grow_levels(size_t n) {
  while (level_heads_.size() < n) level_heads_.emplace_back();
  while (level_utf8_.size() < n) level_utf8_.push_back(Utf8{});
}

void GrammarMatcher::dfs(const TokenTrie& trie, uint32_t node, size_t depth,
                         std::vector<uint8_t>& allowed) {
  grow_levels(depth + 2);
  const TokenTrie::Node& n = trie.node(node);
  for (uint32_t e = n.first_edge; e < n.first_edge + n.n_edges; ++e) {
    const TokenTrie::Edge& edge = trie.edge(e);
    const size_t pool_mark = pool_.size();
    level_utf8_[depth + 1] = level_utf8_[depth];
    // Indexed afresh after each recursion: a deeper call may grow level_heads_.
    if (step(level_heads_[depth], level_utf8_[depth + 1], edge.byte, level_heads_[depth + 1])) {
      const TokenTrie::Node& child = trie.node(edge.child);
      for (uint32_t t = child.first_token; t < child.first_token + child.n_tokens; ++t)
        allowed[size_t(trie.token(t))] = 1;
      if (child.n_edges > 0) dfs(trie, edge.child, depth + 1, allowed);
    }
    pool_.resize(pool_mark);  // the subtree's nodes are scratch
  }
}

std::string GrammarMatcher::signature() const {
  std::string sig;
  const auto put = [&sig](uint32_t v) { sig.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(utf8_.cp);
  put(uint32_t(utf8_.need) | uint32_t(utf8_.len) << 8);
  for (int32_t h : heads_) {
    for (int32_t n = h; n >= 0; n = pool_[size_t(n)].parent) put(pool_[size_t(n)].pos);
    put(h == kAccepted ? 0xFFFFFFFEu : 0xFFFFFFFFu);  // end of one stack
  }
  return sig;
}

void GrammarMatcher::fill_mask(const TokenTrie& trie, std::vector<uint8_t>& allowed) {
  constexpr size_t kCacheEntries = 32;  // bounded memory: 32 bitsets of the vocabulary
  std::string sig = signature();
  if (auto it = mask_cache_.find(sig); it != mask_cache_.end()) {
    allowed.resize(trie.n_tokens());
    for (size_t i = 0; i < allowed.size(); ++i) allowed[i] = (it->second[i >> 6] >> (i & 63)) & 1;
    return;
  }
  allowed.assign(trie.n_tokens(), 0);
  grow_levels(2);
  level_heads_[0] = heads_;
  level_utf8_[0] = utf8_;
  const size_t pool_mark = pool_.size();
  const bool overflowed = overflowed_;  // the walk's speculative steps do not count
  dfs(trie, 0, 0, allowed);
  overflowed_ = overflowed;
  pool_.resize(pool_mark);
  if (mask_cache_.size() >= kCacheEntries) mask_cache_.clear();
  std::vector<uint64_t> bits((allowed.size() + 63) / 64, 0);
  for (size_t i = 0; i < allowed.size(); ++i) bits[i >> 6] |= uint64_t(allowed[i] != 0) << (i & 63);
  mask_cache_.emplace(std::move(sig), std::move(bits));
}

}  // namespace hearth::sampling
