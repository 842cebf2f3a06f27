#include "runtime/logging.h"

#include <Poco/AutoPtr.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Formatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/StreamChannel.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "cpmgw/text.h"

namespace cpmgw {
namespace {

class LineFormatter final : public Poco::Formatter {
 public:
  explicit LineFormatter(bool journal) : journal_(journal) {}
  void format(const Poco::Message& msg, std::string& text) override {
    static constexpr char kLetters[] = " FCEWNIDT";
    // Poco priorities 1..8 (fatal..trace) onto syslog 2..7 (crit..debug).
    static constexpr int kSyslog[] = {7, 2, 2, 3, 4, 5, 6, 7, 7};
    int p = static_cast<int>(msg.getPriority());
    if (p < 1 || p > 8) p = 8;
    if (journal_) {
      text.assign(1, '<');
      text += std::to_string(kSyslog[p]);
      text += '>';
    } else {
      text = Poco::DateTimeFormatter::format(msg.getTime(), "%Y-%m-%dT%H:%M:%s%z") + " ";
    }
    text += kLetters[p];
    text += ' ';
    text += msg.getSource();
    text += ": ";
    text += printable(msg.getText());  // one event, one line, whatever a peer sent
  }

 private:
  bool journal_;
};

Poco::AutoPtr<LogRateLimit>& installed() {
  static Poco::AutoPtr<LogRateLimit> channel;
  return channel;
}

}  // namespace

LogRateLimit::LogRateLimit(Poco::AutoPtr<Poco::Channel> next, unsigned rate, Clock clock)
    : next_(std::move(next)), clock_(std::move(clock)), rate_(rate) {}

void LogRateLimit::log(const Poco::Message& msg) {
  auto priority = msg.getPriority();
  if (priority > Poco::Message::PRIO_ERROR && priority < Poco::Message::PRIO_DEBUG) {
    std::lock_guard lock(mutex_);
    if (rate_ != 0) {
      auto now = clock_();
      auto [it, fresh] = budgets_.try_emplace(msg.getSource());
      Budget& budget = it->second;
      double burst = rate_;
      budget.tokens =
          fresh ? burst
                : std::min(burst, budget.tokens + std::chrono::duration<double>(now - budget.refilled).count() * rate_);
      budget.refilled = now;
      if (budget.tokens < 1) {
        ++budget.dropped;
        return;
      }
      budget.tokens -= 1;
    }
  }
  next_->log(msg);
}

void LogRateLimit::setRate(unsigned rate) {
  std::lock_guard lock(mutex_);
  rate_ = rate;
}

void LogRateLimit::report() {
  std::vector<Poco::Message> counts;
  {
    std::lock_guard lock(mutex_);
    for (auto& [source, budget] : budgets_) {
      if (budget.dropped == 0) continue;
      counts.emplace_back(source, std::to_string(budget.dropped) + " lines not logged: over [general] log_rate",
                          Poco::Message::PRIO_WARNING);
      budget.dropped = 0;
    }
  }
  for (const auto& count : counts) next_->log(count);
}

void setupLogging(const std::string& level, unsigned rate) {
  bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  Poco::AutoPtr<Poco::StreamChannel> stream(new Poco::StreamChannel(std::cerr));
  Poco::AutoPtr<Poco::FormattingChannel> format(new Poco::FormattingChannel(new LineFormatter(journal), stream));
  installed() = new LogRateLimit(format, rate);
  Poco::Logger::root().setChannel(installed());
  setLogLevel(level);
}

void setLogLevel(const std::string& level) {
  int p = Poco::Logger::parseLevel(level);
  Poco::Logger::root().setLevel(p);
  Poco::Logger::setLevel("", p);
}

void setLogRate(unsigned rate) {
  if (installed()) installed()->setRate(rate);
}

void reportDroppedLogLines() {
  if (installed()) installed()->report();
}

}  // namespace cpmgw
