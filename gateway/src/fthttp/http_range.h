// HTTP byte ranges (RFC 9110 section 14): the Range request header of downloads and the Content-Range
// header of resumed uploads. Pure functions over header text; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpmgw::fthttp {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangeDecision {
  enum class Kind {
    Full,           // no usable Range: 200 with the whole representation
    Partial,        // one satisfiable range: 206 with `range`
    Unsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::Full;
  ByteRange range;
};

// What to answer for a Range header over a representation of `size` bytes. A header that is absent,
// malformed, in another unit, longer than kMaxRangeHeader or with more than kMaxRanges ranges is ignored
// (200). One range answers 206 (last clamped to the end, suffix ranges counted from the end) or 416.
// Several ranges answer 200 with the whole file when any of them is satisfiable, otherwise 416: a
// multipart/byteranges answer is optional and no FT client asks for one.
inline constexpr std::size_t kMaxRangeHeader = 1024;
inline constexpr std::size_t kMaxRanges = 32;
RangeDecision evaluateRange(std::string_view header, std::uint64_t size);

// A parsed Content-Range: `bytes first-last/complete`, `bytes first-last/*` or `bytes */complete`.
struct ContentRange {
  std::optional<ByteRange> range;         // absent for `*/complete`
  std::optional<std::uint64_t> complete;  // absent for `/*`
};
// nullopt for anything malformed: first > last, last >= complete, numbers beyond 2^64-1, other units.
std::optional<ContentRange> parseContentRange(std::string_view header);

// "bytes first-last/size"
std::string formatContentRange(const ByteRange& range, std::uint64_t size);
// "bytes */size"
std::string formatUnsatisfiedRange(std::uint64_t size);

}  // namespace cpmgw::fthttp
