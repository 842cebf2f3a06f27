#include "store/sqlite_db.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

namespace cpmgw::store {

namespace {

[[noreturn]] void raise(sqlite3* db, int rc, const std::string& context) {
  int code = db ? sqlite3_extended_errcode(db) : rc;
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw SqliteError(code, context + ": " + (msg ? msg : sqlite3_errstr(rc)));
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    raise(db, rc, "prepare \"" + std::string(sql) + "\"");
  }
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::check(int rc, const char* what) const {
  if (rc != SQLITE_OK) raise(db_, rc, what);
}

Statement& Statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  // A non-null pointer keeps an empty string distinct from NULL.
  check(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view bytes) {
  check(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_TRANSIENT), "bind");
  return *this;
}

Statement& Statement::bindNull(int index) {
  check(sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  raise(db_, rc, std::string("step \"") + (sql ? sql : "") + "\"");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  // The error of a failed step was already reported by step(); reset only returns it again.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::columnInt(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::columnText(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!text) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::columnBlob(int column) const {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (!data) return {};
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

Database::Database(const std::string& path, int flags, const char* vfs) : path_(path) {
  // Before SQLite's first use in the process. Memory statistics put a global mutex around every
  // allocation SQLite makes, shared by all connections, and nothing here reads them: without them the
  // writer needs about 8 % less CPU per message (bench/store_bench).
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(code, "open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
  cache_.clear();  // statements must be finalised before the connection closes
  sqlite3_close_v2(db_);
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(sqlite3_extended_errcode(db_), "exec \"" + sql + "\": " + msg);
  }
}

Statement Database::prepare(std::string_view sql) {
  return Statement(db_, sql);
}

StatementUse Database::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  return StatementUse(*it->second);
}

std::int64_t Database::queryInt(const std::string& sql) {
  Statement stmt = prepare(sql);
  return stmt.step() ? stmt.columnInt(0) : 0;
}

std::string Database::queryText(const std::string& sql) {
  Statement stmt = prepare(sql);
  return stmt.step() ? stmt.columnText(0) : std::string();
}

void Database::setBusyTimeout(int ms) {
  sqlite3_busy_timeout(db_, ms);
}

Transaction::Transaction(Database& db, const char* begin) : db_(db) {
  db_.cached(begin)->run();
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_.cached("ROLLBACK")->run();
  } catch (const SqliteError&) {
    // Nothing to undo when SQLite already rolled the transaction back itself (e.g. after SQLITE_FULL).
  }
}

void Transaction::commit() {
  db_.cached("COMMIT")->run();
  open_ = false;
}

std::string existingFileProblem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return {};
  if (!fs::is_regular_file(status)) return "not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot be read";
  char header[16] = {};
  in.read(header, sizeof header);
  auto got = in.gcount();
  // An empty file is what SQLite itself creates before the first write: treat it as a new database.
  if (got == 0) return {};
  if (got < static_cast<std::streamsize>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0)
    return "not a SQLite database";
  return {};
}

std::string databaseProblem(Database& db, std::int32_t applicationId, int latestVersion, const std::string& kind) {
  try {
    {
      Statement check = db.prepare("PRAGMA quick_check");
      std::string first = check.step() ? check.columnText(0) : std::string("no result");
      if (first != "ok") return "database fails quick_check (" + first + ")";
    }
    auto appId = static_cast<std::int32_t>(db.queryInt("PRAGMA application_id"));
    auto version = db.queryInt("PRAGMA user_version");
    if (appId != 0 && appId != applicationId) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", static_cast<unsigned>(appId));
      return "not a " + kind + " (application_id " + hex + ")";
    }
    if (appId == 0 && (version != 0 || db.queryInt("SELECT count(*) FROM sqlite_schema") != 0))
      return "a SQLite database of another application (no " + kind + " application_id)";
    if (version > latestVersion)
      return "database schema version " + std::to_string(version) + " is newer than this cpmgw supports (" +
             std::to_string(latestVersion) + ")";
  } catch (const SqliteError& e) {
    return std::string("cannot be read as a SQLite database (") + e.what() + ")";
  }
  return {};
}

void applyMigrations(Database& db, std::span<const Migration> steps, std::int32_t applicationId, int target) {
  for (const Migration& step : steps) {
    if (step.version > target) break;
    // IMMEDIATE takes the write lock before reading user_version: two processes cannot both apply a step.
    Transaction tx(db, "BEGIN IMMEDIATE");
    if (db.queryInt("PRAGMA user_version") >= step.version) continue;
    try {
      if (step.sql) db.exec(step.sql);
      if (step.code) step.code(db);
    } catch (const SqliteError& e) {
      throw SqliteError(
          e.code(), "schema step " + std::to_string(step.version) + " (" + step.description + ") failed: " + e.what());
    }
    db.exec("PRAGMA application_id = " + std::to_string(applicationId));
    db.exec("PRAGMA user_version = " + std::to_string(step.version));
    tx.commit();
  }
}

}  // namespace cpmgw::store
