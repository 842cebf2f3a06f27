// The SMPP 3.4 interworking adapter (egress and ingress "smpp"): CPM messages to SMS and back, in the server role
// (ESMEs and SMSCs bind to us) and the client role (we bind to operator SMSCs), with delivery receipts both ways.
//
// Threads: one event loop (SmppEngine and every socket, see event_loop.h), the SmppStore worker (smpp.db), and a
// helper for password hashing and DNS. submit() posts onto the loop; stop() waits for the loop to finish its work.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "cpmgw/adapter.h"
#include "smpp/smpp_config.h"
#include "smpp/smpp_engine.h"
#include "smpp/smpp_store.h"

namespace cpmgw::smpp {

class SmppAdapter final : public Adapter {
 public:
  // Opens smpp.db and loads the accounts. Throws std::runtime_error when the store cannot be opened.
  explicit SmppAdapter(SmppOptions options);
  ~SmppAdapter() override;

  static void declareConfig(config::Schema& schema);
  static std::unique_ptr<Adapter> create(const config::Config& config);

  const std::string& name() const override { return name_; }
  void start(AdapterSink& sink) override;
  void submit(const StoredMessage& message, DeliveryCallback done) override;
  void stop(bool drain) override;
  std::size_t queued() const override { return queued_.load(); }
  AdapterHealth health() const override;
  Poco::Net::HTTPRequestHandler* createAdminHandler(const std::vector<std::string>& path,
                                                    const std::shared_ptr<const admin::AdminAuth>& auth) override;

  // For the REST handlers (admin threads).
  SmppStore& store() { return *store_; }
  AccountDirectory& accounts() { return accounts_; }
  std::mutex& accountWrites() { return accountWrites_; }
  int passwordIterations() const { return options_.passwordIterations; }
  // An account changed: the loop closes binds it no longer allows.
  void accountChanged(const std::string& systemId);
  // The adapter's state, binds and counters as JSON.
  Poco::JSON::Object::Ptr status();

 private:
  enum class State { Created, Running, Stopping, Stopped };

  std::string name_ = "smpp";
  SmppOptions options_;
  std::unique_ptr<SmppStore> store_;
  AccountDirectory accounts_;
  SmppCounters counters_;
  std::mutex accountWrites_;
  // The loop outlives the engine: sessions unregister from it when they are destroyed.
  std::shared_ptr<EventLoop> loop_;
  std::unique_ptr<SmppEngine> engine_;
  mutable std::mutex mutex_;
  State state_ = State::Created;
  std::atomic<std::size_t> queued_{0};
};

}  // namespace cpmgw::smpp
