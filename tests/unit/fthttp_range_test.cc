// Range and Content-Range (RFC 9110 section 14): a table of cases with the answer each must get.
#include <gtest/gtest.h>

#include "fthttp/http_range.h"

namespace cpmgw::fthttp {
namespace {

using Kind = RangeDecision::Kind;

struct RangeCase {
  const char* header;
  std::uint64_t size;
  Kind kind;
  std::uint64_t first = 0, last = 0;
};

TEST(HttpRange, TableOfRangeHeaders) {
  const RangeCase cases[] = {
      // absent, malformed or foreign: ignored (200)
      {"", 1000, Kind::Full},
      {"bytes", 1000, Kind::Full},
      {"bytes=", 1000, Kind::Full},
      {"bytes=,", 1000, Kind::Full},
      {"items=0-5", 1000, Kind::Full},
      {"bytes =0-5", 1000, Kind::Full},
      {"bytes=abc", 1000, Kind::Full},
      {"bytes=5", 1000, Kind::Full},
      {"bytes=-", 1000, Kind::Full},
      {"bytes=--5", 1000, Kind::Full},
      {"bytes=-5-10", 1000, Kind::Full},
      {"bytes=5-3", 1000, Kind::Full},  // last < first: invalid, ignored
      {"bytes=+5-10", 1000, Kind::Full},
      {"bytes=0x10-20", 1000, Kind::Full},
      {"bytes=0-5;x", 1000, Kind::Full},
      {"bytes=0-5 6-7", 1000, Kind::Full},
      // one range
      {"bytes=0-0", 1000, Kind::Partial, 0, 0},
      {"bytes=0-499", 1000, Kind::Partial, 0, 499},
      {"Bytes=500-999", 1000, Kind::Partial, 500, 999},
      {"BYTES=500-", 1000, Kind::Partial, 500, 999},
      {"bytes=500-5000", 1000, Kind::Partial, 500, 999},  // clamped
      {"bytes=999-", 1000, Kind::Partial, 999, 999},
      {" bytes=10-20 ", 1000, Kind::Partial, 10, 20},
      {"bytes=,10-20,", 1000, Kind::Partial, 10, 20},  // empty list elements
      {"bytes=007-008", 1000, Kind::Partial, 7, 8},
      // suffix ranges
      {"bytes=-500", 1000, Kind::Partial, 500, 999},
      {"bytes=-1", 1000, Kind::Partial, 999, 999},
      {"bytes=-5000", 1000, Kind::Partial, 0, 999},
      {"bytes=-0", 1000, Kind::Unsatisfiable},
      // unsatisfiable
      {"bytes=1000-", 1000, Kind::Unsatisfiable},
      {"bytes=1000-2000", 1000, Kind::Unsatisfiable},
      {"bytes=0-", 0, Kind::Unsatisfiable},
      {"bytes=-5", 0, Kind::Unsatisfiable},
      // overflow: huge first is past the end; huge last clamps; huge suffix is the whole file
      {"bytes=99999999999999999999999-", 1000, Kind::Unsatisfiable},
      {"bytes=18446744073709551615-", 1000, Kind::Unsatisfiable},
      {"bytes=0-99999999999999999999999", 1000, Kind::Partial, 0, 999},
      {"bytes=-99999999999999999999999", 1000, Kind::Partial, 0, 999},
      {"bytes=18446744073709551614-18446744073709551615", UINT64_MAX, Kind::Partial, UINT64_MAX - 1, UINT64_MAX - 1},
      // several ranges: whole file when any is satisfiable, 416 when none is
      {"bytes=0-1,5-6", 1000, Kind::Full},
      {"bytes=0-1, 5-6", 1000, Kind::Full},
      {"bytes=2000-3000,0-1", 1000, Kind::Full},
      {"bytes=2000-3000,4000-", 1000, Kind::Unsatisfiable},
      {"bytes=-0,2000-", 1000, Kind::Unsatisfiable},
      {"bytes=0-1,5-3", 1000, Kind::Full},  // one invalid spec: the header is ignored
  };
  for (const auto& c : cases) {
    auto d = evaluateRange(c.header, c.size);
    EXPECT_EQ(d.kind, c.kind) << "'" << c.header << "' over " << c.size;
    if (c.kind == Kind::Partial && d.kind == Kind::Partial) {
      EXPECT_EQ(d.range.first, c.first) << c.header;
      EXPECT_EQ(d.range.last, c.last) << c.header;
    }
  }
}

TEST(HttpRange, AbusiveHeadersAreIgnored) {
  std::string many = "bytes=";
  for (std::size_t i = 0; i < kMaxRanges + 1; ++i) many += std::to_string(i) + "-" + std::to_string(i) + ",";
  EXPECT_EQ(evaluateRange(many, 1000).kind, Kind::Full);
  std::string longOne = "bytes=0-" + std::string(kMaxRangeHeader, '1');
  EXPECT_EQ(evaluateRange(longOne, 1000).kind, Kind::Full);
  std::string nul("bytes=0-1\0", 10);
  EXPECT_EQ(evaluateRange(nul, 1000).kind, Kind::Full);
}

TEST(HttpRange, ContentRangeHeaders) {
  auto r = parseContentRange("bytes 0-499/1234");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->range);
  EXPECT_EQ(r->range->first, 0u);
  EXPECT_EQ(r->range->last, 499u);
  EXPECT_EQ(r->complete, 1234u);
  r = parseContentRange("bytes 500-999/*");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->complete);
  r = parseContentRange("bytes */1234");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->range);
  EXPECT_EQ(r->complete, 1234u);
  r = parseContentRange("Bytes 1233-1233/1234");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->range->length(), 1u);
  for (const char* bad : {"", "bytes", "bytes 0-499", "bytes 0-499/", "bytes 500-499/1234", "bytes 0-1234/1234",
                          "bytes -1-5/10", "bytes 0--5/10", "bytes */*", "items 0-1/2", "bytes 0-1/2 junk",
                          "bytes 0-1/-2", "bytes 99999999999999999999-99999999999999999999/*",
                          "bytes 0-18446744073709551616/*", "bytes=0-1/2", "bytes 0 - 1/2"}) {
    EXPECT_FALSE(parseContentRange(bad)) << "'" << bad << "'";
  }
}

TEST(HttpRange, FormatsHeaders) {
  EXPECT_EQ(formatContentRange({0, 499}, 1234), "bytes 0-499/1234");
  EXPECT_EQ(formatUnsatisfiedRange(1234), "bytes */1234");
}

}  // namespace
}  // namespace cpmgw::fthttp
