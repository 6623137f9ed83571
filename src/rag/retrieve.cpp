#include "rag/retrieve.h"

#include <algorithm>
#include <unordered_map>

namespace hearth::rag {

std::vector<std::pair<int64_t, float>> nearest(const VectorIndex& index, std::span<const float> query, int64_t n,
                                               const KernelTable& kernels) {
  std::vector<std::pair<int64_t, float>> scored;
  const int64_t rows = static_cast<int64_t>(index.chunk_ids.size());
  if (rows == 0 || static_cast<int64_t>(query.size()) != index.dims) return scored;
  const VecDotFn dot = kernels.of(GgmlType::F32).vec_dot;
  scored.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    scored.emplace_back(r, dot(index.dims, index.values.data() + r * index.dims, query.data()));
  }
  const int64_t keep = std::min(n, rows);
  // Ties broken by row so that equal scores rank the same way on every run.
  auto better = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(), better);
  scored.resize(static_cast<size_t>(keep));
  return scored;
}

Result<std::vector<SearchHit>> search(Store& store, const VectorIndex& index, std::span<const float> query_vector,
                                      std::string_view query_text, const SearchOptions& options,
                                      const KernelTable& kernels) {
  struct Fused {
    double score = 0;
    float similarity = 0;
    int64_t vector_rank = 0, keyword_rank = 0;
  };
  std::unordered_map<int64_t, Fused> fused;
  if (options.use_vectors && !query_vector.empty()) {
    const auto near = nearest(index, query_vector, options.candidates, kernels);
    for (size_t i = 0; i < near.size(); ++i) {
      Fused& f = fused[index.chunk_ids[static_cast<size_t>(near[i].first)]];
      f.vector_rank = static_cast<int64_t>(i) + 1;
      f.similarity = near[i].second;
      f.score += 1.0 / (options.rrf_k + static_cast<double>(f.vector_rank));
    }
  }
  if (options.use_keywords) {
    Result<std::vector<int64_t>> kw = store.keyword_search(query_text, options.candidates);
    if (!kw) return kw.error();
    for (size_t i = 0; i < kw->size(); ++i) {
      Fused& f = fused[(*kw)[i]];
      f.keyword_rank = static_cast<int64_t>(i) + 1;
      f.score += 1.0 / (options.rrf_k + static_cast<double>(f.keyword_rank));
    }
  }
  std::vector<std::pair<int64_t, Fused>> ranked(fused.begin(), fused.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.score != b.second.score ? a.second.score > b.second.score : a.first < b.first;
  });
  if (static_cast<int64_t>(ranked.size()) > options.k) ranked.resize(static_cast<size_t>(options.k));
  std::vector<int64_t> ids;
  for (const auto& r : ranked) ids.push_back(r.first);
  Result<std::vector<StoredChunk>> chunks = store.chunks_by_id(ids);
  if (!chunks) return chunks.error();
  std::unordered_map<int64_t, StoredChunk*> by_id;
  for (StoredChunk& c : *chunks) by_id[c.id] = &c;
  std::vector<SearchHit> hits;
  for (const auto& [id, f] : ranked) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    hits.push_back({std::move(*it->second), f.score, f.similarity, f.vector_rank, f.keyword_rank});
  }
  return hits;
}

}  // namespace hearth::rag
