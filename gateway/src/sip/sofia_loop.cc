#include "sip/sofia_loop.h"

#include <Poco/Logger.h>
#include <pthread.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_time.h>
#include <sofia-sip/su_wait.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>

namespace cpmgw::sip {

namespace {

// Sofia-SIP's own log (its default logger writes to stderr as it is, "nta_agent: received garbage from
// ..."): into cpmgw.sofia instead, so its lines carry a time or journald priority and go through the
// same escaping as ours. Sofia writes a line in several calls; a line is logged when its newline comes.
void sofiaLog(void*, const char* format, va_list args) {
  thread_local std::string line;
  va_list copy;
  va_copy(copy, args);
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, format, copy);
  va_end(copy);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof buf) {
    line.append(buf, static_cast<std::size_t>(n));
  } else {
    std::string big(static_cast<std::size_t>(n) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), format, args);
    line.append(big, 0, static_cast<std::size_t>(n));
  }
  for (auto nl = line.find('\n'); nl != std::string::npos; nl = line.find('\n')) {
    if (nl > 0) Poco::Logger::get("cpmgw.sofia").information(line.substr(0, nl));
    line.erase(0, nl + 1);
  }
}

}  // namespace

SofiaLoop::SofiaLoop() {
  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) throw std::runtime_error("eventfd failed");
}

SofiaLoop::~SofiaLoop() {
  stop();
  ::close(eventFd_);
}

int SofiaLoop::onWake(void* /*rootMagic*/, void* /*wait*/, void* self) {
  static_cast<SofiaLoop*>(self)->drain();
  return 0;
}

void SofiaLoop::drain() {
  std::uint64_t counter = 0;
  [[maybe_unused]] auto n = ::read(eventFd_, &counter, sizeof counter);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

void SofiaLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    tasks_.push_back(std::move(task));
    // drain() reads the eventfd before it takes the queue: a queue that was not empty has a wake-up on
    // its way already, and one system call per batch instead of per closure is what a busy loop needs.
    if (tasks_.size() > 1) return;
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(eventFd_, &one, sizeof one);
}

void SofiaLoop::start(const std::function<void(su_root_s*)>& init) {
  {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  // Shared with the thread, which outlives this call: it reports once, whether init ran or not.
  auto started = std::make_shared<std::promise<void>>();
  auto result = started->get_future();
  thread_ = std::thread([this, init, started] {
    pthread_setname_np(pthread_self(), "cpmgw-sip");
    bool reported = false;
    auto report = [&](std::exception_ptr error) {
      if (reported) return;
      reported = true;
      if (error)
        started->set_exception(error);
      else
        started->set_value();
    };
    bool ok = run([&](su_root_s* root) {
      try {
        init(root);
      } catch (...) {
        report(std::current_exception());
        return false;
      }
      report(nullptr);
      return true;
    });
    if (!ok) report(std::make_exception_ptr(std::runtime_error("cannot create the SIP event loop")));
  });
  try {
    result.get();
  } catch (...) {
    stop();
    throw;
  }
}

bool SofiaLoop::run(const std::function<bool(su_root_s*)>& init) {
  su_init();
  su_log_redirect(nullptr, &sofiaLog, nullptr);  // every Sofia log without a logger of its own
  su_root_t* root = su_root_create(nullptr);
  if (!root) {
    su_deinit();
    return false;
  }
  su_wait_t wait[1];
  su_wait_create(wait, eventFd_, SU_WAIT_IN);
  int index = su_root_register(root, wait, reinterpret_cast<su_wakeup_f>(&SofiaLoop::onWake),
                               reinterpret_cast<su_wakeup_arg_t*>(this), 0);
  root_ = root;
  bool ok = init(root);
  if (ok) su_root_run(root);
  drain();  // closures posted before stop() still run
  su_root_deregister(root, index);
  root_ = nullptr;
  su_root_destroy(root);
  su_deinit();
  return ok;
}

void SofiaLoop::stop(const std::function<void()>& fini) {
  if (!thread_.joinable()) return;
  if (std::this_thread::get_id() == thread_.get_id()) throw std::logic_error("SofiaLoop::stop on its own thread");
  post([this, fini] {
    if (fini) fini();
    su_root_break(root_);
  });
  thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  tasks_.clear();
}

}  // namespace cpmgw::sip

// Sofia's time difference in milliseconds, rounded up instead of down for a time still ahead.
//
// Sofia's event loop waits for the next timer with an epoll timeout of su_duration(timer, now)
// milliseconds, which truncates: a timer less than a millisecond away makes it poll with timeout 0,
// over and over, until the timer is due. Under steady SIP traffic there always is one (every
// transaction keeps a timer, and nta fires them each millisecond), so the loop thread kept polling:
// at 5,000 MESSAGEs/s it made 11,000 to 57,000 epoll_wait calls a second, most with timeout 0 (7,600
// with the rounding below), CPU taken from the threads that acknowledge messages. Defined here, this
// function is the one Sofia's library calls (it calls su_duration through its PLT, so the executable's
// definition comes first); rounding up makes the loop sleep until the timer is due, at most a
// millisecond late, which SIP timers (T1 = 500 ms) do not notice. Everything else about the result is
// Sofia's: the same clamping to +-SU_DURATION_MAX.
extern "C" su_duration_t su_duration(su_time_t const t1, su_time_t const t2) {
  long long us = (static_cast<long long>(t1.tv_sec) - static_cast<long long>(t2.tv_sec)) * 1000000LL +
                 (static_cast<long long>(t1.tv_usec) - static_cast<long long>(t2.tv_usec));
  long long ms = us >= 0 ? (us + 999) / 1000 : -(-us / 1000);
  if (ms > SU_DURATION_MAX) return SU_DURATION_MAX;
  if (ms < -SU_DURATION_MAX) return -SU_DURATION_MAX;
  return static_cast<su_duration_t>(ms);
}
