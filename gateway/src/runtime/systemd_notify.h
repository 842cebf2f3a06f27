// sd_notify(3) messages to the service manager; harmless no-ops when not run by systemd.
#pragma once

#include <chrono>
#include <string>

namespace cpmgw::systemd {

void ready(const std::string& status);
void stopping();
void status(const std::string& text);
void watchdog();
// Half the watchdog interval systemd asked for (WatchdogSec), or zero when there is none.
std::chrono::milliseconds watchdogPingInterval();

}  // namespace cpmgw::systemd
