#include "smpp/smpp_adapter.h"

#include <Poco/Logger.h>

#include <chrono>
#include <future>

#include "cpmgw/config.h"
#include "cpmgw/log.h"
#include "cpmgw/text.h"
#include "smpp/smpp_admin.h"

namespace cpmgw::smpp {

SmppAdapter::SmppAdapter(SmppOptions options) : options_(std::move(options)) {
  store_ = std::make_unique<SmppStore>(options_.database);
  accounts_.replaceAll(store_->loadAccounts());
}

SmppAdapter::~SmppAdapter() {
  stop(false);
  engine_.reset();
  if (loop_) loop_->stop();
}

void SmppAdapter::declareConfig(config::Schema& schema) {
  SmppOptions::declareConfig(schema);
}

std::unique_ptr<Adapter> SmppAdapter::create(const config::Config& config) {
  auto options = SmppOptions::from(config);
  try {
    return std::make_unique<SmppAdapter>(std::move(options));
  } catch (const config::ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("[smpp] database: ") + e.what());
  }
}

void SmppAdapter::start(AdapterSink& sink) {
  std::lock_guard lock(mutex_);
  if (state_ != State::Created) return;
  loop_ = std::make_shared<EventLoop>();
  engine_ = std::make_unique<SmppEngine>(options_, loop_, *store_, accounts_, counters_, sink);
  loop_->start("smpp-loop");
  // Listening sockets and binds are set up on the loop; waiting for it makes "listening on" precede "started".
  std::promise<void> started;
  auto* engine = engine_.get();
  loop_->post([engine, &started] {
    engine->start();
    started.set_value();
  });
  started.get_future().wait();
  state_ = State::Running;
  logInformation(Poco::Logger::get("cpmgw.smpp"),
                 "SMPP adapter started: %z account(s), %z SMSC bind(s) configured, store %s", accounts_.all().size(),
                 options_.smscBinds.size(), options_.database);
}

void SmppAdapter::submit(const StoredMessage& message, DeliveryCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::Running) {
      ++queued_;
      auto wrapped = [this, done = std::move(done)](DeliveryOutcome outcome) mutable {
        --queued_;
        done(std::move(outcome));
      };
      auto shared = std::make_shared<decltype(wrapped)>(std::move(wrapped));
      auto* engine = engine_.get();
      // Posting under the lock orders every accepted submit before stop()'s own post.
      if (loop_->post([engine, message, shared] { engine->submit(message, std::move(*shared)); })) return;
      (*shared)(DeliveryOutcome::retry("adapter smpp is stopped"));
      return;
    }
  }
  done(DeliveryOutcome::retry("adapter smpp is stopped"));
}

void SmppAdapter::stop(bool drain) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::Stopped || state_ == State::Stopping) return;
    if (state_ == State::Created) {
      state_ = State::Stopped;
      return;
    }
    state_ = State::Stopping;
  }
  std::promise<void> stopped;
  auto* engine = engine_.get();
  bool posted =
      loop_->post([engine, drain, &stopped] { engine->beginStop(drain, [&stopped] { stopped.set_value(); }); });
  if (posted) stopped.get_future().wait();
  loop_->stop();
  // Receipts and reports queued before the stop are committed, and their reports made, before stop() returns.
  store_->flush();
  std::lock_guard lock(mutex_);
  state_ = State::Stopped;
  Poco::Logger::get("cpmgw.smpp").information("SMPP adapter stopped");
}

AdapterHealth SmppAdapter::health() const {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::Created:
      return {AdapterHealth::State::Starting, {}};
    case State::Stopping:
      return {AdapterHealth::State::Degraded, "stopping"};
    case State::Stopped:
      return {AdapterHealth::State::Stopped, {}};
    case State::Running:
      break;
  }
  return engine_->health();
}

void SmppAdapter::accountChanged(const std::string& systemId) {
  std::lock_guard lock(mutex_);
  if (state_ != State::Running) return;
  auto* engine = engine_.get();
  loop_->post([engine, systemId] { engine->accountChanged(systemId); });
}

Poco::JSON::Object::Ptr SmppAdapter::status() {
  Poco::JSON::Object::Ptr snapshot;
  {
    std::unique_lock lock(mutex_);
    if (state_ == State::Running) {
      auto promise = std::make_shared<std::promise<Poco::JSON::Object::Ptr>>();
      auto future = promise->get_future();
      auto* engine = engine_.get();
      bool posted = loop_->post([engine, promise] { promise->set_value(engine->snapshot()); });
      lock.unlock();
      if (posted && future.wait_for(std::chrono::seconds(5)) == std::future_status::ready) snapshot = future.get();
    }
  }
  if (!snapshot) snapshot = new Poco::JSON::Object;
  auto h = health();
  snapshot->set("name", name_);
  snapshot->set("state", toString(h.state));
  if (!h.detail.empty()) snapshot->set("detail", printable(h.detail));
  snapshot->set("queued", static_cast<Poco::UInt64>(queued_.load()));
  snapshot->set("accounts", static_cast<Poco::UInt64>(accounts_.all().size()));
  try {
    snapshot->set("reassembly_pending", store_->pendingAssemblies());
  } catch (const std::exception&) {
    snapshot->set("reassembly_pending", Poco::Dynamic::Var());
  }
  return snapshot;
}

Poco::Net::HTTPRequestHandler* SmppAdapter::createAdminHandler(const std::vector<std::string>& path,
                                                               const std::shared_ptr<const admin::AdminAuth>& auth) {
  if (path.size() == 2 && path[0] == "adapters" && path[1] == name_) return new SmppStatusHandler(auth, *this);
  if (path.size() == 2 && path[0] == "smpp" && path[1] == "accounts") return new SmppAccountsHandler(auth, *this);
  if (path.size() == 3 && path[0] == "smpp" && path[1] == "accounts")
    return new SmppAccountHandler(auth, path[2], *this);
  return nullptr;
}

}  // namespace cpmgw::smpp
