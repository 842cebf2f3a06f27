// Leases due messages from the store and hands each to its egress; records the outcome with back-off.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cpmgw/adapter.h"
#include "cpmgw/store.h"

namespace cpmgw {

namespace config {
class Schema;
class Config;
}  // namespace config

// Also the store's LeaseSink: a message that can go at once reaches its egress from the commit that
// stored it, without a lease round trip.
class Dispatcher final : private LeaseSink {
 public:
  struct Options {
    std::int64_t leaseMs = 60'000;       // how long a handed-out message stays leased
    std::size_t batch = 32;              // most messages leased per round and egress
    std::size_t maxInFlight = 256;       // per egress: submitted, outcome not yet known
    std::int64_t retryBaseMs = 1'000;    // first retry delay; doubles per attempt
    std::int64_t retryCapMs = 300'000;   // longest delay between attempts
    std::int64_t maxAgeMs = 86'400'000;  // a message older than this fails instead of being retried
    std::int64_t pollMs = 1'000;         // longest sleep between rounds when nothing wakes it
  };
  struct EgressCounters {
    std::atomic<std::int64_t> inFlight{0}, delivered{0}, retried{0}, failed{0};
    // A message for this egress may be waiting for room: one was stored unleased because the egress was
    // full, or the last round leased all it asked for.
    std::atomic<bool> backlog{false};
    std::size_t leaseSize = 0;  // what the next lease round asks for (dispatch thread only): nextLeaseSize()
  };

  Dispatcher(Store& store, Options options);
  ~Dispatcher() override;

  static void declareConfig(config::Schema& schema);
  // A lease round is one store write, and the enqueues queued behind it wait for all of it: rounds ask for
  // kFirstLease messages, twice as many after a round that got all it asked for (a backlog), up to `batch`, and
  // kFirstLease again after one that got fewer. `size` is what the last round could ask for, `asked` what it did.
  static constexpr std::size_t kFirstLease = 8;
  static std::size_t nextLeaseSize(std::size_t size, std::size_t asked, std::size_t got, std::size_t batch);
  static Options optionsFrom(const config::Config& config);

  // Before start(): the adapters (or endpoints) that messages are handed to, by egress name.
  void addEgress(Adapter& adapter);
  // Starts the dispatch thread and takes messages straight from the store's enqueues.
  void start();
  // Called (on any thread) for every message that reached a final state: delivered or failed.
  void setFinalOutcomeHook(std::function<void(const StoredMessage&, const DeliveryOutcome&)> hook) {
    finalHook_ = std::move(hook);
  }
  // Makes the dispatcher look for due work now (thread-safe, cheap).
  void wake();
  // Stops leasing, then waits until every submitted message has its outcome recorded or the deadline
  // passes (returns false then; what is still leased is recovered at the next start). The destructor
  // waits for the rest: outcomes arriving later must still find this object.
  bool stop(std::chrono::milliseconds deadline);

  // Delay before attempt number `attempts + 1`, without jitter.
  static std::int64_t backoffMs(const Options& options, int attempts);
  // Any thread, once started (null before: the egresses are still being added, and for an unknown egress).
  const EgressCounters* counters(const std::string& egress) const;

 private:
  void run();
  void stopThread();
  bool idle() const;
  std::size_t dispatchRound(TimeMs now);
  // Hands a leased message, already counted in flight, to its egress (or fails it when too old).
  void handOut(Adapter& adapter, EgressCounters& counters, StoredMessage message, TimeMs now);

  // LeaseSink
  std::optional<TimeMs> reserve(const std::string& egress) override;
  void release(const std::string& egress) override;
  void leased(StoredMessage message) override;
  void complete(const StoredMessage& message, EgressCounters& counters, DeliveryOutcome outcome);
  // The store callback for an outcome's write: the message leaves the in-flight count. A round follows
  // only when a message may be waiting for it (`rescheduled`: the outcome set a new due time).
  std::function<void(WriteResult)> recorded(EgressCounters& counters, bool rescheduled = false);

  Store& store_;
  Options options_;
  std::map<std::string, Adapter*> egresses_;
  std::function<void(const StoredMessage&, const DeliveryOutcome&)> finalHook_;
  std::map<std::string, std::unique_ptr<EgressCounters>> counters_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::atomic<bool> taking_{false};   // reserve() hands out room: between start() and stop()
  std::atomic<bool> started_{false};  // egresses_ and counters_ no longer change
  std::thread thread_;
};

}  // namespace cpmgw
