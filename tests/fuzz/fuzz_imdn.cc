// IMDN documents against arbitrary bytes: parse() answers, never crashes, and explains a refusal; a
// notification it accepts is written by serialize() and read back unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/imdn.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpmgw::imdn;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto notification = parse(xml, &error);
  if (!notification) {
    if (error.empty() || error.size() > 64) __builtin_trap();
    for (char c : error)
      if (c < 0x20 || c > 0x7e) __builtin_trap();
    return 0;
  }
  std::string written = serialize(*notification);
  if (written.empty()) __builtin_trap();
  auto back = parse(written, &error);
  if (!back || !(*back == *notification)) __builtin_trap();
  return 0;
}
