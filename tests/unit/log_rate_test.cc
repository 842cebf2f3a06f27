// LogRateLimit: a budget of lines a second per logger at the levels peers can set off, with the count of the lines
// dropped reported on demand. The clock is the test's.
#include <Poco/Message.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/logging.h"

namespace cpmgw {
namespace {

using Priority = Poco::Message::Priority;

class Recorder final : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override { lines.push_back(msg.getSource() + ": " + msg.getText()); }
  std::vector<std::string> lines;
};

class LogRate : public ::testing::Test {
 protected:
  void SetUp() override {
    limit_ = new LogRateLimit(recorder_, 10, [this] { return now_; });
  }
  // `n` lines of `source` at `priority`, numbered from `from`.
  void logLines(const std::string& source, int n, Priority priority = Poco::Message::PRIO_INFORMATION, int from = 0) {
    for (int i = from; i < from + n; ++i) limit_->log(Poco::Message(source, "line " + std::to_string(i), priority));
  }
  std::size_t linesOf(const std::string& source) const {
    std::size_t n = 0;
    for (const auto& l : recorder_->lines) n += l.rfind(source + ": line ", 0) == 0;
    return n;
  }

  Poco::AutoPtr<Recorder> recorder_{new Recorder};
  Poco::AutoPtr<LogRateLimit> limit_;
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1000)};
};

TEST_F(LogRate, ALoggerWritesItsBurstThenItsRateAndTheDroppedAreCounted) {
  logLines("cpmgw.sofia", 25);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 10u);
  EXPECT_EQ(recorder_->lines.back(), "cpmgw.sofia: line 9");

  limit_->report();
  ASSERT_EQ(recorder_->lines.size(), 11u);
  EXPECT_EQ(recorder_->lines.back(), "cpmgw.sofia: 15 lines not logged: over [general] log_rate");
  limit_->report();
  EXPECT_EQ(recorder_->lines.size(), 11u) << "a count is reported once";

  now_ += std::chrono::milliseconds(500);  // half a second refills half the budget
  logLines("cpmgw.sofia", 8, Poco::Message::PRIO_INFORMATION, 25);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 15u);
  now_ += std::chrono::seconds(60);  // a long pause refills no more than one burst
  logLines("cpmgw.sofia", 12, Poco::Message::PRIO_INFORMATION, 33);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 25u);
  limit_->report();
  EXPECT_EQ(recorder_->lines.back(), "cpmgw.sofia: 5 lines not logged: over [general] log_rate");
}

TEST_F(LogRate, EachLoggerHasABudgetOfItsOwn) {
  logLines("cpmgw.sofia", 50);
  logLines("cpmgw.smpp", 5);
  logLines("cpmgw.admin", 50, Poco::Message::PRIO_WARNING);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 10u);
  EXPECT_EQ(linesOf("cpmgw.smpp"), 5u);
  EXPECT_EQ(linesOf("cpmgw.admin"), 10u);
  recorder_->lines.clear();
  limit_->report();
  EXPECT_EQ(recorder_->lines, (std::vector<std::string>{"cpmgw.admin: 40 lines not logged: over [general] log_rate",
                                                        "cpmgw.sofia: 40 lines not logged: over [general] log_rate"}));
}

TEST_F(LogRate, ErrorsAndWhatTheOperatorTurnedOnAreNeverDropped) {
  logLines("cpmgw.store", 30, Poco::Message::PRIO_ERROR);
  logLines("cpmgw.store", 30, Poco::Message::PRIO_CRITICAL);
  logLines("cpmgw.sip", 30, Poco::Message::PRIO_DEBUG);
  logLines("cpmgw.sip", 30, Poco::Message::PRIO_TRACE);
  EXPECT_EQ(recorder_->lines.size(), 120u);
  logLines("cpmgw.sip", 30, Poco::Message::PRIO_NOTICE);
  EXPECT_EQ(linesOf("cpmgw.sip"), 70u) << "debug and trace do not use up the budget of notices";
}

TEST_F(LogRate, RateZeroLetsEverythingThroughAndANewRateApplies) {
  limit_->setRate(0);
  logLines("cpmgw.sofia", 500);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 500u);
  limit_->setRate(3);
  now_ += std::chrono::seconds(1);
  logLines("cpmgw.sofia", 10, Poco::Message::PRIO_INFORMATION, 500);
  EXPECT_EQ(linesOf("cpmgw.sofia"), 503u);
  limit_->report();
  EXPECT_EQ(recorder_->lines.back(), "cpmgw.sofia: 7 lines not logged: over [general] log_rate");
}

}  // namespace
}  // namespace cpmgw
