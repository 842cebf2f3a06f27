#include "cpmgw/callback_round.h"

#include <Poco/Logger.h>

#include <exception>
#include <string>

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
    try {
      step();
    } catch (const std::exception& e) {  // the other steps still run
      Poco::Logger::get("cpmgw.core")
          .error("work deferred to the end of a callback round threw: %s", std::string(e.what()));
    }
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
