#include "cpmgw/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "cpmgw/config.h"

namespace cpmgw {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpmgw-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.path = (fs::path(dir_) / "store.db").string();
    store_ = Store::open(options_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void reopen() {
    store_.reset();
    store_ = Store::open(options_);
  }

  static Message message(const std::string& from, const std::string& to, const std::string& egress = "sms") {
    Message m;
    m.from = from;
    m.to = to;
    m.contentType = "text/plain";
    m.body = "hello " + to;
    m.ingress = "sip";
    m.egress = egress;
    m.decision = "interwork";
    return m;
  }

  EnqueueResult enqueue(Message m, TimeMs dueAt = 0) {
    std::promise<EnqueueResult> done;
    auto result = done.get_future();
    store_->enqueue(std::move(m), dueAt, [&done](EnqueueResult r) { done.set_value(std::move(r)); });
    return result.get();
  }
  std::string enqueueId(Message m, TimeMs dueAt = 0) {
    auto r = enqueue(std::move(m), dueAt);
    EXPECT_EQ(r.status, EnqueueResult::Status::Stored) << r.error;
    return r.id;
  }

  template <class Call>
  static WriteResult wait(Call call) {
    std::promise<WriteResult> done;
    auto result = done.get_future();
    call([&done](WriteResult r) { done.set_value(std::move(r)); });
    return result.get();
  }
  WriteResult ack(const std::string& id, std::vector<ExternalId> ext = {}) {
    return wait([&](auto cb) { store_->ack(id, "delivered ok", ext, cb); });
  }
  WriteResult nack(const std::string& id, TimeMs retryAt, const std::string& detail = "busy") {
    return wait([&](auto cb) { store_->nack(id, retryAt, detail, cb); });
  }
  WriteResult fail(const std::string& id, const std::string& detail = "rejected") {
    return wait([&](auto cb) { store_->fail(id, detail, cb); });
  }
  WriteResult note(const std::string& id, const std::string& detail) {
    return wait([&](auto cb) { store_->note(id, detail, cb); });
  }

  std::vector<std::string> leaseIds(std::size_t n, TimeMs now, const std::vector<std::string>& egresses = {}) {
    std::vector<std::string> ids;
    for (auto& m : store_->lease(n, now, now + 60000, egresses)) ids.push_back(m.id);
    return ids;
  }

  MessageState stateOf(const std::string& id) {
    auto m = store_->get(id);
    EXPECT_TRUE(m.has_value()) << id;
    return m ? m->state : MessageState::Deleted;
  }

  std::string dir_;
  Store::Options options_;
  std::unique_ptr<Store> store_;
};

using Status = WriteResult::Status;

TEST_F(StoreTest, EnqueueThenGetReturnsEveryFieldAndOneHistoryEvent) {
  Message m = message("sip:alice@example.com", "tel:+15551234567");
  m.body = std::string("bin\0ary\xff\x80 body", 15);
  m.fileRef = "ft-1";
  m.externalIds = {{"sip-call-id", "abc@host"}, {"imdn", "m-1"}};
  m.attributes = {{"imdn.disposition", "positive-delivery, display"},
                  {"quote\"back\\slash", "line\nbreak\ttab\x01 ctrl"},
                  {"utf8", "caf\xc3\xa9 \xe2\x82\xac"}};
  TimeMs before = nowMs();
  auto r = enqueue(m);
  ASSERT_EQ(r.status, EnqueueResult::Status::Stored) << r.error;
  ASSERT_EQ(r.id.size(), 32u);  // assigned: newMessageId()

  auto got = store_->get(r.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, r.id);
  EXPECT_EQ(got->from, m.from);
  EXPECT_EQ(got->to, m.to);
  EXPECT_EQ(got->contentType, m.contentType);
  EXPECT_EQ(got->body, m.body);
  EXPECT_EQ(got->fileRef, m.fileRef);
  EXPECT_EQ(got->ingress, m.ingress);
  EXPECT_EQ(got->egress, m.egress);
  EXPECT_EQ(got->decision, m.decision);
  EXPECT_EQ(got->externalIds, m.externalIds);
  EXPECT_EQ(got->attributes, m.attributes);
  EXPECT_GE(got->createdAt, before);
  EXPECT_GT(got->seq, 0);
  EXPECT_EQ(got->state, MessageState::Queued);
  EXPECT_EQ(got->attempts, 0);
  EXPECT_GE(got->nextAttemptAt, before);
  EXPECT_EQ(got->leaseUntil, 0);

  auto events = store_->history(r.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state, MessageState::Queued);
  EXPECT_GE(events[0].at, before);
  EXPECT_EQ(store_->findByExternalId({"imdn", "m-1"}), r.id);
  EXPECT_FALSE(store_->findByExternalId({"imdn", "m-2"}));
  EXPECT_FALSE(store_->get("no-such-id"));
  EXPECT_TRUE(store_->history("no-such-id").empty());
}

TEST_F(StoreTest, CountsTheSyncsThatMakeCommitsDurable) {
  EXPECT_EQ(store_->diskSyncs().syncs, 0u);
  for (int i = 0; i < 3; ++i) enqueueId(message("sip:a@x", "tel:+1555000" + std::to_string(i)));
  auto s = store_->diskSyncs();
  EXPECT_GE(s.syncs, 1u);  // a sync may cover several commits
  EXPECT_LE(s.syncs, 3u);
  EXPECT_GT(s.totalUs, 0);
  EXPECT_GT(s.longestLastMinuteUs, 0);
  EXPECT_LE(s.longestLastMinuteUs, s.totalUs);
  EXPECT_LE(s.slow, s.syncs);
}

TEST_F(StoreTest, WithoutDurableCommitsThereAreNoSyncsToCount) {
  options_.synchronousFull = false;
  reopen();
  enqueueId(message("sip:a@x", "tel:+15550001"));
  EXPECT_EQ(store_->diskSyncs().syncs, 0u);
}

TEST_F(StoreTest, KeepsGivenIdCreatedAtAndDueTimeAcrossReopen) {
  Message m = message("a", "b");
  m.id = "given-id";
  m.createdAt = 1234;
  m.body.clear();
  ASSERT_EQ(enqueueId(m, 5000), "given-id");
  reopen();
  auto got = store_->get("given-id");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->createdAt, 1234);
  EXPECT_EQ(got->nextAttemptAt, 5000);
  EXPECT_EQ(got->body, "");
}

TEST_F(StoreTest, DuplicateExternalIdReturnsExistingIdAndWritesNothing) {
  Message first = message("a", "b");
  first.externalIds = {{"smpp", "42"}};
  std::string id = enqueueId(first);

  Message again = message("a", "b");
  again.id = "second";
  again.externalIds = {{"other", "x"}, {"smpp", "42"}};
  auto r = enqueue(again);
  EXPECT_EQ(r.status, EnqueueResult::Status::Duplicate);
  EXPECT_EQ(r.id, id);
  EXPECT_FALSE(store_->get("second"));
  EXPECT_FALSE(store_->findByExternalId({"other", "x"}));
  EXPECT_TRUE(store_->history("second").empty());
}

TEST_F(StoreTest, FailingOperationDoesNotRollBackOthersInTheBatch) {
  Message taken = message("a", "b");
  taken.id = "taken";
  enqueueId(taken);

  // Submitted back to back so that they usually share one transaction; correct either way.
  std::vector<std::future<EnqueueResult>> results;
  std::vector<std::shared_ptr<std::promise<EnqueueResult>>> promises;
  for (int i = 0; i < 50; ++i) {
    Message m = message("a", "c" + std::to_string(i));
    if (i == 25) m.id = "taken";  // primary key conflict
    auto p = std::make_shared<std::promise<EnqueueResult>>();
    results.push_back(p->get_future());
    store_->enqueue(m, 0, [p](EnqueueResult r) { p->set_value(std::move(r)); });
  }
  for (int i = 0; i < 50; ++i) {
    auto r = results[i].get();
    if (i == 25) {
      EXPECT_EQ(r.status, EnqueueResult::Status::Error);
      EXPECT_NE(r.error.find("UNIQUE"), std::string::npos) << r.error;
    } else {
      ASSERT_EQ(r.status, EnqueueResult::Status::Stored) << r.error;
      EXPECT_TRUE(store_->get(r.id));
    }
  }
  EXPECT_EQ(store_->get("taken")->to, "b");
}

TEST_F(StoreTest, LeaseKeepsOrderWithinAConversationOnly) {
  TimeMs now = nowMs() + 1000;
  std::string a1 = enqueueId(message("sip:a", "tel:1"));
  std::string a2 = enqueueId(message("sip:a", "tel:1"));
  std::string a3 = enqueueId(message("sip:a", "tel:1"));
  std::string b1 = enqueueId(message("sip:a", "tel:2"));
  std::string c1 = enqueueId(message("sip:c", "tel:1"));

  EXPECT_EQ(leaseIds(10, now), (std::vector<std::string>{a1, b1, c1}));
  EXPECT_TRUE(leaseIds(10, now).empty());  // a2 waits behind the leased a1

  // A retry keeps a1 at the head: a2 stays blocked.
  ASSERT_EQ(nack(a1, now).status, Status::Ok);
  EXPECT_EQ(leaseIds(10, now), (std::vector<std::string>{a1}));

  // An ack or a failure says when it made the conversation's next message its head.
  auto acked = ack(a1);
  ASSERT_EQ(acked.status, Status::Ok);
  EXPECT_TRUE(acked.nextHead);
  EXPECT_EQ(leaseIds(10, now), (std::vector<std::string>{a2}));
  auto failed = fail(a2);
  ASSERT_EQ(failed.status, Status::Ok);
  EXPECT_TRUE(failed.nextHead);
  EXPECT_EQ(leaseIds(10, now), (std::vector<std::string>{a3}));
  EXPECT_FALSE(ack(b1).nextHead);  // nothing behind it
  EXPECT_EQ(stateOf(a1), MessageState::Delivered);
  EXPECT_EQ(stateOf(a2), MessageState::Failed);
  EXPECT_EQ(stateOf(a3), MessageState::Leased);
  EXPECT_EQ(stateOf(b1), MessageState::Delivered);
}

TEST_F(StoreTest, LeaseReturnsLeasedMessagesWithHistory) {
  Message m = message("a", "b");
  m.externalIds = {{"sip-call-id", "x1"}};
  std::string id = enqueueId(m);
  TimeMs now = nowMs() + 10;
  auto leased = store_->lease(5, now, now + 30000, {});
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].id, id);
  EXPECT_EQ(leased[0].state, MessageState::Leased);
  EXPECT_EQ(leased[0].leaseUntil, now + 30000);
  EXPECT_EQ(leased[0].body, m.body);
  EXPECT_EQ(leased[0].externalIds, m.externalIds);
  auto got = store_->get(id);
  EXPECT_EQ(got->state, MessageState::Leased);
  EXPECT_EQ(got->leaseUntil, now + 30000);
  auto events = store_->history(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state, MessageState::Leased);
  EXPECT_EQ(events[1].detail, "leased");
  EXPECT_EQ(events[1].at, now);
}

// A sink that reserves room for `room` messages of egress "sms" and records what it is handed.
class RecordingSink : public LeaseSink {
 public:
  // `onReserve` runs first in every reserve(), on the writer thread.
  explicit RecordingSink(int room, std::function<void()> onReserve = {})
      : room_(room), onReserve_(std::move(onReserve)) {}
  std::optional<TimeMs> reserve(const std::string& egress) override {
    if (onReserve_) onReserve_();
    std::lock_guard lock(mutex_);
    if (egress != "sms" || room_ == 0) return std::nullopt;
    --room_;
    ++reserved_;
    return TimeMs{4'000'000'000'000};
  }
  void release(const std::string&) override {
    std::lock_guard lock(mutex_);
    ++room_;
    --reserved_;
  }
  void leased(StoredMessage m) override {
    std::lock_guard lock(mutex_);
    handed_.push_back(std::move(m));
  }
  std::vector<StoredMessage> handed() {
    std::lock_guard lock(mutex_);
    return handed_;
  }
  int reserved() {
    std::lock_guard lock(mutex_);
    return reserved_;
  }

 private:
  std::mutex mutex_;
  int room_;
  std::function<void()> onReserve_;
  int reserved_ = 0;
  std::vector<StoredMessage> handed_;
};

TEST_F(StoreTest, EnqueueLeasesADueConversationHeadToTheSinkAfterTheCommit) {
  RecordingSink sink(2);
  store_->setLeaseSink(&sink);
  Message m = message("a", "1");
  m.externalIds = {{"sip-call-id", "c1"}};
  auto first = enqueue(m);
  ASSERT_EQ(first.status, EnqueueResult::Status::Stored);
  EXPECT_TRUE(first.leased);
  auto second = enqueue(message("a", "1"));  // behind the first of its conversation: stays queued
  EXPECT_FALSE(second.leased);
  auto later = enqueue(message("a", "2"), nowMs() + 60000);  // not due yet
  EXPECT_FALSE(later.leased);
  auto other = enqueue(message("a", "3", "sip"));  // the sink has no room for this egress
  EXPECT_FALSE(other.leased);
  auto dup = enqueue(m);  // a duplicate reserves nothing that stays reserved
  EXPECT_EQ(dup.status, EnqueueResult::Status::Duplicate);
  store_->flush();

  auto handed = sink.handed();
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(sink.reserved(), 1);
  EXPECT_EQ(handed[0].id, first.id);
  EXPECT_EQ(handed[0].state, MessageState::Leased);
  EXPECT_EQ(handed[0].leaseUntil, 4'000'000'000'000);
  EXPECT_EQ(handed[0].body, m.body);
  EXPECT_EQ(handed[0].externalIds, m.externalIds);
  EXPECT_GT(handed[0].seq, 0);
  auto stored = store_->get(first.id);
  EXPECT_EQ(stored->state, MessageState::Leased);
  EXPECT_EQ(stored->seq, handed[0].seq);
  auto events = store_->history(first.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].detail, "enqueued");
  EXPECT_EQ(events[1].state, MessageState::Leased);
  EXPECT_EQ(stateOf(second.id), MessageState::Queued);

  // The leased head is finished like any lease; its conversation moves on through lease().
  ASSERT_EQ(ack(first.id).status, Status::Ok);
  EXPECT_EQ(leaseIds(10, nowMs() + 10, {"sms"}), (std::vector<std::string>{second.id}));

  // Detached: nothing more is handed out, and a crash (reopen) returns leases to the queue.
  store_->setLeaseSink(nullptr);
  auto detached = enqueue(message("a", "4"));
  EXPECT_FALSE(detached.leased);
  EXPECT_EQ(sink.handed().size(), 1u);
}

TEST_F(StoreTest, AReservationIsReleasedWhenTheEnqueueFails) {
  RecordingSink sink(5);
  store_->setLeaseSink(&sink);
  Message taken = message("x", "y");
  taken.id = "taken";
  ASSERT_TRUE(enqueue(taken).leased);
  Message clash = message("a", "1");
  clash.id = "taken";  // primary key conflict after the reservation
  EXPECT_EQ(enqueue(clash).status, EnqueueResult::Status::Error);
  store_->flush();
  EXPECT_EQ(sink.reserved(), 1);
  EXPECT_EQ(sink.handed().size(), 1u);
  store_->setLeaseSink(nullptr);
  reopen();
  EXPECT_EQ(store_->recover(0), 1u);  // the sink's lease did not outlive the process
  EXPECT_EQ(stateOf("taken"), MessageState::Queued);
}

TEST_F(StoreTest, ABatchRunAgainAfterAFailedOperationKeepsOneReservationPerMessage) {
  Message taken = message("x", "y");
  taken.id = "taken";
  enqueueId(taken);
  // The first reservation holds the writer until the next two enqueues are pending, so that those two
  // share one batch: the second fails, the batch is rolled back and runs again with savepoints.
  std::promise<void> entered, gate;
  auto open = gate.get_future().share();
  bool first = true;
  RecordingSink sink(5, [&] {
    if (!std::exchange(first, false)) return;
    entered.set_value();
    open.wait();
  });
  store_->setLeaseSink(&sink);
  std::promise<EnqueueResult> holder, kept, clashed;
  store_->enqueue(message("p", "q"), 0, [&](EnqueueResult r) { holder.set_value(std::move(r)); });
  entered.get_future().wait();
  Message clash = message("a", "2");
  clash.id = "taken";
  store_->enqueue(message("a", "1"), 0, [&](EnqueueResult r) { kept.set_value(std::move(r)); });
  store_->enqueue(clash, 0, [&](EnqueueResult r) { clashed.set_value(std::move(r)); });
  gate.set_value();

  EXPECT_TRUE(holder.get_future().get().leased);
  auto k = kept.get_future().get();
  EXPECT_EQ(k.status, EnqueueResult::Status::Stored);
  EXPECT_TRUE(k.leased);
  auto c = clashed.get_future().get();
  EXPECT_EQ(c.status, EnqueueResult::Status::Error);
  EXPECT_NE(c.error.find("UNIQUE"), std::string::npos) << c.error;
  store_->flush();
  EXPECT_EQ(sink.reserved(), 2);
  ASSERT_EQ(sink.handed().size(), 2u);
  EXPECT_EQ(sink.handed()[1].id, k.id);
  EXPECT_EQ(stateOf(k.id), MessageState::Leased);
  EXPECT_EQ(store_->get("taken")->to, "y");
  store_->setLeaseSink(nullptr);
}

TEST_F(StoreTest, LeaseRespectsDueTimeEgressFilterAndCount) {
  const TimeMs t = 1'000'000;
  std::string late = enqueueId(message("a", "1", "sms"), t + 500);
  std::string mms = enqueueId(message("a", "2", "mms"), t);
  std::string sms1 = enqueueId(message("a", "3", "sms"), t - 10);
  std::string sms2 = enqueueId(message("a", "4", "sms"), t);
  std::string sip = enqueueId(message("a", "5", "sip"), t);

  EXPECT_TRUE(leaseIds(10, t - 11).empty());
  EXPECT_EQ(leaseIds(1, t, {"sms"}), (std::vector<std::string>{sms1}));  // earliest due first
  EXPECT_EQ(leaseIds(10, t, {"sms", "sip"}), (std::vector<std::string>{sms2, sip}));
  EXPECT_EQ(leaseIds(10, t, {"mms"}), (std::vector<std::string>{mms}));
  EXPECT_TRUE(leaseIds(10, t, {}).empty());
  EXPECT_TRUE(leaseIds(10, t + 499).empty());
  EXPECT_EQ(leaseIds(10, t + 500), (std::vector<std::string>{late}));
  EXPECT_TRUE(store_->lease(0, t + 1000, t + 2000, {}).empty());
}

TEST_F(StoreTest, ExpiredLeasesAreRecovered) {
  const TimeMs t = nowMs() + 1000;
  std::string a = enqueueId(message("a", "1"));
  std::string b = enqueueId(message("a", "2"));
  ASSERT_EQ(store_->lease(1, t, t + 100, {}).size(), 1u);
  ASSERT_EQ(store_->lease(1, t, t + 5000, {}).size(), 1u);

  EXPECT_EQ(store_->recover(t + 100), 0u);  // not expired yet: expiry is strictly before now
  EXPECT_EQ(store_->recover(t + 101), 1u);
  EXPECT_EQ(stateOf(a), MessageState::Queued);
  EXPECT_EQ(stateOf(b), MessageState::Leased);
  auto events = store_->history(a);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].state, MessageState::Queued);
  EXPECT_EQ(events[2].detail, "lease expired");
  EXPECT_EQ(events[2].at, t + 101);

  // A late ack of the expired lease is a conflict: the message is queued again.
  EXPECT_EQ(ack(a).status, Status::Conflict);

  // At start-up every lease is stale.
  EXPECT_EQ(store_->recover(0), 1u);
  EXPECT_EQ(stateOf(b), MessageState::Queued);
  EXPECT_EQ(store_->recover(0), 0u);
  EXPECT_EQ(leaseIds(10, t).size(), 2u);
}

TEST_F(StoreTest, NackBacksOffUntilRetryTime) {
  const TimeMs t = nowMs() + 1000;
  std::string id = enqueueId(message("a", "b"));
  ASSERT_EQ(leaseIds(1, t).size(), 1u);
  ASSERT_EQ(nack(id, t + 10000, "SMSC throttled").status, Status::Ok);

  auto got = store_->get(id);
  EXPECT_EQ(got->state, MessageState::Queued);
  EXPECT_EQ(got->attempts, 1);
  EXPECT_EQ(got->nextAttemptAt, t + 10000);
  EXPECT_EQ(got->lastError, "SMSC throttled");
  EXPECT_EQ(got->leaseUntil, 0);
  EXPECT_EQ(store_->nextDue({}), t + 10000);

  EXPECT_TRUE(leaseIds(1, t + 9999).empty());
  EXPECT_EQ(leaseIds(1, t + 10000), (std::vector<std::string>{id}));
  ASSERT_EQ(ack(id).status, Status::Ok);
  got = store_->get(id);
  EXPECT_EQ(got->state, MessageState::Delivered);
  EXPECT_EQ(got->attempts, 2);
  auto events = store_->history(id);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[2].state, MessageState::Queued);
  EXPECT_EQ(events[2].detail, "SMSC throttled");
  EXPECT_EQ(events[4].state, MessageState::Delivered);
  EXPECT_EQ(events[4].detail, "delivered ok");
}

TEST_F(StoreTest, OutcomesOnWrongStateConflictAndUnknownIdIsNotFound) {
  const TimeMs t = nowMs() + 1000;
  std::string id = enqueueId(message("a", "b"));
  EXPECT_EQ(ack(id).status, Status::Conflict);
  EXPECT_EQ(nack(id, t).status, Status::Conflict);
  EXPECT_EQ(fail(id).status, Status::Conflict);
  EXPECT_EQ(ack("unknown").status, Status::NotFound);
  EXPECT_EQ(nack("unknown", t).status, Status::NotFound);
  EXPECT_EQ(fail("unknown").status, Status::NotFound);
  EXPECT_EQ(note("unknown", "x").status, Status::NotFound);
  EXPECT_EQ(store_->retry("unknown", "x").status, Status::NotFound);
  EXPECT_EQ(store_->remove("unknown", "x").status, Status::NotFound);

  ASSERT_EQ(leaseIds(1, t).size(), 1u);
  EXPECT_EQ(store_->retry(id, "admin").status, Status::Conflict);
  EXPECT_EQ(store_->remove(id, "admin").status, Status::Conflict);
  ASSERT_EQ(ack(id).status, Status::Ok);
  EXPECT_EQ(ack(id).status, Status::Conflict);
  EXPECT_EQ(fail(id).status, Status::Conflict);
  EXPECT_EQ(store_->retry(id, "admin").status, Status::Conflict);
  EXPECT_EQ(store_->remove(id, "admin").status, Status::Conflict);
  EXPECT_EQ(stateOf(id), MessageState::Delivered);
}

TEST_F(StoreTest, RetryAndRemoveFollowTheirStateRules) {
  std::string queued = enqueueId(message("a", "1"), nowMs() + 3'600'000);
  std::string failed = enqueueId(message("a", "2"));
  const TimeMs t = nowMs() + 1000;
  ASSERT_EQ(leaseIds(10, t), (std::vector<std::string>{failed}));
  ASSERT_EQ(fail(failed, "unknown subscriber").status, Status::Ok);
  auto got = store_->get(failed);
  EXPECT_EQ(got->state, MessageState::Failed);
  EXPECT_EQ(got->lastError, "unknown subscriber");

  // retry: a queued message becomes due now, a failed one is queued again and due now.
  TimeMs before = nowMs();
  EXPECT_EQ(store_->retry(queued, "admin retry").status, Status::Ok);
  EXPECT_LE(store_->get(queued)->nextAttemptAt, nowMs());
  EXPECT_GE(store_->get(queued)->nextAttemptAt, before);
  EXPECT_EQ(store_->retry(failed, "admin retry").status, Status::Ok);
  EXPECT_EQ(stateOf(failed), MessageState::Queued);
  EXPECT_EQ(store_->history(failed).back().detail, "admin retry");

  // remove: queued and failed messages are deleted with their body; deleting twice conflicts.
  ASSERT_EQ(leaseIds(10, t), (std::vector<std::string>{queued, failed}));
  ASSERT_EQ(fail(failed).status, Status::Ok);
  ASSERT_EQ(nack(queued, t).status, Status::Ok);
  EXPECT_EQ(store_->remove(queued, "admin delete").status, Status::Ok);
  EXPECT_EQ(store_->remove(failed, "admin delete").status, Status::Ok);
  for (const auto& id : {queued, failed}) {
    got = store_->get(id);
    EXPECT_EQ(got->state, MessageState::Deleted);
    EXPECT_EQ(got->body, "");
    EXPECT_EQ(store_->history(id).back().state, MessageState::Deleted);
    EXPECT_EQ(store_->remove(id, "again").status, Status::Conflict);
    EXPECT_EQ(store_->retry(id, "again").status, Status::Conflict);
    EXPECT_EQ(ack(id).status, Status::Conflict);
    EXPECT_EQ(nack(id, t).status, Status::Conflict);
    EXPECT_EQ(fail(id).status, Status::Conflict);
  }
  EXPECT_TRUE(leaseIds(10, t).empty());
}

TEST_F(StoreTest, RemovingOrRetryingMovesTheConversationHead) {
  const TimeMs t = nowMs() + 1000;
  std::string a1 = enqueueId(message("a", "b"));
  std::string a2 = enqueueId(message("a", "b"));
  std::string a3 = enqueueId(message("a", "b"));
  ASSERT_EQ(leaseIds(10, t), (std::vector<std::string>{a1}));
  ASSERT_EQ(fail(a1).status, Status::Ok);
  // Removing the queued head lets the next one through.
  ASSERT_EQ(store_->remove(a2, "admin").status, Status::Ok);
  // Retrying the older failed message puts it back in front of a3.
  ASSERT_EQ(store_->retry(a1, "admin").status, Status::Ok);
  EXPECT_EQ(leaseIds(10, t), (std::vector<std::string>{a1}));
  EXPECT_EQ(store_->nextDue({}), std::nullopt);
  ASSERT_EQ(ack(a1).status, Status::Ok);
  EXPECT_EQ(leaseIds(10, t), (std::vector<std::string>{a3}));
}

TEST_F(StoreTest, AckRecordsExternalIdsAndIgnoresTakenOnes) {
  const TimeMs t = nowMs() + 1000;
  Message other = message("x", "y");
  other.externalIds = {{"smpp", "taken"}};
  std::string otherId = enqueueId(other);
  std::string id = enqueueId(message("a", "b"));
  ASSERT_EQ(leaseIds(10, t).size(), 2u);
  ASSERT_EQ(ack(id, {{"smpp", "taken"}, {"smpp", "77"}, {"smpp", "78"}}).status, Status::Ok);
  EXPECT_EQ(store_->findByExternalId({"smpp", "77"}), id);
  EXPECT_EQ(store_->findByExternalId({"smpp", "78"}), id);
  EXPECT_EQ(store_->findByExternalId({"smpp", "taken"}), otherId);
  EXPECT_EQ(store_->get(id)->externalIds, (std::vector<ExternalId>{{"smpp", "77"}, {"smpp", "78"}}));
}

TEST_F(StoreTest, NoteAddsHistoryWithTheCurrentState) {
  std::string id = enqueueId(message("a", "b"));
  ASSERT_EQ(note(id, "IMDN displayed").status, Status::Ok);
  auto events = store_->history(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state, MessageState::Queued);
  EXPECT_EQ(events[1].detail, "IMDN displayed");
  EXPECT_EQ(stateOf(id), MessageState::Queued);
}

TEST_F(StoreTest, ListFiltersAndPagesWithACursor) {
  const TimeMs t = nowMs() + 1000;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(enqueueId(message("from", i % 2 ? "tel:odd" : "tel:even", i < 5 ? "sms" : "mms")));
  // Deliver the first of each conversation.
  auto leased = leaseIds(10, t);
  ASSERT_EQ(leased.size(), 2u);  // one head per (from, to) pair
  for (const auto& id : leased) ASSERT_EQ(ack(id).status, Status::Ok);

  auto all = store_->list({});
  ASSERT_EQ(all.size(), 10u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, ids[i]);
    if (i > 0) {
      EXPECT_GT(all[i].seq, all[i - 1].seq);
    }
  }

  MessageFilter delivered;
  delivered.state = MessageState::Delivered;
  auto d = store_->list(delivered);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].id, ids[0]);
  EXPECT_EQ(d[1].id, ids[1]);

  MessageFilter odd;
  odd.to = "tel:odd";
  EXPECT_EQ(store_->list(odd).size(), 5u);
  MessageFilter mmsOdd;
  mmsOdd.to = "tel:odd";
  mmsOdd.egress = "mms";
  mmsOdd.state = MessageState::Queued;
  auto mo = store_->list(mmsOdd);
  ASSERT_EQ(mo.size(), 3u);  // 5, 7, 9
  EXPECT_EQ(mo[0].id, ids[5]);

  MessageFilter page;
  page.limit = 3;
  std::vector<std::string> seen;
  for (;;) {
    auto chunk = store_->list(page);
    if (chunk.empty()) break;
    EXPECT_LE(chunk.size(), 3u);
    for (const auto& m : chunk) seen.push_back(m.id);
    page.afterSeq = chunk.back().seq;
  }
  EXPECT_EQ(seen, ids);
  page.limit = 0;
  page.afterSeq = 0;
  EXPECT_TRUE(store_->list(page).empty());
}

TEST_F(StoreTest, QueueDepthsCountQueuedAndLeasedPerEgress) {
  const TimeMs t = nowMs() + 1000;
  EXPECT_TRUE(store_->queueDepths().empty());
  enqueueId(message("a", "1", "sms"));
  enqueueId(message("a", "2", "sms"));
  enqueueId(message("a", "3", "mms"));
  std::string done = enqueueId(message("a", "4", "sip"));
  ASSERT_EQ(leaseIds(1, t, {"sms"}).size(), 1u);
  ASSERT_EQ(leaseIds(1, t, {"sip"}).size(), 1u);
  ASSERT_EQ(ack(done).status, Status::Ok);

  auto depths = store_->queueDepths();
  ASSERT_EQ(depths.size(), 2u);
  EXPECT_EQ(depths[0].egress, "mms");
  EXPECT_EQ(depths[0].queued, 1);
  EXPECT_EQ(depths[0].leased, 0);
  EXPECT_EQ(depths[1].egress, "sms");
  EXPECT_EQ(depths[1].queued, 1);
  EXPECT_EQ(depths[1].leased, 1);
}

TEST_F(StoreTest, NextDueIsTheEarliestLeasableMessage) {
  EXPECT_EQ(store_->nextDue({}), std::nullopt);
  enqueueId(message("a", "1", "sms"), 5000);
  enqueueId(message("a", "2", "mms"), 3000);
  enqueueId(message("a", "1", "sms"), 1000);  // behind the first of its pair: not leasable yet
  EXPECT_EQ(store_->nextDue({}), 3000);
  EXPECT_EQ(store_->nextDue({"sms"}), 5000);
  EXPECT_EQ(store_->nextDue({"sms", "mms"}), 3000);
  EXPECT_EQ(store_->nextDue({"sip"}), std::nullopt);
}

TEST_F(StoreTest, CheckpointsCopyTheWalIntoTheDatabaseAndKeepItBounded) {
  // A 16 MiB cycle (8,000 frames of 2 KiB pages), and 96 MiB of bodies in many commits: far beyond the
  // point (32 MiB) where the writer copies whatever the checkpointer left and the WAL starts again from
  // its beginning.
  options_.walCycleFrames = 8000;
  reopen();
  const std::string body(64 * 1024, 'w');
  std::atomic<int> stored{0};
  for (int i = 0; i < 1536; ++i) {
    Message m = message("sip:a", "tel:" + std::to_string(i));
    m.body = body;
    store_->enqueue(std::move(m), 0, [&stored](EnqueueResult r) {
      if (r.status == EnqueueResult::Status::Stored) ++stored;
    });
    if (i % 64 == 63) store_->flush();  // many commits, as under steady load
  }
  store_->flush();
  EXPECT_EQ(stored.load(), 1536);
  // 32 MiB, plus the commit that takes it there: up to 64 bodies of 64 KiB each (4 MiB). The writer's copy
  // waits for a checkpointer's pass rather than skip it, so slow passes (a loaded machine) add nothing. A WAL
  // that never started again would hold all 96 MiB.
  auto wal = fs::file_size(options_.path + "-wal");
  EXPECT_LT(wal, 40u << 20) << "the WAL keeps growing instead of starting again";
  EXPECT_GT(fs::file_size(options_.path), 32u << 20) << "checkpoints copy nothing into the database";
}

TEST_F(StoreTest, GroupCommitCompletesEveryCallbackExactlyOnce) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 200;
  constexpr int kTotal = kThreads * kPerThread;
  std::mutex mutex;
  std::condition_variable allDone;
  std::map<std::string, int> calls;
  int stored = 0;
  int completed = 0;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Message m = message("sip:p" + std::to_string(t), "tel:" + std::to_string(i % 7));
        m.id = std::to_string(t) + "-" + std::to_string(i);
        m.externalIds = {{"test", m.id}};
        store_->enqueue(m, 0, [&](EnqueueResult r) {
          std::lock_guard lock(mutex);
          ++calls[r.id];
          if (r.status == EnqueueResult::Status::Stored) ++stored;
          if (++completed == kTotal) allDone.notify_all();
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mutex);
    allDone.wait(lock, [&] { return completed == kTotal; });
  }
  store_->flush();
  std::lock_guard lock(mutex);
  EXPECT_EQ(completed, kTotal);  // no callback fired twice
  EXPECT_EQ(stored, kTotal);
  ASSERT_EQ(calls.size(), static_cast<std::size_t>(kTotal));
  for (const auto& [id, n] : calls) ASSERT_EQ(n, 1) << id;

  MessageFilter all;
  all.limit = kTotal + 1;
  auto listed = store_->list(all);
  ASSERT_EQ(listed.size(), static_cast<std::size_t>(kTotal));
  std::set<std::string> ids;
  for (const auto& m : listed) ids.insert(m.id);
  for (const auto& [id, n] : calls) EXPECT_TRUE(ids.count(id)) << id;
}

TEST_F(StoreTest, DestructionCommitsPendingWritesAndRunsTheirCallbacks) {
  std::atomic<int> completed{0};
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    Message m = message("a", "b");
    m.id = "m" + std::to_string(i);
    store_->enqueue(m, 0, [&](EnqueueResult r) {
      if (r.status == EnqueueResult::Status::Stored) ++completed;
    });
  }
  store_.reset();
  EXPECT_EQ(completed.load(), kCount);
  store_ = Store::open(options_);
  EXPECT_TRUE(store_->get("m0"));
  EXPECT_TRUE(store_->get("m" + std::to_string(kCount - 1)));
}

TEST_F(StoreTest, AFailedSyncFailsTheOperationsAndRefusesLaterWritesUntilReopened) {
  // The WAL is synced through a descriptor of its own, opened at the first sync: with the file gone
  // from the directory that open fails, as a failed fdatasync would, and nothing may be acknowledged.
  ASSERT_TRUE(fs::remove(options_.path + "-wal"));
  auto first = enqueue(message("a", "1"));
  EXPECT_EQ(first.status, EnqueueResult::Status::Error);
  EXPECT_NE(first.error.find("cannot sync"), std::string::npos) << first.error;
  auto later = enqueue(message("a", "2"));
  EXPECT_EQ(later.status, EnqueueResult::Status::Error);
  EXPECT_NE(later.error.find("refused until restart"), std::string::npos) << later.error;
  EXPECT_THROW(store_->flush(), StoreError);

  reopen();
  EXPECT_EQ(enqueue(message("a", "3")).status, EnqueueResult::Status::Stored);
}

TEST_F(StoreTest, WritesQueuedByCallbacksDuringShutdownAreCommittedToo) {
  // The store is closed right after the first enqueue: its callback queues a second write while the
  // store is draining, which must commit and complete all the same.
  std::promise<EnqueueResult> second;
  auto result = second.get_future();
  std::string firstId;
  Store* store = store_.get();
  store->enqueue(message("a", "1"), 0, [&](EnqueueResult r) {
    firstId = r.id;
    store->enqueue(message("a", "2"), 0, [&](EnqueueResult r2) { second.set_value(std::move(r2)); });
  });
  store_.reset();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto r = result.get();
  EXPECT_EQ(r.status, EnqueueResult::Status::Stored) << r.error;
  reopen();
  EXPECT_TRUE(store_->get(firstId));
  EXPECT_TRUE(store_->get(r.id));
}

TEST_F(StoreTest, CallbacksMayQueueWritesButNotWaitForThem) {
  std::promise<std::string> outcome;
  store_->enqueue(message("a", "b"), 0, [&](EnqueueResult r) {
    // Asynchronous writes from a callback are fine...
    store_->note(r.id, "noted from callback", {});
    // ...a synchronous one would wait for this very thread.
    try {
      store_->flush();
      outcome.set_value("no error");
    } catch (const std::logic_error& e) {
      outcome.set_value(r.id);
    }
  });
  std::string id = outcome.get_future().get();
  ASSERT_EQ(id.size(), 32u);
  store_->flush();
  auto events = store_->history(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].detail, "noted from callback");
}

TEST_F(StoreTest, StateSurvivesReopen) {
  const TimeMs t = nowMs() + 1000;
  std::string a = enqueueId(message("a", "b"));
  std::string b = enqueueId(message("a", "b"));
  ASSERT_EQ(leaseIds(10, t), (std::vector<std::string>{a}));
  reopen();
  EXPECT_EQ(stateOf(a), MessageState::Leased);
  EXPECT_TRUE(leaseIds(10, t).empty());
  EXPECT_EQ(store_->recover(0), 1u);
  EXPECT_EQ(leaseIds(10, t), (std::vector<std::string>{a}));
  ASSERT_EQ(ack(a).status, Status::Ok);
  EXPECT_EQ(leaseIds(10, t), (std::vector<std::string>{b}));
  // Sequence numbers continue after a reopen.
  std::string c = enqueueId(message("x", "y"));
  EXPECT_GT(store_->get(c)->seq, store_->get(b)->seq);
}

TEST_F(StoreTest, RescheduleBringsForwardQueuedMessagesOfOneRecipientAndEgress) {
  const TimeMs later = nowMs() + 3'600'000;
  std::string deferred1 = enqueueId(message("a", "tel:1", "sip"), later);
  std::string deferred2 = enqueueId(message("b", "tel:1", "sip"), later + 5);
  std::string otherEgress = enqueueId(message("a", "tel:1", "sms"), later);
  std::string otherUser = enqueueId(message("a", "tel:2", "sip"), later);
  std::string alreadyDue = enqueueId(message("c", "tel:1", "sip"), 1000);

  std::promise<std::size_t> done;
  store_->reschedule("tel:1", "sip", 2000, [&](std::size_t n) { done.set_value(n); });
  EXPECT_EQ(done.get_future().get(), 2u);
  EXPECT_EQ(store_->get(deferred1)->nextAttemptAt, 2000);
  EXPECT_EQ(store_->get(deferred2)->nextAttemptAt, 2000);
  EXPECT_EQ(store_->get(otherEgress)->nextAttemptAt, later);
  EXPECT_EQ(store_->get(otherUser)->nextAttemptAt, later);
  EXPECT_EQ(store_->get(alreadyDue)->nextAttemptAt, 1000);  // never pushed back
  EXPECT_EQ(leaseIds(10, 2000, {"sip"}), (std::vector<std::string>{alreadyDue, deferred1, deferred2}));
}

TEST_F(StoreTest, ExpireFailsOldQueuedMessagesAndUnblocksTheirConversations) {
  auto old = [&](const std::string& from, const std::string& to, TimeMs createdAt) {
    Message m = message(from, to);
    m.createdAt = createdAt;
    return enqueueId(m);
  };
  std::string a1 = old("a", "b", 100);
  std::string a2 = old("a", "b", 200);
  std::string a3 = old("a", "b", 5000);
  std::string leased = old("x", "y", 100);
  const TimeMs t = nowMs() + 1000;
  ASSERT_EQ(leaseIds(1, t, {}), (std::vector<std::string>{a1}));
  ASSERT_EQ(nack(a1, t).status, Status::Ok);
  ASSERT_EQ(leaseIds(10, t, {}), (std::vector<std::string>{leased, a1}));  // a1 was due again later
  ASSERT_EQ(nack(a1, t).status, Status::Ok);

  auto expired = store_->expire(1000, "max age reached");
  std::vector<std::string> ids;
  for (const auto& m : expired) {
    ids.push_back(m.id);
    EXPECT_EQ(m.state, MessageState::Failed);
    EXPECT_EQ(m.lastError, "max age reached");
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want{a1, a2};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);  // the leased one is in flight: not expired
  EXPECT_EQ(stateOf(a1), MessageState::Failed);
  EXPECT_EQ(store_->history(a2).back().detail, "max age reached");
  EXPECT_EQ(stateOf(leased), MessageState::Leased);
  EXPECT_EQ(leaseIds(10, t, {}), (std::vector<std::string>{a3}));
}

TEST_F(StoreTest, UsersArePutReplacedRemovedAndKeptAcrossReopen) {
  EXPECT_TRUE(store_->loadUsers().empty());
  UserRecord bob{"sip:bob@example.com", "bob", "example.com", "0123456789abcdef0123456789abcdef", true, 10};
  UserRecord alice{"sip:alice@example.com", "alice", "example.com", "fedcba9876543210fedcba9876543210", true, 11};
  store_->putUser(bob);
  store_->putUser(alice);
  alice.enabled = false;
  alice.updatedAt = 12;
  store_->putUser(alice);  // replaces
  reopen();
  auto users = store_->loadUsers();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].uri, alice.uri);  // ordered by uri
  EXPECT_FALSE(users[0].enabled);
  EXPECT_EQ(users[0].updatedAt, 12);
  EXPECT_EQ(users[1].uri, bob.uri);
  EXPECT_EQ(users[1].ha1, bob.ha1);
  EXPECT_EQ(users[1].authName, "bob");
  EXPECT_EQ(users[1].realm, "example.com");
  EXPECT_TRUE(store_->removeUser(bob.uri));
  EXPECT_FALSE(store_->removeUser(bob.uri));
  ASSERT_EQ(store_->loadUsers().size(), 1u);
}

TEST(StoreConfig, DeclaresTheStoreSectionWithDefaults) {
  config::Schema schema;
  Store::declareConfig(schema);
  ASSERT_NE(schema.find("store", "path"), nullptr);
  EXPECT_EQ(schema.find("store", "path")->type, config::Type::Path);
  auto cfg = config::Config::defaults(schema);
  auto options = Store::optionsFrom(cfg);
  EXPECT_EQ(options.path, "cpmgw.db");
  EXPECT_EQ(options.maxBatch, 1024u);
  EXPECT_EQ(options.readers, 4u);
  EXPECT_TRUE(options.synchronousFull);

  cfg.set("store.path", "/var/lib/cpmgw/queue.db");
  cfg.set("store.max_batch", "64");
  cfg.set("store.readers", "2");
  options = Store::optionsFrom(cfg);
  EXPECT_EQ(options.path, "/var/lib/cpmgw/queue.db");
  EXPECT_EQ(options.maxBatch, 64u);
  EXPECT_EQ(options.readers, 2u);
  EXPECT_THROW(cfg.set("store.max_batch", "0"), config::ConfigError);
  EXPECT_THROW(cfg.set("store.readers", "65"), config::ConfigError);
}

}  // namespace
}  // namespace cpmgw
