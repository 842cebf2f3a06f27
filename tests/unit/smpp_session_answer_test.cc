// Answers an SMPP session writes without its loop thread (SmppSession::answerNow, called by the store's sync thread):
// within a callback round they wait for its end and leave in one write; what the socket does not take at once is
// flushed by the loop, in order. The peer is the other end of a socketpair.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "cpmgw/callback_round.h"
#include "smpp/event_loop.h"
#include "smpp/smpp_session.h"

namespace cpmgw::smpp {
namespace {

using namespace std::chrono_literals;

class SessionAnswers : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ASSERT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);  // as the gateway's sockets are
    local_ = fds[0];
    peer_ = fds[1];
    timeval timeout{10, 0};  // a read that gets nothing fails the test instead of hanging it
    ASSERT_EQ(::setsockopt(peer_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
    loop_.start("test-loop");
  }
  void TearDown() override {
    onLoop([this] {
      if (session_) session_->close("test over");
      session_.reset();
    });
    loop_.stop();
    ::close(peer_);
  }

  // Opens a server session on the local end; `sendBuffer` bytes of kernel buffer when not 0.
  void open(int sendBuffer = 0) {
    if (sendBuffer) {
      ASSERT_EQ(::setsockopt(local_, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer), 0);
    }
    std::promise<void> opened;
    onLoop([&] {
      session_ = SmppSession::create(loop_, UniqueFd(local_), SmppSession::Role::Server, SslCtxPtr{}, "test-peer", {});
      SmppSession::Handlers handlers;
      handlers.onOpen = [&opened] { opened.set_value(); };
      session_->setHandlers(handlers);
      session_->start();
    });
    ASSERT_EQ(opened.get_future().wait_for(10s), std::future_status::ready);
  }
  // Runs `fn` on the loop thread and waits for it.
  void onLoop(std::function<void()> fn) {
    std::promise<void> done;
    ASSERT_TRUE(loop_.post([&] {
      fn();
      done.set_value();
    }));
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  }
  bool peerCanRead() {
    pollfd p{peer_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  // What the peer reads until it has `n` bytes (or a read times out).
  std::string peerReads(std::size_t n) {
    std::string got;
    char buf[65536];
    while (got.size() < n) {
      ssize_t r = ::recv(peer_, buf, std::min(sizeof buf, n - got.size()), 0);
      if (r <= 0) break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  }

  EventLoop loop_;
  int local_ = -1;
  int peer_ = -1;
  std::shared_ptr<SmppSession> session_;
};

TEST_F(SessionAnswers, TheAnswersOfARoundLeaveTogetherAtItsEnd) {
  open();
  {
    CallbackRound round;
    ASSERT_TRUE(session_->answerNow("first answer;"));
    ASSERT_TRUE(session_->answerNow("second answer;"));
    EXPECT_FALSE(peerCanRead());
  }
  EXPECT_EQ(peerReads(27), "first answer;second answer;");
}

TEST_F(SessionAnswers, OutsideARoundAnAnswerLeavesAtOnce) {
  open();
  ASSERT_TRUE(session_->answerNow("alone;"));
  EXPECT_EQ(peerReads(6), "alone;");
}

TEST_F(SessionAnswers, WhatTheSocketDoesNotTakeTheLoopWritesInOrder) {
  open(4096);
  std::string expected;
  {
    CallbackRound round;
    for (int i = 0; i < 6000; ++i) {  // about 100 KB: far more than the socket takes while the peer reads nothing
      std::string answer = "answer " + std::to_string(i) + ";";
      ASSERT_TRUE(session_->answerNow(answer));
      expected += answer;
    }
  }
  // The rest waits in the session's output: later answers go through the loop.
  EXPECT_FALSE(session_->answerNow("late;"));
  EXPECT_EQ(peerReads(expected.size()), expected);
}

TEST_F(SessionAnswers, AClosedLinkTakesNoAnswer) {
  open();
  onLoop([this] { session_->close("closed by the test"); });
  EXPECT_FALSE(session_->answerNow("too late;"));
}

}  // namespace
}  // namespace cpmgw::smpp
