// The FT file store over a temporary directory: metadata, tokens, quota, sweeping, and refusing files it
// does not understand.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fthttp/file_store.h"

namespace cpmgw::fthttp {
namespace {

namespace fs = std::filesystem;

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cpmgw-ftstore-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  FileStore& open(std::uint64_t quota = 0) {
    store_.reset();
    store_ = FileStore::open({dir_, quota, 0});
    return *store_;
  }
  FileRecord upload(const std::string& tid, const std::string& owner = "", std::uint64_t size = 10, TimeMs until = 0) {
    FileRecord r;
    r.id = newMessageId();
    r.owner = owner;
    r.tid = tid;
    r.fileName = "f.txt";
    r.contentType = "text/plain";
    r.peer = "127.0.0.1:1";
    r.createdAt = nowMs();
    r.until = until ? until : r.createdAt + 60'000;
    r.deleteAfter = r.until + 1000;
    store_->create(r);
    std::ofstream(store_->filePath(r.id)) << std::string(size, 'x');
    EXPECT_TRUE(store_->complete(r.id, size));
    return *store_->get(r.id);
  }

  std::string dir_;
  std::unique_ptr<FileStore> store_;
};

TEST_F(FileStoreTest, RecordsUploadsAndFindsThemByTidAndToken) {
  auto& s = open();
  auto r = upload("tid-1", "sip:alice@localhost", 10);
  EXPECT_EQ(r.state, FileState::Complete);
  EXPECT_EQ(r.size, 10u);
  EXPECT_EQ(s.findByTid("sip:alice@localhost", "tid-1")->id, r.id);
  EXPECT_FALSE(s.findByTid("", "tid-1"));  // tids are per owner
  for (auto part : {TokenPart::File, TokenPart::Thumbnail, TokenPart::Upload}) {
    std::string token = s.token(r.id, part);
    EXPECT_GE(token.size(), 22u);  // >= 128 bits in base64url
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    auto m = s.findByToken(token);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->record.id, r.id);
    EXPECT_EQ(m->part, part);
  }
  EXPECT_NE(s.token(r.id, TokenPart::File), s.token(r.id, TokenPart::Upload));
  EXPECT_FALSE(s.findByToken("nonsense"));
  EXPECT_FALSE(s.findByToken(""));
  std::string almost = s.token(r.id, TokenPart::File);
  almost.back() = almost.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(s.findByToken(almost));
  auto history = s.history(r.id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].event, "uploading");
  EXPECT_EQ(history[1].event, "complete");
}

TEST_F(FileStoreTest, ADuplicateTidOfTheSameOwnerIsRefused) {
  open();
  upload("tid-1", "sip:alice@localhost");
  EXPECT_THROW(upload("tid-1", "sip:alice@localhost"), FileStoreError);
  EXPECT_NO_THROW(upload("tid-1", "sip:bob@localhost"));
}

TEST_F(FileStoreTest, ProgressResponsesAndDownloadsAreInTheHistory) {
  auto& s = open();
  FileRecord r;
  r.id = newMessageId();
  r.tid = "t";
  r.fileName = "a";
  r.contentType = "a/b";
  r.createdAt = nowMs();
  r.until = r.createdAt + 1000;
  r.deleteAfter = r.until;
  s.create(r);
  s.recordProgress(r.id, 5, "interrupted", "connection lost");
  EXPECT_EQ(s.get(r.id)->size, 5u);
  EXPECT_EQ(s.get(r.id)->state, FileState::Uploading);
  s.setExpected(r.id, 9, "sha-256:ab");
  s.setExpected(r.id, std::nullopt, "");  // keeps what was set
  EXPECT_EQ(s.get(r.id)->expectedSize, 9u);
  EXPECT_EQ(s.get(r.id)->expectedHash, "sha-256:ab");
  s.setThumbnail(r.id, "image/png", 3);
  EXPECT_TRUE(s.get(r.id)->hasThumbnail);
  EXPECT_TRUE(s.complete(r.id, 9));
  s.markDownloaded(r.id, "by 127.0.0.1");
  s.markDownloaded(r.id, "by 127.0.0.2");  // only the first is written
  EXPECT_TRUE(s.recordResponse(r.id, false, "tel:+15550100"));
  EXPECT_FALSE(s.recordResponse(newMessageId(), true, ""));
  auto rec = s.get(r.id);
  EXPECT_EQ(rec->response, "rejected");
  EXPECT_EQ(rec->responseBy, "tel:+15550100");
  EXPECT_GT(rec->downloadedAt, 0);
  std::vector<std::string> events;
  for (const auto& e : s.history(r.id)) events.push_back(e.event);
  EXPECT_EQ(events, (std::vector<std::string>{"uploading", "interrupted", "complete", "downloaded", "rejected"}));
}

TEST_F(FileStoreTest, ListsWithFiltersAndCursor) {
  auto& s = open();
  for (int i = 0; i < 5; ++i) upload("t" + std::to_string(i), i % 2 ? "sip:a@x" : "sip:b@x");
  EXPECT_EQ(s.list({}).size(), 5u);
  EXPECT_EQ(s.list({std::string("sip:a@x"), std::nullopt, 0, 100}).size(), 2u);
  EXPECT_EQ(s.list({std::nullopt, FileState::Uploading, 0, 100}).size(), 0u);
  auto first = s.list({std::nullopt, std::nullopt, 0, 3});
  ASSERT_EQ(first.size(), 3u);
  auto rest = s.list({std::nullopt, std::nullopt, first.back().seq, 3});
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(s.usage(std::nullopt).files, 5u);
  EXPECT_EQ(s.usage(std::string("sip:b@x")).bytes, 30u);
}

TEST_F(FileStoreTest, QuotaReservationsCountEveryUploadOfTheOwner) {
  auto& s = open(100);
  upload("t", "sip:a@x", 40);
  {
    FileStore::Reservation one(s, "sip:a@x");
    EXPECT_TRUE(one.grow(30));
    FileStore::Reservation two(s, "sip:a@x");
    EXPECT_TRUE(two.grow(30));
    EXPECT_FALSE(two.grow(1));  // 40 stored + 30 + 30 held
    FileStore::Reservation other(s, "sip:b@x");
    EXPECT_TRUE(other.grow(100));
    EXPECT_FALSE(other.grow(1));
  }
  FileStore::Reservation again(s, "sip:a@x");
  EXPECT_TRUE(again.grow(60));  // the others were given back
  EXPECT_FALSE(again.grow(1));
}

TEST_F(FileStoreTest, SweepRemovesExpiredFilesAndMetadata) {
  auto& s = open();
  auto old = upload("old", "", 10, nowMs() - 10'000);
  auto fresh = upload("fresh", "", 10);
  std::ofstream(s.thumbnailPath(old.id)) << "t";
  EXPECT_EQ(s.sweep(nowMs()), 1u);
  EXPECT_FALSE(s.get(old.id));
  EXPECT_FALSE(s.findByToken(s.token(old.id, TokenPart::File)));
  EXPECT_FALSE(fs::exists(s.filePath(old.id)));
  EXPECT_FALSE(fs::exists(s.thumbnailPath(old.id)));
  EXPECT_TRUE(s.get(fresh.id));
  EXPECT_TRUE(fs::exists(s.filePath(fresh.id)));
  EXPECT_TRUE(s.remove(fresh.id, "test"));
  EXPECT_FALSE(s.remove(fresh.id, "test"));
  EXPECT_TRUE(s.history(fresh.id).empty());
}

TEST_F(FileStoreTest, ReopensWithTheSameLinksAndRemovesOrphans) {
  open();
  auto r = upload("t", "", 3);
  std::string token = store_->token(r.id, TokenPart::File);
  std::string orphan = store_->directory() + "/" + newMessageId();
  std::string foreign = store_->directory() + "/README";
  std::ofstream(orphan) << "left by a crash";
  std::ofstream(foreign) << "not ours";
  auto& s = open();
  EXPECT_EQ(s.findByToken(token)->record.id, r.id);
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(foreign));
  EXPECT_TRUE(fs::exists(s.filePath(r.id)));
}

TEST_F(FileStoreTest, RefusesALostKeyWhileFilesExist) {
  open();
  upload("t");
  store_.reset();
  fs::remove(fs::path(dir_) / "fthttp.key");
  EXPECT_THROW(open(), FileStoreError);
}

TEST_F(FileStoreTest, RefusesForeignCorruptAndNewerDatabases) {
  std::string db = (fs::path(dir_) / "files.db").string();
  std::ofstream(db) << "this is not a database at all, just text";
  EXPECT_THROW(open(), FileStoreError);
  fs::remove(db);
  open();
  store_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  try {
    open();
    FAIL() << "a newer schema was accepted";
  } catch (const FileStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "CREATE TABLE other (x)", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  EXPECT_THROW(open(), FileStoreError);
}

}  // namespace
}  // namespace cpmgw::fthttp
