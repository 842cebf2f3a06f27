// Logging to stderr: journald picks it up under systemd (with the priority prefix it understands).
#pragma once

#include <string>

namespace cpmgw {

// Installs the stderr channel on the root logger. Under systemd (JOURNAL_STREAM set) lines carry a
// "<N>" syslog priority prefix and no time stamp (journald adds its own).
void setupLogging(const std::string& level);
// Changes the level of every logger ("fatal" ... "trace"). Throws Poco::InvalidArgumentException.
void setLogLevel(const std::string& level);

}  // namespace cpmgw
