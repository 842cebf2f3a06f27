// The Adapter contract (adapters/include/cpmgw/adapter.h), checked for every adapter type in the registry.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "cpmgw/adapter.h"
#include "cpmgw/config.h"

namespace cpmgw {
namespace {

// Records what the adapter hands to the core; accepts every inbound message at once.
class RecordingSink : public AdapterSink {
 public:
  void inbound(Message message, std::function<void(EnqueueResult)> accepted) override {
    {
      std::lock_guard lock(mutex);
      inboundMessages.push_back(message);
    }
    accepted({EnqueueResult::Status::Stored, newMessageId(), {}});
  }
  void report(Report r) override {
    std::lock_guard lock(mutex);
    reports.push_back(r);
  }
  std::mutex mutex;
  std::vector<Message> inboundMessages;
  std::vector<Report> reports;
};

// Counts the `done` calls per message id.
class Outcomes {
 public:
  DeliveryCallback callbackFor(const std::string& id) {
    return [this, id](DeliveryOutcome o) {
      std::lock_guard lock(mutex_);
      calls_[id].push_back(o.kind);
      cv_.notify_all();
    };
  }
  bool waitForAll(std::size_t n, std::chrono::seconds deadline = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return calls_.size() >= n; });
  }
  std::map<std::string, std::vector<DeliveryOutcome::Kind>> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<DeliveryOutcome::Kind>> calls_;
};

StoredMessage sample(int i) {
  StoredMessage m;
  m.id = newMessageId();
  m.from = "sip:alice@localhost";
  m.to = "tel:+1555010" + std::to_string(i % 10);
  m.contentType = "text/plain";
  m.body = "message " + std::to_string(i);
  m.createdAt = nowMs();
  return m;
}

class AdapterConformance : public ::testing::TestWithParam<AdapterFactory> {
 protected:
  std::unique_ptr<Adapter> make() {
    config::Schema schema;
    declareAdapterConfig(schema);
    auto config = config::Config::defaults(schema);
    return GetParam().create(config);
  }
};

TEST_P(AdapterConformance, CallsDoneExactlyOncePerMessage) {
  auto adapter = make();
  RecordingSink sink;
  adapter->start(sink);
  EXPECT_EQ(adapter->name(), GetParam().type);
  Outcomes outcomes;
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) {
    auto m = sample(i);
    adapter->submit(m, outcomes.callbackFor(m.id));
  }
  ASSERT_TRUE(outcomes.waitForAll(kMessages));
  adapter->stop(true);
  auto calls = outcomes.calls();
  EXPECT_EQ(calls.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [id, kinds] : calls) EXPECT_EQ(kinds.size(), 1u) << id;
  EXPECT_EQ(adapter->queued(), 0u);
  EXPECT_EQ(adapter->health().state, AdapterHealth::State::Stopped);
}

TEST_P(AdapterConformance, HandsBackWorkWhenStoppedWithoutDrain) {
  auto adapter = make();
  RecordingSink sink;
  adapter->start(sink);
  Outcomes outcomes;
  constexpr int kMessages = 500;
  for (int i = 0; i < kMessages; ++i) {
    auto m = sample(i);
    adapter->submit(m, outcomes.callbackFor(m.id));
  }
  adapter->stop(false);
  // Everything submitted has its answer by the time stop() returns.
  auto calls = outcomes.calls();
  EXPECT_EQ(calls.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [id, kinds] : calls) EXPECT_EQ(kinds.size(), 1u) << id;
  EXPECT_EQ(adapter->queued(), 0u);
}

TEST_P(AdapterConformance, SubmitAfterStopAsksForARetry) {
  auto adapter = make();
  RecordingSink sink;
  adapter->start(sink);
  adapter->stop(true);
  Outcomes outcomes;
  auto m = sample(1);
  adapter->submit(m, outcomes.callbackFor(m.id));
  ASSERT_TRUE(outcomes.waitForAll(1));
  EXPECT_EQ(outcomes.calls()[m.id], std::vector<DeliveryOutcome::Kind>{DeliveryOutcome::Kind::RetryAfter});
}

TEST_P(AdapterConformance, ReportsHealthAndStopsIdempotently) {
  auto adapter = make();
  RecordingSink sink;
  adapter->start(sink);
  auto state = adapter->health().state;
  EXPECT_TRUE(state == AdapterHealth::State::Up || state == AdapterHealth::State::Starting ||
              state == AdapterHealth::State::Degraded);
  adapter->stop(true);
  adapter->stop(true);
  EXPECT_EQ(adapter->health().state, AdapterHealth::State::Stopped);
}

INSTANTIATE_TEST_SUITE_P(Registry, AdapterConformance, ::testing::ValuesIn(adapterFactories()),
                         [](const ::testing::TestParamInfo<AdapterFactory>& p) { return p.param.type; });

TEST(AdapterRegistry, CreatesWhatIsEnabledAndRefusesUnknownNames) {
  config::Schema schema;
  declareAdapterConfig(schema);
  auto config = config::Config::defaults(schema);
  auto adapters = createAdapters(config);
  ASSERT_EQ(adapters.size(), 1u);
  EXPECT_EQ(adapters[0]->name(), "loopback");
  config.set("adapters.enabled", "loopback, nope");
  EXPECT_THROW(createAdapters(config), config::ConfigError);
  config.set("adapters.enabled", "loopback, loopback");
  EXPECT_THROW(createAdapters(config), config::ConfigError);
}

}  // namespace
}  // namespace cpmgw
