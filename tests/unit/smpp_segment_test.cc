// Coding choice, segmentation boundaries, the concatenation UDH (8 and 16-bit references) and SAR TLVs.
#include "smpp/sms_segment.h"

#include <gtest/gtest.h>

#include "smpp/sms_charset.h"

namespace cpmgw::smpp {
namespace {

std::u32string repeat(char32_t c, std::size_t n) {
  return std::u32string(n, c);
}
const char32_t kEuro = U'\u20AC';
const char32_t kZhe = U'\u0436';
const char32_t kGrin = U'\U0001F600';

std::vector<std::size_t> sizes(const SplitText& s) {
  std::vector<std::size_t> out;
  for (const auto& p : s.parts) out.push_back(s.coding == Coding::Ucs2 ? p.size() / 2 : p.size());
  return out;
}

SplitText split(const std::u32string& t, bool ref16 = false) {
  auto s = splitText(t, {ref16, 255});
  EXPECT_TRUE(s);
  return s ? *s : SplitText{};
}

TEST(SmsCoding, GsmWhenEveryCharacterFitsUcs2Otherwise) {
  EXPECT_EQ(chooseCoding(U"hello"), Coding::Gsm7);
  EXPECT_EQ(chooseCoding(std::u32string(U"price 5") + kEuro), Coding::Gsm7);
  EXPECT_EQ(chooseCoding(U"fa\u00e7ade"), Coding::Ucs2);
  EXPECT_EQ(chooseCoding(std::u32string(1, kGrin)), Coding::Ucs2);
}

TEST(SmsSplit, GsmSinglePartLimitIs160) {
  EXPECT_EQ(sizes(split(repeat('a', 159))), (std::vector<std::size_t>{159}));
  EXPECT_EQ(sizes(split(repeat('a', 160))), (std::vector<std::size_t>{160}));
  EXPECT_EQ(sizes(split(repeat('a', 161))), (std::vector<std::size_t>{153, 8}));
}

TEST(SmsSplit, GsmPartsAre153With8BitAnd152With16BitReferences) {
  EXPECT_EQ(sizes(split(repeat('a', 306))), (std::vector<std::size_t>{153, 153}));
  EXPECT_EQ(sizes(split(repeat('a', 307))), (std::vector<std::size_t>{153, 153, 1}));
  EXPECT_EQ(sizes(split(repeat('a', 304), true)), (std::vector<std::size_t>{152, 152}));
  EXPECT_EQ(sizes(split(repeat('a', 305), true)), (std::vector<std::size_t>{152, 152, 1}));
  // 152 / 153 / 154 characters beside the boundary of the first part.
  for (std::size_t first : {152u, 153u, 154u}) {
    auto s = split(repeat('a', first) + repeat('b', 100));
    std::string all = std::string(first, 'a') + std::string(100, 'b');
    ASSERT_EQ(s.parts.size(), 2u);
    EXPECT_EQ(s.parts[0], all.substr(0, 153)) << first;
    EXPECT_EQ(s.parts[1], all.substr(153)) << first;
  }
}

TEST(SmsSplit, AnEscapePairIsNeverCut) {
  // 152 + 2 septets do not fit 153: the euro sign opens the second part.
  auto s = split(repeat('a', 152) + kEuro + repeat('b', 10));
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(s.parts[0], std::string(152, 'a'));
  EXPECT_EQ(s.parts[1].substr(0, 2), std::string("\x1B\x65", 2));
  // 151 + 2 fill the part exactly.
  s = split(repeat('a', 151) + kEuro + repeat('b', 10));
  EXPECT_EQ(s.parts[0].size(), 153u);
  EXPECT_EQ(s.parts[0].substr(151), std::string("\x1B\x65", 2));
  // 160 characters with one extension are 161 septets: two parts, not one.
  s = split(repeat('a', 159) + kEuro);
  EXPECT_EQ(s.parts.size(), 2u);
  // 158 + 2 septets are exactly one SMS.
  EXPECT_EQ(split(repeat('a', 158) + kEuro).parts.size(), 1u);
  // With 16-bit references the part is 152 septets.
  s = split(repeat('a', 151) + kEuro + repeat('b', 10), true);
  EXPECT_EQ(s.parts[0], std::string(151, 'a'));
}

TEST(SmsSplit, Ucs2LimitsAre70And67Or66) {
  EXPECT_EQ(sizes(split(repeat(kZhe, 70))), (std::vector<std::size_t>{70}));
  EXPECT_EQ(sizes(split(repeat(kZhe, 71))), (std::vector<std::size_t>{67, 4}));
  EXPECT_EQ(sizes(split(repeat(kZhe, 134))), (std::vector<std::size_t>{67, 67}));
  EXPECT_EQ(sizes(split(repeat(kZhe, 133), true)), (std::vector<std::size_t>{66, 66, 1}));
}

TEST(SmsSplit, ASurrogatePairIsNeverCutAndSurvives) {
  // 66 units + a pair do not fit 67: the emoji opens the second part.
  auto text = repeat(kZhe, 66) + kGrin + repeat('x', 5);
  auto s = split(text);
  ASSERT_EQ(s.coding, Coding::Ucs2);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(s.parts[0].size(), 66u * 2);
  EXPECT_EQ(s.parts[1].substr(0, 4), std::string("\xD8\x3D\xDE\x00", 4));
  std::string joined = s.parts[0] + s.parts[1];
  EXPECT_EQ(decodeUcs2(joined), text);
  // 69 units + a pair are 71: two parts.
  EXPECT_EQ(split(repeat(kZhe, 69) + kGrin).parts.size(), 2u);
  // 68 units + a pair are exactly 70: one part.
  EXPECT_EQ(split(repeat(kZhe, 68) + kGrin).parts.size(), 1u);
  // 16-bit references: 65 + pair fit 67 but not 66.
  s = split(repeat(kZhe, 65) + kGrin + repeat('x', 5), true);
  EXPECT_EQ(s.parts[0].size(), 65u * 2);
}

TEST(SmsSplit, TooManyPartsAndEmptyText) {
  EXPECT_FALSE(splitText(repeat('a', 307), {false, 2}));
  EXPECT_TRUE(splitText(repeat('a', 306), {false, 2}));
  EXPECT_FALSE(splitText(repeat('a', 255 * 153 + 1), {false, 255}));
  auto empty = split(U"");
  ASSERT_EQ(empty.parts.size(), 1u);
  EXPECT_EQ(empty.parts[0], "");
}

TEST(Udh, BuildsConcatenationHeaders) {
  EXPECT_EQ(buildConcatUdh({0x2A, 3, 1, false}), std::string("\x05\x00\x03\x2A\x03\x01", 6));
  EXPECT_EQ(buildConcatUdh({0x1234, 2, 2, true}), std::string("\x06\x08\x04\x12\x34\x02\x02", 7));
}

TEST(Udh, ParsesEightAndSixteenBitReferencesAmongOtherElements) {
  auto u = parseUserData(std::string("\x05\x00\x03\x2A\x03\x02hello", 11), true);
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->concat);
  EXPECT_EQ(*u->concat, (ConcatInfo{0x2A, 3, 2, false}));
  EXPECT_EQ(u->payload, "hello");
  EXPECT_EQ(u->header.size(), 6u);
  u = parseUserData(std::string("\x06\x08\x04\xAB\xCD\x05\x05x", 8), true);
  ASSERT_TRUE(u && u->concat);
  EXPECT_EQ(*u->concat, (ConcatInfo{0xABCD, 5, 5, true}));
  // A port-addressing element first, then concatenation.
  u = parseUserData(std::string("\x0B\x05\x04\x0B\x84\x23\xF0\x00\x03\x01\x02\x01"
                                "data",
                                16),
                    true);
  ASSERT_TRUE(u && u->concat);
  EXPECT_EQ(*u->concat, (ConcatInfo{1, 2, 1, false}));
  EXPECT_EQ(u->payload, "data");
  // Without UDHI the whole message is payload.
  u = parseUserData(std::string("\x05\x00\x03\x2A\x03\x02", 6), false);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->concat);
  EXPECT_EQ(u->payload.size(), 6u);
}

TEST(Udh, RefusesBrokenHeadersAndIgnoresInvalidNumbering) {
  EXPECT_FALSE(parseUserData("", true));
  EXPECT_FALSE(parseUserData(std::string("\x09\x00\x03\x01", 4), true));      // UDHL past the data
  EXPECT_FALSE(parseUserData(std::string("\x04\x00\x05\x01\x02", 5), true));  // element past the header
  EXPECT_FALSE(parseUserData(std::string("\x01\x00", 2), true));              // element header cut
  auto u = parseUserData(std::string("\x05\x00\x03\x01\x02\x00x", 7), true);  // seq 0
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->concat);
  u = parseUserData(std::string("\x05\x00\x03\x01\x02\x03x", 7), true);  // seq > total
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->concat);
  u = parseUserData(std::string("\x05\x00\x03\x01\x00\x01x", 7), true);  // total 0
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->concat);
  u = parseUserData(std::string("\x00rest", 5), true);  // empty header
  ASSERT_TRUE(u);
  EXPECT_EQ(u->payload, "rest");
}

TEST(Sar, TlvsMakeConcatenationInfo) {
  EXPECT_EQ(*concatFromSar(513, 3, 2), (ConcatInfo{513, 3, 2, true}));
  EXPECT_FALSE(concatFromSar(std::nullopt, 3, 2));
  EXPECT_FALSE(concatFromSar(1, std::nullopt, 1));
  EXPECT_FALSE(concatFromSar(1, 3, std::nullopt));
  EXPECT_FALSE(concatFromSar(1, 3, 0));
  EXPECT_FALSE(concatFromSar(1, 3, 4));
  EXPECT_FALSE(concatFromSar(1, 0, 0));
}

}  // namespace
}  // namespace cpmgw::smpp
