// A callback round: the callbacks one thread runs for one batch of work, such as the store's sync thread
// completing every message of one group commit. Work that is cheaper done once for all of them (one socket
// write for every answer to the same peer) waits for the round's end with atRoundEnd().
#pragma once

#include <functional>
#include <vector>

namespace cpmgw {

class CallbackRound {
 public:
  CallbackRound();
  // Runs the work deferred to it, in order, including work deferred meanwhile. A step that throws is logged.
  ~CallbackRound();
  CallbackRound(const CallbackRound&) = delete;
  CallbackRound& operator=(const CallbackRound&) = delete;

 private:
  std::vector<std::function<void()>> atEnd_;
  CallbackRound* outer_;
  friend void atRoundEnd(std::function<void()> fn);
};

// Runs `fn` when the calling thread's innermost open round ends, or at once outside a round.
void atRoundEnd(std::function<void()> fn);

}  // namespace cpmgw
