// A thin RAII layer over the SQLite C API: a connection and prepared statements that close
// themselves, and every failure turned into an Error naming the database file and the SQL.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hearth::rag {

class Statement;

class Database {
 public:
  // Opens (creating when `create`) the file; busy waits up to 5 s for another writer.
  static Result<Database> open(const std::filesystem::path& file, bool create);

  Status exec(std::string_view sql);  // one or more statements, no results
  Result<Statement> prepare(std::string_view sql);
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  int changes() const { return sqlite3_changes(db_.get()); }
  const std::filesystem::path& file() const { return file_; }
  Error error(std::string_view what) const;  // "FILE: WHAT: sqlite's message"
  sqlite3* raw() const { return db_.get(); }

 private:
  struct Close { void operator()(sqlite3* db) const { sqlite3_close_v2(db); } };
  std::unique_ptr<sqlite3, Close> db_;
  std::filesystem::path file_;
};

class Statement {
 public:
  Statement(const Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  Statement& bind(int index, int64_t v);
  Statement& bind(int index, double v);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::span<const std::byte> blob);
  // SQLITE_ROW → true, SQLITE_DONE → false, anything else an Error.
  Result<bool> step();
  Status run();  // step to completion (an INSERT/UPDATE/DELETE)
  void reset();  // ready to bind and step again

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  double real(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  std::string text(int col) const;
  std::span<const std::byte> blob(int col) const;  // valid until the next step/reset

 private:
  struct Finalize { void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); } };
  const Database* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  Status bind_status_;  // the first bind failure, reported by step()
};

// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() succeeded: a
// failure (or an exception) anywhere in between leaves the database as it was.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace hearth::rag
