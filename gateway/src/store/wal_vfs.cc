#include "store/wal_vfs.h"

#include <Poco/Logger.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace cpmgw::store {

namespace {

constexpr const char* kName = "cpmgw-wal";
// SQLite's unix VFS writes at most 128 KiB - 1 bytes per call; 64 KiB holds the frames of a typical
// commit (10 to 20 pages of 2 KiB, or 15 of the 4 KiB of an older store), and a larger commit goes out
// in several writes.
constexpr int kBufferSize = 64 * 1024;
constexpr int kFrameHeaderSize = 24;

// Our part of each open file; the default VFS's file object follows it in the same allocation.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;
  // WAL only: bytes written by SQLite and not yet by us, for the file range [start, start + length).
  std::unique_ptr<char[]> buffer;
  int length;
  sqlite3_int64 start;
  // The commit frame's header has just been written: its page goes straight through.
  bool commitFramePage;
  WalGatheringStats stats;
  // Database file only: its WAL while open (written out at the barrier that publishes a commit).
  File* walFile;
  // WAL only: the database file it belongs to.
  File* dbFile;
};

sqlite3_vfs* base = nullptr;  // the default VFS, which does the work
sqlite3_vfs vfs;
sqlite3_io_methods methods;

File* self(sqlite3_file* file) {
  return reinterpret_cast<File*>(file);
}

const sqlite3_io_methods& real(File* f) {
  return *f->real->pMethods;
}

int writeOut(File* f) {
  if (f->length == 0) return SQLITE_OK;
  int rc = real(f).xWrite(f->real, f->buffer.get(), f->length, f->start);
  ++f->stats.writes;
  f->length = 0;
  return rc;
}

int xClose(sqlite3_file* file) {
  File* f = self(file);
  int rc = f->wal ? writeOut(f) : SQLITE_OK;
  int closed = real(f).xClose(f->real);
  if (f->dbFile) f->dbFile->walFile = nullptr;
  if (f->walFile) f->walFile->dbFile = nullptr;
  f->buffer.~unique_ptr();
  return rc != SQLITE_OK ? rc : closed;
}

int xRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
  return real(f).xRead(f->real, out, amount, offset);
}

int xWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (!f->wal) return real(f).xWrite(f->real, data, amount, offset);
  ++f->stats.gatheredWrites;
  if (f->length > 0 && (offset != f->start + f->length || f->length + amount > kBufferSize)) {
    if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
  }
  if (f->commitFramePage || amount > kBufferSize) {
    f->commitFramePage = false;
    if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
    ++f->stats.writes;
    return real(f).xWrite(f->real, data, amount, offset);
  }
  if (f->length == 0) f->start = offset;
  std::memcpy(f->buffer.get() + f->length, data, static_cast<std::size_t>(amount));
  f->length += amount;
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (amount == kFrameHeaderSize && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0) {
    // A commit frame's header (or, after a rewrite of checksums, the last header rewritten): everything
    // before it goes out now, and its page, which SQLite writes next, straight after.
    f->commitFramePage = true;
    return writeOut(f);
  }
  return SQLITE_OK;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = self(file);
  if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
  return real(f).xTruncate(f->real, size);
}

int xSync(sqlite3_file* file, int flags) {
  File* f = self(file);
  if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
  return real(f).xSync(f->real, flags);
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = self(file);
  if (int rc = writeOut(f); rc != SQLITE_OK) return rc;
  return real(f).xFileSize(f->real, size);
}

int xLock(sqlite3_file* file, int level) {
  return real(self(file)).xLock(self(file)->real, level);
}
int xUnlock(sqlite3_file* file, int level) {
  return real(self(file)).xUnlock(self(file)->real, level);
}
int xCheckReservedLock(sqlite3_file* file, int* out) {
  return real(self(file)).xCheckReservedLock(self(file)->real, out);
}
int xFileControl(sqlite3_file* file, int op, void* arg) {
  return real(self(file)).xFileControl(self(file)->real, op, arg);
}
int xSectorSize(sqlite3_file* file) {
  return real(self(file)).xSectorSize(self(file)->real);
}
int xDeviceCharacteristics(sqlite3_file* file) {
  return real(self(file)).xDeviceCharacteristics(self(file)->real);
}
int xShmMap(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  return real(self(file)).xShmMap(self(file)->real, page, size, extend, out);
}
int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return real(self(file)).xShmLock(self(file)->real, offset, n, flags);
}

// SQLite calls the barrier between writing a commit's frames and publishing it to other connections.
void xShmBarrier(sqlite3_file* file) {
  File* f = self(file);
  if (File* wal = f->walFile; wal && wal->length > 0) {
    ++wal->stats.lateWrites;
    if (int rc = writeOut(wal); rc != SQLITE_OK) {
      Poco::Logger::get("cpmgw.store")
          .critical(
              "cannot write the WAL of a commit that SQLite takes as done (error %d: %s); stopping before "
              "anything is acknowledged",
              rc, std::string(sqlite3_errstr(rc)));
      std::abort();
    }
  }
  real(f).xShmBarrier(f->real);
}

int xShmUnmap(sqlite3_file* file, int deleteFlag) {
  return real(self(file)).xShmUnmap(self(file)->real, deleteFlag);
}
int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return real(self(file)).xFetch(self(file)->real, offset, amount, out);
}
int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return real(self(file)).xUnfetch(self(file)->real, offset, page);
}

int xOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* outFlags) {
  File* f = self(file);
  // SQLite hands over zeroed memory; the unique_ptr still needs constructing.
  new (&f->buffer) std::unique_ptr<char[]>();
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = base->xOpen(base, name, f->real, flags, outFlags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    f->buffer.~unique_ptr();
    file->pMethods = nullptr;  // SQLite does not call xClose then
    return rc;
  }
  if (f->wal) {
    f->buffer = std::make_unique<char[]>(kBufferSize);
    // The database file was opened through this VFS too (the same connection opens both).
    f->dbFile = self(sqlite3_database_file_object(name));
    f->dbFile->walFile = f;
  }
  file->pMethods = &methods;
  return SQLITE_OK;
}

}  // namespace

const char* walGatheringVfs() {
  static const bool registered = [] {
    base = sqlite3_vfs_find(nullptr);
    vfs = *base;
    vfs.zName = kName;
    vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    vfs.xOpen = xOpen;
    vfs.pNext = nullptr;
    methods = sqlite3_io_methods{3,
                                 xClose,
                                 xRead,
                                 xWrite,
                                 xTruncate,
                                 xSync,
                                 xFileSize,
                                 xLock,
                                 xUnlock,
                                 xCheckReservedLock,
                                 xFileControl,
                                 xSectorSize,
                                 xDeviceCharacteristics,
                                 xShmMap,
                                 xShmLock,
                                 xShmBarrier,
                                 xShmUnmap,
                                 xFetch,
                                 xUnfetch};
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  }();
  return registered ? kName : nullptr;
}

WalGatheringStats walGatheringStats(sqlite3* db) {
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal ||
      wal->pMethods != &methods)
    return {};
  return self(wal)->stats;
}

}  // namespace cpmgw::store
