#include "cpmgw/callback_round.h"

namespace cpmgw {

namespace {
thread_local CallbackRound* current = nullptr;
}

CallbackRound::CallbackRound() : outer_(current) {
  current = this;
}

CallbackRound::~CallbackRound() {
  for (std::size_t i = 0; i < atEnd_.size(); ++i) {  // by index: a step may defer more
    auto step = std::move(atEnd_[i]);
    step();
  }
  current = outer_;
}

void atRoundEnd(std::function<void()> fn) {
  if (current)
    current->atEnd_.push_back(std::move(fn));
  else
    fn();
}

}  // namespace cpmgw
