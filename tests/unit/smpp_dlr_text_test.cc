// Delivery receipt text as SMSCs really write it, and garbage that must not pass for a receipt.
#include "smpp/dlr_text.h"

#include <gtest/gtest.h>

namespace cpmgw::smpp {
namespace {

struct Variant {
  const char* name;
  const char* text;
  const char* id;
  const char* stat;
  DlrOutcome outcome;
};

// Collected shapes: the SMPP 3.4 appendix B form, and what Kannel, Jasmin, Cloudhopper, Logica, Telcos and
// aggregators send in practice.
const Variant kVariants[] = {
    {"appendix B",
     "id:1234567890 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello "
     "there",
     "1234567890", "DELIVRD", DlrOutcome::Delivered},
    {"upper-case keys",
     "ID:0123456789 SUB:001 DLVRD:001 SUBMIT DATE:2401011200 DONE DATE:2401011201 STAT:DELIVRD ERR:000 TEXT:Hi",
     "0123456789", "DELIVRD", DlrOutcome::Delivered},
    {"capital Text",
     "id:77 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 Text:abc", "77",
     "DELIVRD", DlrOutcome::Delivered},
    {"underscored dates", "id:abc123 sub:001 dlvrd:001 submit_date:2401011200 done_date:2401011201 stat:DELIVRD err:0",
     "abc123", "DELIVRD", DlrOutcome::Delivered},
    {"no sub and dlvrd", "id:9 submit date:2401011200 done date:2401011201 stat:UNDELIV err:001", "9", "UNDELIV",
     DlrOutcome::Failed},
    {"12-digit dates",
     "id:55 sub:001 dlvrd:000 submit date:240101120030 done date:240101120105 stat:EXPIRED err:062 text:", "55",
     "EXPIRED", DlrOutcome::Failed},
    {"uuid id",
     "id:3f2504e0-4f89-11d3-9a0c-0305e82c3301 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
     "stat:DELIVRD err:000",
     "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "DELIVRD", DlrOutcome::Delivered},
    {"hex id", "id:1A2B3C4D sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:x",
     "1A2B3C4D", "DELIVRD", DlrOutcome::Delivered},
    {"rejected", "id:100 sub:001 dlvrd:000 submit date:2401011200 done date:2401011200 stat:REJECTD err:00B text:no",
     "100", "REJECTD", DlrOutcome::Failed},
    {"deleted", "id:101 sub:001 dlvrd:000 submit date:2401011200 done date:2401011200 stat:DELETED err:000", "101",
     "DELETED", DlrOutcome::Failed},
    {"accepted is not final",
     "id:102 sub:001 dlvrd:000 submit date:2401011200 done date:2401011200 stat:ACCEPTD err:000", "102", "ACCEPTD",
     DlrOutcome::Pending},
    {"enroute is not final",
     "id:103 sub:001 dlvrd:000 submit date:2401011200 done date:2401011200 stat:ENROUTE err:000", "103", "ENROUTE",
     DlrOutcome::Pending},
    {"unknown is final", "id:104 sub:001 dlvrd:000 submit date:2401011200 done date:2401011200 stat:UNKNOWN err:000",
     "104", "UNKNOWN", DlrOutcome::Failed},
    {"full words", "id:105 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVERED err:000", "105",
     "DELIVERED", DlrOutcome::Delivered},
    {"undeliverable spelled out", "id:106 stat:UNDELIVERABLE err:001", "106", "UNDELIVERABLE", DlrOutcome::Failed},
    {"lower-case stat", "id:107 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:delivrd err:000",
     "107", "DELIVRD", DlrOutcome::Delivered},
    {"fields reordered", "stat:DELIVRD err:000 id:108 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201",
     "108", "DELIVRD", DlrOutcome::Delivered},
    {"text before stat", "id:109 sub:001 dlvrd:001 text:short one stat:DELIVRD err:000", "109", "DELIVRD",
     DlrOutcome::Delivered},
    {"extra blanks",
     "id:110   sub:001  dlvrd:001   submit date:2401011200  done date:2401011201   stat:DELIVRD   err:000  ", "110",
     "DELIVRD", DlrOutcome::Delivered},
    {"blank after colon", "id: 111 sub: 001 dlvrd: 001 stat: DELIVRD err: 000", "111", "DELIVRD",
     DlrOutcome::Delivered},
    {"trailing CRLF",
     "id:112 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:bye\r\n", "112",
     "DELIVRD", DlrOutcome::Delivered},
    {"text holding keys",
     "id:113 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:id:999 "
     "stat:UNDELIV",
     "113", "DELIVRD", DlrOutcome::Delivered},
    {"status instead of stat", "id:114 status:DELIVRD err:000", "114", "DELIVRD", DlrOutcome::Delivered},
    {"leading zeros",
     "id:0000000115 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000", "0000000115",
     "DELIVRD", DlrOutcome::Delivered},
    {"prefixed by a label", "DLR: id:116 stat:DELIVRD err:000", "116", "DELIVRD", DlrOutcome::Delivered},
    {"failed word", "id:117 sub:001 dlvrd:000 stat:FAILED err:069", "117", "FAILED", DlrOutcome::Failed},
    {"buffered", "id:118 stat:BUFFRED err:000", "118", "BUFFRED", DlrOutcome::Pending},
    {"no stat, other fields", "id:119 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 err:000", "119", "",
     DlrOutcome::Unknown},
};

TEST(DlrText, RealWorldVariants) {
  for (const auto& v : kVariants) {
    SCOPED_TRACE(v.name);
    auto d = parseDlrText(v.text);
    ASSERT_TRUE(d) << v.text;
    EXPECT_EQ(d->id, v.id);
    EXPECT_EQ(d->stat, v.stat);
    EXPECT_EQ(d->stat.empty() ? DlrOutcome::Unknown : outcomeOfStat(d->stat), v.outcome);
  }
}

TEST(DlrText, FieldsOfTheStandardForm) {
  auto d = parseDlrText(
      "id:1234567890 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello "
      "there, how: are you");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sub, "001");
  EXPECT_EQ(d->dlvrd, "001");
  EXPECT_EQ(d->submitDate, "2401011200");
  EXPECT_EQ(d->doneDate, "2401011201");
  EXPECT_EQ(d->err, "000");
  EXPECT_EQ(d->text, "Hello there, how: are you");
}

TEST(DlrText, GarbageIsNoReceipt) {
  const std::string garbage[] = {"",
                                 "hello world",
                                 "id:",
                                 "id: stat:DELIVRD",
                                 "stat:DELIVRD err:000",
                                 "identity:5 stat:DELIVRD",
                                 "id:42",
                                 "id:42 text:only text",
                                 "\x01\x02\x03\xff",
                                 "msgid:5 stat:DELIVRD",
                                 "::::: id",
                                 std::string(500, 'x')};
  for (const auto& g : garbage) EXPECT_FALSE(parseDlrText(g)) << g;
}

TEST(DlrText, OutcomesOfWordsAndMessageStates) {
  EXPECT_EQ(outcomeOfStat("DELIVRD"), DlrOutcome::Delivered);
  EXPECT_EQ(outcomeOfStat("nonsense"), DlrOutcome::Unknown);
  EXPECT_EQ(outcomeOfStat(""), DlrOutcome::Unknown);
  EXPECT_EQ(outcomeOfMessageState(1), DlrOutcome::Pending);
  EXPECT_EQ(outcomeOfMessageState(2), DlrOutcome::Delivered);
  for (int s : {3, 4, 5, 7, 8}) EXPECT_EQ(outcomeOfMessageState(static_cast<std::uint8_t>(s)), DlrOutcome::Failed) << s;
  EXPECT_EQ(outcomeOfMessageState(6), DlrOutcome::Pending);
  EXPECT_EQ(outcomeOfMessageState(0), DlrOutcome::Unknown);
  EXPECT_EQ(outcomeOfMessageState(200), DlrOutcome::Unknown);
}

TEST(DlrText, RenderedReceiptsParseBack) {
  // 2024-01-01T12:00:00Z and 12:01.
  std::string t =
      renderDlrText("abc", true, 1704110400000, 1704110460000, "000", "a text longer than twenty characters");
  EXPECT_EQ(t,
            "id:abc sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 "
            "text:a text longer than t");
  auto d = parseDlrText(t);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, "abc");
  EXPECT_EQ(outcomeOfStat(d->stat), DlrOutcome::Delivered);
  std::string f = renderDlrText("x1", false, 0, 0, "001",
                                "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
  EXPECT_NE(f.find("stat:UNDELIV err:001"), std::string::npos);
  // Twenty characters, cut on a character boundary.
  EXPECT_EQ(f.substr(f.find("text:") + 5).size(), 40u);
}

}  // namespace
}  // namespace cpmgw::smpp
