#include "smpp/sms_segment.h"

#include "smpp/sms_charset.h"

namespace cpmgw::smpp {
namespace {

constexpr std::uint8_t kIeConcat8 = 0x00;
constexpr std::uint8_t kIeConcat16 = 0x08;

// Splits characters into parts of at most `limit` units each, where a character costs `cost(c)` units and is never
// cut, then encodes each part.
template <typename Cost, typename Encode>
std::optional<std::vector<std::string>> pack(std::u32string_view text, int single, int limit, std::size_t maxParts,
                                             Cost cost, Encode encode) {
  int total = 0;
  for (char32_t c : text) total += cost(c);
  if (total <= single) return std::vector<std::string>{encode(text)};
  std::vector<std::string> parts;
  std::size_t start = 0;
  int used = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int c = cost(text[i]);
    if (used + c > limit) {
      parts.push_back(encode(text.substr(start, i - start)));
      if (parts.size() >= maxParts) return std::nullopt;
      start = i;
      used = 0;
    }
    used += c;
  }
  parts.push_back(encode(text.substr(start)));
  if (parts.size() > maxParts) return std::nullopt;
  return parts;
}

}  // namespace

Coding chooseCoding(std::u32string_view text) {
  return gsm7Encodable(text) ? Coding::Gsm7 : Coding::Ucs2;
}

std::optional<SplitText> splitText(std::u32string_view text, const SplitOptions& options) {
  SplitText out;
  out.coding = chooseCoding(text);
  std::optional<std::vector<std::string>> parts;
  if (out.coding == Coding::Gsm7) {
    parts = pack(
        text, kGsm7Single, options.ref16 ? kGsm7Concat16 : kGsm7Concat8, options.maxParts,
        [](char32_t c) { return gsm7Septets(c); }, [](std::u32string_view t) { return *encodeGsm7(t); });
  } else {
    parts = pack(
        text, kUcs2Single, options.ref16 ? kUcs2Concat16 : kUcs2Concat8, options.maxParts,
        [](char32_t c) { return ucs2Units(c); }, [](std::u32string_view t) { return encodeUcs2(t); });
  }
  if (!parts) return std::nullopt;
  out.parts = std::move(*parts);
  return out;
}

std::string buildConcatUdh(const ConcatInfo& info) {
  std::string udh;
  if (info.ref16) {
    udh = {char(6),          char(kIeConcat16), char(4), char(info.ref >> 8), char(info.ref & 0xFF),
           char(info.total), char(info.seq)};
  } else {
    udh = {char(5), char(kIeConcat8), char(3), char(info.ref & 0xFF), char(info.total), char(info.seq)};
  }
  return udh;
}

std::optional<UserData> parseUserData(std::string_view sm, bool udhi) {
  UserData out;
  if (!udhi) {
    out.payload = std::string(sm);
    return out;
  }
  if (sm.empty()) return std::nullopt;
  std::size_t udhl = static_cast<std::uint8_t>(sm[0]);
  if (1 + udhl > sm.size()) return std::nullopt;
  out.header = std::string(sm.substr(0, 1 + udhl));
  out.payload = std::string(sm.substr(1 + udhl));
  std::string_view ies = sm.substr(1, udhl);
  std::size_t i = 0;
  while (i < ies.size()) {
    if (i + 2 > ies.size()) return std::nullopt;
    auto iei = static_cast<std::uint8_t>(ies[i]);
    std::size_t len = static_cast<std::uint8_t>(ies[i + 1]);
    if (i + 2 + len > ies.size()) return std::nullopt;
    auto d = [&](std::size_t k) { return static_cast<std::uint8_t>(ies[i + 2 + k]); };
    ConcatInfo c;
    bool concat = false;
    if (iei == kIeConcat8 && len == 3) {
      c = {d(0), d(1), d(2), false};
      concat = true;
    } else if (iei == kIeConcat16 && len == 4) {
      c = {static_cast<std::uint16_t>((d(0) << 8) | d(1)), d(2), d(3), true};
      concat = true;
    }
    // 23.040 9.2.3.24.1: a part numbered 0 or beyond the total is not a valid part; ignore the element.
    if (concat && c.total > 0 && c.seq > 0 && c.seq <= c.total) out.concat = c;
    i += 2 + len;
  }
  return out;
}

std::optional<ConcatInfo> concatFromSar(std::optional<std::uint16_t> ref, std::optional<std::uint8_t> total,
                                        std::optional<std::uint8_t> seq) {
  if (!ref || !total || !seq) return std::nullopt;
  if (*total == 0 || *seq == 0 || *seq > *total) return std::nullopt;
  return ConcatInfo{*ref, *total, *seq, true};
}

}  // namespace cpmgw::smpp
