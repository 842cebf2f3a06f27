#include "cpmgw/message.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace cpmgw {
namespace {

TEST(MessageId, IsHexOf128BitsUniqueAndStartsWithTheTime) {
  std::set<std::string> seen;
  TimeMs before = nowMs();
  for (int i = 0; i < 1000; ++i) {
    auto id = newMessageId();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ASSERT_TRUE(seen.insert(id).second);
    auto ms = static_cast<TimeMs>(std::stoull(id.substr(0, 12), nullptr, 16));
    ASSERT_GE(ms, before);
    ASSERT_LE(ms, nowMs());
  }
}

TEST(MessageId, IdsMadeOnSeveralThreadsAreAllDistinct) {
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> ids;
      for (int i = 0; i < 500; ++i) ids.push_back(newMessageId());  // several refills of each thread's pool
      std::lock_guard lock(mutex);
      seen.insert(ids.begin(), ids.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(FormatTime, WritesRfc3339WithFourDigitsOfYearAndMilliseconds) {
  EXPECT_EQ(formatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTime(1795701485414), "2026-11-26T13:58:05.414Z");
  EXPECT_EQ(formatTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(formatTime(-1500), "1969-12-31T23:59:58.500Z");
  EXPECT_EQ(formatTime(-47947696241000), "0450-08-06T19:29:19.000Z");
  EXPECT_EQ(formatTime(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_FALSE(formatTime(INT64_MIN).empty());  // no overflow at the extremes
  EXPECT_FALSE(formatTime(INT64_MAX).empty());
}

TEST(MessageState, RoundTripsThroughText) {
  for (auto s : {MessageState::Queued, MessageState::Leased, MessageState::Delivered, MessageState::Failed,
                 MessageState::Deleted}) {
    MessageState back{};
    ASSERT_TRUE(parseMessageState(toString(s), back));
    EXPECT_EQ(back, s);
  }
  MessageState ignored{};
  EXPECT_FALSE(parseMessageState("QUEUED", ignored));
  EXPECT_FALSE(parseMessageState("", ignored));
}

}  // namespace
}  // namespace cpmgw
