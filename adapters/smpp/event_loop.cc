#include "smpp/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

namespace cpmgw::smpp {

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

EventLoop::EventLoop() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_ || !wake_)
    throw std::runtime_error(std::string("cannot create the SMPP event loop: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
}

EventLoop::~EventLoop() {
  stop();
}

void EventLoop::start(const std::string& threadName) {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  stopRequested_ = false;
  thread_ = std::thread([this, threadName] {
    pthread_setname_np(pthread_self(), threadName.substr(0, 15).c_str());
    run();
  });
  threadId_ = thread_.get_id();
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopRequested_ = true;
  }
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  posted_.clear();
}

bool EventLoop::running() const {
  std::lock_guard lock(mutex_);
  return running_ && !stopRequested_;
}

bool EventLoop::post(Callback cb) {
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopRequested_) return false;
    posted_.push_back(std::move(cb));
    if (std::exchange(woken_, true)) return true;  // a wake-up is already on its way
  }
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  return true;
}

bool EventLoop::postQuietly(Callback cb) {
  std::lock_guard lock(mutex_);
  if (!running_ || stopRequested_) return false;
  posted_.push_back(std::move(cb));
  return true;
}

void EventLoop::watch(int fd, std::uint32_t events, IoHandler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::runtime_error(std::string("epoll_ctl ADD: ") + std::strerror(errno));
  handlers_[fd] = std::move(handler);
}

void EventLoop::modify(int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

EventLoop::TimerId EventLoop::after(std::int64_t ms, Callback cb) {
  TimerId id = nextTimer_++;
  std::int64_t due = steadyMs() + std::max<std::int64_t>(ms, 0);
  timers_.emplace(std::make_pair(due, id), std::move(cb));
  timerDue_[id] = due;
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timerDue_.find(id);
  if (it == timerDue_.end()) return;
  timers_.erase({it->second, id});
  timerDue_.erase(it);
}

void EventLoop::defer(Callback cb) {
  deferred_.push_back(std::move(cb));
}

void EventLoop::runTimers() {
  std::int64_t now = steadyMs();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timerDue_.erase(node.key().second);
    node.mapped()();
  }
}

void EventLoop::run() {
  constexpr int kMaxEvents = 128;
  epoll_event events[kMaxEvents];
  for (;;) {
    int timeout = -1;
    if (!timers_.empty())
      timeout = static_cast<int>(std::max<std::int64_t>(timers_.begin()->first.first - steadyMs(), 0));
    if (!deferred_.empty()) timeout = 0;
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        std::uint64_t v;
        (void)!::read(wake_.get(), &v, sizeof v);
        continue;
      }
      auto it = handlers_.find(fd);
      if (it == handlers_.end()) continue;  // unwatched by an earlier handler in this batch
      IoHandler handler = it->second;       // the handler may unwatch (and destroy) itself
      handler(events[i].events);
    }
    bool stopNow = false;
    {
      std::vector<Callback> batch;
      {
        std::lock_guard lock(mutex_);
        batch.swap(posted_);
        woken_ = false;
        stopNow = stopRequested_;
      }
      for (auto& cb : batch) cb();
      if (stopNow) {
        // Anything posted while the last batch ran still runs: stop() promises the posted callbacks run.
        for (;;) {
          std::vector<Callback> rest;
          {
            std::lock_guard lock(mutex_);
            rest.swap(posted_);
          }
          if (rest.empty()) break;
          for (auto& cb : rest) cb();
        }
      }
    }
    runTimers();
    while (!deferred_.empty()) {
      std::vector<Callback> batch;
      batch.swap(deferred_);
      for (auto& cb : batch) cb();
    }
    if (stopNow) break;
  }
  handlers_.clear();
  timers_.clear();
  timerDue_.clear();
  deferred_.clear();
}

}  // namespace cpmgw::smpp
