#include "store/wal_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite_db.h"

namespace cpmgw::store {
namespace {

namespace fs = std::filesystem;

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cpmgw-walvfs-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (fs::path(dir_) / "test.db").string();
    writer_ = openWriter();
    writer_->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t (v)");
    reader_ = std::make_unique<Database>(path_, SQLITE_OPEN_READONLY);
  }
  void TearDown() override {
    reader_.reset();
    writer_.reset();
    fs::remove_all(dir_);
  }

  // As the store's writer opens it: through the VFS, WAL, commits not synced by SQLite.
  std::unique_ptr<Database> openWriter() {
    auto db = std::make_unique<Database>(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, walGatheringVfs());
    EXPECT_EQ(db->queryText("PRAGMA journal_mode = WAL"), "wal");
    db->exec("PRAGMA synchronous = NORMAL");
    return db;
  }

  // Inserts `rows` rows with values of `size` bytes, keys from `first`, in one transaction.
  void insert(int first, int rows, std::size_t size) {
    Transaction tx(*writer_, "BEGIN IMMEDIATE");
    for (int k = first; k < first + rows; ++k) {
      auto stmt = writer_->cached("INSERT INTO t (k, v) VALUES (?1, ?2)");
      stmt->bind(1, k).bind(2, value(k, size));
      stmt->run();
    }
    tx.commit();
  }
  static std::string value(int k, std::size_t size) {
    std::string v = std::to_string(k) + ":";
    while (v.size() < size) v += static_cast<char>('a' + (k + v.size()) % 26);
    return v;
  }

  // What another connection (the default VFS, as the store's readers and checkpointer use) reads.
  std::int64_t rowsSeen() { return reader_->queryInt("SELECT count(*) FROM t"); }
  std::int64_t bytesSeen() { return reader_->queryInt("SELECT coalesce(sum(length(v)), 0) FROM t"); }
  std::string integrity() { return reader_->queryText("PRAGMA integrity_check"); }

  std::string dir_, path_;
  std::unique_ptr<Database> writer_, reader_;
};

TEST_F(WalVfsTest, EachCommitReachesTheWalInTwoWritesAndOtherConnectionsSeeIt) {
  auto before = walGatheringStats(writer_->handle());
  for (int commit = 0; commit < 50; ++commit) {
    auto start = walGatheringStats(writer_->handle());
    insert(commit * 20, 20, 200);
    auto end = walGatheringStats(writer_->handle());
    // Two: everything up to the commit frame's header, then the commit frame's page.
    EXPECT_EQ(end.writes - start.writes, 2u) << "commit " << commit;
    EXPECT_GE(end.gatheredWrites - start.gatheredWrites, 4u) << "commit " << commit;
    ASSERT_EQ(rowsSeen(), (commit + 1) * 20) << "commit " << commit;
  }
  auto after = walGatheringStats(writer_->handle());
  EXPECT_EQ(after.lateWrites, before.lateWrites);
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(WalVfsTest, CommitsLargerThanTheBufferAndThePageCacheReadBackIntact) {
  // A page cache of 10 pages spills frames to the WAL in mid-transaction; the updates then change pages
  // that are in the WAL already, which SQLite overwrites in place and then rewrites checksums for.
  writer_->exec("PRAGMA cache_size = 10");
  {
    Transaction tx(*writer_, "BEGIN IMMEDIATE");
    for (int k = 0; k < 2000; ++k) {
      auto stmt = writer_->cached("INSERT INTO t (k, v) VALUES (?1, ?2)");
      stmt->bind(1, k).bind(2, value(k, 1000));
      stmt->run();
    }
    writer_->exec("UPDATE t SET v = v || 'x' WHERE k % 3 = 0");
    tx.commit();
  }
  EXPECT_EQ(rowsSeen(), 2000);
  std::int64_t expected = 2000 * 1000 + 667;
  EXPECT_EQ(bytesSeen(), expected);
  EXPECT_EQ(integrity(), "ok");
  EXPECT_EQ(walGatheringStats(writer_->handle()).lateWrites, 0u);

  // And from the file alone, after the writer has gone.
  writer_.reset();
  reader_ = std::make_unique<Database>(path_, SQLITE_OPEN_READONLY);
  EXPECT_EQ(bytesSeen(), expected);
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(WalVfsTest, ARolledBackTransactionLeavesNothingBehind) {
  writer_->exec("PRAGMA cache_size = 10");
  {
    Transaction tx(*writer_, "BEGIN IMMEDIATE");  // spills frames, then rolls back
    for (int k = 0; k < 1000; ++k) {
      auto stmt = writer_->cached("INSERT INTO t (k, v) VALUES (?1, ?2)");
      stmt->bind(1, k).bind(2, value(k, 1000));
      stmt->run();
    }
  }
  insert(5000, 3, 100);
  EXPECT_EQ(rowsSeen(), 3);
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(WalVfsTest, AWriteThatFailsFailsTheCommit) {
  insert(0, 10, 100);
  // The WAL may not grow by more than a few pages: the next commit's write gets EFBIG.
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto walSize = fs::file_size(path_ + "-wal");
  struct rlimit limited = old;
  limited.rlim_cur = walSize + 16 * 1024;
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  bool failed = false;
  try {
    insert(100, 500, 1000);
  } catch (const SqliteError&) {
    failed = true;
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_TRUE(failed) << "a commit whose WAL write failed was reported as done";
  EXPECT_EQ(rowsSeen(), 10);
  insert(100, 5, 100);  // the connection works on once the disk takes writes again
  EXPECT_EQ(rowsSeen(), 15);
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(WalVfsTest, ConnectionsOnOtherVfsesReportNoStats) {
  auto stats = walGatheringStats(reader_->handle());
  EXPECT_EQ(stats.writes, 0u);
  EXPECT_EQ(stats.gatheredWrites, 0u);
}

}  // namespace
}  // namespace cpmgw::store
