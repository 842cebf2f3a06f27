// The contract every non-CPM adapter (SMPP, MM7, loopback, ...) implements.
//
// An adapter MUST:
//  - accept submit(message, done) without blocking the calling thread;
//  - call `done` exactly once for every submitted message with delivered / retry-after / failed(reason),
//    from any thread, also when it is stopped with work still in flight (then: retry-after);
//  - deliver inbound messages and reports only through the AdapterSink given to start();
//  - acknowledge an inbound message to its peer only after the sink's `accepted` callback said Stored or
//    Duplicate (that is when the message is durable);
//  - on stop(drain): stop taking work, then finish (drain=true) or hand back (drain=false) in-flight work,
//    and return only when no callback into the core can happen any more;
//  - report queued() and health() from any thread.
// An adapter MAY: split and reassemble (SMS segments), transcode (GSM 7 / UCS-2, media adaptation),
// answer submit() with retry-after to ask for throttling, serve admin resources (createAdminHandler).
//
// Adapters are created from configuration by type name through the explicit factory list in
// adapters/registry.cc: a new adapter is one folder plus one line there.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpmgw/message.h"
#include "cpmgw/store.h"

namespace Poco::Net {
class HTTPRequestHandler;
}  // namespace Poco::Net

namespace cpmgw {

namespace admin {
struct AdminAuth;
}  // namespace admin

namespace config {
class Schema;
class Config;
}  // namespace config

// The core, as an adapter sees it. Thread-safe.
class AdapterSink {
 public:
  virtual ~AdapterSink() = default;
  // A message received from the adapter's peer, for the core to route and store.
  virtual void inbound(Message message, std::function<void(EnqueueResult)> accepted) = 0;
  // A delivery report for a message this gateway sent through the adapter.
  virtual void report(Report report) = 0;
};

struct AdapterHealth {
  enum class State { Starting, Up, Degraded, Down, Stopped };
  State state = State::Starting;
  std::string detail;
};
std::string toString(AdapterHealth::State s);

using DeliveryCallback = std::function<void(DeliveryOutcome)>;

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual const std::string& name() const = 0;  // the egress name routing decisions use
  virtual void start(AdapterSink& sink) = 0;
  virtual void submit(const StoredMessage& message, DeliveryCallback done) = 0;
  virtual void stop(bool drain) = 0;
  virtual std::size_t queued() const = 0;  // submitted, `done` not yet called
  virtual AdapterHealth health() const = 0;
  // MAY: serve admin resources of its own. `path` holds the segments after /v1 (e.g. {"smpp", "accounts"}); return
  // nullptr for a path that is not the adapter's. Handlers derive from admin::ResourceHandler (admin/resource_handler.h),
  // which authenticates with `auth`. Called on admin API threads.
  virtual Poco::Net::HTTPRequestHandler* createAdminHandler(const std::vector<std::string>& path,
                                                             const std::shared_ptr<const admin::AdminAuth>& auth) {
    (void)path;
    (void)auth;
    return nullptr;
  }
};

struct AdapterFactory {
  std::string type;  // also the config section the adapter reads ([loopback], [smpp], ...)
  void (*declareConfig)(config::Schema& schema);
  std::unique_ptr<Adapter> (*create)(const config::Config& config);
};

// Every adapter type this build knows, in a fixed order.
const std::vector<AdapterFactory>& adapterFactories();
// Declares every adapter's configuration keys.
void declareAdapterConfig(config::Schema& schema);
// Creates the adapters named in [adapters] enabled. Throws config::ConfigError for an unknown name.
std::vector<std::unique_ptr<Adapter>> createAdapters(const config::Config& config);

}  // namespace cpmgw
