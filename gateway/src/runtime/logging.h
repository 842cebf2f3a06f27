// Logging to stderr: journald picks it up under systemd (with the priority prefix it understands).
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace cpmgw {

// Installs the stderr channel on the root logger, behind a LogRateLimit of `rate` lines a second. Under systemd
// (JOURNAL_STREAM set) lines carry a "<N>" syslog priority prefix and no time stamp (journald adds its own).
void setupLogging(const std::string& level, unsigned rate);
// Changes the level of every logger ("fatal" ... "trace"). Throws Poco::InvalidArgumentException.
void setLogLevel(const std::string& level);
// Changes the rate of the channel setupLogging installed.
void setLogRate(unsigned rate);
// Logs the count of the lines dropped since the last call, for each logger that dropped some (LogRateLimit).
// The main loop calls it every second or so.
void reportDroppedLogLines();

// A channel that lets each logger (message source) write `rate` lines a second on average at the levels peers can
// set off (warning, notice, information), with a burst of as many, and drops the rest. Errors and worse always pass,
// and so do debug and trace, which an operator turns on to see everything. Dropped lines are counted, and report() logs
// the count of each logger as a warning of that logger. Rate 0: no limit. Safe from any thread.
class LogRateLimit final : public Poco::Channel {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  LogRateLimit(Poco::AutoPtr<Poco::Channel> next, unsigned rate, Clock clock = std::chrono::steady_clock::now);
  void log(const Poco::Message& msg) override;
  void setRate(unsigned rate);
  void report();

 private:
  struct Budget {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
    std::uint64_t dropped = 0;  // since the last report
  };

  Poco::AutoPtr<Poco::Channel> next_;
  Clock clock_;
  std::mutex mutex_;
  unsigned rate_;
  std::map<std::string, Budget> budgets_;
};

}  // namespace cpmgw
