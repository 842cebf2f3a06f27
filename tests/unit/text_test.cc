#include "cpmgw/text.h"

#include <gtest/gtest.h>

#include <string>

namespace cpmgw {
namespace {

TEST(Text, Utf8LengthAcceptsOnlyWellFormedSequences) {
  EXPECT_EQ(utf8Length("a", 0), 1u);
  EXPECT_EQ(utf8Length("\xc3\xa9", 0), 2u);
  EXPECT_EQ(utf8Length("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(utf8Length("\xf0\x9f\x98\x80", 0), 4u);
  EXPECT_EQ(utf8Length("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF
  for (const char* bad : {
           "\x80",              // a continuation byte alone
           "\xc3",              // cut short
           "\xc3\x28",          // not followed by a continuation byte
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\x80",      // overlong
           "\xf0\x80\x80\x80",  // overlong
           "\xed\xa0\x80",      // a surrogate
           "\xf4\x90\x80\x80",  // beyond U+10FFFF
           "\xf8\x88\x80\x80\x80",
           "\xff",
       })
    EXPECT_EQ(utf8Length(bad, 0), 0u) << testing::PrintToString(std::string(bad));
  EXPECT_TRUE(isUtf8(""));
  EXPECT_TRUE(isUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isUtf8("caf\xc3"));
}

TEST(Text, PrintableKeepsOneWellFormedLine) {
  EXPECT_EQ(printable("plain caf\xc3\xa9 \xf0\x9f\x98\x80\tend"), "plain caf\xc3\xa9 \xf0\x9f\x98\x80\tend");
  EXPECT_EQ(printable("a\r\nb"), "a  b");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(printable("\x1b[31mred\x7f"), "\\x1b[31mred\\x7f");
  EXPECT_EQ(printable("bad \xff\xfe and cut \xc3"), "bad \\xff\\xfe and cut \\xc3");
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");
  // A C1 control (CSI), then a character just above them (NBSP).
  EXPECT_EQ(printable("csi \xc2\x9b"
                      "31m, nbsp \xc2\xa0"),
            "csi \\xc2\\x9b"
            "31m, nbsp \xc2\xa0");
  EXPECT_EQ(printable("sent as \\x1b"), "sent as \\\\x1b");  // a peer's backslash stays apart from an escape
  EXPECT_TRUE(isUtf8(printable("\xed\xa0\x80\xf4\x90\x80\x80")));
}

}  // namespace
}  // namespace cpmgw
