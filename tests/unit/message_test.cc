#include "cpmgw/message.h"

#include <gtest/gtest.h>

#include <set>

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
