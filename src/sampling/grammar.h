// Constrained decoding: a context-free grammar over Unicode code points, an incremental matcher
// that consumes UTF-8 bytes, and the per-step token mask that lets the sampler pick only tokens
// whose bytes continue a valid prefix.
//
// Text form (GBNF-like, documented in docs/server.md "Structured output"):
//   root   ::= "{" ws item ("," ws item)* "}"     # first rule is the start unless one is "root"
//   item   ::= [a-z]+ | "\"" [^"\\]* "\"" | ( "x" | "y" )? "z"{2,4}
// Elements: "literal" (escapes \n \r \t \\ \" \xHH \uHHHH \UHHHHHHHH), [class] / [^class]
// with ranges, `.` any code point, rule names, ( groups ), postfix * + ? {m} {m,} {m,n}.
// Comments run from # to the end of the line. Left-recursive rules are refused (they would
// never terminate in a top-down matcher).
//
// Matcher design: the state is a set of parse stacks (a pushdown automaton run on every
// alternative at once). Stacks are persistent linked lists in a node pool, so advancing one
// byte pushes a node or two instead of copying stacks; the token mask walks a byte trie of the
// vocabulary once per step, advancing the state byte by byte and dropping a whole subtree as
// soon as its prefix is dead. After a token is accepted the pool is compacted (and identical
// stacks merged), so its size follows the stack depth, not the length of the output.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace hearth::sampling {

// A set of code points: sorted, merged, inclusive ranges, optionally negated, with a bitmap for
// ASCII (the common case in JSON) so that most tests are one bit.
struct CharSet {
  bool negated = false;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  uint64_t ascii[2] = {0, 0};

  void finalize();  // sorts and merges ranges, fills the ASCII bitmap
  bool contains(uint32_t cp) const;
  // Whether some code point in [lo, hi] is in the set (a partial UTF-8 sequence's range).
  bool intersects(uint32_t lo, uint32_t hi) const;
};

// The compiled grammar: every alternative of every rule is a run of elements ended by kEnd, all
// in one array so that a parse position is a single index. Immutable, shared by the requests
// that use it.
struct Grammar {
  enum class Kind : uint8_t { kEnd, kChars, kRef };
  struct Element {
    Kind kind;
    uint32_t value;  // kChars: index into sets; kRef: rule index
  };
  std::vector<Element> elements;
  std::vector<std::vector<uint32_t>> rule_alts;  // (rules) → start index of each alternative
  std::vector<std::string> rule_names;
  std::vector<CharSet> sets;
  uint32_t root = 0;

  // Parses the text form above. Errors name the line and what was expected.
  static Result<std::shared_ptr<const Grammar>> parse(std::string_view text);
};

// The vocabulary's token bytes as a trie, built once per model and shared read-only. Tokens
// with no bytes (control tokens) are never allowed under a grammar; end-of-generation tokens
// are handled by the caller through GrammarMatcher::complete().
class TokenTrie {
 public:
  explicit TokenTrie(const std::vector<std::string>& pieces);  // pieces[id]
  size_t n_tokens() const { return n_tokens_; }
  size_t n_nodes() const { return nodes_.size(); }

  struct Node {
    uint32_t first_edge = 0;  // edges_[first_edge, first_edge + n_edges)
    uint32_t n_edges = 0;
    uint32_t first_token = 0;  // tokens_[first_token, first_token + n_tokens): ids ending here
    uint32_t n_tokens = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  const Node& node(uint32_t i) const { return nodes_[i]; }
  const Edge& edge(uint32_t i) const { return edges_[i]; }
  int32_t token(uint32_t i) const { return tokens_[i]; }

 private:
  size_t n_tokens_ = 0;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<int32_t> tokens_;
};

// The trie of a vocabulary: every token's bytes as the streaming detokenizer emits them
// (control tokens have none).
TokenTrie make_token_trie(const tokenizer::Vocab& vocab);

// Per-request matcher state. Not thread-safe; cheap to create.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Consumes bytes (any split of UTF-8 sequences across calls). False when they cannot
  // continue the grammar; the state is then unchanged.
  bool accept(std::string_view bytes);
  // The input so far is a whole sentence of the grammar (end of generation allowed here).
  bool complete() const;
  // Some more input can follow.
  bool can_continue() const;
  // allowed[id] = 1 for every token whose bytes keep the input a valid prefix, else 0
  // (resized to the trie's n_tokens). The hot function of constrained sampling.
  void fill_mask(const TokenTrie& trie, std::vector<uint8_t>& allowed);
  // At most kMaxHeads parse states are kept at once. A grammar whose alternatives keep more
  // readings of the same text alive (nested anyOf of look-alike arrays grows them 4^depth)
  // loses the surplus: the output stays valid, every step stays bounded, but the matcher may
  // reach a point where no token fits. overflowed() says that the cap was hit on the accepted
  // input, so the caller can name the cause.
  bool overflowed() const { return overflowed_; }
  static constexpr size_t kMaxHeads = 512;

 private:
  static constexpr int32_t kAccepted = -1;  // a stack that has matched the whole root rule
  struct Node {
    uint32_t pos;    // an element index: kChars on a head, a continuation on an inner node
    int32_t parent;  // -1: bottom of the stack
  };
  struct Utf8 {
    uint32_t cp = 0;   // bits gathered so far
    uint8_t need = 0;  // continuation bytes still to come
    uint8_t len = 0;   // length of the whole sequence
  };

  // One byte: heads `in` with partial character `u` → heads `out`, `u` updated. False: dead.
  bool step(std::span<const int32_t> in, Utf8& u, uint8_t byte, std::vector<int32_t>& out);
  void advance(std::span<const int32_t> in, uint32_t cp, std::vector<int32_t>& out);
  void expand(uint32_t pos, int32_t parent, std::vector<int32_t>& out, int depth);
  int32_t push_node(uint32_t pos, int32_t parent);
  void compact();
  void grow_levels(size_t n);
  void dfs(const TokenTrie& trie, uint32_t node, size_t depth, std::vector<uint8_t>& allowed);

  // The state as bytes: every head's positions down its stack, then the partial character.
  // Two states with the same signature allow exactly the same tokens.
  std::string signature() const;

  std::shared_ptr<const Grammar> g_;
  std::vector<Node> pool_;
  std::vector<int32_t> heads_;
  Utf8 utf8_;
  bool overflowed_ = false;
  // fill_mask scratch, one heads vector and partial character per trie depth.
  std::vector<std::vector<int32_t>> level_heads_;
  std::vector<Utf8> level_utf8_;
  // Masks of states seen before, as bitsets: inside an unbounded string or a repeated array
  // element the state recurs at every step, and a hit costs a copy instead of a trie walk.
  std::unordered_map<std::string, std::vector<uint64_t>> mask_cache_;
};

}  // namespace hearth::sampling
