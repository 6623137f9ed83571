#include "rag/sqlite.h"

#include <cstring>

namespace hearth::rag {

Result<Database> Database::open(const std::filesystem::path& file, bool create) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  Database db;
  db.db_.reset(raw);  // closed on every path, even a failed open
  db.file_ = file;
  if (rc != SQLITE_OK) {
    return Error{file.string() + ": cannot open: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Error Database::error(std::string_view what) const {
  return Error{file_.string() + ": " + std::string(what) + ": " + sqlite3_errmsg(db_.get())};
}

Status Database::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error e{file_.string() + ": " + (message ? message : "error") + " (in: " + s.substr(0, 80) + ")"};
    sqlite3_free(message);
    return e;
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return error("cannot prepare \"" + std::string(sql.substr(0, 80)) + "\"");
  }
  return Statement(this, stmt);
}

Statement& Statement::bind(int index, int64_t v) {
  if (sqlite3_bind_int64(stmt_.get(), index, v) != SQLITE_OK && bind_status_) bind_status_ = db_->error("bind");
  return *this;
}
Statement& Statement::bind(int index, double v) {
  if (sqlite3_bind_double(stmt_.get(), index, v) != SQLITE_OK && bind_status_) bind_status_ = db_->error("bind");
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK &&
      bind_status_) {
    bind_status_ = db_->error("bind");
  }
  return *this;
}
Statement& Statement::bind_blob(int index, std::span<const std::byte> blob) {
  // A zero-length blob must still bind as a blob, not NULL: sqlite3_bind_blob64 with a null
  // pointer would store NULL, so point at a static byte.
  static const std::byte kEmpty{};
  const void* p = blob.empty() ? &kEmpty : blob.data();
  if (sqlite3_bind_blob64(stmt_.get(), index, p, blob.size(), SQLITE_TRANSIENT) != SQLITE_OK && bind_status_) {
    bind_status_ = db_->error("bind");
  }
  return *this;
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_.error();
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(std::string("step \"") + std::string(sqlite3_sql(stmt_.get())).substr(0, 80) + "\"");
}

Status Statement::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_status_ = {};
}

std::string Statement::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_.get(), col);
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::span<const std::byte> Statement::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return {static_cast<const std::byte*>(p), p ? static_cast<size_t>(n) : 0};
}

Result<Transaction> Transaction::begin(Database& db) {
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s.error();
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  if (!db_) return Error{"transaction already finished"};
  Status s = db_->exec("COMMIT");
  if (s) db_ = nullptr;
  return s;
}

}  // namespace hearth::rag
