// Range and Content-Range against arbitrary header text: a partial answer always lies inside the file,
// and a parsed Content-Range is consistent.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fthttp/http_range.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpmgw::fthttp;
  std::uint64_t fileSize = 0;
  if (size >= 8) {
    std::memcpy(&fileSize, data, 8);
    data += 8;
    size -= 8;
  }
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto d = evaluateRange(header, fileSize);
  if (d.kind == RangeDecision::Kind::Partial &&
      (fileSize == 0 || d.range.first > d.range.last || d.range.last >= fileSize))
    __builtin_trap();
  if (auto r = parseContentRange(header)) {
    if (!r->range && !r->complete) __builtin_trap();
    if (r->range && r->range->first > r->range->last) __builtin_trap();
    if (r->range && r->complete && r->range->last >= *r->complete) __builtin_trap();
    auto again = r->range && r->complete ? parseContentRange(formatContentRange(*r->range, *r->complete)) : r;
    if (!again || again->range != r->range || again->complete != r->complete) __builtin_trap();
  }
  return 0;
}
