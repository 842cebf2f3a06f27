// The SMPP event loop: one thread, epoll over non-blocking sockets, timers, and post() as the only door in.
//
// Why our own epoll loop rather than Poco's SocketReactor: libsmpp34 must be called from one thread, the TLS
// sessions are OpenSSL objects driven by readiness (SSL_read/SSL_write wanting the other direction), and the window
// timers want a cheap ordered timer set; a small epoll loop gives all three without adapting Poco's socket classes
// to OpenSSL's non-blocking state machine. Every SMPP socket, session and timer is touched only on this thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cpmgw::smpp {

// Monotonic milliseconds (timers, rates); never compared with wall-clock times.
std::int64_t steadyMs();

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using IoHandler = std::function<void(std::uint32_t events)>;  // EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits
  using TimerId = std::uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs the loop on a new thread until stop().
  void start(const std::string& threadName);
  // Ends the loop after the callbacks already posted have run, and joins the thread. Idempotent.
  void stop();
  bool running() const;

  // Thread-safe: runs `cb` on the loop thread. Returns false (and drops cb) when the loop is not running.
  bool post(Callback cb);
  // Thread-safe: like post(), without waking the loop: `cb` runs in the loop's next iteration, whatever ends its
  // wait (an event, a timer, a post()), in order with the posted callbacks. For bookkeeping that may wait; a
  // loop without timers may wait for ever.
  bool postQuietly(Callback cb);
  bool inLoop() const { return std::this_thread::get_id() == threadId_; }

  // Loop thread only.
  void watch(int fd, std::uint32_t events, IoHandler handler);
  void modify(int fd, std::uint32_t events);
  void unwatch(int fd);
  TimerId after(std::int64_t ms, Callback cb);
  void cancel(TimerId id);
  // Runs `cb` at the end of the current iteration, after every ready event was handled (write coalescing).
  void defer(Callback cb);

 private:
  void run();
  void runTimers();

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd
  std::thread thread_;
  std::thread::id threadId_;
  mutable std::mutex mutex_;
  std::vector<Callback> posted_;
  bool woken_ = false;  // the eventfd was written since the loop last took posted_
  bool running_ = false;
  bool stopRequested_ = false;

  std::unordered_map<int, IoHandler> handlers_;
  std::map<std::pair<std::int64_t, TimerId>, Callback> timers_;
  std::unordered_map<TimerId, std::int64_t> timerDue_;
  TimerId nextTimer_ = 1;
  std::vector<Callback> deferred_;
};

}  // namespace cpmgw::smpp
