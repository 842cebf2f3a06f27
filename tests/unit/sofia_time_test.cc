// The SIP endpoint's su_duration (sip/sofia_loop.cc) replaces Sofia's own: these tests check that
// Sofia's timer code uses it, and what it returns.
#include <gtest/gtest.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_time.h>
#include <sofia-sip/su_wait.h>

namespace {

su_time_t at(unsigned long sec, unsigned long usec) {
  su_time_t t;
  t.tv_sec = sec;
  t.tv_usec = usec;
  return t;
}

TEST(SofiaTime, ATimeAheadRoundsUpToTheNextMillisecond) {
  EXPECT_EQ(su_duration(at(10, 300), at(10, 0)), 1);
  EXPECT_EQ(su_duration(at(10, 1000), at(10, 0)), 1);
  EXPECT_EQ(su_duration(at(10, 1001), at(10, 0)), 2);
  EXPECT_EQ(su_duration(at(11, 0), at(10, 999999)), 1);
  EXPECT_EQ(su_duration(at(12, 500000), at(10, 0)), 2500);
  EXPECT_EQ(su_duration(at(10, 0), at(10, 0)), 0);
}

TEST(SofiaTime, ATimePassedAndTheLimitsStayAsSofiaHasThem) {
  EXPECT_EQ(su_duration(at(10, 0), at(10, 300)), 0);
  EXPECT_EQ(su_duration(at(10, 0), at(10, 1500)), -1);
  EXPECT_EQ(su_duration(at(5, 0), at(10, 0)), -5000);
  EXPECT_EQ(su_duration(at(4000000, 0), at(0, 0)), SU_DURATION_MAX);
  EXPECT_EQ(su_duration(at(0, 0), at(4000000, 0)), -SU_DURATION_MAX);
}

// What the event loop asks before it waits: a timer 0.3 ms ahead means wait 1 ms, not poll (0).
TEST(SofiaTime, TheEventLoopWaitsForATimerLessThanAMillisecondAhead) {
  ASSERT_EQ(su_init(), 0);
  su_root_t* root = su_root_create(nullptr);
  ASSERT_NE(root, nullptr);
  su_timer_t* timer = su_timer_create(su_root_task(root), 0);
  ASSERT_NE(timer, nullptr);
  su_time_t now = su_now();
  su_time_t when = now;
  when.tv_usec += 300;
  if (when.tv_usec >= 1000000) {
    when.tv_usec -= 1000000;
    ++when.tv_sec;
  }
  bool fired = false;
  auto callback = [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) { *static_cast<bool*>(arg) = true; };
  ASSERT_EQ(su_timer_set_at(timer, callback, &fired, when), 0);
  su_duration_t timeout = 1000;
  EXPECT_EQ(su_timer_expire(su_task_timers(su_root_task(root)), &timeout, now), 0);
  EXPECT_EQ(timeout, 1);
  EXPECT_FALSE(fired);
  // Once due, it fires.
  EXPECT_EQ(su_timer_expire(su_task_timers(su_root_task(root)), &timeout, when), 1);
  EXPECT_TRUE(fired);
  su_timer_destroy(timer);
  su_root_destroy(root);
  su_deinit();
}

}  // namespace
