#include "smpp/sms_mapping.h"

#include <cctype>

#include "smpp/sms_charset.h"

namespace cpmgw::smpp {
namespace {

constexpr std::size_t kMaxDigits = 20;
constexpr std::size_t kMaxAlphanumeric = 11;

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of a header in a block of "Name: value" lines, case-insensitively.
std::string headerValue(std::string_view block, std::string_view name) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    auto end = block.find('\n', pos);
    std::string_view line = block.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && lower(line.substr(0, colon)) == lower(name)) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      return std::string(v);
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return {};
}

// Splits "headers CRLF CRLF body" (or bare LF); nullopt without the blank line.
std::optional<std::pair<std::string_view, std::string_view>> splitHeaders(std::string_view s) {
  auto crlf = s.find("\r\n\r\n");
  auto lf = s.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::nullopt;
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf))
    return std::make_pair(s.substr(0, crlf), s.substr(crlf + 4));
  return std::make_pair(s.substr(0, lf), s.substr(lf + 2));
}

bool isTextType(const std::string& contentType) {
  std::string t = lower(contentType.substr(0, contentType.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t.rfind("text/", 0) == 0;
}

}  // namespace

std::optional<SmeAddress> smeAddressOf(const std::string& address, bool allowAlphanumeric) {
  std::string user;
  if (address.rfind("tel:", 0) == 0) {
    user = address.substr(4);
  } else if (address.rfind("sip:", 0) == 0 || address.rfind("sips:", 0) == 0) {
    auto colon = address.find(':');
    auto at = address.find('@');
    if (at == std::string::npos) return std::nullopt;
    user = address.substr(colon + 1, at - colon - 1);
    user = user.substr(0, user.find(';'));  // user parameters (";phone-context=...") are not part of the number
  } else {
    return std::nullopt;
  }
  if (!user.empty() && user[0] == '+' && allDigits(std::string_view(user).substr(1))) {
    if (user.size() - 1 > kMaxDigits) return std::nullopt;
    return SmeAddress{kTonInternational, kNpiE164, user.substr(1)};
  }
  if (allDigits(user)) {
    if (user.size() > kMaxDigits) return std::nullopt;
    return SmeAddress{kTonUnknown, kNpiE164, user};
  }
  if (!allowAlphanumeric || user.empty() || user.size() > kMaxAlphanumeric || address.rfind("tel:", 0) == 0)
    return std::nullopt;
  for (char c : user)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return std::nullopt;
  return SmeAddress{kTonAlphanumeric, kNpiUnknown, user};
}

std::string addressFromSme(const std::string& addr, std::uint8_t ton, const std::string& alnumDomain) {
  std::string_view a = addr;
  if (ton != kTonAlphanumeric) {
    std::string_view digits = !a.empty() && a[0] == '+' ? a.substr(1) : a;
    if (allDigits(digits) && digits.size() <= kMaxDigits) {
      // National and subscriber numbers cannot be made international without a numbering plan: keep them as they are.
      bool international = ton == kTonInternational || ton == kTonUnknown;
      return std::string("tel:") + (international ? "+" : "") + std::string(digits);
    }
  }
  if (a.empty() || a.size() > kMaxDigits) return {};
  // An alphanumeric sender: percent-encode what a SIP user part may not hold.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string user;
  for (unsigned char c : a) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'') {
      user += static_cast<char>(c);
    } else {
      user += '%';
      user += kHex[c >> 4];
      user += kHex[c & 0xF];
    }
  }
  return "sip:" + user + "@" + alnumDomain;
}

std::string moRecipient(const std::string& recipientTemplate, const std::string& dest) {
  std::string_view d = dest;
  if (!d.empty() && d[0] == '+') d.remove_prefix(1);
  if (!allDigits(d) || d.size() > kMaxDigits) return {};
  std::string out = recipientTemplate;
  for (auto p = out.find("{number}"); p != std::string::npos; p = out.find("{number}", p + d.size()))
    out.replace(p, 8, std::string(d));
  return out;
}

std::optional<std::string> smsTextOf(const Message& m, std::string* why) {
  std::string type = lower(m.contentType.substr(0, m.contentType.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type.empty() || type.rfind("text/", 0) == 0) return m.body;
  if (type == "message/cpim") {
    // RFC 3862: message headers, a blank line, the MIME headers of the content, a blank line, the content.
    auto outer = splitHeaders(m.body);
    if (outer) {
      auto inner = splitHeaders(outer->second);
      if (inner) {
        std::string innerType = headerValue(inner->first, "Content-Type");
        if (innerType.empty() || isTextType(innerType)) return std::string(inner->second);
        if (why) *why = "CPIM content " + innerType + " has no SMS form";
        return std::nullopt;
      }
    }
    if (why) *why = "malformed message/cpim body";
    return std::nullopt;
  }
  if (why) *why = "content type " + m.contentType + " has no SMS form";
  return std::nullopt;
}

bool isGsm7Coding(std::uint8_t dcs, bool latin1Default) {
  if (dcs == 0) return !latin1Default;
  if ((dcs & 0xF0) == 0xF0) return (dcs & 0x04) == 0;
  return false;
}

SmsContent decodeUserData(std::uint8_t dcs, std::string_view data, bool latin1Default) {
  if (dcs == 0) return {true, codePointsToUtf8(latin1Default ? decodeLatin1(data) : decodeGsm7(data))};
  if (dcs == 1) return {true, codePointsToUtf8(decodeAscii(data))};
  if (dcs == 3) return {true, codePointsToUtf8(decodeLatin1(data))};
  if (dcs == 8) return {true, codePointsToUtf8(decodeUcs2(data))};
  if ((dcs & 0xF0) == 0xF0) {
    // GSM 03.38 data coding/message class group: bit 2 chooses 8-bit data over the default alphabet.
    if (dcs & 0x04) return {false, std::string(data)};
    return {true, codePointsToUtf8(decodeGsm7(data))};
  }
  return {false, std::string(data)};
}

}  // namespace cpmgw::smpp
