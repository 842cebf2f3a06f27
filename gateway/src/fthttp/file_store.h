// Files of FT-over-HTTP: their bytes under <data_dir>/files/ (named by a random id, never by anything a
// request says) and their metadata in <data_dir>/files.db (SQLite, WAL, synchronous=FULL, versioned schema).
// Links carry tokens derived from the id with a key kept outside the database (<data_dir>/fthttp.key),
// and are looked up by the SHA-256 of the token: how long a lookup takes says nothing about how close
// a guess was.
//
// Thread-safe: one connection behind a mutex; every write is committed before the call returns.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpmgw/message.h"

namespace cpmgw::store {
class Database;
}  // namespace cpmgw::store

namespace cpmgw::fthttp {

// Thrown by FileStore::open for a database that is corrupt, not ours or newer than this binary, or a
// missing key while files exist; and by writes that fail.
class FileStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FileState { Uploading, Complete };
std::string_view toString(FileState s);
bool parseFileState(std::string_view text, FileState& out);

// What a link token opens.
enum class TokenPart { File, Thumbnail, Upload };

struct FileRecord {
  std::int64_t seq = 0;  // order of creation (list cursor)
  std::string id;        // 128 random bits, 32 hex characters; also the name on disk
  std::string owner;     // the uploader's address when authenticated, "" otherwise
  std::string tid;       // the uploader's transfer id
  FileState state = FileState::Uploading;
  std::string fileName;                       // sanitised
  std::string contentType;                    // normalised
  std::string disposition;                    // file-disposition: render or attachment
  std::uint64_t size = 0;                     // bytes of the file stored; all of it once Complete
  std::optional<std::uint64_t> expectedSize;  // what the uploader declared, when it did
  std::string expectedHash;                   // "sha-256:<hex>" the uploader declared, when it did
  bool hasThumbnail = false;
  std::string thumbType;
  std::uint64_t thumbSize = 0;
  std::string peer;  // address the upload came from
  TimeMs createdAt = 0, completedAt = 0, downloadedAt = 0;
  TimeMs until = 0;        // links refuse with 410 after this
  TimeMs deleteAfter = 0;  // the sweeper removes file and metadata after this (until + grace)
  std::string response;    // "", "accepted" or "rejected": the recipient's answer (CPM-CONV-045)
  std::string responseBy;
};

struct FileEvent {
  TimeMs at = 0;
  std::string event;
  std::string detail;
};

struct FileFilter {
  std::optional<std::string> owner;  // exact match when set ("" is the anonymous owner)
  std::optional<FileState> state;
  std::int64_t afterSeq = 0;
  std::size_t limit = 100;
};

struct StorageUsage {
  std::uint64_t bytes = 0;  // files and thumbnails, complete or not
  std::uint64_t files = 0;
};

class FileStore {
 public:
  struct Options {
    std::string dataDir;
    std::uint64_t userQuota = 0;     // bytes per owner; 0: no quota
    std::uint64_t lowWaterMark = 0;  // free bytes the disk must keep
  };

  // Opens (creating when missing) files.db, the key and the files directory; removes files on disk that
  // no metadata refers to (left by a crash between writing a file and recording it).
  static std::unique_ptr<FileStore> open(const Options& options);
  ~FileStore();

  const Options& options() const { return options_; }
  std::string filePath(const std::string& id) const;
  std::string thumbnailPath(const std::string& id) const;
  const std::string& directory() const { return dir_; }
  // The public prefix of links (set by the content server once it listens), so others can show them.
  void setLinkBase(const std::string& base);
  std::string linkBase();

  // The token of a link (>= 128 bits, base64url) and its lookup.
  std::string token(const std::string& id, TokenPart part) const;
  struct TokenMatch {
    FileRecord record;
    TokenPart part;
  };
  std::optional<TokenMatch> findByToken(const std::string& token);

  // Records a new upload (state Uploading) with its tokens. Throws FileStoreError when (owner, tid) exists.
  void create(const FileRecord& record);
  std::optional<FileRecord> get(const std::string& id);
  std::optional<FileRecord> findByTid(const std::string& owner, const std::string& tid);
  std::vector<FileRecord> list(const FileFilter& filter);
  std::vector<FileEvent> history(const std::string& id);

  // Bytes stored so far of an upload that stopped or paused (the resume point); `event` names why
  // ("interrupted", "progress").
  void recordProgress(const std::string& id, std::uint64_t size, const std::string& event, const std::string& detail);
  void setThumbnail(const std::string& id, const std::string& type, std::uint64_t size);
  void setExpected(const std::string& id, std::optional<std::uint64_t> size, const std::string& hash);
  // The whole file is on disk and synced: the upload becomes Complete. False when it no longer exists.
  bool complete(const std::string& id, std::uint64_t size);
  // The first complete download is worth a line in the history; later ones are not written.
  void markDownloaded(const std::string& id, const std::string& detail);
  // The recipient accepted or rejected the transfer (CPM-CONV-045); false when there is no such file.
  bool recordResponse(const std::string& id, bool accepted, const std::string& by);
  // Removes file, thumbnail and metadata; false when there was nothing.
  bool remove(const std::string& id, const std::string& reason);
  // Removes everything whose deleteAfter has passed; returns how many.
  std::size_t sweep(TimeMs now);

  StorageUsage usage(const std::optional<std::string>& owner);
  std::uint64_t diskFree() const;
  // Whether `more` bytes can be written while keeping the low-water mark free.
  bool diskHasRoom(std::uint64_t more) const;

  // Bytes an upload in progress holds against its owner's quota. grow() says false when the quota
  // would be exceeded; the reservation is returned when the object goes.
  class Reservation {
   public:
    Reservation(FileStore& store, std::string owner) : store_(&store), owner_(std::move(owner)) {}
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation();
    bool grow(std::uint64_t bytes);

   private:
    FileStore* store_;
    std::string owner_;
    std::uint64_t held_ = 0;
    std::uint64_t stored_ = 0;       // the owner's bytes in the database when last asked
    std::uint64_t nextRefresh_ = 0;  // ask again once held_ reaches this
  };

 private:
  explicit FileStore(Options options);
  void event(const std::string& id, const std::string& what, const std::string& detail, TimeMs at);
  std::uint64_t usageLocked(const std::string& owner);
  void unlinkFiles(const std::string& id) const;
  void removeOrphans();

  Options options_;
  std::string dir_;  // <data_dir>/files
  std::string key_;  // token key
  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  std::map<std::string, std::uint64_t> held_;  // owner -> bytes reserved by uploads in progress
  std::string linkBase_;
};

}  // namespace cpmgw::fthttp
