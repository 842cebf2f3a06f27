#include "runtime/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace cpmgw::systemd {

void ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}
void stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}
void status(const std::string& text) {
  sd_notify(0, ("STATUS=" + text).c_str());
}
void watchdog() {
  sd_notify(0, "WATCHDOG=1");
}

std::chrono::milliseconds watchdogPingInterval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(usec / 2000);
}

}  // namespace cpmgw::systemd
