// The collection store: documents in, whole or not at all; unchanged files are no-ops; changed
// ones replace their chunks; FTS5 stays in step; the model check refuses foreign vectors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "rag/store.h"

namespace hearth::rag {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / ("rag_store_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path f = dir / name;
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(f.string() + s);
  return f;
}

CollectionInfo info(int64_t dims = 4) {
  CollectionInfo i;
  i.embed_model = "test-embedder";
  i.dims = dims;
  i.chunk_tokens = 64;
  i.overlap_tokens = 8;
  return i;
}

ChunkRecord chunk(std::string text, std::vector<float> v) { return {"Heading", std::move(text), 3, std::move(v)}; }

DocumentInfo doc(std::string path, std::string sha) {
  DocumentInfo d;
  d.path = std::move(path);
  d.sha256 = std::move(sha);
  d.bytes = 10;
  d.format = "text";
  return d;
}

TEST(RagStore, CreatesReopensAndKeepsInfo) {
  const auto f = temp_file("info.sqlite");
  {
    Result<Store> s = Store::create(f, info(8));
    ASSERT_TRUE(s) << s.error().message;
  }
  Result<Store> s = Store::open(f);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->info().embed_model, "test-embedder");
  EXPECT_EQ(s->info().dims, 8);
  EXPECT_EQ(s->info().chunk_tokens, 64);
  EXPECT_FALSE(s->info().created.empty());
}

TEST(RagStore, OpenRefusesMissingAndForeignFiles) {
  EXPECT_FALSE(Store::open(temp_file("absent.sqlite")));
  const auto f = temp_file("foreign.sqlite");
  {
    Result<Database> db = Database::open(f, true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE t(x)"));
  }
  Result<Store> s = Store::open(f);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not a hearth collection"), std::string::npos) << s.error().message;
}

TEST(RagStore, AddUnchangedReplaceRemove) {
  Result<Store> s = Store::create(temp_file("crud.sqlite"), info());
  ASSERT_TRUE(s);
  std::vector<ChunkRecord> v1 = {chunk("the boiler pressure is 1.5 bar", {1, 0, 0, 0}),
                                 chunk("bleed the radiators in autumn", {0, 1, 0, 0})};
  Result<AddResult> r = s->put_document(doc("/docs/a.txt", "h1"), v1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, AddResult::kAdded);
  EXPECT_EQ(*s->chunk_count(), 2);

  r = s->put_document(doc("/docs/a.txt", "h1"), std::vector<ChunkRecord>{chunk("ignored", {0, 0, 1, 0})});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, AddResult::kUnchanged);
  EXPECT_EQ(*s->chunk_count(), 2);

  r = s->put_document(doc("/docs/a.txt", "h2"), std::vector<ChunkRecord>{chunk("new boiler text", {0, 0, 1, 0})});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, AddResult::kReplaced);
  EXPECT_EQ(*s->chunk_count(), 1);
  Result<std::vector<int64_t>> kw = s->keyword_search("radiators", 10);
  ASSERT_TRUE(kw);
  EXPECT_TRUE(kw->empty()) << "the replaced chunk's words must leave the keyword index";
  kw = s->keyword_search("boiler", 10);
  ASSERT_TRUE(kw);
  EXPECT_EQ(kw->size(), 1u);

  Result<bool> removed = s->remove_document("/docs/a.txt");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  EXPECT_EQ(*s->chunk_count(), 0);
  EXPECT_FALSE(*s->remove_document("/docs/a.txt"));
  Result<CheckReport> c = s->check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->ok) << (c->problems.empty() ? "" : c->problems[0]);
}

TEST(RagStore, WrongDimensionIsRefusedAndLeavesNothing) {
  Result<Store> s = Store::create(temp_file("dims.sqlite"), info(4));
  ASSERT_TRUE(s);
  std::vector<ChunkRecord> bad = {chunk("fine", {1, 0, 0, 0}), chunk("short vector", {1, 0})};
  Result<AddResult> r = s->put_document(doc("/d.txt", "x"), bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("chunk 1"), std::string::npos) << r.error().message;
  EXPECT_EQ(s->documents()->size(), 0u);
  EXPECT_EQ(*s->chunk_count(), 0);
}

TEST(RagStore, VectorsRoundTripAndChunksComeBackWithTheirDocument) {
  Result<Store> s = Store::create(temp_file("vectors.sqlite"), info(3));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_document(doc("/x.md", "1"), std::vector<ChunkRecord>{chunk("one", {0.25f, -1, 3}),
                                                                          chunk("two", {7, 8, 9})}));
  Result<VectorIndex> index = s->load_vectors();
  ASSERT_TRUE(index);
  ASSERT_EQ(index->chunk_ids.size(), 2u);
  EXPECT_EQ(index->values, (std::vector<float>{0.25f, -1, 3, 7, 8, 9}));
  Result<std::vector<StoredChunk>> c = s->chunks_by_id(index->chunk_ids);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[1].text, "two");
  EXPECT_EQ((*c)[1].path, "/x.md");
  EXPECT_EQ((*c)[1].ord, 1);
  EXPECT_EQ((*c)[0].heading, "Heading");
}

TEST(RagStore, KeywordQueriesAreQuotedSoPunctuationIsNotSyntax) {
  EXPECT_EQ(fts_query("what's E-21 (error)?"), "\"what\" OR \"s\" OR \"E\" OR \"21\" OR \"error\"");
  EXPECT_EQ(fts_query("  ...  "), "");
  EXPECT_EQ(fts_query("Küche"), "\"Küche\"");
  Result<Store> s = Store::create(temp_file("fts.sqlite"), info(1));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_document(doc("/e.txt", "1"), std::vector<ChunkRecord>{chunk("error E21 means the door is open", {1}),
                                                                           chunk("the café opens at nine", {1})}));
  Result<std::vector<int64_t>> kw = s->keyword_search("\"E21\" AND NOT (", 5);
  ASSERT_TRUE(kw) << kw.error().message;
  EXPECT_EQ(kw->size(), 1u);
  kw = s->keyword_search("cafe", 5);  // remove_diacritics: café matches cafe
  ASSERT_TRUE(kw);
  EXPECT_EQ(kw->size(), 1u);
}

TEST(RagStore, CollectionNamesAreSafeFileNames) {
  EXPECT_TRUE(check_collection_name("house-notes_2.v1"));
  EXPECT_FALSE(check_collection_name(""));
  EXPECT_FALSE(check_collection_name("../etc"));
  EXPECT_FALSE(check_collection_name(".hidden"));
  EXPECT_FALSE(check_collection_name("a/b"));
  EXPECT_FALSE(check_collection_name(std::string(65, 'a')));
}

TEST(RagStore, ListsCollections) {
  const auto dir = temp_file("listdir");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(Store::create(collection_file(dir, "b"), info()));
  ASSERT_TRUE(Store::create(collection_file(dir, "a"), info()));
  EXPECT_EQ(list_collections(dir), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace hearth::rag
