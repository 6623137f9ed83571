// The grammar engine alone: the text form's parser (and its errors), the matcher on byte
// strings (partial UTF-8 included), and the token mask checked against a brute-force one.
#include "sampling/grammar.h"

#include <gtest/gtest.h>

namespace hearth::sampling {
namespace {

std::shared_ptr<const Grammar> parse(const std::string& text) {
  Result<std::shared_ptr<const Grammar>> g = Grammar::parse(text);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message) << "\n" << text;
  return g.ok() ? *g : nullptr;
}

// Whole sentence of the grammar.
bool matches(const std::shared_ptr<const Grammar>& g, std::string_view input) {
  GrammarMatcher m(g);
  return m.accept(input) && m.complete();
}
// Some continuation could make it a sentence.
bool prefix(const std::shared_ptr<const Grammar>& g, std::string_view input) {
  GrammarMatcher m(g);
  return m.accept(input);
}

TEST(Grammar, LiteralsClassesAlternativesAndGroups) {
  auto g = parse(R"(
    # a comment
    root ::= "ab" [0-9x]+ ( "-" | "+" )? tail
    tail ::= "." | "!"
  )");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "ab1."));
  EXPECT_TRUE(matches(g, "ab0x9-!"));
  EXPECT_FALSE(matches(g, "ab."));     // [0-9x]+ needs one
  EXPECT_FALSE(matches(g, "ab1"));     // tail missing: a prefix, not a sentence
  EXPECT_TRUE(prefix(g, "ab1"));
  EXPECT_FALSE(prefix(g, "ac"));
  EXPECT_FALSE(prefix(g, "ab1.."));    // nothing may follow the end
}

TEST(Grammar, RepetitionCounts) {
  auto g = parse(R"(root ::= "a"{2,4} "b"{3} "c"{1,} "d"{0,1})");
  ASSERT_TRUE(g);
  EXPECT_FALSE(matches(g, "abbbc"));
  EXPECT_TRUE(matches(g, "aabbbc"));
  EXPECT_TRUE(matches(g, "aaaabbbcccd"));
  EXPECT_FALSE(matches(g, "aaaaabbbc"));
  EXPECT_FALSE(matches(g, "aabbc"));
  EXPECT_FALSE(matches(g, "aabbbcdd"));
  auto words = parse(R"(root ::= "xy"{2})");  // a literal repeats as a whole
  EXPECT_TRUE(matches(words, "xyxy"));
  EXPECT_FALSE(matches(words, "xyy"));
}

TEST(Grammar, NegatedClassesAnyAndEscapes) {
  auto g = parse(R"(root ::= "\"" [^"\\\n]* "\"" "\x41\u00e9\t" .)");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "\"hi there\"A\xC3\xA9\t!"));
  EXPECT_TRUE(matches(g, "\"\"A\xC3\xA9\t\xF0\x9F\x98\x80"));  // . is any code point
  EXPECT_FALSE(matches(g, "\"a\nb\"A\xC3\xA9\t!"));
  EXPECT_FALSE(matches(g, "\"a\"A\xC3\xA9\t!!"));
}

TEST(Grammar, PartialUtf8IsAcceptedOnlyWhereACharacterCanFollow) {
  auto g = parse(R"(root ::= "é" [a-z] [^a-z])");
  ASSERT_TRUE(g);
  GrammarMatcher m(g);
  EXPECT_TRUE(m.accept("\xC3"));   // half of é
  EXPECT_FALSE(m.complete());
  EXPECT_FALSE(m.accept("\xA8"));  // è: a whole character, the wrong one; state unchanged
  EXPECT_TRUE(m.accept("\xA9"));
  EXPECT_FALSE(m.accept("\xC3"));  // [a-z] cannot start with a two-byte lead
  EXPECT_TRUE(m.accept("q"));
  EXPECT_TRUE(m.accept("\xE2\x82"));  // the first two bytes of €
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.accept("\xAC"));
  EXPECT_TRUE(m.complete());
  EXPECT_FALSE(m.can_continue());

  auto ascii = parse(R"(root ::= [^a-z]+)");
  GrammarMatcher bad(ascii);
  EXPECT_FALSE(bad.accept("\x80"));          // a continuation byte without a lead
  EXPECT_FALSE(bad.accept("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(bad.accept("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(bad.accept("\xF5"));          // past U+10FFFF
  // Prefixes that no continuation byte can complete are refused at once, or the state
  // would be left with nothing to accept (an empty mask).
  EXPECT_FALSE(bad.accept("\xED\xA0"));      // only surrogates follow
  EXPECT_FALSE(bad.accept("\xF4\x90"));      // only values past U+10FFFF follow
  EXPECT_FALSE(bad.accept("\xE0\x80"));      // only overlong forms follow
  EXPECT_TRUE(bad.accept("\xED\x9F"));       // U+D7C0..U+D7FF are characters
  EXPECT_TRUE(bad.accept("\xBF"));
  EXPECT_TRUE(bad.accept("\xF0\x9F"));
  EXPECT_FALSE(bad.complete());              // a character is still open
}

TEST(Grammar, RecursionAndStartRule) {
  // "root" is the start wherever it is defined; right and middle recursion are fine.
  auto g = parse(R"(
    list ::= "[" ( item ( "," item )* )? "]"
    item ::= [0-9] | list
    root ::= list
  )");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "[]"));
  EXPECT_TRUE(matches(g, "[1,[2,[]],3]"));
  EXPECT_FALSE(matches(g, "[1,]"));
  EXPECT_TRUE(prefix(g, "[[[[[[[[[["));
  auto first = parse("a ::= \"x\" b\nb ::= \"y\"");
  EXPECT_TRUE(matches(first, "xy"));  // no root: the first rule
}

TEST(Grammar, ErrorsNameTheProblem) {
  const std::pair<const char*, const char*> bad[] = {
      {"root ::= foo", "'foo' is used but not defined"},
      {"root ::= root \"a\" | \"b\"", "left-recursive"},
      {"root ::= x \"a\"\nx ::= \"\" | root", "left-recursive"},
      {"root ::= \"abc", "unterminated string"},
      {"root ::= [a-", "unterminated character class"},
      {"root ::= \"a\"{3,2}", "m <= n"},
      {"root ::= \"a\"{99999}", "above"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root \"a\"", "expected '::='"},
      {"root ::= ( \"a\"", "expected ')'"},
      {"root ::= \"a\"\n  ::= \"b\"", "line 2"},
      {"", "no rules"},
  };
  for (const auto& [text, needle] : bad) {
    Result<std::shared_ptr<const Grammar>> g = Grammar::parse(text);
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_NE(g.error().message.find(needle), std::string::npos) << text << " -> " << g.error().message;
  }
}

// The trie walk gives exactly the tokens a brute-force check (accept each piece alone) gives.
void expect_mask_matches_brute_force(const std::shared_ptr<const Grammar>& g,
                                     const std::vector<std::string>& pieces,
                                     const std::string& path) {
  TokenTrie trie(pieces);
  GrammarMatcher m(g);
  std::vector<uint8_t> mask;
  size_t consumed = 0;
  while (consumed <= path.size()) {
    m.fill_mask(trie, mask);
    ASSERT_EQ(mask.size(), pieces.size());
    for (size_t id = 0; id < pieces.size(); ++id) {
      GrammarMatcher copy = m;
      const bool ok = !pieces[id].empty() && copy.accept(pieces[id]);
      EXPECT_EQ(mask[id] != 0, ok) << "after '" << path.substr(0, consumed) << "' token '"
                                   << pieces[id] << "'";
    }
    if (consumed == path.size()) break;
    ASSERT_TRUE(m.accept(path.substr(consumed, 1)));
    ++consumed;
  }
}

TEST(Grammar, TokenMaskEqualsBruteForce) {
  auto g = parse(R"(
    root ::= "{" ws "\"k\"" ws ":" ws ( [0-9]+ | "\"" [^"]* "\"" ) ws "}"
    ws ::= [ \n]{0,2}
  )");
  ASSERT_TRUE(g);
  const std::vector<std::string> pieces = {
      "{",  "}",   "\"",   "\"k",  "\"k\"", ":",    " ",     "  ",    "   ", "\n",  "{\"",
      "1",  "12",  "1}",   "a",    "ab\"",  "\xC3", "\xA9",  "\xC3\xA9", "",  "k",   "\":",
      "\"}", ": 1", "\xE2\x82", "\xAC\"}", "}}", "x\"}",
  };
  expect_mask_matches_brute_force(g, pieces, "{ \"k\": \"ab\xC3\xA9\" }");
  expect_mask_matches_brute_force(g, pieces, "{\"k\":12}");
}

TEST(Grammar, TrieSharesPrefixesAndKeepsDuplicates) {
  TokenTrie t({"ab", "a", "abc", "", "ab"});
  EXPECT_EQ(t.n_tokens(), 5u);
  EXPECT_EQ(t.n_nodes(), 4u);  // root, a, ab, abc
  auto g = parse(R"(root ::= "ab")");
  GrammarMatcher m(g);
  std::vector<uint8_t> mask;
  m.fill_mask(t, mask);
  EXPECT_EQ(mask, (std::vector<uint8_t>{1, 1, 0, 0, 1}));
}

TEST(Grammar, AmbiguousAlternativesStayBounded) {
  // Every 'a' fits two alternatives: identical stacks must merge, or heads would double.
  auto g = parse(R"(root ::= ( "a" | [a-z] )* "!")");
  GrammarMatcher m(g);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(m.accept("a"));
  EXPECT_TRUE(m.accept("!"));
  EXPECT_TRUE(m.complete());
}

}  // namespace
}  // namespace hearth::sampling
