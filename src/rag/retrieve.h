// Retrieval: the chunks nearest a question by embedding similarity (a scan of every stored
// vector with the SIMD dot product) fused with SQLite FTS5's BM25 keyword ranking by
// reciprocal rank fusion. Fusion rewards a chunk both lists rank well without having to make
// cosine similarities and BM25 scores comparable; it also keeps exact terms (an error code, a
// model number) that embeddings of a small model blur.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"
#include "rag/store.h"

namespace hearth::rag {

struct SearchOptions {
  int64_t k = 5;             // hits returned
  int64_t candidates = 50;   // taken from each list before fusing
  double rrf_k = 60;         // score = Σ 1 / (rrf_k + rank), rank from 1 (Cormack et al. 2009)
  bool use_vectors = true;
  bool use_keywords = true;
};

struct SearchHit {
  StoredChunk chunk;
  double score = 0;        // fused
  float similarity = 0;    // cosine with the question (vectors are unit length); 0 if unranked
  int64_t vector_rank = 0, keyword_rank = 0;  // 1-based; 0: not in that list's candidates
};

// The `n` rows of `index` most similar to `query` (unit length), best first: (row, similarity).
std::vector<std::pair<int64_t, float>> nearest(const VectorIndex& index, std::span<const float> query, int64_t n,
                                               const KernelTable& kernels);

// `query_vector` may be empty when use_vectors is false.
Result<std::vector<SearchHit>> search(Store& store, const VectorIndex& index, std::span<const float> query_vector,
                                      std::string_view query_text, const SearchOptions& options,
                                      const KernelTable& kernels);

}  // namespace hearth::rag
