// Retrieval: the SIMD scan finds the nearest vectors, and fusion ranks a chunk both lists like
// above one only one list likes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/kernels.h"
#include "rag/retrieve.h"

namespace hearth::rag {
namespace {

std::vector<float> unit(std::vector<float> v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  for (float& x : v) x = float(x / std::sqrt(s));
  return v;
}

TEST(RagRetrieve, NearestMatchesABruteForceScanOnEveryIsa) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  VectorIndex index;
  index.dims = 384;
  for (int r = 0; r < 300; ++r) {
    std::vector<float> v(384);
    for (float& x : v) x = g(rng);
    v = unit(v);
    index.chunk_ids.push_back(r + 10);
    index.values.insert(index.values.end(), v.begin(), v.end());
  }
  std::vector<float> q(384);
  for (float& x : q) x = g(rng);
  q = unit(q);
  std::vector<std::pair<double, int64_t>> expect;
  for (int r = 0; r < 300; ++r) {
    double d = 0;
    for (int j = 0; j < 384; ++j) d += double(index.values[size_t(r * 384 + j)]) * q[size_t(j)];
    expect.emplace_back(-d, r);
  }
  std::sort(expect.begin(), expect.end());
  for (Isa isa : {Isa::kScalar, best_isa()}) {
    const auto near = nearest(index, q, 5, kernel_table(isa));
    ASSERT_EQ(near.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(near[i].first, expect[i].second) << "rank " << i;
      EXPECT_NEAR(near[i].second, -expect[i].first, 1e-4);
    }
  }
  EXPECT_TRUE(nearest(index, std::vector<float>(3), 5, kernel_table(Isa::kScalar)).empty()) << "wrong dims";
}

TEST(RagRetrieve, FusionPrefersAChunkBothListsRank) {
  const std::filesystem::path f =
      std::filesystem::path(testing::TempDir()) / ("rag_retrieve_" + std::to_string(::getpid()) + ".sqlite");
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(f.string() + s);
  CollectionInfo info;
  info.embed_model = "m";
  info.dims = 2;
  Result<Store> s = Store::create(f, info);
  ASSERT_TRUE(s);
  DocumentInfo d;
  d.path = "/d.txt";
  d.sha256 = "1";
  d.format = "text";
  // Chunk 0: closest vector, no keyword. Chunk 1: keyword, far vector. Chunk 2: keyword and a
  // near vector: second in both lists, first after fusion.
  std::vector<ChunkRecord> chunks = {{"", "the garden hose", 3, unit({1, 0.01f})},
                                     {"", "dishwasher filter cleaning", 3, unit({-1, 0})},
                                     {"", "filter of the heat pump", 3, unit({1, 0.3f})}};
  // Vectors between the heat pump's and the dishwasher's, without the keyword: the dishwasher
  // chunk tops the keyword list (shorter, so BM25 likes it) but sits far down the vector list.
  for (int i = 0; i < 10; ++i) chunks.push_back({"", "unrelated note " + std::to_string(i), 3, unit({1, 1.0f + i})});
  ASSERT_TRUE(s->put_document(d, chunks));
  Result<VectorIndex> index = s->load_vectors();
  ASSERT_TRUE(index);
  const std::vector<float> q = unit({1, 0});
  Result<std::vector<SearchHit>> hits = search(*s, *index, q, "filter", {}, kernel_table(Isa::kScalar));
  ASSERT_TRUE(hits) << hits.error().message;
  ASSERT_EQ(hits->size(), 5u);
  EXPECT_EQ((*hits)[0].chunk.text, "filter of the heat pump");
  EXPECT_EQ((*hits)[0].vector_rank, 2);
  EXPECT_EQ((*hits)[0].keyword_rank, 2);
  EXPECT_EQ((*hits)[1].chunk.text, "dishwasher filter cleaning") << "in both lists, however far down";

  SearchOptions vec_only;
  vec_only.use_keywords = false;
  hits = search(*s, *index, q, "filter", vec_only, kernel_table(Isa::kScalar));
  ASSERT_TRUE(hits);
  EXPECT_EQ((*hits)[0].chunk.text, "the garden hose");
  SearchOptions kw_only;
  kw_only.use_vectors = false;
  kw_only.k = 10;
  hits = search(*s, *index, {}, "filter", kw_only, kernel_table(Isa::kScalar));
  ASSERT_TRUE(hits);
  EXPECT_EQ(hits->size(), 2u);
}

}  // namespace
}  // namespace hearth::rag
