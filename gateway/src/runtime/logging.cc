#include "runtime/logging.h"

#include <Poco/AutoPtr.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Formatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/StreamChannel.h>

#include <cstdlib>
#include <iostream>

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

}  // namespace

void setupLogging(const std::string& level) {
  bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  Poco::AutoPtr<Poco::StreamChannel> stream(new Poco::StreamChannel(std::cerr));
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(new LineFormatter(journal), stream));
  Poco::Logger::root().setChannel(channel);
  setLogLevel(level);
}

void setLogLevel(const std::string& level) {
  int p = Poco::Logger::parseLevel(level);
  Poco::Logger::root().setLevel(p);
  Poco::Logger::setLevel("", p);
}

}  // namespace cpmgw
