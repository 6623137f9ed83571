// Chunker: limits under two counters (words; bytes/4, which makes long words and CJK split),
// overlap content, heading paths and section breaks, UTF-8 safety, a huge block, and a property
// test over random documents: every input word reaches the output, every chunk fits.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "rag/chunker.h"

namespace hearth::rag {
namespace {

using Kind = Block::Kind;

int64_t count_words(std::string_view s) {
  int64_t n = 0;
  bool in = false;
  for (char c : s) {
    const bool sp = c == ' ' || c == '\n' || c == '\t';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

int64_t count_bytes4(std::string_view s) { return static_cast<int64_t>((s.size() + 3) / 4); }

Block para(std::string t) { return Block{Kind::kParagraph, 0, std::move(t)}; }
Block heading(int level, std::string t) { return Block{Kind::kHeading, level, std::move(t)}; }

std::string words(int from, int n, const char* sep = " ") {
  std::string s;
  for (int i = from; i < from + n; ++i) {
    if (!s.empty()) s += sep;
    s += "w" + std::to_string(i);
  }
  return s;
}

bool valid_utf8_boundaries(const std::string& s) {
  if (!s.empty() && (static_cast<unsigned char>(s[0]) & 0xC0) == 0x80) return false;
  // A lead byte at the end without its continuations means a cut character.
  size_t i = 0;
  while (i < s.size()) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST(Chunker, EmptyInputGivesNoChunks) {
  EXPECT_TRUE(chunk_blocks({}, {}, count_words).empty());
  std::vector<Block> blank = {para(""), para("   \n")};
  EXPECT_TRUE(chunk_blocks(blank, {}, count_words).empty());
}

TEST(Chunker, PacksBlocksUnderTheLimit) {
  std::vector<Block> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(para(words(i * 10, 10)));
  auto chunks = chunk_blocks(blocks, {.max_tokens = 35, .overlap_tokens = 0}, count_words);
  ASSERT_EQ(chunks.size(), 4u);  // 3 blocks of 10 per chunk, then 1
  EXPECT_EQ(chunks[0].text, words(0, 10) + "\n\n" + words(10, 10) + "\n\n" + words(20, 10));
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.n_tokens, count_words(c.text));
    EXPECT_LE(c.n_tokens, 35);
  }
}

TEST(Chunker, HeadingPathsAndSectionBreaks) {
  std::vector<Block> blocks = {heading(1, "Title"), para("intro"),    heading(2, "A"),
                               para("a text"),      heading(3, "A.1"), para("deep"),
                               heading(2, "B"),     para("b text"),    heading(1, "Other"),
                               para("o"),           heading(2, "Empty")};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 100, .overlap_tokens = 10}, count_words);
  ASSERT_EQ(chunks.size(), 6u);
  EXPECT_EQ(chunks[0].heading, "Title");
  EXPECT_EQ(chunks[0].text, "intro");
  EXPECT_EQ(chunks[1].heading, "Title > A");
  EXPECT_EQ(chunks[2].heading, "Title > A > A.1");
  EXPECT_EQ(chunks[3].heading, "Title > B");  // a level-2 heading replaces A and A.1
  EXPECT_EQ(chunks[3].text, "b text");        // and no overlap crosses a section
  EXPECT_EQ(chunks[4].heading, "Other");
  // A heading with nothing under it is kept as its own text rather than lost.
  EXPECT_EQ(chunks[5].heading, "Other");
  EXPECT_EQ(chunks[5].text, "Empty");
}

TEST(Chunker, SplitsLongBlockAtSentencesWithOverlap) {
  std::string text;
  for (int s = 0; s < 12; ++s) text += (s ? " " : "") + words(s * 5, 5) + ".";
  std::vector<Block> blocks = {para(text)};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 20, .overlap_tokens = 6}, count_words);
  ASSERT_GT(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].text.substr(0, 3), "w0 ");
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].n_tokens, 20);
    EXPECT_EQ(chunks[i].text.back(), '.') << "chunks end at sentence ends";
    if (i == 0) continue;
    // The overlap is the previous chunk's last sentence (5 words ≤ 6), verbatim.
    const std::string& prev = chunks[i - 1].text;
    const std::string last = prev.substr(prev.rfind(". ") + 2);
    EXPECT_EQ(chunks[i].text.substr(0, last.size()), last) << i;
  }
}

TEST(Chunker, OverlapFallsBackToWordsAndRespectsTheLimit) {
  // Sentences of 12 words with overlap 4: no whole sentence fits, so the tail is 4 words.
  std::string text = words(0, 12) + ". " + words(12, 12) + ". " + words(24, 12) + ".";
  std::vector<Block> blocks = {para(text)};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 16, .overlap_tokens = 4}, count_words);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].text, "w8 w9 w10 w11. " + words(12, 12) + ".");
  EXPECT_EQ(chunks[2].text, "w20 w21 w22 w23. " + words(24, 12) + ".");
  // A next block of 14 words leaves room for only 2 words of overlap (14 + 2 ≤ 16).
  blocks = {para(words(0, 16)), para(words(100, 14))};
  chunks = chunk_blocks(blocks, {.max_tokens = 16, .overlap_tokens = 4}, count_words);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].text, "w14 w15\n\n" + words(100, 14));
}

TEST(Chunker, OptionsAreClamped) {
  std::vector<Block> blocks = {para(words(0, 100))};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 3, .overlap_tokens = 50}, count_words);
  for (const Chunk& c : chunks) EXPECT_LE(c.n_tokens, 16);  // max raised to 16, overlap to 7
  EXPECT_GE(chunks.size(), 7u);
  chunks = chunk_blocks(blocks, {.max_tokens = 20, .overlap_tokens = -5}, count_words);
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(chunks[1].text, words(20, 20));
}

TEST(Chunker, CodeSplitsAtLinesVerbatim) {
  std::string code;
  for (int i = 0; i < 40; ++i) code += "  line_" + std::to_string(i) + "(x,  y);\n";
  std::vector<Block> blocks = {Block{Kind::kCode, 0, code}};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 32, .overlap_tokens = 0}, count_bytes4);
  ASSERT_GT(chunks.size(), 3u);
  std::string joined;
  for (const Chunk& c : chunks) {
    EXPECT_LE(c.n_tokens, 32);
    EXPECT_EQ(c.text.substr(0, 7), "  line_");  // lines whole, indentation kept
    joined += c.text + "\n";
  }
  EXPECT_EQ(joined, code);
}

TEST(Chunker, NeverSplitsAMultibyteCharacter) {
  // CJK without spaces: sentences at 。, then code points; bytes/4 counts 3-byte characters.
  std::string zh;
  for (int i = 0; i < 300; ++i) zh += i % 50 == 49 ? "\xE3\x80\x82" : "\xE6\x96\x87";
  std::string emoji;
  for (int i = 0; i < 500; ++i) emoji += "\xF0\x9F\x98\x80";
  std::vector<Block> blocks = {para(zh), para(emoji)};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 17, .overlap_tokens = 3}, count_bytes4);
  ASSERT_GT(chunks.size(), 10u);
  size_t emoji_bytes = 0;
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(valid_utf8_boundaries(c.text));
    EXPECT_LE(c.n_tokens, 17);
    if (c.text.find("\xF0\x9F") != std::string::npos) emoji_bytes += c.text.size();
  }
  EXPECT_GE(emoji_bytes, emoji.size());
}

TEST(Chunker, HugeSingleBlockIsLinearInCounts) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "Sentence number " + std::to_string(i) + " is here. ";
  text += std::string(100000, 'x');  // one enormous "word"
  std::vector<Block> blocks = {para(text)};
  int64_t calls = 0;
  TokenCounter counter = [&](std::string_view s) {
    ++calls;
    return count_bytes4(s);
  };
  auto chunks = chunk_blocks(blocks, {.max_tokens = 256, .overlap_tokens = 32}, counter);
  size_t xs = 0;
  for (const Chunk& c : chunks) {
    EXPECT_LE(c.n_tokens, 256);
    EXPECT_EQ(c.n_tokens, count_bytes4(c.text));
    xs += static_cast<size_t>(std::count(c.text.begin(), c.text.end(), 'x'));
  }
  EXPECT_GE(xs, 100000u);
  EXPECT_LT(calls, 20000 + 20 * static_cast<int64_t>(chunks.size()));
}

TEST(Chunker, ConsecutiveSameBlockUnitsKeepOriginalSpacing) {
  std::vector<Block> blocks = {para("One two three.   Four five six! Seven eight? Nine ten.")};
  auto chunks = chunk_blocks(blocks, {.max_tokens = 16, .overlap_tokens = 0}, count_words);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, blocks[0].text);
}

// Property: random documents of headings, paragraphs, lists and code; every word of every block
// appears in some chunk's text or heading, every chunk fits, and chunk order follows the input.
TEST(Chunker, RandomDocumentsLoseNoWord) {
  std::mt19937 rng(20261203);
  int next_word = 0;
  for (int doc = 0; doc < 60; ++doc) {
    std::vector<Block> blocks;
    const int n_blocks = static_cast<int>(rng() % 40);
    for (int b = 0; b < n_blocks; ++b) {
      const unsigned r = rng() % 10;
      if (r == 0) {
        blocks.push_back(heading(1 + static_cast<int>(rng() % 4), "h" + std::to_string(next_word++)));
        continue;
      }
      std::string t;
      const int n = 1 + static_cast<int>(rng() % (r == 9 ? 400 : 60));
      for (int w = 0; w < n; ++w) {
        if (w) t += rng() % 7 == 0 ? ". " : (r == 8 && rng() % 5 == 0 ? "\n  " : " ");
        t += "w" + std::to_string(next_word++);
        if (rng() % 13 == 0) t += "\xC3\xA9\xE4\xB8\xAD";
      }
      blocks.push_back(Block{r == 8 ? Kind::kCode : r == 7 ? Kind::kListItem : Kind::kParagraph, 0, t});
    }
    const int64_t max = 16 + static_cast<int64_t>(rng() % 200);
    const ChunkOptions opt{.max_tokens = max, .overlap_tokens = static_cast<int64_t>(rng() % (max / 2))};
    const bool bytes = doc % 2 == 1;
    auto chunks = chunk_blocks(blocks, opt, bytes ? TokenCounter(count_bytes4) : TokenCounter(count_words));
    std::set<std::string> seen;
    std::vector<int> order;
    auto collect = [&](const std::string& s, bool record) {
      size_t i = 0;
      while ((i = s.find_first_of("wh", i)) != std::string::npos) {
        size_t e = i + 1;
        while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
        if (e > i + 1) {
          seen.insert(s.substr(i, e - i));
          if (record && s[i] == 'w') order.push_back(std::stoi(s.substr(i + 1, e - i - 1)));
        }
        i = e;
      }
    };
    for (const Chunk& c : chunks) {
      EXPECT_LE(c.n_tokens, max);
      EXPECT_EQ(c.n_tokens, bytes ? count_bytes4(c.text) : count_words(c.text));
      EXPECT_TRUE(valid_utf8_boundaries(c.text));
      EXPECT_FALSE(c.text.empty());
      collect(c.text, true);
      collect(c.heading, false);
    }
    for (const Block& b : blocks) {
      std::set<std::string> want;
      size_t i = 0;
      while ((i = b.text.find_first_of("wh", i)) != std::string::npos) {
        size_t e = i + 1;
        while (e < b.text.size() && std::isdigit(static_cast<unsigned char>(b.text[e]))) ++e;
        want.insert(b.text.substr(i, e - i));
        i = e;
      }
      for (const std::string& w : want) {
        // Under bytes/4 a long word can be cut in two; both halves are still present in order.
        if (bytes && w.size() > 8) continue;
        EXPECT_TRUE(seen.count(w)) << "doc " << doc << " lost " << w;
      }
    }
    // Document order: the first word of each chunk never goes backwards by more than an overlap.
    for (size_t k = 1; k < order.size(); ++k) {
      if (order[k] < order[k - 1]) EXPECT_LE(order[k - 1] - order[k], max) << "doc " << doc;
    }
  }
}

}  // namespace
}  // namespace hearth::rag
