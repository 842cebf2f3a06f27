// An in-process adapter that stands in for a non-CPM network: every submitted message is "delivered"
// and comes straight back as an inbound message from its recipient to its sender, so both directions
// of interworking can be tested without a peer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "cpmgw/adapter.h"

namespace cpmgw {

class LoopbackAdapter final : public Adapter {
 public:
  struct Options {
    std::string name = "loopback";
    bool echo = true;                 // send each delivered message back as an inbound one
    std::string failPrefix;           // recipients starting with this fail permanently (tests)
    std::string retryPrefix;          // recipients starting with this ask for a retry (tests)
    bool deliveryReports = true;      // report "delivered" for each delivered message
  };
  explicit LoopbackAdapter(Options options);
  ~LoopbackAdapter() override;

  static void declareConfig(config::Schema& schema);
  static std::unique_ptr<Adapter> create(const config::Config& config);

  const std::string& name() const override { return options_.name; }
  void start(AdapterSink& sink) override;
  void submit(const StoredMessage& message, DeliveryCallback done) override;
  void stop(bool drain) override;
  std::size_t queued() const override;
  AdapterHealth health() const override;

 private:
  struct Job {
    StoredMessage message;
    DeliveryCallback done;
  };
  void run();
  void process(Job& job);

  Options options_;
  AdapterSink* sink_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::size_t inFlight_ = 0;
  bool stopping_ = false;
  bool drain_ = true;
  std::atomic<AdapterHealth::State> state_{AdapterHealth::State::Starting};
  std::thread worker_;
};

}  // namespace cpmgw
