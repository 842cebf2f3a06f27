// The thread that owns all Sofia-SIP state: one su_root, run on its own thread. Other threads never
// touch sofia objects; they post() closures, which run on the loop thread in order.
#pragma once

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

struct su_root_s;

namespace cpmgw::sip {

class SofiaLoop {
 public:
  SofiaLoop();
  ~SofiaLoop();
  SofiaLoop(const SofiaLoop&) = delete;
  SofiaLoop& operator=(const SofiaLoop&) = delete;

  // Starts the thread and runs `init` on it once the root exists; returns when init has returned.
  // Rethrows what init threw (the thread is stopped then).
  void start(const std::function<void(su_root_s*)>& init);
  // Runs `fini` on the loop thread, then stops the loop and joins it. Closures posted before run first.
  void stop(const std::function<void()>& fini = {});

  // Thread-safe; the closure runs on the loop thread. Dropped once the loop has stopped.
  void post(std::function<void()> task);
  bool onLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  su_root_s* root() const { return root_; }

 private:
  // Runs the loop until stop(); false when the root could not be created or init failed.
  bool run(const std::function<bool(su_root_s*)>& init);
  void drain();
  static int onWake(void* rootMagic, void* wait, void* self);

  su_root_s* root_ = nullptr;
  int eventFd_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  bool running_ = false;
};

}  // namespace cpmgw::sip
