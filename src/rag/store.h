// One RAG collection = one SQLite database (`<rag dir>/<name>.sqlite`, WAL journal): the
// documents added to it, their chunks with the chunk's embedding, and an FTS5 index over the
// chunk text kept in step by triggers. A document is written in one transaction together with
// the number of chunks it must have, so a process killed mid-ingest leaves either the whole
// document or none of it, and `check()` can prove it.
//
// The collection remembers which embedding model made its vectors (name and dimension) and
// refuses vectors from another: mixing two models' spaces would make similarity meaningless.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rag/sqlite.h"

namespace hearth::rag {

// Where collections live: $HEARTH_RAG_DIR, else <state dir>/rag (bench::default_state_dir()).
std::filesystem::path default_rag_dir();
// Names are 1..64 of [A-Za-z0-9_.-], not starting with '.': they become file names.
Status check_collection_name(std::string_view name);
std::filesystem::path collection_file(const std::filesystem::path& dir, std::string_view name);
// Every collection in `dir`, sorted by name.
std::vector<std::string> list_collections(const std::filesystem::path& dir);

struct CollectionInfo {
  std::string embed_model;       // the embedding model's general.name (or file name)
  std::string embed_model_path;  // where it was when the collection was made (a default)
  int64_t dims = 0;
  std::string chat_model_path;   // whose tokenizer counted the chunk tokens (a default)
  int64_t chunk_tokens = 0, overlap_tokens = 0;
  std::string created;           // RFC 3339
};

struct DocumentInfo {
  int64_t id = 0;
  std::string path;     // absolute
  std::string sha256;   // of the file's bytes
  int64_t bytes = 0;
  std::string format;   // "text" | "markdown" | "html"
  int64_t n_chunks = 0;
  std::string added;    // RFC 3339
};

struct ChunkRecord {
  std::string heading;
  std::string text;
  int64_t n_tokens = 0;
  std::vector<float> embedding;  // dims values
};

struct StoredChunk {
  int64_t id = 0;
  int64_t doc_id = 0;
  int64_t ord = 0;           // position within its document
  std::string path;          // the document's
  std::string heading;
  std::string text;
  int64_t n_tokens = 0;
};

// All vectors of a collection in one row-major matrix, for a scan with SIMD dot products.
struct VectorIndex {
  int64_t dims = 0;
  std::vector<int64_t> chunk_ids;
  std::vector<float> values;  // chunk_ids.size() × dims
};

enum class AddResult { kAdded, kReplaced, kUnchanged };

struct CheckReport {
  bool ok = true;
  std::vector<std::string> problems;  // integrity_check lines, documents with missing chunks
  int64_t documents = 0, chunks = 0;
};

class Store {
 public:
  // Opens an existing collection; `create` makes it (with `info`) when absent. An existing
  // collection whose info differs in model name or dims is opened as is: callers compare.
  static Result<Store> open(const std::filesystem::path& file);
  static Result<Store> create(const std::filesystem::path& file, const CollectionInfo& info);

  const CollectionInfo& info() const { return info_; }
  const std::filesystem::path& file() const { return db_.file(); }

  // The stored document at `path` (absolute), if any.
  Result<std::optional<DocumentInfo>> find_document(std::string_view path);
  // Writes a document and its chunks in one transaction, replacing an older version of the
  // same path; a document whose sha256 is unchanged is left alone (kUnchanged) without
  // touching the chunks. Every embedding must have info().dims values.
  Result<AddResult> put_document(const DocumentInfo& doc, std::span<const ChunkRecord> chunks);
  // Removes a document (by absolute path) and its chunks; false when it was not there.
  Result<bool> remove_document(std::string_view path);
  Result<std::vector<DocumentInfo>> documents();
  Result<int64_t> chunk_count();

  Result<VectorIndex> load_vectors();
  Result<std::vector<StoredChunk>> chunks_by_id(std::span<const int64_t> ids);
  // FTS5 BM25 ranking of `query` (free text: quoted into terms, OR-ed), best first.
  Result<std::vector<int64_t>> keyword_search(std::string_view query, int64_t limit);

  // PRAGMA integrity_check plus: every document holds exactly its recorded chunk count, and
  // the FTS index matches the chunk table.
  Result<CheckReport> check();

  // A value that changes whenever another connection commits (PRAGMA data_version), so a
  // long-lived reader knows when to reload its VectorIndex.
  Result<int64_t> data_version();

 private:
  explicit Store(Database db) : db_(std::move(db)) {}
  Status init_schema();
  Status load_info();
  Database db_;
  CollectionInfo info_;
};

// Whether an embedding model (its name and dimension, loaded from `model_path`) is the one the
// collection's vectors came from; the Error says which model it wants.
Status check_embedding_model(const CollectionInfo& info, std::string_view collection, std::string_view model_name,
                             int64_t dims, std::string_view model_path);

// The FTS5 MATCH expression for free text: each word (letters/digits) becomes a quoted term,
// joined with OR, so punctuation in a user's question cannot be read as query syntax.
std::string fts_query(std::string_view text);

}  // namespace hearth::rag
