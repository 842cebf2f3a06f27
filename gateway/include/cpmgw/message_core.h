// The core every ingress hands messages to: normalise, route, store durably, then answer.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "cpmgw/adapter.h"
#include "cpmgw/router.h"
#include "cpmgw/store.h"

namespace cpmgw {

struct SubmitResult {
  enum class Status {
    Accepted,    // durable: the sender may be acknowledged
    Duplicate,   // already stored earlier (same external id): acknowledge again, nothing new stored
    Invalid,     // the message itself is wrong (bad address, empty recipient)
    NoRoute,     // the router rejected it
    Overloaded,  // too many writes pending: ask the sender to retry later
    Error,       // the store failed
  };
  Status status = Status::Error;
  std::string id;
  std::string reason;
  bool acceptable() const { return status == Status::Accepted || status == Status::Duplicate; }
};

class MessageCore : public AdapterSink {
 public:
  // `wake` is called (from the store's sync thread) after a message becomes due, so the dispatcher
  // can lease it without waiting for its next poll.
  MessageCore(Store& store, Router router, std::size_t maxPendingWrites, std::function<void()> wake);

  // Thread-safe. `done` runs exactly once: after the commit for Accepted, at once for the rest.
  void submit(Message message, std::function<void(SubmitResult)> done);

  // AdapterSink
  void inbound(Message message, std::function<void(EnqueueResult)> accepted) override;
  // A report from an adapter (an SMS delivery receipt): recorded on the original message, and sent on to
  // its sender as an IMDN when the sender asked for one.
  void report(Report report) override;

  // The dispatcher's word that a message reached a final state at its egress. A sender who asked for a
  // negative-delivery report on a failure gets one; one who asked for positive-delivery gets one when a CPM
  // device took the message and network delivery reports are on (for other egresses, their report decides).
  void finalOutcome(const StoredMessage& message, const DeliveryOutcome& outcome);
  void setNetworkDeliveryReports(bool on) { networkDeliveryReports_ = on; }

  // Tells the dispatcher that something became due outside submit() (an admin retry).
  void wakeDispatcher() const {
    if (wake_) wake_();
  }
  std::size_t pendingWrites() const { return pending_.load(); }
  const Router& router() const { return router_; }

 private:
  Store& store_;
  Router router_;
  std::size_t maxPending_;
  std::function<void()> wake_;
  void sendReport(const StoredMessage& original, const std::string& status, const std::string& detail);

  std::atomic<std::size_t> pending_{0};
  bool networkDeliveryReports_ = true;
};

}  // namespace cpmgw
