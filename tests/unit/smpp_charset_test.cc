// GSM 03.38 7-bit (basic and extension tables), UCS-2/UTF-16 and UTF-8 conversions.
#include "smpp/sms_charset.h"

#include <gtest/gtest.h>

namespace cpmgw::smpp {
namespace {

std::u32string cps(const std::string& utf8) {
  return utf8ToCodePoints(utf8);
}

TEST(Gsm7, BasicTableRoundTripsEveryCharacter) {
  for (int septet = 0; septet < 128; ++septet) {
    if (septet == kGsmEscape) continue;
    std::u32string decoded = decodeGsm7(std::string(1, static_cast<char>(septet)));
    ASSERT_EQ(decoded.size(), 1u) << septet;
    EXPECT_EQ(gsm7Septets(decoded[0]), 1) << septet;
    auto encoded = encodeGsm7(decoded);
    ASSERT_TRUE(encoded) << septet;
    EXPECT_EQ(*encoded, std::string(1, static_cast<char>(septet))) << septet;
  }
}

TEST(Gsm7, KnownPositionsOfTheBasicTable) {
  struct Case {
    const char* utf8;
    std::uint8_t septet;
  } cases[] = {{"@", 0x00},        {"\xC2\xA3", 0x01}, {"$", 0x02},        {"\xC3\xA8", 0x04}, {"\n", 0x0A},
               {"\r", 0x0D},       {"\xCE\x94", 0x10}, {"_", 0x11},        {"\xC3\x86", 0x1C}, {"\xC3\x89", 0x1F},
               {" ", 0x20},        {"\xC2\xA4", 0x24}, {"\xC2\xA1", 0x40}, {"A", 0x41},        {"\xC3\x84", 0x5B},
               {"\xC2\xA7", 0x5F}, {"\xC2\xBF", 0x60}, {"z", 0x7A},        {"\xC3\xA0", 0x7F}, {"\xC3\x87", 0x09}};
  for (const auto& c : cases) {
    auto e = encodeGsm7(cps(c.utf8));
    ASSERT_TRUE(e) << c.utf8;
    EXPECT_EQ(*e, std::string(1, static_cast<char>(c.septet))) << c.utf8;
  }
}

TEST(Gsm7, ExtensionCharactersCostTwoSeptets) {
  struct Case {
    const char* utf8;
    std::uint8_t code;
  } cases[] = {{"\f", 0x0A}, {"^", 0x14}, {"{", 0x28}, {"}", 0x29}, {"\\", 0x2F},
               {"[", 0x3C},  {"~", 0x3D}, {"]", 0x3E}, {"|", 0x40}, {"\xE2\x82\xAC", 0x65}};
  for (const auto& c : cases) {
    auto text = cps(c.utf8);
    ASSERT_EQ(text.size(), 1u);
    EXPECT_EQ(gsm7Septets(text[0]), 2) << c.utf8;
    auto e = encodeGsm7(text);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, std::string({char(0x1B), char(c.code)})) << c.utf8;
    EXPECT_EQ(decodeGsm7(*e), text) << c.utf8;
  }
}

TEST(Gsm7, CharactersWithoutAGsmFormAreRefused) {
  for (const char* s : {"\xC3\xA7", "\xD0\xB6", "\xF0\x9F\x98\x80", "`", "\xC3\xA1"}) {
    EXPECT_FALSE(encodeGsm7(cps(s))) << s;
    EXPECT_FALSE(gsm7Encodable(cps(s))) << s;
  }
  EXPECT_TRUE(gsm7Encodable(cps("Hello [world] \xE2\x82\xAC 100")));
}

TEST(Gsm7, DecodingToleratesWhatSendersGetWrong) {
  // An escape before a code without an extension reads as the basic character.
  EXPECT_EQ(codePointsToUtf8(decodeGsm7(std::string("\x1B"
                                                    "A",
                                                    2))),
            "A");
  // Two escapes: a space.
  EXPECT_EQ(codePointsToUtf8(decodeGsm7(std::string("\x1B\x1B", 2))), " ");
  // A lone escape at the end carries nothing.
  EXPECT_EQ(codePointsToUtf8(decodeGsm7(std::string("ab\x1B", 3))), "ab");
  // Octets above 0x7F are not septets.
  EXPECT_EQ(decodeGsm7(std::string("\x80", 1)), std::u32string(1, kReplacementChar));
  EXPECT_EQ(decodeGsm7(std::string("\x1B\xFF", 2)), std::u32string(1, kReplacementChar));
  EXPECT_EQ(codePointsToUtf8(decodeGsm7(std::string("\x00", 1))), "@");
}

TEST(Ucs2, BmpAndEmojiRoundTrip) {
  auto text = cps("A\xC3\xA7\xD0\xB6\xE2\x82\xAC\xF0\x9F\x98\x80\xF0\x9F\x87\xA9\xF0\x9F\x87\xAA");
  std::string bytes = encodeUcs2(text);
  EXPECT_EQ(bytes.substr(0, 2), std::string("\x00\x41", 2));
  EXPECT_EQ(bytes.substr(8, 4), std::string("\xD8\x3D\xDE\x00", 4));  // U+1F600 as a surrogate pair
  EXPECT_EQ(bytes.size(), (4 + 2 * 3) * 2u);
  EXPECT_EQ(decodeUcs2(bytes), text);
  EXPECT_EQ(ucs2Units(U'A'), 1);
  EXPECT_EQ(ucs2Units(U'\U0001F600'), 2);
}

TEST(Ucs2, BrokenSurrogatesAndOddLengthsBecomeReplacementCharacters) {
  EXPECT_EQ(decodeUcs2(std::string("\xD8\x3D\x00\x41", 4)), (std::u32string{kReplacementChar, U'A'}));
  EXPECT_EQ(decodeUcs2(std::string("\xDE\x00\x00\x42", 4)), (std::u32string{kReplacementChar, U'B'}));
  EXPECT_EQ(decodeUcs2(std::string("\xD8\x3D", 2)), std::u32string(1, kReplacementChar));
  EXPECT_EQ(decodeUcs2(std::string("\x00\x41\x00", 3)), (std::u32string{U'A', kReplacementChar}));
  EXPECT_EQ(decodeUcs2(""), U"");
}

TEST(Utf8, InvalidInputBecomesReplacementCharacters) {
  EXPECT_EQ(cps("\xC0\x80"), (std::u32string{kReplacementChar, kReplacementChar}));  // overlong NUL
  EXPECT_EQ(cps("\xED\xA0\x80"), (std::u32string(3, kReplacementChar)));             // a surrogate in UTF-8
  EXPECT_EQ(cps("a\xFF"), (std::u32string{U'a', kReplacementChar}));
  EXPECT_EQ(cps("\xE2\x82"), (std::u32string(2, kReplacementChar)));  // cut short
  EXPECT_EQ(codePointsToUtf8(std::u32string{0x110000}), "\xEF\xBF\xBD");
  EXPECT_EQ(codePointsToUtf8(cps("\xF0\x9F\x98\x80 ok")), "\xF0\x9F\x98\x80 ok");
}

TEST(Latin1AndAscii, Decode) {
  EXPECT_EQ(codePointsToUtf8(decodeLatin1("\xE9t\xE9")), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(decodeAscii("a\x80"), (std::u32string{U'a', kReplacementChar}));
}

}  // namespace
}  // namespace cpmgw::smpp
