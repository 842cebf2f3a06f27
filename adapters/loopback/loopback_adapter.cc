#include "loopback/loopback_adapter.h"

#include <Poco/Logger.h>

#include "cpmgw/config.h"

namespace cpmgw {

LoopbackAdapter::LoopbackAdapter(Options options) : options_(std::move(options)) {}

LoopbackAdapter::~LoopbackAdapter() { stop(false); }

void LoopbackAdapter::declareConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"loopback", "echo", Type::Bool, "true",
              "Send every delivered message back as an inbound message from its recipient to its sender."});
  schema.add({"loopback", "delivery_reports", Type::Bool, "true", "Report each delivered message as delivered."});
  schema.add({"loopback", "fail_prefix", Type::String, "",
              "Recipients starting with this prefix fail permanently (for testing failure paths)."});
  schema.add({"loopback", "retry_prefix", Type::String, "",
              "Recipients starting with this prefix are answered retry-later (for testing back-off)."});
}

std::unique_ptr<Adapter> LoopbackAdapter::create(const config::Config& config) {
  Options o;
  o.echo = config.getBool("loopback.echo");
  o.deliveryReports = config.getBool("loopback.delivery_reports");
  o.failPrefix = config.getString("loopback.fail_prefix");
  o.retryPrefix = config.getString("loopback.retry_prefix");
  return std::make_unique<LoopbackAdapter>(std::move(o));
}

void LoopbackAdapter::start(AdapterSink& sink) {
  std::lock_guard lock(mutex_);
  if (worker_.joinable()) return;
  sink_ = &sink;
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
  state_ = AdapterHealth::State::Up;
}

void LoopbackAdapter::submit(const StoredMessage& message, DeliveryCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && worker_.joinable()) {
      jobs_.push_back({message, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(DeliveryOutcome::retry("adapter " + options_.name + " is stopped"));
}

void LoopbackAdapter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty() || (stopping_ && !drain_)) break;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++inFlight_;
    lock.unlock();
    process(job);
    lock.lock();
    --inFlight_;
  }
  // Hand back what was not processed (stop without drain): the dispatcher retries it later.
  auto left = std::move(jobs_);
  jobs_.clear();
  lock.unlock();
  for (auto& job : left) job.done(DeliveryOutcome::retry("adapter " + options_.name + " stopped"));
}

void LoopbackAdapter::process(Job& job) {
  const auto& m = job.message;
  if (!options_.failPrefix.empty() && m.to.rfind(options_.failPrefix, 0) == 0) {
    job.done(DeliveryOutcome::failed("recipient refused by loopback"));
    return;
  }
  if (!options_.retryPrefix.empty() && m.to.rfind(options_.retryPrefix, 0) == 0) {
    job.done(DeliveryOutcome::retry("loopback asks to retry later"));
    return;
  }
  auto outcome = DeliveryOutcome::delivered("delivered by loopback");
  outcome.externalIds.push_back({"loopback", m.id});
  job.done(std::move(outcome));
  if (options_.deliveryReports) sink_->report({m.id, {}, "delivered", "loopback"});
  // Never echo an echo: with a route back into this adapter two echoes would ping-pong for ever.
  if (!options_.echo || m.ingress == options_.name) return;
  Message echo;
  echo.from = m.to;
  echo.to = m.from;
  echo.contentType = m.contentType;
  echo.body = m.body;
  echo.ingress = options_.name;
  echo.attributes["loopback.echo_of"] = m.id;
  // The echo's identity is derived from the original, so a re-delivery after a crash is a duplicate.
  echo.externalIds.push_back({"loopback.echo", m.id});
  auto original = m.id;
  sink_->inbound(std::move(echo), [original](EnqueueResult r) {
    if (r.status == EnqueueResult::Status::Error)
      Poco::Logger::get("cpmgw.loopback").error("echo of message %s not accepted: %s", original, r.error);
  });
}

void LoopbackAdapter::stop(bool drain) {
  std::thread worker;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    drain_ = drain;
    worker = std::move(worker_);
    cv_.notify_all();
  }
  if (worker.joinable()) worker.join();
  state_ = AdapterHealth::State::Stopped;
}

std::size_t LoopbackAdapter::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size() + inFlight_;
}

AdapterHealth LoopbackAdapter::health() const { return {state_.load(), {}}; }

}  // namespace cpmgw
