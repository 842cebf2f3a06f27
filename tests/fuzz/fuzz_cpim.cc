// CPIM against arbitrary bytes: parse() answers, never crashes, and explains a refusal; a message it
// accepts is written by serialize() and read back with the same fields, and writing that again gives
// the same bytes.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "sip/cpim.h"

namespace {

bool isReasonPhrase(const std::string& reason) {
  if (reason.empty() || reason.size() > 64) return false;
  for (char c : reason)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpmgw::cpim;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto message = parse(text, &error);
  if (!message) {
    if (!isReasonPhrase(error)) __builtin_trap();
    return 0;
  }
  std::string written = serialize(*message);
  if (written.empty()) __builtin_trap();
  // serialize() may lengthen a line (a display name gains quotes), so the receiver's limits do not apply.
  constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
  auto back = parse(written, &error, Limits{kNoLimit, kNoLimit, kNoLimit});
  if (!back || !equivalent(*message, *back)) __builtin_trap();
  if (serialize(*back) != written) __builtin_trap();
  return 0;
}
