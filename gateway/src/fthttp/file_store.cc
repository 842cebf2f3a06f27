#include "fthttp/file_store.h"

#include <Poco/Logger.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "cpmgw/log.h"
#include "fthttp/ft_text.h"
#include "store/sqlite_db.h"

namespace cpmgw::fthttp {

using store::Database;
using store::SqliteError;
using store::Statement;
using store::Transaction;

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpmgw.fthttp");
}

// "cpft": tells the file store apart from the message store and any other SQLite file.
constexpr std::int32_t kApplicationId = 0x63706674;
constexpr std::size_t kKeyBytes = 32;

// Append-only: a released step is never edited; a change is a new step.
constexpr std::array<store::Migration, 1> kMigrations{{
    {1, "files, tokens and history", R"sql(
CREATE TABLE files (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT NOT NULL UNIQUE,
  owner          TEXT NOT NULL,
  tid            TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('uploading', 'complete')),
  file_name      TEXT NOT NULL,
  content_type   TEXT NOT NULL,
  disposition    TEXT NOT NULL DEFAULT '',
  size           INTEGER NOT NULL DEFAULT 0,
  expected_size  INTEGER,
  expected_hash  TEXT NOT NULL DEFAULT '',
  thumb_type     TEXT NOT NULL DEFAULT '',
  thumb_size     INTEGER,
  peer           TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  completed_at   INTEGER NOT NULL DEFAULT 0,
  downloaded_at  INTEGER NOT NULL DEFAULT 0,
  valid_until    INTEGER NOT NULL,
  delete_after   INTEGER NOT NULL,
  response       TEXT NOT NULL DEFAULT '' CHECK (response IN ('', 'accepted', 'rejected')),
  response_by    TEXT NOT NULL DEFAULT '',
  UNIQUE (owner, tid)
);
CREATE INDEX files_by_owner ON files(owner, seq);
CREATE INDEX files_by_delete_after ON files(delete_after);

-- Links are found by the SHA-256 of their token; the token itself is derived from the id and a key
-- that is not in this file, so a copy of the database opens no file.
CREATE TABLE file_tokens (
  hash     BLOB PRIMARY KEY NOT NULL,
  file_id  TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  part     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX file_tokens_by_file ON file_tokens(file_id);

CREATE TABLE file_events (
  id       INTEGER PRIMARY KEY,
  file_id  TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  at       INTEGER NOT NULL,
  event    TEXT NOT NULL,
  detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX file_events_by_file ON file_events(file_id, id);
)sql"},
}};

constexpr const char* kColumns =
    "seq, id, owner, tid, state, file_name, content_type, disposition, size, expected_size, expected_hash, "
    "thumb_type, thumb_size, peer, created_at, completed_at, downloaded_at, valid_until, delete_after, response, "
    "response_by";

FileRecord readRecord(const Statement& s) {
  FileRecord r;
  r.seq = s.columnInt(0);
  r.id = s.columnText(1);
  r.owner = s.columnText(2);
  r.tid = s.columnText(3);
  parseFileState(s.columnText(4), r.state);
  r.fileName = s.columnText(5);
  r.contentType = s.columnText(6);
  r.disposition = s.columnText(7);
  r.size = static_cast<std::uint64_t>(s.columnInt(8));
  if (!s.isNull(9)) r.expectedSize = static_cast<std::uint64_t>(s.columnInt(9));
  r.expectedHash = s.columnText(10);
  r.thumbType = s.columnText(11);
  r.hasThumbnail = !s.isNull(12);
  r.thumbSize = r.hasThumbnail ? static_cast<std::uint64_t>(s.columnInt(12)) : 0;
  r.peer = s.columnText(13);
  r.createdAt = s.columnInt(14);
  r.completedAt = s.columnInt(15);
  r.downloadedAt = s.columnInt(16);
  r.until = s.columnInt(17);
  r.deleteAfter = s.columnInt(18);
  r.response = s.columnText(19);
  r.responseBy = s.columnText(20);
  return r;
}

[[noreturn]] void refuse(const std::string& path, const std::string& reason) {
  throw FileStoreError(path + ": " + reason + "; refusing to start");
}

void checkExistingFile(const std::string& path) {
  if (auto problem = store::existingFileProblem(path); !problem.empty()) refuse(path, problem);
}

void checkDatabase(Database& db) {
  auto problem = store::databaseProblem(db, kApplicationId, kMigrations.back().version, "cpmgw file store");
  if (!problem.empty()) refuse(db.path(), problem);
}

std::string sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

const char* partName(TokenPart p) {
  switch (p) {
    case TokenPart::File:
      return "file";
    case TokenPart::Thumbnail:
      return "thumbnail";
    case TokenPart::Upload:
      return "upload";
  }
  return "file";
}

// Reads the key, or creates it when no file exists yet (a lost key with files stored would silently
// turn every link into a 404: refuse instead).
std::string loadKey(const std::string& path, bool filesExist) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string key(kKeyBytes, '\0');
    ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(kKeyBytes)) refuse(path, "link key is not " + std::to_string(kKeyBytes) + " bytes");
    return key;
  }
  if (errno != ENOENT) refuse(path, std::string("cannot read the link key: ") + std::strerror(errno));
  if (filesExist) refuse(path, "link key missing while files are stored (their links could not be checked)");
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw FileStoreError("RAND_bytes failed");
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) refuse(path, std::string("cannot create the link key: ") + std::strerror(errno));
  bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) refuse(path, "cannot write the link key");
  return key;
}

bool isIdName(const std::string& name) {
  std::string base = name.size() == 38 && name.compare(32, 6, ".thumb") == 0 ? name.substr(0, 32) : name;
  return base.size() == 32 && base.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string_view toString(FileState s) {
  return s == FileState::Complete ? "complete" : "uploading";
}

bool parseFileState(std::string_view text, FileState& out) {
  if (text == "complete") {
    out = FileState::Complete;
  } else if (text == "uploading") {
    out = FileState::Uploading;
  } else {
    return false;
  }
  return true;
}

FileStore::FileStore(Options options) : options_(std::move(options)) {}

FileStore::~FileStore() = default;

std::unique_ptr<FileStore> FileStore::open(const Options& options) {
  namespace fs = std::filesystem;
  std::unique_ptr<FileStore> self(new FileStore(options));
  self->dir_ = (fs::path(options.dataDir) / "files").string();
  std::error_code ec;
  fs::create_directories(self->dir_, ec);
  if (ec) throw FileStoreError(self->dir_ + ": cannot create: " + ec.message());
  ::chmod(self->dir_.c_str(), 0700);
  std::string path = (fs::path(options.dataDir) / "files.db").string();
  checkExistingFile(path);
  bool existed = fs::exists(path);
  try {
    self->db_ = std::make_unique<Database>(path, SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE));
    self->db_->setBusyTimeout(5000);
  } catch (const SqliteError& e) {
    throw FileStoreError(path + ": cannot open: " + e.what());
  }
  checkDatabase(*self->db_);
  try {
    std::string mode = self->db_->queryText("PRAGMA journal_mode = WAL");
    if (mode != "wal") refuse(path, "cannot switch to WAL journal mode (got " + mode + ")");
    self->db_->exec("PRAGMA synchronous = FULL");
    self->db_->exec("PRAGMA foreign_keys = ON");
    store::applyMigrations(*self->db_, kMigrations, kApplicationId, kMigrations.back().version);
    bool filesExist = self->db_->queryInt("SELECT count(*) FROM files") > 0;
    self->key_ = loadKey((fs::path(options.dataDir) / "fthttp.key").string(), filesExist);
  } catch (const SqliteError& e) {
    throw FileStoreError(path + ": " + e.what());
  }
  self->removeOrphans();
  return self;
}

void FileStore::removeOrphans() {
  namespace fs = std::filesystem;
  std::set<std::string> known;
  {
    std::lock_guard lock(mutex_);
    Statement s = db_->prepare("SELECT id FROM files");
    while (s.step()) known.insert(s.columnText(0));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    // Only names this store gives are touched; anything else in the directory is not ours to delete.
    if (!isIdName(name) || known.count(name.substr(0, 32))) continue;
    logger().notice("removing %s: no metadata refers to it (left by an interrupted upload)", entry.path().string());
    fs::remove(entry.path(), ec);
  }
}

void FileStore::setLinkBase(const std::string& base) {
  std::lock_guard lock(mutex_);
  linkBase_ = base;
}

std::string FileStore::linkBase() {
  std::lock_guard lock(mutex_);
  return linkBase_;
}

std::string FileStore::filePath(const std::string& id) const {
  return dir_ + "/" + id;
}
std::string FileStore::thumbnailPath(const std::string& id) const {
  return dir_ + "/" + id + ".thumb";
}

std::string FileStore::token(const std::string& id, TokenPart part) const {
  std::string message = std::string(partName(part)) + ":" + id;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &len);
  return base64Url(std::string_view(reinterpret_cast<const char*>(mac), 18));  // 144 bits
}

std::optional<FileStore::TokenMatch> FileStore::findByToken(const std::string& token) {
  // The same work for every token, known or not: one hash and one index lookup by that hash.
  std::string hash = sha256(token);
  std::lock_guard lock(mutex_);
  std::string id;
  TokenPart part = TokenPart::File;
  {
    auto s = db_->cached("SELECT file_id, part FROM file_tokens WHERE hash = ?");
    s->bindBlob(1, hash);
    if (!s->step()) return std::nullopt;
    id = s->columnText(0);
    part = static_cast<TokenPart>(s->columnInt(1));
  }
  auto s = db_->cached(std::string("SELECT ") + kColumns + " FROM files WHERE id = ?");
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return TokenMatch{readRecord(*s), part};
}

void FileStore::event(const std::string& id, const std::string& what, const std::string& detail, TimeMs at) {
  auto s = db_->cached("INSERT INTO file_events (file_id, at, event, detail) VALUES (?, ?, ?, ?)");
  s->bind(1, id).bind(2, at).bind(3, what).bind(4, detail);
  s->run();
}

void FileStore::create(const FileRecord& r) {
  std::lock_guard lock(mutex_);
  try {
    Transaction tx(*db_, "BEGIN IMMEDIATE");
    {
      auto s = db_->cached(
          "INSERT INTO files (id, owner, tid, state, file_name, content_type, disposition, size, expected_size, "
          "expected_hash, thumb_type, thumb_size, peer, created_at, valid_until, delete_after) "
          "VALUES (?, ?, ?, 'uploading', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      s->bind(1, r.id).bind(2, r.owner).bind(3, r.tid).bind(4, r.fileName).bind(5, r.contentType);
      s->bind(6, r.disposition).bind(7, static_cast<std::int64_t>(r.size));
      if (r.expectedSize) {
        s->bind(8, static_cast<std::int64_t>(*r.expectedSize));
      } else {
        s->bindNull(8);
      }
      s->bind(9, r.expectedHash).bind(10, r.thumbType);
      if (r.hasThumbnail) {
        s->bind(11, static_cast<std::int64_t>(r.thumbSize));
      } else {
        s->bindNull(11);
      }
      s->bind(12, r.peer).bind(13, r.createdAt).bind(14, r.until).bind(15, r.deleteAfter);
      s->run();
    }
    for (TokenPart part : {TokenPart::File, TokenPart::Thumbnail, TokenPart::Upload}) {
      auto s = db_->cached("INSERT INTO file_tokens (hash, file_id, part) VALUES (?, ?, ?)");
      s->bindBlob(1, sha256(token(r.id, part))).bind(2, r.id).bind(3, static_cast<int>(part));
      s->run();
    }
    event(r.id, "uploading", "tid " + r.tid + " from " + r.peer + (r.owner.empty() ? "" : " as " + r.owner),
          r.createdAt);
    tx.commit();
  } catch (const SqliteError& e) {
    throw FileStoreError("recording upload " + r.id + " failed: " + e.what());
  }
}

std::optional<FileRecord> FileStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto s = db_->cached(std::string("SELECT ") + kColumns + " FROM files WHERE id = ?");
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return readRecord(*s);
}

std::optional<FileRecord> FileStore::findByTid(const std::string& owner, const std::string& tid) {
  std::lock_guard lock(mutex_);
  auto s = db_->cached(std::string("SELECT ") + kColumns + " FROM files WHERE owner = ? AND tid = ?");
  s->bind(1, owner).bind(2, tid);
  if (!s->step()) return std::nullopt;
  return readRecord(*s);
}

std::vector<FileRecord> FileStore::list(const FileFilter& filter) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM files WHERE seq > ?";
  if (filter.owner) sql += " AND owner = ?";
  if (filter.state) sql += " AND state = ?";
  sql += " ORDER BY seq LIMIT ?";
  std::lock_guard lock(mutex_);
  auto s = db_->cached(sql);
  int i = 1;
  s->bind(i++, filter.afterSeq);
  if (filter.owner) s->bind(i++, *filter.owner);
  if (filter.state) s->bind(i++, toString(*filter.state));
  s->bind(i++, static_cast<std::int64_t>(filter.limit));
  std::vector<FileRecord> out;
  while (s->step()) out.push_back(readRecord(*s));
  return out;
}

std::vector<FileEvent> FileStore::history(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto s = db_->cached("SELECT at, event, detail FROM file_events WHERE file_id = ? ORDER BY id");
  s->bind(1, id);
  std::vector<FileEvent> out;
  while (s->step()) out.push_back({s->columnInt(0), s->columnText(1), s->columnText(2)});
  return out;
}

void FileStore::recordProgress(const std::string& id, std::uint64_t size, const std::string& what,
                               const std::string& detail) {
  std::lock_guard lock(mutex_);
  try {
    Transaction tx(*db_, "BEGIN IMMEDIATE");
    auto s = db_->cached("UPDATE files SET size = ? WHERE id = ? AND state = 'uploading'");
    s->bind(1, static_cast<std::int64_t>(size)).bind(2, id);
    s->run();
    if (db_->changes() > 0) event(id, what, detail, nowMs());
    tx.commit();
  } catch (const SqliteError& e) {
    throw FileStoreError("recording progress of " + id + " failed: " + e.what());
  }
}

void FileStore::setThumbnail(const std::string& id, const std::string& type, std::uint64_t size) {
  std::lock_guard lock(mutex_);
  try {
    auto s = db_->cached("UPDATE files SET thumb_type = ?, thumb_size = ? WHERE id = ?");
    s->bind(1, type).bind(2, static_cast<std::int64_t>(size)).bind(3, id);
    s->run();
  } catch (const SqliteError& e) {
    throw FileStoreError("recording the thumbnail of " + id + " failed: " + e.what());
  }
}

void FileStore::setExpected(const std::string& id, std::optional<std::uint64_t> size, const std::string& hash) {
  std::lock_guard lock(mutex_);
  try {
    auto s = db_->cached(
        "UPDATE files SET expected_size = COALESCE(?, expected_size), expected_hash = CASE WHEN ? = '' THEN "
        "expected_hash ELSE ? END WHERE id = ?");
    if (size) {
      s->bind(1, static_cast<std::int64_t>(*size));
    } else {
      s->bindNull(1);
    }
    s->bind(2, hash).bind(3, hash).bind(4, id);
    s->run();
  } catch (const SqliteError& e) {
    throw FileStoreError("recording the expected size of " + id + " failed: " + e.what());
  }
}

bool FileStore::complete(const std::string& id, std::uint64_t size) {
  std::lock_guard lock(mutex_);
  try {
    Transaction tx(*db_, "BEGIN IMMEDIATE");
    TimeMs now = nowMs();
    auto s = db_->cached("UPDATE files SET state = 'complete', size = ?, completed_at = ? WHERE id = ?");
    s->bind(1, static_cast<std::int64_t>(size)).bind(2, now).bind(3, id);
    s->run();
    if (db_->changes() == 0) return false;
    event(id, "complete", std::to_string(size) + " bytes", now);
    tx.commit();
    return true;
  } catch (const SqliteError& e) {
    throw FileStoreError("completing " + id + " failed: " + e.what());
  }
}

void FileStore::markDownloaded(const std::string& id, const std::string& detail) {
  std::lock_guard lock(mutex_);
  try {
    Transaction tx(*db_, "BEGIN IMMEDIATE");
    TimeMs now = nowMs();
    auto s = db_->cached("UPDATE files SET downloaded_at = ? WHERE id = ? AND downloaded_at = 0");
    s->bind(1, now).bind(2, id);
    s->run();
    if (db_->changes() > 0) event(id, "downloaded", detail, now);
    tx.commit();
  } catch (const SqliteError& e) {
    throw FileStoreError("recording the download of " + id + " failed: " + e.what());
  }
}

bool FileStore::recordResponse(const std::string& id, bool accepted, const std::string& by) {
  std::lock_guard lock(mutex_);
  try {
    Transaction tx(*db_, "BEGIN IMMEDIATE");
    TimeMs now = nowMs();
    auto s = db_->cached("UPDATE files SET response = ?, response_by = ? WHERE id = ?");
    s->bind(1, accepted ? "accepted" : "rejected").bind(2, by).bind(3, id);
    s->run();
    if (db_->changes() == 0) return false;
    event(id, accepted ? "accepted" : "rejected", by.empty() ? "by the recipient" : "by " + by, now);
    tx.commit();
    return true;
  } catch (const SqliteError& e) {
    throw FileStoreError("recording the response for " + id + " failed: " + e.what());
  }
}

void FileStore::unlinkFiles(const std::string& id) const {
  for (const auto& path : {filePath(id), thumbnailPath(id)}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      logger().error("cannot remove %s: %s", path, std::string(std::strerror(errno)));
  }
}

bool FileStore::remove(const std::string& id, const std::string& reason) {
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    try {
      // Metadata first: a crash before the unlink leaves an orphan that the next start removes, never a
      // link to a missing file.
      auto s = db_->cached("DELETE FROM files WHERE id = ?");
      s->bind(1, id);
      s->run();
      removed = db_->changes() > 0;
    } catch (const SqliteError& e) {
      throw FileStoreError("removing " + id + " failed: " + e.what());
    }
  }
  unlinkFiles(id);
  if (removed) logInformation(logger(), "file %s removed: %s", id, reason);
  return removed;
}

std::size_t FileStore::sweep(TimeMs now) {
  std::vector<std::string> due;
  {
    std::lock_guard lock(mutex_);
    auto s = db_->cached("SELECT id FROM files WHERE delete_after <= ? ORDER BY delete_after LIMIT 1000");
    s->bind(1, now);
    while (s->step()) due.push_back(s->columnText(0));
  }
  std::size_t n = 0;
  for (const auto& id : due) n += remove(id, "expired (link validity and grace period over)") ? 1 : 0;
  return n;
}

std::uint64_t FileStore::usageLocked(const std::string& owner) {
  auto s = db_->cached("SELECT COALESCE(SUM(size + COALESCE(thumb_size, 0)), 0) FROM files WHERE owner = ?");
  s->bind(1, owner);
  return s->step() ? static_cast<std::uint64_t>(s->columnInt(0)) : 0;
}

StorageUsage FileStore::usage(const std::optional<std::string>& owner) {
  std::lock_guard lock(mutex_);
  std::string sql = "SELECT COALESCE(SUM(size + COALESCE(thumb_size, 0)), 0), count(*) FROM files";
  if (owner) sql += " WHERE owner = ?";
  auto s = db_->cached(sql);
  if (owner) s->bind(1, *owner);
  StorageUsage u;
  if (s->step()) {
    u.bytes = static_cast<std::uint64_t>(s->columnInt(0));
    u.files = static_cast<std::uint64_t>(s->columnInt(1));
  }
  return u;
}

std::uint64_t FileStore::diskFree() const {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

bool FileStore::diskHasRoom(std::uint64_t more) const {
  std::uint64_t free = diskFree();
  return free >= more && free - more >= options_.lowWaterMark;
}

FileStore::Reservation::~Reservation() {
  if (held_ == 0) return;
  std::lock_guard lock(store_->mutex_);
  auto it = store_->held_.find(owner_);
  if (it == store_->held_.end()) return;
  it->second -= std::min(it->second, held_);
  if (it->second == 0) store_->held_.erase(it);
}

bool FileStore::Reservation::grow(std::uint64_t bytes) {
  const std::uint64_t quota = store_->options_.userQuota;
  if (quota == 0) return true;
  // Exact per block against what other uploads of the owner hold; the database sum is asked again only
  // every 8 MiB, so a block costs a map lookup rather than a query.
  constexpr std::uint64_t kRefresh = 8 << 20;
  std::lock_guard lock(store_->mutex_);
  if (held_ + bytes >= nextRefresh_) {
    stored_ = store_->usageLocked(owner_);
    nextRefresh_ = held_ + bytes + kRefresh;
  }
  std::uint64_t& all = store_->held_[owner_];
  std::uint64_t others = all - held_;
  if (stored_ + others > quota || held_ + bytes > quota - stored_ - others) {
    if (all == 0) store_->held_.erase(owner_);
    return false;
  }
  all += bytes;
  held_ += bytes;
  return true;
}

}  // namespace cpmgw::fthttp
