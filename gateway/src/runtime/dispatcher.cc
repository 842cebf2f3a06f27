#include "runtime/dispatcher.h"

#include <Poco/Logger.h>
#include <pthread.h>

#include <algorithm>
#include <random>

#include "cpmgw/config.h"
#include "cpmgw/log.h"
#include "cpmgw/router.h"
#include "fthttp/ft_interwork.h"

namespace cpmgw {
namespace {
Poco::Logger& logger() {
  static Poco::Logger& logger = Poco::Logger::get("cpmgw.dispatcher");
  return logger;
}
}  // namespace

std::size_t Dispatcher::nextLeaseSize(std::size_t size, std::size_t asked, std::size_t got, std::size_t batch) {
  return std::min(got == asked ? std::max(size * 2, kFirstLease) : kFirstLease, batch);
}

Dispatcher::Dispatcher(Store& store, Options options) : store_(store), options_(options) {}

Dispatcher::~Dispatcher() {
  // Outcome callbacks refer to this object: wait for every one (adapters must answer each submit,
  // and the store completes every write), however long stop()'s deadline was.
  stopThread();
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return idle(); });
}

void Dispatcher::declareConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"dispatcher", "lease_time", Type::Duration, "60s",
              "How long a message handed to an egress stays leased before it is handed out again.", 1000});
  schema.add({"dispatcher", "batch", Type::Int, "32",
              "Most messages leased per round and egress (one store write, which the writes queued behind it wait "
              "for). Rounds start at 8 and double up to this while a backlog fills them.",
              1, 100000});
  schema.add({"dispatcher", "max_in_flight", Type::Int, "256",
              "Per egress: most messages handed out whose outcome is not known yet.", 1, 1000000});
  schema.add(
      {"dispatcher", "retry_base", Type::Duration, "1s", "Delay before the first retry; doubles per attempt.", 1});
  schema.add({"dispatcher", "retry_cap", Type::Duration, "5m", "Longest delay between two attempts.", 1});
  schema.add({"dispatcher", "max_age", Type::Duration, "1d",
              "A message still undelivered this long after it arrived fails instead of being retried.", 1000});
}

Dispatcher::Options Dispatcher::optionsFrom(const config::Config& config) {
  Options o;
  o.leaseMs = config.getDuration("dispatcher.lease_time").count();
  o.batch = static_cast<std::size_t>(config.getInt("dispatcher.batch"));
  o.maxInFlight = static_cast<std::size_t>(config.getInt("dispatcher.max_in_flight"));
  o.retryBaseMs = config.getDuration("dispatcher.retry_base").count();
  o.retryCapMs = config.getDuration("dispatcher.retry_cap").count();
  o.maxAgeMs = config.getDuration("dispatcher.max_age").count();
  return o;
}

std::int64_t Dispatcher::backoffMs(const Options& options, int attempts) {
  std::int64_t delay = options.retryBaseMs;
  for (int i = 0; i < attempts && delay < options.retryCapMs; ++i) delay *= 2;
  return std::min(delay, options.retryCapMs);
}

void Dispatcher::addEgress(Adapter& adapter) {
  egresses_[adapter.name()] = &adapter;
  counters_[adapter.name()] = std::make_unique<EgressCounters>();
  counters_[adapter.name()]->leaseSize = std::min(kFirstLease, options_.batch);
}

const Dispatcher::EgressCounters* Dispatcher::counters(const std::string& egress) const {
  // The admin API is up before the egresses are added.
  if (!started_) return nullptr;
  auto it = counters_.find(egress);
  return it == counters_.end() ? nullptr : it->second.get();
}

void Dispatcher::start() {
  {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
  }
  started_ = true;
  taking_ = true;
  store_.setLeaseSink(this);
}

void Dispatcher::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  cv_.notify_all();  // the loop, and stop() or the destructor waiting for in-flight outcomes
}

void Dispatcher::stopThread() {
  // No more messages straight from enqueue; once this returns none is on its way either.
  if (taking_.exchange(false)) store_.setLeaseSink(nullptr);
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

bool Dispatcher::idle() const {
  return std::all_of(counters_.begin(), counters_.end(), [](auto& c) { return c.second->inFlight.load() == 0; });
}

bool Dispatcher::stop(std::chrono::milliseconds deadline) {
  stopThread();
  // Outcomes still arriving are recorded through the store; wait for them up to the deadline.
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, deadline, [this] { return idle(); });
}

void Dispatcher::run() {
  pthread_setname_np(pthread_self(), "cpmgw-dispatch");
  TimeMs nextRecover = 0;
  std::vector<std::string> names;
  for (auto& [name, adapter] : egresses_) names.push_back(name);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      woken_ = false;
    }
    TimeMs now = nowMs();
    std::size_t handed = 0;
    try {
      if (now >= nextRecover) {
        if (auto n = store_.recover(now)) logger().warning("%z expired leases returned to the queue", n);
        // Messages that never became deliverable (a CPM user who never came back) also end at max_age.
        for (const auto& m : store_.expire(now - options_.maxAgeMs, "expired: not delivered within max_age")) {
          logger().notice("message %s from %s to %s expired undelivered after %d attempts", m.id, m.from, m.to,
                          m.attempts);
          if (auto it = counters_.find(m.egress); it != counters_.end()) ++it->second->failed;
          if (finalHook_) finalHook_(m, DeliveryOutcome::failed("expired: not delivered within max_age"));
        }
        nextRecover = now + std::max<std::int64_t>(options_.leaseMs / 2, 1000);
      }
      handed = dispatchRound(now);
    } catch (const std::exception& e) {
      logger().error("dispatch round failed: %s", std::string(e.what()));
    }
    if (handed > 0) continue;  // more may be due right away
    TimeMs wakeAt = now + options_.pollMs;
    try {
      if (auto due = names.empty() ? std::nullopt : store_.nextDue(names))
        wakeAt = std::min(wakeAt, std::max(*due, now + 1));
    } catch (const std::exception& e) {
      logger().error("reading next due time failed: %s", std::string(e.what()));
    }
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<TimeMs>(wakeAt - nowMs(), 0)),
                 [this] { return woken_ || stopping_; });
  }
}

std::size_t Dispatcher::dispatchRound(TimeMs now) {
  std::size_t handed = 0;
  for (auto& [name, adapter] : egresses_) {
    auto& counters = *counters_[name];
    auto inFlight = static_cast<std::size_t>(counters.inFlight.load());
    if (inFlight >= options_.maxInFlight) continue;
    auto want = std::min(counters.leaseSize, options_.maxInFlight - inFlight);
    counters.backlog = false;
    auto leased = store_.lease(want, now, now + options_.leaseMs, {name});
    if (leased.size() == want) counters.backlog = true;  // more may wait
    counters.leaseSize = nextLeaseSize(counters.leaseSize, want, leased.size(), options_.batch);
    for (auto& message : leased) {
      ++handed;
      ++counters.inFlight;
      handOut(*adapter, counters, std::move(message), now);
    }
  }
  return handed;
}

void Dispatcher::handOut(Adapter& adapter, EgressCounters& counters, StoredMessage message, TimeMs now) {
  if (now - message.createdAt > options_.maxAgeMs) {
    ++counters.failed;
    logger().notice("message %s to %s expired before delivery via %s", message.id, message.to, adapter.name());
    store_.fail(message.id, "expired: older than max_age before delivery", recorded(counters));
    if (finalHook_) finalHook_(message, DeliveryOutcome::failed("expired before delivery"));
    return;
  }
  // A file offered over HTTP cannot reach a non-CPM recipient as XML: it goes as a text with a short link.
  if (adapter.name() != kSipEgress) {
    if (auto sms = fthttp::toSmsLink(message)) static_cast<Message&>(message) = std::move(*sms);
  }
  // The adapter may call back on any thread, also from inside submit(). The callback shares the message
  // rather than copying it: a copy per message is a measurable part of the hand-out.
  auto shared = std::make_shared<const StoredMessage>(std::move(message));
  adapter.submit(
      *shared, [this, shared, &counters](DeliveryOutcome outcome) { complete(*shared, counters, std::move(outcome)); });
}

std::optional<TimeMs> Dispatcher::reserve(const std::string& egress) {
  if (!taking_) return std::nullopt;
  auto it = counters_.find(egress);
  if (it == counters_.end()) return std::nullopt;
  auto& inFlight = it->second->inFlight;
  auto n = inFlight.load();
  do {
    if (n < 0 || static_cast<std::size_t>(n) >= options_.maxInFlight) {
      it->second->backlog = true;  // stored unleased: the next outcome makes room for it
      return std::nullopt;
    }
  } while (!inFlight.compare_exchange_weak(n, n + 1));
  return nowMs() + options_.leaseMs;
}

void Dispatcher::release(const std::string& egress) {
  if (auto it = counters_.find(egress); it != counters_.end()) --it->second->inFlight;
  wake();
}

void Dispatcher::leased(StoredMessage message) {
  auto it = egresses_.find(message.egress);
  if (it == egresses_.end()) return;  // reserve() only counts known egresses
  EgressCounters& counters = *counters_.at(it->first);
  handOut(*it->second, counters, std::move(message), nowMs());
}

std::function<void(WriteResult)> Dispatcher::recorded(EgressCounters& counters, bool rescheduled) {
  return [this, &counters, rescheduled](WriteResult r) {
    bool ok = r.status == WriteResult::Status::Ok;
    if (!ok && r.status != WriteResult::Status::Conflict) logger().error("recording an outcome failed: %s", r.error);
    bool last = --counters.inFlight == 0;
    // Most messages are leased as they are stored: a round after every outcome would mostly find nothing.
    // One is worth it when a message may now be due: the conversation's next one became its head, one
    // waits for the room this outcome made, or a retry set a new due time (or the write did not go as
    // expected).
    if (!ok || rescheduled || r.nextHead || counters.backlog) {
      wake();
    } else if (last) {
      std::lock_guard lock(mutex_);
      cv_.notify_all();  // stop() waits for the last outcome
    }
  };
}

void Dispatcher::complete(const StoredMessage& message, EgressCounters& counters, DeliveryOutcome outcome) {
  auto done = recorded(counters);
  TimeMs now = nowMs();
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::Delivered:
      ++counters.delivered;
      logDebug(logger(), "message %s delivered to %s via %s", message.id, message.to, message.egress);
      store_.ack(message.id, outcome.reason.empty() ? "delivered" : outcome.reason, outcome.externalIds, done);
      if (finalHook_) finalHook_(message, outcome);
      return;
    case DeliveryOutcome::Kind::RetryAfter: {
      std::int64_t delay = outcome.retryAfterMs;
      if (delay <= 0) {
        // +-10 % jitter spreads the retries of messages that failed together.
        thread_local std::minstd_rand rng{std::random_device{}()};
        delay = backoffMs(options_, message.attempts);
        delay +=
            static_cast<std::int64_t>(static_cast<double>(delay) * (static_cast<double>(rng() % 201) - 100) / 1000);
      }
      // A retry that could only happen after max_age is no retry: fail now and say why.
      if (now + delay - message.createdAt > options_.maxAgeMs) {
        ++counters.failed;
        logger().notice("message %s to %s failed after %d attempts, max_age reached: %s", message.id, message.to,
                        message.attempts + 1, outcome.reason);
        store_.fail(message.id, "expired after retries: " + outcome.reason, done);
        if (finalHook_) finalHook_(message, DeliveryOutcome::failed("expired after retries: " + outcome.reason));
        return;
      }
      ++counters.retried;
      logInformation(logger(), "message %s to %s via %s: retry in %?dms: %s", message.id, message.to, message.egress,
                     delay, outcome.reason);
      store_.nack(message.id, now + delay, outcome.reason, recorded(counters, true));
      return;
    }
    case DeliveryOutcome::Kind::Failed:
      ++counters.failed;
      logger().notice("message %s to %s failed via %s: %s", message.id, message.to, message.egress, outcome.reason);
      store_.fail(message.id, outcome.reason, done);
      if (finalHook_) finalHook_(message, outcome);
      return;
  }
}

}  // namespace cpmgw
