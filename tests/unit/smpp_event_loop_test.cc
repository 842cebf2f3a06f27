// The SMPP event loop's doors in from other threads: post() wakes the loop, postQuietly() waits for whatever
// wakes it next, and both run in the order they were posted.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "smpp/event_loop.h"

namespace cpmgw::smpp {
namespace {

using namespace std::chrono_literals;

// What the loop thread ran, in order, for the test thread to wait on.
class Trace {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    items_.push_back(what);
    changed_.notify_all();
  }
  bool waitForSize(std::size_t n, std::chrono::milliseconds within = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return items_.size() >= n; });
  }
  std::vector<std::string> items() {
    std::lock_guard lock(mutex_);
    return items_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> items_;
};

TEST(SmppEventLoop, AQuietPostRunsWithTheNextPostInOrder) {
  EventLoop loop;
  loop.start("test-loop");
  Trace trace;
  ASSERT_TRUE(loop.postQuietly([&] { trace.add("quiet 1"); }));
  ASSERT_TRUE(loop.postQuietly([&] { trace.add("quiet 2"); }));
  ASSERT_TRUE(loop.post([&] { trace.add("woken"); }));
  ASSERT_TRUE(trace.waitForSize(3));
  EXPECT_EQ(trace.items(), (std::vector<std::string>{"quiet 1", "quiet 2", "woken"}));
  loop.stop();
}

TEST(SmppEventLoop, AQuietPostRunsWhenATimerEndsTheWait) {
  EventLoop loop;
  loop.start("test-loop");
  Trace trace;
  // A timer every 5 ms (at most 2,000 of them) and no post(): the quiet post runs in the iteration a timer ends.
  int ticks = 0;  // loop thread only
  std::function<void()> tick = [&] {
    if (++ticks < 2000) loop.after(5, tick);
  };
  ASSERT_TRUE(loop.post([&] {
    loop.after(5, tick);
    trace.add("armed");
  }));
  ASSERT_TRUE(trace.waitForSize(1));
  ASSERT_TRUE(loop.postQuietly([&] { trace.add("quiet"); }));
  ASSERT_TRUE(trace.waitForSize(2));
  EXPECT_EQ(trace.items(), (std::vector<std::string>{"armed", "quiet"}));
  loop.stop();
}

TEST(SmppEventLoop, StopRunsTheQuietPostsLeft) {
  EventLoop loop;
  loop.start("test-loop");
  Trace trace;
  ASSERT_TRUE(loop.postQuietly([&] { trace.add("quiet"); }));
  loop.stop();
  EXPECT_EQ(trace.items(), (std::vector<std::string>{"quiet"}));
  EXPECT_FALSE(loop.postQuietly([] {}));
  EXPECT_FALSE(loop.post([] {}));
}

}  // namespace
}  // namespace cpmgw::smpp
