// The explicit list of adapter types: a new adapter is one folder plus one line here.
#include <Poco/String.h>

#include "cpmgw/adapter.h"
#include "cpmgw/config.h"
#include "loopback/loopback_adapter.h"
#include "smpp/smpp_adapter.h"

namespace cpmgw {

const std::vector<AdapterFactory>& adapterFactories() {
  static const std::vector<AdapterFactory> factories = {
      {"loopback", &LoopbackAdapter::declareConfig, &LoopbackAdapter::create},
      {"smpp", &smpp::SmppAdapter::declareConfig, &smpp::SmppAdapter::create},
  };
  return factories;
}

void declareAdapterConfig(config::Schema& schema) {
  schema.add({"adapters", "enabled", config::Type::List, "loopback",
              "Adapters to start, by type name (one of: loopback, smpp)."});
  for (const auto& f : adapterFactories()) f.declareConfig(schema);
}

std::vector<std::unique_ptr<Adapter>> createAdapters(const config::Config& config) {
  std::vector<std::unique_ptr<Adapter>> adapters;
  for (const auto& name : config.getList("adapters.enabled")) {
    const AdapterFactory* factory = nullptr;
    for (const auto& f : adapterFactories())
      if (f.type == name) factory = &f;
    if (!factory) {
      throw config::ConfigError(config.sourcePath() + ": [adapters] enabled: unknown adapter '" + name + "'");
    }
    for (const auto& a : adapters)
      if (a->name() == name)
        throw config::ConfigError(config.sourcePath() + ": [adapters] enabled: '" + name + "' listed twice");
    adapters.push_back(factory->create(config));
  }
  return adapters;
}

std::string toString(AdapterHealth::State s) {
  switch (s) {
    case AdapterHealth::State::Starting: return "starting";
    case AdapterHealth::State::Up: return "up";
    case AdapterHealth::State::Degraded: return "degraded";
    case AdapterHealth::State::Down: return "down";
    case AdapterHealth::State::Stopped: return "stopped";
  }
  return "unknown";
}

}  // namespace cpmgw
