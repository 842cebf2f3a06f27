// A thin RAII layer over the sqlite3 C API: a connection, prepared statements with typed bind/column
// helpers, and errors as exceptions carrying SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace cpmgw::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // the extended result code

 private:
  int code_;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based like sqlite3_bind_*. Text and blobs are copied (SQLITE_TRANSIENT) so the
  // caller's buffers need not outlive the statement.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bindBlob(int index, std::string_view bytes);
  Statement& bindNull(int index);

  // Runs one step: true when a row is available, false when done. Throws SqliteError otherwise.
  bool step();
  // Steps to completion, expecting no rows (INSERT/UPDATE/DDL).
  void run();
  // Makes the statement ready for new bindings.
  void reset();

  bool isNull(int column) const;
  std::int64_t columnInt(int column) const;
  std::string columnText(int column) const;  // NULL reads as empty
  std::string columnBlob(int column) const;  // NULL reads as empty

  sqlite3_stmt* handle() const { return stmt_; }

 private:
  void check(int rc, const char* what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement in use: reset on destruction so it never holds a read snapshot or a lock open.
class StatementUse {
 public:
  explicit StatementUse(Statement& stmt) : stmt_(&stmt) {}
  StatementUse(StatementUse&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  StatementUse& operator=(StatementUse&&) = delete;
  ~StatementUse() {
    if (stmt_) stmt_->reset();
  }
  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  Statement* stmt_;
};

class Database {
 public:
  // flags: SQLITE_OPEN_* (the no-mutex flag is added: a Database is used by one thread at a time); vfs:
  // the name of a registered VFS, or null for the default one.
  Database(const std::string& path, int flags, const char* vfs = nullptr);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows the caller needs.
  void exec(const std::string& sql);
  // A fresh statement, finalised by its destructor.
  Statement prepare(std::string_view sql);
  // A statement prepared once per connection and kept (hot paths); reset again when the use ends.
  StatementUse cached(const std::string& sql);
  // The first column of the first row of a query as an integer / text (pragmas, counts).
  std::int64_t queryInt(const std::string& sql);
  std::string queryText(const std::string& sql);

  void setBusyTimeout(int ms);
  int changes() const { return sqlite3_changes(db_); }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// Runs BEGIN on construction and ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db, const char* begin = "BEGIN");
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

// Why an existing file at `path` cannot be opened as a SQLite database without harm ("" when it can, or
// when there is no file yet). Checked before SQLite touches it, so a wrong file is never overwritten.
std::string existingFileProblem(const std::string& path);

// One step of a database file's schema. PRAGMA user_version holds the version of the last step applied,
// PRAGMA application_id marks the file as the kind of cpmgw file it is.
struct Migration {
  int version;                        // user_version after this step; steps are numbered 1, 2, 3, ...
  const char* description;            // for error messages
  const char* sql;                    // run first, when not null
  void (*code)(Database&) = nullptr;  // then this, for a step SQL alone cannot express
};

// Why an open database cannot be used as a `kind` ("cpmgw store", ...) marked with `applicationId` whose
// schema goes up to `latestVersion`: "" when it can. It fails quick_check (corruption), belongs to another
// application, or has a newer schema. Reads only.
std::string databaseProblem(Database& db, std::int32_t applicationId, int latestVersion, const std::string& kind);

// Applies, in order, every step above the file's user_version up to `target`, each in its own transaction
// together with the user_version bump and the application id, so a crash leaves a consistent version.
void applyMigrations(Database& db, std::span<const Migration> steps, std::int32_t applicationId, int target);

}  // namespace cpmgw::store
