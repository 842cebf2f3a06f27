// Formatted logging that formats only what will be written. Poco's variadic Logger::debug(fmt, args...)
// (and information, notice, ...) formats the text before it looks at the level, which on a per-message
// path costs as much as the work being logged; these look at the level first.
#pragma once

#include <Poco/Format.h>
#include <Poco/Logger.h>

#include <string>
#include <utility>

namespace cpmgw {

template <class... Args>
void logTrace(Poco::Logger& logger, const std::string& format, Args&&... args) {
  if (logger.trace()) logger.trace(Poco::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void logDebug(Poco::Logger& logger, const std::string& format, Args&&... args) {
  if (logger.debug()) logger.debug(Poco::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void logInformation(Poco::Logger& logger, const std::string& format, Args&&... args) {
  if (logger.information()) logger.information(Poco::format(format, std::forward<Args>(args)...));
}

}  // namespace cpmgw
