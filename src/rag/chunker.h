// Packs a document's blocks into chunks for retrieval: each chunk stays under a token limit
// (counted by the chat model's tokenizer, because chunks are what the prompt budget spends),
// keeps the heading path it sits under, breaks at block boundaries when it can, inside a block
// at sentence then word boundaries when a block alone is too long, and repeats the tail of the
// previous chunk (up to the overlap) so an answer split across a boundary is still found whole.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rag/document.h"

namespace hearth::rag {

using TokenCounter = std::function<int64_t(std::string_view)>;

// Out-of-range options are clamped rather than refused (they come from flags and config, and
// every value has a sensible nearest one): max_tokens below 16 becomes 16, because smaller chunks
// carry too little context to retrieve; overlap_tokens is clamped to [0, max_tokens / 2 - 1], so
// each chunk after the first still brings more new text than repeated text.
struct ChunkOptions {
  int64_t max_tokens = 256;     // per chunk's text (≥ 16)
  int64_t overlap_tokens = 32;  // < max_tokens / 2
};

struct Chunk {
  std::string heading;   // the enclosing headings, "Title > Section > Subsection"; may be empty
  std::string text;      // the chunk's body, blocks separated by "\n\n"
  int64_t n_tokens = 0;  // count(text)
};

// Every non-empty block's text appears in at least one chunk; chunks come in document order.
// Headings are not chunk text: they form the heading path, and a new heading starts a new chunk
// (no chunk spans two sections, no overlap crosses one). A heading with no text under it before
// the next heading at its level or above becomes a chunk of its own text, so it is not lost.
// Every chunk has n_tokens ≤ max_tokens, unless one code point alone counts more.
std::vector<Chunk> chunk_blocks(std::span<const Block> blocks, const ChunkOptions& options,
                                const TokenCounter& count);

}  // namespace hearth::rag
