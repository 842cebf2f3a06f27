#include "fthttp/http_range.h"

#include <limits>
#include <vector>

namespace cpmgw::fthttp {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads 1*DIGIT at s[i]; saturates at 2^64-1 and says so through `overflow`.
bool readNumber(std::string_view s, std::size_t& i, std::uint64_t& value, bool& overflow) {
  std::size_t start = i;
  value = 0;
  overflow = false;
  while (i < s.size() && isDigit(s[i])) {
    auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (value > (kMax - d) / 10) {
      overflow = true;
      value = kMax;
    } else if (!overflow) {
      value = value * 10 + d;
    }
    ++i;
  }
  return i > start;
}

bool unitIsBytes(std::string_view unit) {
  if (unit.size() != 5) return false;
  for (std::size_t k = 0; k < 5; ++k) {
    char c = unit[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != "bytes"[k]) return false;
  }
  return true;
}

void skipOws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

struct Spec {
  bool suffix = false;
  std::uint64_t first = 0;  // or the suffix length
  std::uint64_t last = kMax;
};

// ranges-specifier = range-unit "=" range-set; range-set = 1#range-spec. nullopt when malformed.
std::optional<std::vector<Spec>> parseRangeSet(std::string_view header) {
  std::size_t i = 0;
  skipOws(header, i);
  auto eq = header.find('=', i);
  if (eq == std::string_view::npos || !unitIsBytes(header.substr(i, eq - i))) return std::nullopt;
  i = eq + 1;
  std::vector<Spec> specs;
  bool expectSpec = true;
  while (i <= header.size()) {
    skipOws(header, i);
    if (i == header.size()) break;
    if (header[i] == ',') {  // empty list elements are allowed by the #rule
      ++i;
      continue;
    }
    if (!expectSpec) return std::nullopt;
    Spec spec;
    bool overflow = false;
    if (header[i] == '-') {
      ++i;
      spec.suffix = true;
      if (!readNumber(header, i, spec.first, overflow)) return std::nullopt;
    } else {
      if (!readNumber(header, i, spec.first, overflow)) return std::nullopt;
      if (i >= header.size() || header[i] != '-') return std::nullopt;
      ++i;
      if (i < header.size() && isDigit(header[i])) {
        bool lastOverflow = false;
        readNumber(header, i, spec.last, lastOverflow);
        if (spec.last < spec.first) return std::nullopt;  // invalid: the whole header is ignored
      }
    }
    specs.push_back(spec);
    if (specs.size() > kMaxRanges) return std::nullopt;
    skipOws(header, i);
    if (i < header.size()) {
      if (header[i] != ',') return std::nullopt;
      ++i;
      expectSpec = true;
    } else {
      expectSpec = false;
    }
  }
  if (specs.empty()) return std::nullopt;
  return specs;
}

// The satisfiable part of one spec, or nullopt.
std::optional<ByteRange> resolve(const Spec& spec, std::uint64_t size) {
  if (size == 0) return std::nullopt;
  if (spec.suffix) {
    if (spec.first == 0) return std::nullopt;
    std::uint64_t n = spec.first < size ? spec.first : size;
    return ByteRange{size - n, size - 1};
  }
  if (spec.first >= size) return std::nullopt;
  return ByteRange{spec.first, spec.last < size ? spec.last : size - 1};
}

}  // namespace

RangeDecision evaluateRange(std::string_view header, std::uint64_t size) {
  RangeDecision decision;
  if (header.empty() || header.size() > kMaxRangeHeader) return decision;
  auto specs = parseRangeSet(header);
  if (!specs) return decision;
  if (specs->size() == 1) {
    if (auto r = resolve(specs->front(), size)) {
      decision.kind = RangeDecision::Kind::Partial;
      decision.range = *r;
    } else {
      decision.kind = RangeDecision::Kind::Unsatisfiable;
    }
    return decision;
  }
  for (const auto& spec : *specs) {
    if (resolve(spec, size)) return decision;  // Full
  }
  decision.kind = RangeDecision::Kind::Unsatisfiable;
  return decision;
}

std::optional<ContentRange> parseContentRange(std::string_view header) {
  std::size_t i = 0;
  skipOws(header, i);
  auto sp = header.find(' ', i);
  if (sp == std::string_view::npos || !unitIsBytes(header.substr(i, sp - i))) return std::nullopt;
  i = sp;
  skipOws(header, i);
  ContentRange out;
  bool overflow = false;
  if (i < header.size() && header[i] == '*') {
    ++i;
  } else {
    ByteRange r;
    if (!readNumber(header, i, r.first, overflow) || overflow) return std::nullopt;
    if (i >= header.size() || header[i] != '-') return std::nullopt;
    ++i;
    if (!readNumber(header, i, r.last, overflow) || overflow) return std::nullopt;
    if (r.last < r.first) return std::nullopt;
    out.range = r;
  }
  if (i >= header.size() || header[i] != '/') return std::nullopt;
  ++i;
  if (i < header.size() && header[i] == '*') {
    ++i;
    if (!out.range) return std::nullopt;  // "*/*" says nothing
  } else {
    std::uint64_t complete = 0;
    if (!readNumber(header, i, complete, overflow) || overflow) return std::nullopt;
    if (out.range && out.range->last >= complete) return std::nullopt;
    out.complete = complete;
  }
  skipOws(header, i);
  if (i != header.size()) return std::nullopt;
  return out;
}

std::string formatContentRange(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size);
}

std::string formatUnsatisfiedRange(std::uint64_t size) {
  return "bytes */" + std::to_string(size);
}

}  // namespace cpmgw::fthttp
