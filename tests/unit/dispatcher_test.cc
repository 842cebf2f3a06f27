// The dispatcher over a real store in a temporary directory, with a scripted egress.
#include "runtime/dispatcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

namespace cpmgw {
namespace {

// An egress whose answers the test decides: it keeps every callback until the test releases it.
class ScriptedEgress : public Adapter {
 public:
  const std::string& name() const override { return name_; }
  void start(AdapterSink&) override {}
  void submit(const StoredMessage& m, DeliveryCallback done) override {
    std::lock_guard lock(mutex_);
    pending_.emplace_back(m, std::move(done));
    cv_.notify_all();
  }
  void stop(bool) override {}
  std::size_t queued() const override {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  AdapterHealth health() const override { return {AdapterHealth::State::Up, {}}; }

  // Waits until at least n submissions are pending (bounded).
  bool waitPending(std::size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pending_.size() >= n; });
  }
  // Answers the oldest pending submission.
  StoredMessage answer(DeliveryOutcome outcome) {
    std::unique_lock lock(mutex_);
    auto [m, done] = std::move(pending_.front());
    pending_.erase(pending_.begin());
    lock.unlock();
    done(std::move(outcome));
    return m;
  }

 private:
  std::string name_ = "scripted";
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<StoredMessage, DeliveryCallback>> pending_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cpmgw-dispatch-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Store::Options o;
    o.path = dir_ + "/store.db";
    store_ = Store::open(o);
  }
  void TearDown() override {
    while (egress_.queued() > 0) egress_.answer(DeliveryOutcome::retry("test over"));
    dispatcher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void startDispatcher(Dispatcher::Options o) {
    dispatcher_ = std::make_unique<Dispatcher>(*store_, o);
    dispatcher_->addEgress(egress_);
    dispatcher_->start();
  }
  // Stores a message from alice, without waking the dispatcher: only the store's hand-out or a later
  // wake can deliver it.
  EnqueueResult enqueueQuietly(const std::string& to, TimeMs createdAt = 0) {
    Message m;
    m.from = "sip:alice@localhost";
    m.to = to;
    m.body = "x";
    m.egress = "scripted";
    m.createdAt = createdAt;
    std::promise<EnqueueResult> p;
    store_->enqueue(m, 0, [&p](EnqueueResult r) { p.set_value(r); });
    return p.get_future().get();
  }
  std::string enqueue(const std::string& to, TimeMs createdAt = 0) {
    auto r = enqueueQuietly(to, createdAt);
    EXPECT_EQ(r.status, EnqueueResult::Status::Stored);
    if (dispatcher_) dispatcher_->wake();
    return r.id;
  }
  // Polls the store for a state (bounded): outcomes are recorded asynchronously.
  bool waitState(const std::string& id, MessageState state) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      store_->flush();
      if (auto m = store_->get(id); m && m->state == state) return true;
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  ScriptedEgress egress_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST(Backoff, DoublesUpToTheCapWithoutOverflow) {
  Dispatcher::Options o;
  o.retryBaseMs = 1000;
  o.retryCapMs = 300'000;
  EXPECT_EQ(Dispatcher::backoffMs(o, 0), 1000);
  EXPECT_EQ(Dispatcher::backoffMs(o, 1), 2000);
  EXPECT_EQ(Dispatcher::backoffMs(o, 8), 256'000);
  EXPECT_EQ(Dispatcher::backoffMs(o, 9), 300'000);
  EXPECT_EQ(Dispatcher::backoffMs(o, 1000), 300'000);
  EXPECT_EQ(Dispatcher::backoffMs(o, -1), 1000);
}

TEST(LeaseSize, StartsSmallGrowsWhileABacklogFillsTheRoundsAndFallsBackWhenItIsGone) {
  EXPECT_EQ(Dispatcher::nextLeaseSize(8, 8, 8, 32), 16u);
  EXPECT_EQ(Dispatcher::nextLeaseSize(16, 16, 16, 32), 32u);
  EXPECT_EQ(Dispatcher::nextLeaseSize(32, 32, 32, 32), 32u);  // never beyond [dispatcher] batch
  EXPECT_EQ(Dispatcher::nextLeaseSize(32, 32, 31, 32), 8u);   // the backlog is gone
  EXPECT_EQ(Dispatcher::nextLeaseSize(32, 3, 3, 32), 32u);    // capped by max_in_flight, and all came
  EXPECT_EQ(Dispatcher::nextLeaseSize(8, 8, 0, 32), 8u);
  EXPECT_EQ(Dispatcher::nextLeaseSize(4, 4, 4, 4), 4u);  // a batch below the first size
  EXPECT_EQ(Dispatcher::nextLeaseSize(64, 64, 64, 100), 100u);
}

// The admin API serves before the egresses are added: until the dispatcher starts there are no counters to read.
TEST_F(DispatcherTest, CountersAreReadOnlyOnceStarted) {
  dispatcher_ = std::make_unique<Dispatcher>(*store_, Dispatcher::Options{});
  dispatcher_->addEgress(egress_);
  EXPECT_EQ(dispatcher_->counters("scripted"), nullptr);
  dispatcher_->start();
  ASSERT_NE(dispatcher_->counters("scripted"), nullptr);
  EXPECT_EQ(dispatcher_->counters("scripted")->inFlight.load(), 0);
  EXPECT_EQ(dispatcher_->counters("no-such-egress"), nullptr);
}

TEST_F(DispatcherTest, ABacklogLargerThanTheBatchIsAllHandedOut) {
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(enqueue("tel:+1555011" + std::to_string(i)));
  Dispatcher::Options o;
  o.batch = 32;
  startDispatcher(o);
  ASSERT_TRUE(egress_.waitPending(100));
  for (int i = 0; i < 100; ++i) egress_.answer(DeliveryOutcome::delivered());
  for (const auto& id : ids) EXPECT_TRUE(waitState(id, MessageState::Delivered)) << id;
}

TEST_F(DispatcherTest, DeliveredMessagesAreAcked) {
  startDispatcher({});
  auto id = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  auto outcome = DeliveryOutcome::delivered("ok");
  outcome.externalIds.push_back({"test", "ext-1"});
  egress_.answer(outcome);
  ASSERT_TRUE(waitState(id, MessageState::Delivered));
  EXPECT_EQ(store_->findByExternalId({"test", "ext-1"}), id);
  EXPECT_EQ(dispatcher_->counters("scripted")->delivered.load(), 1);
}

TEST_F(DispatcherTest, RetriesAreScheduledWithBackoffAndJitter) {
  Dispatcher::Options o;
  o.retryBaseMs = 60'000;  // far beyond the test: the message must stay queued
  startDispatcher(o);
  auto id = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  TimeMs before = nowMs();
  egress_.answer(DeliveryOutcome::retry("peer busy"));
  ASSERT_TRUE(waitState(id, MessageState::Queued));
  auto m = store_->get(id);
  EXPECT_EQ(m->lastError, "peer busy");
  EXPECT_GE(m->nextAttemptAt, before + 54'000);
  EXPECT_LE(m->nextAttemptAt, nowMs() + 66'000);
  EXPECT_EQ(dispatcher_->counters("scripted")->retried.load(), 1);
}

TEST_F(DispatcherTest, RetryAfterFromThePeerIsHonoured) {
  startDispatcher({});
  auto id = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  TimeMs before = nowMs();
  egress_.answer(DeliveryOutcome::retry("throttled", 120'000));
  ASSERT_TRUE(waitState(id, MessageState::Queued));
  auto m = store_->get(id);
  EXPECT_GE(m->nextAttemptAt, before + 120'000);
  EXPECT_LE(m->nextAttemptAt, nowMs() + 120'000);
}

TEST_F(DispatcherTest, PermanentFailuresAreRecorded) {
  startDispatcher({});
  auto id = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  egress_.answer(DeliveryOutcome::failed("unknown subscriber"));
  ASSERT_TRUE(waitState(id, MessageState::Failed));
  EXPECT_EQ(store_->get(id)->lastError, "unknown subscriber");
}

TEST_F(DispatcherTest, MessagesOlderThanMaxAgeFailInsteadOfGoingOut) {
  Dispatcher::Options o;
  o.maxAgeMs = 1000;
  auto id = enqueue("tel:+15550100", nowMs() - 5000);
  startDispatcher(o);
  ASSERT_TRUE(waitState(id, MessageState::Failed));
  EXPECT_NE(store_->get(id)->lastError.find("expired"), std::string::npos);
  EXPECT_EQ(egress_.queued(), 0u);
}

TEST_F(DispatcherTest, ARetryThatWouldComeAfterMaxAgeFailsNow) {
  Dispatcher::Options o;
  o.maxAgeMs = 60'000;
  o.retryBaseMs = 5'000;
  auto young = enqueue("tel:+15550100");
  auto old = enqueue("tel:+15550101", nowMs() - 59'000);
  startDispatcher(o);
  ASSERT_TRUE(egress_.waitPending(2));
  egress_.answer(DeliveryOutcome::retry("later"));
  egress_.answer(DeliveryOutcome::retry("later"));
  ASSERT_TRUE(waitState(young, MessageState::Queued));
  ASSERT_TRUE(waitState(old, MessageState::Failed));
  EXPECT_EQ(store_->get(old)->lastError, "expired after retries: later");
}

TEST_F(DispatcherTest, MessagesThatNeverBecameDeliverableExpireWithAReport) {
  Dispatcher::Options o;
  o.maxAgeMs = 60'000;
  std::mutex m;
  std::vector<std::string> reported;
  // Queued for an egress nobody serves (a CPM user who never registers), and already too old.
  Message msg;
  msg.from = "sip:alice@localhost";
  msg.to = "sip:gone@localhost";
  msg.egress = "sip";
  msg.createdAt = nowMs() - 120'000;
  std::promise<EnqueueResult> p;
  store_->enqueue(msg, 0, [&p](EnqueueResult r) { p.set_value(r); });
  auto id = p.get_future().get().id;
  dispatcher_ = std::make_unique<Dispatcher>(*store_, o);
  dispatcher_->addEgress(egress_);
  dispatcher_->setFinalOutcomeHook([&](const StoredMessage& sm, const DeliveryOutcome& outcome) {
    std::lock_guard lock(m);
    if (outcome.kind == DeliveryOutcome::Kind::Failed) reported.push_back(sm.id);
  });
  dispatcher_->start();
  ASSERT_TRUE(waitState(id, MessageState::Failed));
  EXPECT_NE(store_->get(id)->lastError.find("max_age"), std::string::npos);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    std::lock_guard lock(m);
    if (!reported.empty()) break;
  }
  std::lock_guard lock(m);
  EXPECT_EQ(reported, std::vector<std::string>{id});
}

TEST_F(DispatcherTest, InFlightIsBoundedPerEgress) {
  Dispatcher::Options o;
  o.maxInFlight = 3;
  startDispatcher(o);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(enqueue("tel:+1555010" + std::to_string(i)));
  ASSERT_TRUE(egress_.waitPending(3));
  // Give it every chance to exceed the bound: the store is flushed and the dispatcher woken repeatedly.
  for (int i = 0; i < 20; ++i) {
    dispatcher_->wake();
    store_->flush();
    EXPECT_LE(egress_.queued(), 3u);
  }
  for (int delivered = 0; delivered < 10; ++delivered) {
    ASSERT_TRUE(egress_.waitPending(1));
    EXPECT_LE(egress_.queued(), 3u);
    egress_.answer(DeliveryOutcome::delivered());
  }
  for (const auto& id : ids) EXPECT_TRUE(waitState(id, MessageState::Delivered)) << id;
}

TEST_F(DispatcherTest, ConversationOrderIsKeptAcrossRetries) {
  Dispatcher::Options o;
  o.retryBaseMs = 1;
  o.retryCapMs = 1;
  startDispatcher(o);
  auto first = enqueue("tel:+15550100");
  auto second = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  auto m = egress_.answer(DeliveryOutcome::retry("try again"));
  EXPECT_EQ(m.id, first);
  ASSERT_TRUE(egress_.waitPending(1));
  m = egress_.answer(DeliveryOutcome::delivered());
  EXPECT_EQ(m.id, first);  // the first again, not the second
  ASSERT_TRUE(egress_.waitPending(1));
  m = egress_.answer(DeliveryOutcome::delivered());
  EXPECT_EQ(m.id, second);
}

TEST_F(DispatcherTest, AMessageThatCanGoAtOnceIsHandedOutFromTheCommitThatStoresIt) {
  Dispatcher::Options o;
  o.maxInFlight = 1;
  o.pollMs = 600'000;  // no polling round: only the store's hand-out or a wake can deliver
  startDispatcher(o);
  auto first = enqueueQuietly("tel:+15550100");
  EXPECT_TRUE(first.leased);
  ASSERT_TRUE(egress_.waitPending(1));
  auto second = enqueueQuietly("tel:+15550101");  // no room in flight: queued for the dispatcher
  EXPECT_FALSE(second.leased);
  EXPECT_EQ(store_->get(second.id)->state, MessageState::Queued);
  EXPECT_EQ(egress_.answer(DeliveryOutcome::delivered()).id, first.id);
  // Recording the outcome wakes the dispatcher, which leases the queued one.
  ASSERT_TRUE(egress_.waitPending(1));
  EXPECT_EQ(egress_.answer(DeliveryOutcome::delivered()).id, second.id);
  EXPECT_TRUE(waitState(first.id, MessageState::Delivered));
  EXPECT_TRUE(waitState(second.id, MessageState::Delivered));

  // Stopped: enqueues are no longer handed out.
  dispatcher_->stop(std::chrono::seconds(10));
  EXPECT_FALSE(enqueueQuietly("tel:+15550102").leased);
}

TEST_F(DispatcherTest, TheNextMessageOfAConversationGoesAsSoonAsTheOneBeforeItIsDelivered) {
  Dispatcher::Options o;
  o.pollMs = 600'000;  // no polling round: only the store's hand-out or a wake can deliver
  startDispatcher(o);
  auto first = enqueueQuietly("tel:+15550100");
  auto second = enqueueQuietly("tel:+15550100");  // behind the first: stored queued, not handed out
  EXPECT_TRUE(first.leased);
  EXPECT_FALSE(second.leased);
  ASSERT_TRUE(egress_.waitPending(1));
  EXPECT_EQ(egress_.answer(DeliveryOutcome::delivered()).id, first.id);
  // The ack makes the second the conversation's head, and that wakes the dispatcher for it.
  ASSERT_TRUE(egress_.waitPending(1));
  EXPECT_EQ(egress_.answer(DeliveryOutcome::delivered()).id, second.id);
  EXPECT_TRUE(waitState(second.id, MessageState::Delivered));
}

TEST_F(DispatcherTest, StopWaitsForOutcomesInFlight) {
  startDispatcher({});
  auto id = enqueue("tel:+15550100");
  ASSERT_TRUE(egress_.waitPending(1));
  auto answered = std::async(std::launch::async, [&] {
    // Answers while stop() is waiting.
    egress_.answer(DeliveryOutcome::delivered());
  });
  dispatcher_->stop(std::chrono::seconds(10));
  answered.get();
  store_->flush();
  EXPECT_EQ(store_->get(id)->state, MessageState::Delivered);
}

}  // namespace
}  // namespace cpmgw
