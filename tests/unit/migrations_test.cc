#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <random>

#include "cpmgw/store.h"
#include "store/migrations.h"
#include "store/sqlite_db.h"

namespace cpmgw {
namespace {

namespace fs = std::filesystem;

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpmgw-migration-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (fs::path(dir_) / "store.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open() {
    Store::Options options;
    options.path = path_;
    return Store::open(options);
  }

  // Stores a message from a to b with this id and body, durably.
  static void storeMessage(Store& store, const std::string& id, const std::string& body = "") {
    Message m;
    m.id = id;
    m.from = "a";
    m.to = "b";
    m.body = body;
    std::promise<EnqueueResult> done;
    store.enqueue(m, 0, [&](EnqueueResult r) { done.set_value(r); });
    ASSERT_EQ(done.get_future().get().status, EnqueueResult::Status::Stored);
  }

  std::int64_t pragma(const std::string& name) {
    store::Database db(path_, SQLITE_OPEN_READONLY);
    return db.queryInt("PRAGMA " + name);
  }

  static std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Opening must throw StoreError naming the file and containing `reason`, and leave the file as it was.
  void expectRefused(const std::string& reason) {
    std::string before = readBytes(path_);
    try {
      open();
      ADD_FAILURE() << "Store::open accepted the file";
    } catch (const StoreError& e) {
      std::string what = e.what();
      EXPECT_EQ(what.rfind(path_ + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(reason), std::string::npos) << what;
      EXPECT_NE(what.find("refusing to start"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    EXPECT_EQ(readBytes(path_), before);
  }

  std::string dir_;
  std::string path_;
};

TEST(Migration, StepsAreNumberedInOrder) {
  auto steps = store::migrations();
  ASSERT_FALSE(steps.empty());
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(store::latestSchemaVersion(), steps.back().version);
}

TEST_F(MigrationTest, FreshDatabaseGetsTheLatestVersionInWalMode) {
  path_ = (fs::path(dir_) / "nested" / "dir" / "store.db").string();  // directories are created
  open().reset();
  EXPECT_EQ(pragma("user_version"), store::latestSchemaVersion());
  EXPECT_EQ(pragma("application_id"), store::kApplicationId);
  store::Database db(path_, SQLITE_OPEN_READONLY);
  EXPECT_EQ(db.queryText("PRAGMA journal_mode"), "wal");
}

TEST_F(MigrationTest, AFreshStoreUsesPagesOfTwoKibibytes) {
  open().reset();
  EXPECT_EQ(pragma("page_size"), 2048);
}

TEST_F(MigrationTest, AnExistingStoreKeepsItsPageSize) {
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db.exec("PRAGMA page_size = 4096");
    db.exec("PRAGMA journal_mode = WAL");
    store::migrate(db);
  }
  storeMessage(*open(), "kept", std::string(10000, 'x'));  // over several pages
  EXPECT_EQ(pragma("page_size"), 4096);
  auto s = open();
  auto kept = s->get("kept");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->body, std::string(10000, 'x'));
}

TEST_F(MigrationTest, ReopenIsIdempotentAndKeepsData) {
  storeMessage(*open(), "kept");
  for (int i = 0; i < 3; ++i) {
    auto s = open();
    EXPECT_TRUE(s->get("kept"));
  }
  EXPECT_EQ(pragma("user_version"), store::latestSchemaVersion());
}

TEST_F(MigrationTest, EmptyFileIsInitialised) {
  std::ofstream(path_).close();
  open().reset();
  EXPECT_EQ(pragma("user_version"), store::latestSchemaVersion());
  EXPECT_EQ(pragma("page_size"), 2048);
}

TEST_F(MigrationTest, UpgradesAVersionOneFileAndMarksConversationHeads) {
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    store::migrate(db, 1);
    ASSERT_EQ(db.queryInt("PRAGMA user_version"), 1);
    // Two conversations: a->b has a delivered, a leased and a queued message; a->c one queued.
    db.exec(R"sql(
      INSERT INTO messages (id, seq, conv_key, from_addr, to_addr, state, created_at, updated_at, next_attempt_at)
      VALUES ('d1', 1, 'a' || char(10) || 'b', 'a', 'b', 'delivered', 1, 1, 0),
             ('l2', 2, 'a' || char(10) || 'b', 'a', 'b', 'leased',    1, 1, 0),
             ('q3', 3, 'a' || char(10) || 'b', 'a', 'b', 'queued',    1, 1, 0),
             ('q4', 4, 'a' || char(10) || 'c', 'a', 'c', 'queued',    1, 1, 0);
    )sql");
  }
  auto s = open();
  EXPECT_EQ(pragma("user_version"), store::latestSchemaVersion());
  std::vector<std::string> ids;
  for (auto& m : s->lease(10, 100, 200, {})) ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"q4"}));  // q3 waits behind the leased l2
  EXPECT_EQ(s->recover(0), 2u);                      // the old lease of l2 and ours of q4
  ids.clear();
  for (auto& m : s->lease(10, 100, 200, {})) ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"l2", "q4"}));
}

// Whether SQLite builds a temporary b-tree to run `sql` on `db` (EXPLAIN lists an OpenEphemeral).
bool usesTemporaryBtree(store::Database& db, const std::string& sql) {
  auto explain = db.prepare("EXPLAIN " + sql);
  while (explain.step())
    if (explain.columnText(1) == "OpenEphemeral") return true;
  return false;
}

TEST_F(MigrationTest, StepFourChecksTheStateWithoutATemporaryBtreeAndKeepsEverything) {
  const std::string update = "UPDATE messages SET state = ?1 WHERE seq = ?2";
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    store::migrate(db, 3);
    db.exec(R"sql(
      INSERT INTO messages (id, seq, conv_key, from_addr, to_addr, state, created_at, updated_at, next_attempt_at)
      VALUES ('q1', 1, 'a' || char(10) || 'b', 'a', 'b', 'queued', 1, 1, 0);
    )sql");
    ASSERT_TRUE(usesTemporaryBtree(db, update));  // the IN list of step 1
  }
  // A connection open during the upgrade reads the new schema at its next statement: the cookie moved on.
  store::Database other(path_, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(usesTemporaryBtree(other, update));
  auto cookie = other.queryInt("PRAGMA schema_version");
  {
    auto s = open();
    EXPECT_TRUE(s->get("q1"));
  }
  EXPECT_EQ(pragma("user_version"), 4);
  EXPECT_GT(other.queryInt("PRAGMA schema_version"), cookie);
  EXPECT_EQ(other.queryText("SELECT state FROM messages WHERE id = 'q1'"), "queued");
  EXPECT_FALSE(usesTemporaryBtree(other, update));
  EXPECT_EQ(other.queryText("PRAGMA integrity_check"), "ok");
  // The same values pass and the same are refused.
  for (const char* state : {"queued", "leased", "delivered", "failed", "deleted"}) {
    auto set = other.prepare(update);
    set.bind(1, state).bind(2, 1);
    EXPECT_NO_THROW(set.run()) << state;
  }
  auto bad = other.prepare(update);
  bad.bind(1, "lost").bind(2, 1);
  EXPECT_THROW(bad.run(), store::SqliteError);
}

TEST_F(MigrationTest, AFreshStoreChecksTheStateWithoutATemporaryBtree) {
  open().reset();
  store::Database db(path_, SQLITE_OPEN_READWRITE);
  EXPECT_FALSE(usesTemporaryBtree(db, "UPDATE messages SET state = ?1 WHERE seq = ?2"));
  EXPECT_FALSE(usesTemporaryBtree(
      db,
      "INSERT INTO messages (id, seq, conv_key, from_addr, to_addr, state, created_at, updated_at) VALUES "
      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
}

TEST_F(MigrationTest, NewerSchemaVersionIsRefused) {
  open().reset();
  int newer = store::latestSchemaVersion() + 5;
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(newer));
  }
  expectRefused("database schema version " + std::to_string(newer) + " is newer than this cpmgw supports (" +
                std::to_string(store::latestSchemaVersion()) + ")");
  EXPECT_EQ(pragma("user_version"), newer);
}

TEST_F(MigrationTest, GarbageFileIsRefused) {
  std::mt19937 rng(7);
  std::string junk(8192, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  std::ofstream(path_, std::ios::binary) << junk;
  expectRefused("not a SQLite database");
}

TEST_F(MigrationTest, ShortTextFileIsRefused) {
  std::ofstream(path_) << "hello\n";
  expectRefused("not a SQLite database");
}

TEST_F(MigrationTest, DatabaseOfAnotherApplicationIsRefused) {
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db.exec("PRAGMA application_id = 1234; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  }
  expectRefused("not a cpmgw store (application_id 0x000004d2)");
}

TEST_F(MigrationTest, DatabaseWithoutApplicationIdButWithTablesIsRefused) {
  {
    store::Database db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db.exec("CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('x');");
  }
  expectRefused("another application");
}

TEST_F(MigrationTest, CorruptDatabaseIsRefused) {
  {
    auto s = open();
    for (int i = 0; i < 200; ++i) {
      Message m;
      m.from = "a";
      m.to = "b" + std::to_string(i);
      m.body = std::string(500, 'x');
      s->enqueue(m, 0, {});
    }
    s->flush();
  }
  // Overwrite 4 KiB in the middle of the file (b-tree pages) with garbage.
  std::string bytes = readBytes(path_);
  ASSERT_GT(bytes.size(), 8u * 4096u);
  std::mt19937 rng(3);
  for (std::size_t i = 4 * 4096; i < 5 * 4096; ++i) bytes[i] = static_cast<char>(rng());
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  std::string before = readBytes(path_);
  EXPECT_THROW(open(), StoreError);
  EXPECT_EQ(readBytes(path_), before);
}

TEST_F(MigrationTest, PathThatIsADirectoryIsRefused) {
  fs::create_directory(path_);
  EXPECT_THROW(open(), StoreError);
}

}  // namespace
}  // namespace cpmgw
