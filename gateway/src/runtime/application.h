// The cpmgw service: command line, configuration, start-up order, signals, drain.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>

#include "cpmgw/config.h"

namespace cpmgw {

// Every configuration key of the gateway, from every module and adapter.
config::Schema fullSchema();

class GatewayApplication final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  int serve(const config::Config& config);
  std::string configPath_;
  enum class Mode { Serve, CheckConfig, DumpDefault, Version, Help } mode_ = Mode::Serve;
};

}  // namespace cpmgw
