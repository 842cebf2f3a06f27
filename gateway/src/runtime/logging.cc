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
    // One event, one line; and text from peers (addresses, ids, paths) cannot forge a line or send a
    // terminal escape: other control characters are written as \xNN.
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : msg.getText()) {
      auto u = static_cast<unsigned char>(c);
      if (c == '\n' || c == '\r') {
        text += ' ';
      } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
        text += "\\x";
        text += kHex[u >> 4];
        text += kHex[u & 0x0f];
      } else {
        text += c;
      }
    }
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
