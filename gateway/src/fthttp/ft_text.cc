#include "fthttp/ft_text.h"

#include <cstdio>

#include "cpmgw/text.h"

namespace cpmgw::fthttp {

namespace {

bool isTokenChar(char c) {
  // RFC 9110 tchar
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char t : std::string_view("!#$%&'*+-.^_`|~"))
    if (c == t) return true;
  return false;
}

char lowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string sanitiseFileName(std::string_view raw) {
  // Only the last component: neither '/' nor '\' may survive.
  auto cut = raw.find_last_of("/\\");
  if (cut != std::string_view::npos) raw.remove_prefix(cut + 1);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    std::size_t len = utf8Length(raw, i);
    if (len == 0) {
      out += '_';
      ++i;
      continue;
    }
    auto c = static_cast<unsigned char>(raw[i]);
    if (len == 1 && (c < 0x20 || c == 0x7f)) {
      out += '_';
    } else if (len == 2 && c == 0xc2 && static_cast<unsigned char>(raw[i + 1]) < 0xa0) {
      out += '_';  // C1 controls (U+0080..U+009F)
    } else if (len == 3 && raw.substr(i, 3) == "\xe2\x80\xae") {
      out += '_';  // RIGHT-TO-LEFT OVERRIDE: "gpj.exe" shown as "exe.jpg"
    } else {
      out.append(raw.substr(i, len));
    }
    i += len;
  }
  auto trimmable = [](char c) { return c == ' ' || c == '\t' || c == '.'; };
  std::size_t b = 0, e = out.size();
  while (b < e && trimmable(out[b])) ++b;
  while (e > b && trimmable(out[e - 1])) --e;
  out = out.substr(b, e - b);
  if (out.size() > kMaxFileNameBytes) {
    std::size_t n = kMaxFileNameBytes;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xc0) == 0x80) --n;  // never split a character
    out.resize(n);
  }
  return out.empty() ? "file" : out;
}

std::string normaliseMediaType(std::string_view raw) {
  static const std::string kFallback = "application/octet-stream";
  auto semi = raw.find(';');
  std::string_view t = raw.substr(0, semi);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  auto slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size() || t.size() > 127) return kFallback;
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i == slash) {
      out += '/';
      continue;
    }
    if (!isTokenChar(t[i])) return kFallback;
    out += lowerAscii(t[i]);
  }
  return out;
}

std::string contentDisposition(std::string_view fileName) {
  std::string fallback;
  std::string encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : fileName) {
    auto c = static_cast<unsigned char>(ch);
    // The quoted fallback keeps printable ASCII except the characters quoting would need.
    fallback += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') ? ch : '_';
    // attr-char of RFC 8187; everything else percent-encoded.
    bool attr = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("!#$&+-.^_`|~").find(ch) != std::string_view::npos;
    if (attr) {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0f];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

std::string htmlEscape(std::string_view text) {
  return escapeMarkup(text);
}

std::string humanSize(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::string base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string hexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 0x0f];
  }
  return out;
}

}  // namespace cpmgw::fthttp
