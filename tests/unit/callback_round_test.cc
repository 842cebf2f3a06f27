// Callback rounds: work deferred to a round's end waits for it, runs in order, and runs at once outside a round.
#include "cpmgw/callback_round.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace cpmgw {
namespace {

TEST(CallbackRound, OutsideARoundTheWorkRunsAtOnce) {
  std::vector<std::string> trace;
  atRoundEnd([&] { trace.push_back("now"); });
  EXPECT_EQ(trace, std::vector<std::string>{"now"});
}

TEST(CallbackRound, TheWorkWaitsForTheEndAndRunsInOrder) {
  std::vector<std::string> trace;
  {
    CallbackRound round;
    atRoundEnd([&] { trace.push_back("first"); });
    trace.push_back("callback");
    atRoundEnd([&] { trace.push_back("second"); });
    EXPECT_EQ(trace, std::vector<std::string>{"callback"});
  }
  EXPECT_EQ(trace, (std::vector<std::string>{"callback", "first", "second"}));
  atRoundEnd([&] { trace.push_back("after"); });  // the round is over: at once again
  EXPECT_EQ(trace.back(), "after");
}

TEST(CallbackRound, WorkDeferredWhileTheRoundEndsRunsInTheSameEnd) {
  std::vector<std::string> trace;
  {
    CallbackRound round;
    // Enough steps that the list grows while one of them runs.
    for (int i = 0; i < 20; ++i)
      atRoundEnd([&trace, i] {
        trace.push_back(std::to_string(i));
        if (i == 0) atRoundEnd([&] { trace.push_back("late"); });
      });
  }
  ASSERT_EQ(trace.size(), 21u);
  EXPECT_EQ(trace.front(), "0");
  EXPECT_EQ(trace.back(), "late");
}

TEST(CallbackRound, AStepThatThrowsDoesNotKeepTheOthersFromRunning) {
  std::vector<std::string> trace;
  {
    CallbackRound round;
    atRoundEnd([] { throw std::runtime_error("broken"); });
    atRoundEnd([&] { trace.push_back("after"); });
  }
  EXPECT_EQ(trace, std::vector<std::string>{"after"});
}

TEST(CallbackRound, AnInnerRoundEndsOnItsOwn) {
  std::vector<std::string> trace;
  {
    CallbackRound outer;
    atRoundEnd([&] { trace.push_back("outer"); });
    {
      CallbackRound inner;
      atRoundEnd([&] { trace.push_back("inner"); });
    }
    EXPECT_EQ(trace, std::vector<std::string>{"inner"});
  }
  EXPECT_EQ(trace, (std::vector<std::string>{"inner", "outer"}));
}

}  // namespace
}  // namespace cpmgw
