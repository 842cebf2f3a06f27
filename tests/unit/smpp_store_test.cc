// smpp.db: accounts, durable reassembly with tombstones, receipt correlation across parts, receipts to ESMEs.
#include "smpp/smpp_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <future>

namespace cpmgw::smpp {
namespace {

class SmppStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir =
        std::filesystem::path(::testing::TempDir()) / ("smpp-store-" + std::to_string(::getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    path = (dir / "smpp.db").string();
    store = std::make_unique<SmppStore>(path);
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }

  StorePartResult put(int seq, int total = 3, const std::string& key = "esme:e|1|2|r7|3") {
    MoPart p;
    p.assembly = key;
    p.seq = seq;
    p.total = total;
    p.origin = "esme:e";
    p.source = "1";
    p.dest = "2";
    p.payload = "part" + std::to_string(seq);
    p.messageId = "id-" + std::to_string(seq) + "-" + std::to_string(++counter);
    p.arrivedAt = 1000 + seq;
    std::promise<StorePartResult> done;
    store->storePart(p, [&](StorePartResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  ReceiptResult receipt(const std::string& origin, const std::string& id, bool delivered) {
    std::promise<ReceiptResult> done;
    store->applyReceipt(origin, id, delivered, [&](ReceiptResult r) { done.set_value(r); });
    return done.get_future().get();
  }
  std::vector<PendingAssembly> due(std::int64_t now, std::int64_t timeout) {
    std::promise<std::vector<PendingAssembly>> done;
    store->dueAssemblies(now, timeout, [&](std::vector<PendingAssembly> a) { done.set_value(std::move(a)); });
    return done.get_future().get();
  }

  std::filesystem::path dir;
  std::string path;
  std::unique_ptr<SmppStore> store;
  int counter = 0;
};

TEST_F(SmppStoreTest, AccountsAreDurable) {
  Account a;
  a.systemId = "esme1";
  setPassword(a, "pw", 1000);
  a.allowedIps = {"10.0.0.0/8", "::1"};
  a.numberPrefixes = {"tel:+4477"};
  a.tps = 50;
  a.maxBinds = 2;
  store->putAccount(a);
  store.reset();
  store = std::make_unique<SmppStore>(path);
  auto all = store->loadAccounts();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].allowedIps, a.allowedIps);
  EXPECT_EQ(all[0].numberPrefixes, a.numberPrefixes);
  EXPECT_EQ(all[0].tps, 50);
  EXPECT_TRUE(verifyPassword(all[0], "pw"));
  EXPECT_TRUE(store->deleteAccount("esme1"));
  EXPECT_FALSE(store->deleteAccount("esme1"));
  EXPECT_TRUE(store->loadAccounts().empty());
}

TEST_F(SmppStoreTest, PartsInAnyOrderCompleteOnceAndRepeatsAreRecognised) {
  auto r3 = put(3);
  EXPECT_TRUE(r3.ok);
  EXPECT_FALSE(r3.complete);
  EXPECT_FALSE(r3.duplicate);
  auto again = put(3);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.messageId, r3.messageId) << "a resent part gets the id it was given the first time";
  EXPECT_FALSE(put(1).complete);
  auto last = put(2);
  ASSERT_TRUE(last.complete);
  ASSERT_EQ(last.parts.size(), 3u);
  EXPECT_EQ(last.parts[0].payload, "part1");
  EXPECT_EQ(last.parts[2].payload, "part3");
  // Survives a restart before delivery: the sweep offers the complete message.
  store.reset();
  store = std::make_unique<SmppStore>(path);
  auto pending = due(2000, 100000);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending[0].complete);
  EXPECT_EQ(store->pendingAssemblies(), 1);
  // Delivered: a late repeat of any part is recognised and no new assembly starts.
  std::promise<bool> finished;
  store->finishAssembly("esme:e|1|2|r7|3", 3000, [&](bool ok) { finished.set_value(ok); });
  EXPECT_TRUE(finished.get_future().get());
  auto late = put(1);
  EXPECT_TRUE(late.duplicate);
  EXPECT_FALSE(late.complete);
  EXPECT_TRUE(due(4000, 100000).empty());
  EXPECT_EQ(store->pendingAssemblies(), 0);
  // Tombstones go after the timeout.
  store->sweep(100000, 1000, 1000);
  store->flush();
  EXPECT_FALSE(put(1).duplicate);
}

TEST_F(SmppStoreTest, IncompleteAssembliesAreDueAfterTheTimeout) {
  put(1, 4, "k1");
  put(2, 4, "k1");
  EXPECT_TRUE(due(1500, 1000).empty());
  auto d = due(5000, 1000);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].complete);
  EXPECT_EQ(d[0].total, 4);
  EXPECT_EQ(d[0].parts.size(), 2u);
}

TEST_F(SmppStoreTest, ReportComesWhenEveryPartIsFinal) {
  store->recordSmscId("op", "1000", "msg-a", 0, 2, 1);
  store->recordSmscId("op", "1001", "msg-a", 1, 2, 1);
  auto first = receipt("op", "1000", true);
  EXPECT_TRUE(first.matched);
  EXPECT_EQ(first.messageId, "msg-a");
  EXPECT_TRUE(first.finalStatus.empty());
  auto second = receipt("op", "1001", true);
  EXPECT_EQ(second.finalStatus, "delivered");
  EXPECT_FALSE(receipt("op", "1001", true).matched) << "one report only: the rows are gone";
  // One failed part fails the message.
  store->recordSmscId("op", "2000", "msg-b", 0, 2, 1);
  store->recordSmscId("op", "2001", "msg-b", 1, 2, 1);
  EXPECT_TRUE(receipt("op", "2000", false).finalStatus.empty());
  EXPECT_EQ(receipt("op", "2001", true).finalStatus, "failed");
  // Origins are separate.
  store->recordSmscId("op", "3000", "msg-c", 0, 1, 1);
  EXPECT_FALSE(receipt("other", "3000", true).matched);
  EXPECT_EQ(receipt("op", "3000", true).finalStatus, "delivered");
}

TEST_F(SmppStoreTest, ReceiptIdsMatchAcrossHexAndDecimalAndLeadingZeros) {
  store->recordSmscId("op", "1A2B", "hex", 0, 1, 1);
  EXPECT_EQ(receipt("op", "6699", true).messageId, "hex");
  store->recordSmscId("op", "6699", "dec", 0, 1, 1);
  EXPECT_EQ(receipt("op", "1a2b", true).messageId, "dec");
  store->recordSmscId("op", "000123", "zeros", 0, 1, 1);
  EXPECT_EQ(receipt("op", "123", true).messageId, "zeros");
  EXPECT_EQ(canonicalSmscId(" 00AbC "), "abc");
  EXPECT_EQ(canonicalSmscId("000"), "0");
  EXPECT_EQ(smscIdVariants("255"), (std::vector<std::string>{"255", "ff", "597"}));
  EXPECT_EQ(smscIdVariants("xyz"), (std::vector<std::string>{"xyz"}));
}

TEST_F(SmppStoreTest, DroppedMessagesAndOldRowsGo) {
  store->recordSmscId("op", "1", "gone", 0, 1, 1);
  store->dropMessage("gone");
  store->flush();
  EXPECT_FALSE(receipt("op", "1", true).matched);
  store->recordSmscId("op", "2", "old", 0, 1, 1);
  store->sweep(10'000, 5'000, 5'000);
  store->flush();
  EXPECT_FALSE(receipt("op", "2", true).matched);
}

TEST_F(SmppStoreTest, MoReportsAreKeptForTheEsmeReceipt) {
  MoReport r;
  r.messageId = "gw-1";
  r.systemId = "esme1";
  r.senderIds = "a,b";
  r.registeredDelivery = 1;
  r.source = "15550100";
  r.sourceTon = 1;
  r.dest = "15550199";
  r.submittedAt = 42;
  r.text = "hello";
  store->recordMoReport(r);
  std::promise<std::optional<MoReport>> found;
  store->findMoReport("gw-1", [&](std::optional<MoReport> x) { found.set_value(x); });
  auto got = found.get_future().get();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->senderIds, "a,b");
  EXPECT_EQ(got->sourceTon, 1);
  EXPECT_EQ(got->text, "hello");
  store->deleteMoReport("gw-1");
  std::promise<std::optional<MoReport>> gone;
  store->findMoReport("gw-1", [&](std::optional<MoReport> x) { gone.set_value(x); });
  EXPECT_FALSE(gone.get_future().get());
}

TEST_F(SmppStoreTest, RefusesFilesThatAreNotItsOwn) {
  store.reset();
  std::string other = (dir / "other.db").string();
  sqlite3* db = nullptr;
  sqlite3_open(other.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE foreign_table (x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THROW(SmppStore s(other), std::runtime_error);
  std::string newer = (dir / "newer.db").string();
  sqlite3_open(newer.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THROW(SmppStore s(newer), std::runtime_error);
  std::string garbage = (dir / "garbage.db").string();
  {
    FILE* f = std::fopen(garbage.c_str(), "wb");
    std::fputs("this is not a database, not at all, not even close to one", f);
    std::fclose(f);
  }
  EXPECT_THROW(SmppStore s(garbage), std::runtime_error);
}

}  // namespace
}  // namespace cpmgw::smpp
