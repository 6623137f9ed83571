#include "rag/store.h"

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "bench/rate_store.h"

namespace hearth::rag {
namespace {

// Version 1 of the layout. chunks_fts is an external-content FTS5 table over chunks, so the
// text is stored once; the triggers keep the index in step inside the same transaction.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  format TEXT NOT NULL,
  n_chunks INTEGER NOT NULL,
  added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ord INTEGER NOT NULL,
  heading TEXT NOT NULL,
  text TEXT NOT NULL,
  n_tokens INTEGER NOT NULL,
  embedding BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ord);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  heading, text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, heading, text) VALUES (new.id, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
END;
)sql";

constexpr int kLayoutVersion = 1;

Status set_pragmas(Database& db) {
  // WAL: readers (a server answering) never block the writer (an ingest) and a killed writer
  // leaves only an uncommitted tail that the next open discards. synchronous=NORMAL keeps
  // every commit across a process crash; only a power cut can lose the last few commits,
  // never consistency.
  return db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

Status put_meta(Database& db, std::string_view key, std::string_view value) {
  Result<Statement> st = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
  if (!st) return st.error();
  return st->bind(1, key).bind(2, value).run();
}

// A document's chunks and then its row (the FTS index follows through the delete trigger).
Status delete_rows(Database& db, int64_t doc_id) {
  for (const char* sql : {"DELETE FROM chunks WHERE doc_id = ?1", "DELETE FROM documents WHERE id = ?1"}) {
    Result<Statement> st = db.prepare(sql);
    if (!st) return st.error();
    if (Status s = st->bind(1, doc_id).run(); !s) return s.error();
  }
  return {};
}

// The columns document_row reads, in its order.
constexpr const char* kDocumentColumns = "SELECT id, path, sha256, bytes, format, n_chunks, added";
DocumentInfo document_row(const Statement& st) {
  return {st.int64(0), st.text(1), st.text(2), st.int64(3), st.text(4), st.int64(5), st.text(6)};
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::filesystem::path default_rag_dir() {
  if (const char* d = std::getenv("HEARTH_RAG_DIR"); d && *d) return d;
  std::filesystem::path state = bench::default_state_dir();
  return state.empty() ? std::filesystem::path("rag") : state / "rag";
}

Status check_collection_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return Error{"collection name must be 1..64 characters"};
  if (name.front() == '.') return Error{"collection name \"" + std::string(name) + "\" must not start with '.'"};
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) {
      return Error{"collection name \"" + std::string(name) + "\": only letters, digits, '_', '-' and '.' are allowed"};
    }
  }
  return {};
}

std::filesystem::path collection_file(const std::filesystem::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".sqlite");
}

std::vector<std::string> list_collections(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".sqlite" && check_collection_name(e.path().stem().string())) {
      names.push_back(e.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status Store::init_schema() {
  if (Status s = set_pragmas(db_); !s) return s;
  return db_.exec(kSchema);
}

Status Store::load_info() {
  Result<Statement> st = db_.prepare("SELECT key, value FROM meta");
  if (!st) return st.error();
  std::unordered_map<std::string, std::string> meta;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    meta[st->text(0)] = st->text(1);
  }
  if (!meta.count("layout")) return Error{db_.file().string() + ": not a hearth collection (no meta.layout)"};
  if (std::atoi(meta["layout"].c_str()) > kLayoutVersion) {
    return Error{db_.file().string() + ": collection layout " + meta["layout"] + " is newer than this hearth (" +
                 std::to_string(kLayoutVersion) + ")"};
  }
  info_.embed_model = meta["embed_model"];
  info_.embed_model_path = meta["embed_model_path"];
  info_.dims = std::atoll(meta["dims"].c_str());
  info_.chat_model_path = meta["chat_model_path"];
  info_.chunk_tokens = std::atoll(meta["chunk_tokens"].c_str());
  info_.overlap_tokens = std::atoll(meta["overlap_tokens"].c_str());
  info_.created = meta["created"];
  if (info_.dims <= 0) return Error{db_.file().string() + ": meta.dims is missing or not positive"};
  return {};
}

Result<Store> Store::open(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return Error{file.string() + ": no such collection"};
  Result<Database> db = Database::open(file, false);
  if (!db) return db.error();
  Store store(std::move(*db));
  // The schema statements are idempotent; running them also recovers the FTS triggers of a
  // file made by hand.
  if (Status s = store.init_schema(); !s) return s.error();
  if (Status s = store.load_info(); !s) return s.error();
  return store;
}

Result<Store> Store::create(const std::filesystem::path& file, const CollectionInfo& info) {
  if (info.dims <= 0) return Error{"collection info: dims must be positive"};
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return Error{file.parent_path().string() + ": cannot create directory: " + ec.message()};
  Result<Database> db = Database::open(file, true);
  if (!db) return db.error();
  Store store(std::move(*db));
  if (Status s = store.init_schema(); !s) return s.error();
  {
    Result<Transaction> tx = Transaction::begin(store.db_);
    if (!tx) return tx.error();
    CollectionInfo i = info;
    if (i.created.empty()) i.created = now_rfc3339();
    const std::pair<const char*, std::string> rows[] = {
        {"layout", std::to_string(kLayoutVersion)},     {"embed_model", i.embed_model},
        {"embed_model_path", i.embed_model_path},       {"dims", std::to_string(i.dims)},
        {"chat_model_path", i.chat_model_path},         {"chunk_tokens", std::to_string(i.chunk_tokens)},
        {"overlap_tokens", std::to_string(i.overlap_tokens)}, {"created", i.created}};
    for (const auto& [k, v] : rows) {
      if (Status s = put_meta(store.db_, k, v); !s) return s.error();
    }
    if (Status s = tx->commit(); !s) return s.error();
  }
  if (Status s = store.load_info(); !s) return s.error();
  return store;
}

Result<std::optional<DocumentInfo>> Store::find_document(std::string_view path) {
  Result<Statement> st =
      db_.prepare(std::string(kDocumentColumns) + " FROM documents WHERE path = ?1");
  if (!st) return st.error();
  st->bind(1, path);
  Result<bool> row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<DocumentInfo>();
  return std::optional<DocumentInfo>(document_row(*st));
}

Result<AddResult> Store::put_document(const DocumentInfo& doc, std::span<const ChunkRecord> chunks) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (static_cast<int64_t>(chunks[i].embedding.size()) != info_.dims) {
      return Error{doc.path + ": chunk " + std::to_string(i) + " has a " + std::to_string(chunks[i].embedding.size()) +
                   "-value embedding, the collection holds " + std::to_string(info_.dims)};
    }
  }
  Result<Transaction> tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  Result<std::optional<DocumentInfo>> old = find_document(doc.path);
  if (!old) return old.error();
  AddResult result = AddResult::kAdded;
  if (*old) {
    if ((*old)->sha256 == doc.sha256) return AddResult::kUnchanged;
    if (Status s = delete_rows(db_, (*old)->id); !s) return s.error();
    result = AddResult::kReplaced;
  }
  Result<Statement> ins = db_.prepare(
      "INSERT INTO documents(path, sha256, bytes, format, n_chunks, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!ins) return ins.error();
  ins->bind(1, doc.path).bind(2, doc.sha256).bind(3, doc.bytes).bind(4, doc.format);
  ins->bind(5, static_cast<int64_t>(chunks.size())).bind(6, doc.added.empty() ? now_rfc3339() : doc.added);
  if (Status s = ins->run(); !s) return s.error();
  const int64_t doc_id = db_.last_insert_rowid();
  Result<Statement> insc = db_.prepare(
      "INSERT INTO chunks(doc_id, ord, heading, text, n_tokens, embedding) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insc) return insc.error();
  for (size_t i = 0; i < chunks.size(); ++i) {
    insc->reset();
    insc->bind(1, doc_id).bind(2, static_cast<int64_t>(i)).bind(3, chunks[i].heading).bind(4, chunks[i].text);
    insc->bind(5, chunks[i].n_tokens).bind_blob(6, std::as_bytes(std::span<const float>(chunks[i].embedding)));
    if (Status s = insc->run(); !s) return s.error();
  }
  if (Status s = tx->commit(); !s) return s.error();
  return result;
}

Result<bool> Store::remove_document(std::string_view path) {
  Result<Transaction> tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  Result<std::optional<DocumentInfo>> old = find_document(path);
  if (!old) return old.error();
  if (!*old) return false;
  if (Status s = delete_rows(db_, (*old)->id); !s) return s.error();
  if (Status s = tx->commit(); !s) return s.error();
  return true;
}

Result<std::vector<DocumentInfo>> Store::documents() {
  Result<Statement> st =
      db_.prepare(std::string(kDocumentColumns) + " FROM documents ORDER BY path");
  if (!st) return st.error();
  std::vector<DocumentInfo> out;
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(document_row(*st));
  }
  return out;
}

Result<int64_t> Store::chunk_count() {
  Result<Statement> st = db_.prepare("SELECT count(*) FROM chunks");
  if (!st) return st.error();
  Result<bool> row = st->step();
  if (!row) return row.error();
  return st->int64(0);
}

Result<VectorIndex> Store::load_vectors() {
  Result<Statement> st = db_.prepare("SELECT id, embedding FROM chunks ORDER BY id");
  if (!st) return st.error();
  VectorIndex index;
  index.dims = info_.dims;
  const size_t bytes = static_cast<size_t>(info_.dims) * sizeof(float);
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    std::span<const std::byte> blob = st->blob(1);
    if (blob.size() != bytes) {
      return Error{db_.file().string() + ": chunk " + std::to_string(st->int64(0)) + " has a " +
                   std::to_string(blob.size()) + "-byte embedding, expected " + std::to_string(bytes)};
    }
    index.chunk_ids.push_back(st->int64(0));
    const size_t at = index.values.size();
    index.values.resize(at + static_cast<size_t>(info_.dims));
    std::memcpy(index.values.data() + at, blob.data(), bytes);
  }
  return index;
}

Result<std::vector<StoredChunk>> Store::chunks_by_id(std::span<const int64_t> ids) {
  Result<Statement> st = db_.prepare(
      "SELECT c.id, c.doc_id, c.ord, d.path, c.heading, c.text, c.n_tokens FROM chunks c "
      "JOIN documents d ON d.id = c.doc_id WHERE c.id = ?1");
  if (!st) return st.error();
  std::vector<StoredChunk> out;
  for (int64_t id : ids) {
    st->reset();
    st->bind(1, id);
    Result<bool> row = st->step();
    if (!row) return row.error();
    if (!*row) continue;  // removed since the caller ranked it
    out.push_back({st->int64(0), st->int64(1), st->int64(2), st->text(3), st->text(4), st->text(5), st->int64(6)});
  }
  return out;
}

Status check_embedding_model(const CollectionInfo& info, std::string_view collection, std::string_view model_name,
                             int64_t dims, std::string_view model_path) {
  if (model_name == info.embed_model && dims == info.dims) return {};
  return Error{"collection \"" + std::string(collection) + "\" holds " + std::to_string(info.dims) + "-dim vectors of \"" +
               info.embed_model + "\"; " + std::string(model_path) + " is \"" + std::string(model_name) + "\" with " +
               std::to_string(dims) + " dims (use that model, or rebuild the collection with this one)"};
}

std::string fts_query(std::string_view text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += " OR ";
    out += '"' + word + '"';
    word.clear();
  };
  for (unsigned char c : text) {
    // Bytes ≥ 0x80 belong to multi-byte letters (é, ß, 中): keep them inside words, as the
    // unicode61 tokenizer does.
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

Result<std::vector<int64_t>> Store::keyword_search(std::string_view query, int64_t limit) {
  const std::string match = fts_query(query);
  std::vector<int64_t> out;
  if (match.empty()) return out;
  Result<Statement> st =
      db_.prepare("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?1 ORDER BY bm25(chunks_fts, 0.5, 1.0) LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, match).bind(2, limit);
  for (;;) {
    Result<bool> row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(st->int64(0));
  }
  return out;
}

Result<CheckReport> Store::check() {
  CheckReport report;
  {
    Result<Statement> st = db_.prepare("PRAGMA integrity_check");
    if (!st) return st.error();
    for (;;) {
      Result<bool> row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      if (std::string line = st->text(0); line != "ok") report.problems.push_back("integrity_check: " + line);
    }
  }
  {
    Result<Statement> st = db_.prepare(
        "SELECT d.path, d.n_chunks, (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id) FROM documents d");
    if (!st) return st.error();
    for (;;) {
      Result<bool> row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      ++report.documents;
      report.chunks += st->int64(2);
      if (st->int64(1) != st->int64(2)) {
        report.problems.push_back(st->text(0) + ": " + std::to_string(st->int64(2)) + " chunks stored, " +
                                  std::to_string(st->int64(1)) + " expected");
      }
    }
  }
  {
    Result<Statement> st = db_.prepare("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)");
    if (!st) return st.error();
    if (Result<bool> row = st->step(); !row) return row.error();
    if (st->int64(0) != 0) report.problems.push_back(std::to_string(st->int64(0)) + " chunks belong to no document");
  }
  // FTS5's own check compares the index against the content table.
  if (Status s = db_.exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)"); !s) {
    report.problems.push_back("fts index: " + s.error().message);
  }
  report.ok = report.problems.empty();
  return report;
}

Result<int64_t> Store::data_version() {
  Result<Statement> st = db_.prepare("PRAGMA data_version");
  if (!st) return st.error();
  if (Result<bool> row = st->step(); !row) return row.error();
  return st->int64(0);
}

}  // namespace hearth::rag
