#include "smpp/sms_charset.h"

#include <array>
#include <unordered_map>

namespace cpmgw::smpp {
namespace {

// 3GPP TS 23.038 6.2.1: the default alphabet. 0x1B is the escape to the extension table, not a character.
constexpr std::array<char32_t, 128> kGsmBasic = {
    U'@',      U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',  // 0x00
    U'\u00F2', U'\u00C7', U'\n',     U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',  // 0x08
    U'\u0394', U'_',      U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',  // 0x10
    U'\u03A3', U'\u0398', U'\u039E', 0,         U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',  // 0x18
    U' ',      U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',      // 0x20
    U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',       // 0x28
    U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',       // 0x30
    U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',       // 0x38
    U'\u00A1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',       // 0x40
    U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',       // 0x48
    U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',       // 0x50
    U'X',      U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',  // 0x58
    U'\u00BF', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',       // 0x60
    U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',       // 0x68
    U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',       // 0x70
    U'x',      U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',  // 0x78
};

// 3GPP TS 23.038 6.2.1.1: the default extension table (after 0x1B).
struct ExtensionEntry {
  std::uint8_t code;
  char32_t ch;
};
constexpr std::array<ExtensionEntry, 10> kGsmExtension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

struct GsmReverse {
  std::unordered_map<char32_t, std::uint8_t> basic;
  std::unordered_map<char32_t, std::uint8_t> extension;
  GsmReverse() {
    for (std::size_t i = 0; i < kGsmBasic.size(); ++i)
      if (i != kGsmEscape) basic.emplace(kGsmBasic[i], static_cast<std::uint8_t>(i));
    for (const auto& e : kGsmExtension) extension.emplace(e.ch, e.code);
  }
};

const GsmReverse& reverse() {
  static const GsmReverse table;
  return table;
}

bool isScalarValue(char32_t c) {
  return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF);
}

void appendUtf16Unit(std::string& out, std::uint16_t unit) {
  out += static_cast<char>(unit >> 8);
  out += static_cast<char>(unit & 0xFF);
}

}  // namespace

std::u32string utf8ToCodePoints(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out += kReplacementChar;
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[len] || !isScalarValue(cp)) {
      out += kReplacementChar;
      ++i;
      continue;
    }
    out += cp;
    i += len;
  }
  return out;
}

std::string codePointsToUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (!isScalarValue(c)) c = kReplacementChar;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

int gsm7Septets(char32_t c) {
  const auto& r = reverse();
  if (r.basic.count(c)) return 1;
  if (r.extension.count(c)) return 2;
  return 0;
}

bool gsm7Encodable(std::u32string_view text) {
  for (char32_t c : text)
    if (gsm7Septets(c) == 0) return false;
  return true;
}

std::optional<std::string> encodeGsm7(std::u32string_view text) {
  const auto& r = reverse();
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (auto b = r.basic.find(c); b != r.basic.end()) {
      out += static_cast<char>(b->second);
    } else if (auto e = r.extension.find(c); e != r.extension.end()) {
      out += static_cast<char>(kGsmEscape);
      out += static_cast<char>(e->second);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::u32string decodeGsm7(std::string_view septets) {
  std::u32string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    auto b = static_cast<std::uint8_t>(septets[i]);
    if (b > 0x7F) {
      out += kReplacementChar;
      continue;
    }
    if (b != kGsmEscape) {
      out += kGsmBasic[b];
      continue;
    }
    if (i + 1 >= septets.size()) break;  // a lone escape at the end carries no character
    auto code = static_cast<std::uint8_t>(septets[++i]);
    if (code > 0x7F) {
      out += kReplacementChar;
      continue;
    }
    char32_t ch = 0;
    for (const auto& e : kGsmExtension)
      if (e.code == code) ch = e.ch;
    // An unknown extension (or a second escape) reads as the basic table's character, or a space for the escape.
    if (ch == 0) ch = code == kGsmEscape ? U' ' : kGsmBasic[code];
    out += ch;
  }
  return out;
}

std::string encodeUcs2(std::u32string_view text) {
  std::string out;
  out.reserve(text.size() * 2);
  for (char32_t c : text) {
    if (!isScalarValue(c)) c = kReplacementChar;
    if (c > 0xFFFF) {
      char32_t v = c - 0x10000;
      appendUtf16Unit(out, static_cast<std::uint16_t>(0xD800 | (v >> 10)));
      appendUtf16Unit(out, static_cast<std::uint16_t>(0xDC00 | (v & 0x3FF)));
    } else {
      appendUtf16Unit(out, static_cast<std::uint16_t>(c));
    }
  }
  return out;
}

std::u32string decodeUcs2(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size() / 2 + 1);
  auto unitAt = [&](std::size_t i) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[i]) << 8) |
                                      static_cast<std::uint8_t>(bytes[i + 1]));
  };
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    std::uint16_t u = unitAt(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 3 < bytes.size()) {
        std::uint16_t low = unitAt(i + 2);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          out += static_cast<char32_t>(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
          i += 2;
          continue;
        }
      }
      out += kReplacementChar;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      out += kReplacementChar;
    } else {
      out += static_cast<char32_t>(u);
    }
  }
  if (i < bytes.size()) out += kReplacementChar;  // half a code unit
  return out;
}

std::u32string decodeLatin1(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (char b : bytes) out += static_cast<char32_t>(static_cast<std::uint8_t>(b));
  return out;
}

std::u32string decodeAscii(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  for (char b : bytes) {
    auto v = static_cast<std::uint8_t>(b);
    out += v < 0x80 ? static_cast<char32_t>(v) : kReplacementChar;
  }
  return out;
}

}  // namespace cpmgw::smpp
