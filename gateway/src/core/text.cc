#include "cpmgw/text.h"

namespace cpmgw {

std::size_t utf8Length(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong below
    if (c == 0xed) hi = 0x9f;  // surrogates above
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong below
    if (c == 0xf4) hi = 0x8f;  // beyond U+10FFFF above
  } else {
    return 0;
  }
  if (s.size() - i < n || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return n;
}

bool isUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8Length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8Length(text, i);
    bool escaped = n == 0 ||                                                                 // not UTF-8
                   (n == 1 && ((c < 0x20 && c != '\t') || c == 0x7f)) ||                     // C0, DEL
                   (n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0);  // C1
    if (n == 0) n = 1;  // a byte that is not UTF-8 is escaped alone
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '\\') {
      out += "\\\\";
    } else if (escaped) {
      for (std::size_t k = i; k < i + n; ++k) {
        auto b = static_cast<unsigned char>(text[k]);
        out += "\\x";
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
      }
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
  return out;
}

std::string escapeMarkup(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '_' : c;
    }
  }
  return out;
}

}  // namespace cpmgw
