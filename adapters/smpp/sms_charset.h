// Character sets of SMS: GSM 03.38 7-bit default alphabet (with its extension table), UCS-2/UTF-16BE,
// Latin-1 and ASCII, converted to and from Unicode code points and UTF-8. Pure functions, no I/O.
//
// GSM 7-bit text is carried in SMPP one septet per octet (the "unpacked" form SMSCs expect for data_coding 0);
// the SMSC packs it for the air interface. An extension character is the escape septet 0x1B followed by its
// code and costs two septets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpmgw::smpp {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr std::uint8_t kGsmEscape = 0x1B;

// UTF-8 -> code points. Invalid or overlong sequences and surrogate code points become U+FFFD, one per bad byte.
std::u32string utf8ToCodePoints(std::string_view utf8);
// Code points -> UTF-8. Values that are not Unicode scalar values become U+FFFD.
std::string codePointsToUtf8(std::u32string_view text);

// Septets one character costs in GSM 7-bit: 1 (basic table), 2 (extension table) or 0 (not representable).
int gsm7Septets(char32_t c);
// True when every character has a GSM 7-bit form.
bool gsm7Encodable(std::u32string_view text);
// Code points -> septets, one per byte (0x00..0x7F); nullopt when a character has no GSM 7-bit form.
std::optional<std::string> encodeGsm7(std::u32string_view text);
// Septets -> code points. An escape before a code the extension table lacks reads as the basic character (3GPP
// TS 23.038 6.2.1.1); a trailing lone escape is dropped; a byte with the high bit set becomes U+FFFD.
std::u32string decodeGsm7(std::string_view septets);

// Code points -> UTF-16BE (UCS-2 on the wire; characters beyond the BMP as surrogate pairs, which phones display).
std::string encodeUcs2(std::u32string_view text);
// UTF-16 code units one character takes: 1, or 2 beyond the BMP.
inline int ucs2Units(char32_t c) {
  return c > 0xFFFF ? 2 : 1;
}
// UTF-16BE -> code points. Surrogate pairs are combined; an unpaired surrogate or a trailing odd byte becomes U+FFFD.
std::u32string decodeUcs2(std::string_view bytes);

// ISO 8859-1 -> code points (every byte maps).
std::u32string decodeLatin1(std::string_view bytes);
// IA5 / ASCII -> code points; bytes above 0x7F become U+FFFD.
std::u32string decodeAscii(std::string_view bytes);

}  // namespace cpmgw::smpp
