#include "sip/imdn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpmgw::imdn {
namespace {

const std::string kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const std::string kOpen = "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">";

// The delivery notification example of RFC 5438.
const std::string kRfcDelivered = kDecl + kOpen +
                                  "\n  <message-id>34jk324j</message-id>\n"
                                  "  <datetime>2008-04-04T12:16:49-05:00</datetime>\n"
                                  "  <recipient-uri>im:bob@example.com</recipient-uri>\n"
                                  "  <original-recipient-uri>im:bob@example.com</original-recipient-uri>\n"
                                  "  <delivery-notification>\n    <status>\n      <delivered/>\n    </status>\n"
                                  "  </delivery-notification>\n</imdn>\n";

// A document around the given children of <imdn>.
std::string doc(const std::string& children) {
  return kDecl + kOpen + children + "</imdn>";
}

const std::string kIdDate = "<message-id>m1</message-id><datetime>2024-05-01T10:00:00Z</datetime>";
const std::string kDelivered = "<delivery-notification><status><delivered/></status></delivery-notification>";

std::string reasonFor(std::string_view xml) {
  std::string error;
  auto n = parse(xml, &error);
  return n ? std::string("<parsed>") : error;
}

TEST(ImdnParse, Rfc5438DeliveryExample) {
  std::string error;
  auto n = parse(kRfcDelivered, &error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->messageId, "34jk324j");
  EXPECT_EQ(n->dateTime, "2008-04-04T12:16:49-05:00");
  EXPECT_EQ(n->recipientUri, "im:bob@example.com");
  EXPECT_EQ(n->originalRecipientUri, "im:bob@example.com");
  EXPECT_EQ(n->kind, Kind::Delivery);
  EXPECT_EQ(n->status, "delivered");
}

TEST(ImdnParse, RcsDisplayAndFailureReports) {
  std::string error;
  auto n = parse(doc("<message-id>Vlz8kfjFq4R2bW9d</message-id><datetime>2024-05-01T10:00:00.000Z</datetime>"
                     "<display-notification><status><displayed/></status></display-notification>"),
                 &error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->kind, Kind::Display);
  EXPECT_EQ(n->status, "displayed");
  for (const char* status : {"failed", "forbidden", "error"}) {
    n = parse(doc(kIdDate + "<delivery-notification><status><" + status + "/></status></delivery-notification>"),
              &error);
    ASSERT_TRUE(n) << status << ": " << error;
    EXPECT_EQ(n->status, status);
  }
}

TEST(ImdnParse, AcceptsWhatXmlAllows) {
  std::string error;
  // A prefixed namespace, no declaration, a BOM, comments, CDATA, entities, children in another order.
  auto n = parse(
      "\xef\xbb\xbf<!-- report --><i:imdn xmlns:i=\"urn:ietf:params:xml:ns:imdn\">"
      "<i:display-notification><i:status><i:error/></i:status></i:display-notification>"
      "<i:datetime> 2024-05-01T10:00:00Z </i:datetime>"
      "<i:message-id><![CDATA[m&1]]></i:message-id>"
      "<i:recipient-uri>sip:bob@example.com;a=1&amp;b=2</i:recipient-uri>"
      "<i:subject xml:lang=\"en\">hello</i:subject></i:imdn>",
      &error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->messageId, "m&1");
  EXPECT_EQ(n->dateTime, "2024-05-01T10:00:00Z");
  EXPECT_EQ(n->recipientUri, "sip:bob@example.com;a=1&b=2");
  EXPECT_EQ(n->kind, Kind::Display);
  EXPECT_EQ(n->status, "error");
}

TEST(ImdnParse, SkipsExtensionsInOtherNamespaces) {
  std::string error;
  auto n =
      parse(doc(kIdDate + "<x:info xmlns:x=\"urn:example:ext\"><x:deep a=\"1\">text<x:deeper/></x:deep></x:info>"
                          "<delivery-notification><status><failed/><x:reason xmlns:x=\"urn:example:ext\">404</x:reason>"
                          "</status><x:more xmlns:x=\"urn:example:ext\"/></delivery-notification>"
                          // XInclude is only another namespace to us: nothing is fetched.
                          "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\"/>"),
            &error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->status, "failed");
}

struct Hostile {
  const char* name;
  std::string xml;
  const char* reason;
};

TEST(ImdnParse, RefusesHostileInput) {
  const std::string laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
      "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n]>\n" +
      kOpen + "<message-id>&lol9;</message-id></imdn>";
  std::string deep, wide;
  for (int i = 0; i < 20; ++i) deep += "<x:a>";
  for (int i = 0; i < 20; ++i) deep += "</x:a>";
  for (int i = 0; i < 300; ++i) wide += "<x:a/>";
  const std::string ext = "<x:e xmlns:x=\"urn:example:ext\">";
  const std::vector<Hostile> cases = {
      {"empty", "", "empty IMDN"},
      {"over 64 KiB", doc(kIdDate + kDelivered + "<!--" + std::string(64 * 1024, 'x') + "-->"), "IMDN too large"},
      {"billion laughs", laughs, "DOCTYPE not allowed"},
      {"external entity",
       "<?xml version=\"1.0\"?><!DOCTYPE imdn [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" + kOpen +
           "<message-id>&xxe;</message-id></imdn>",
       "DOCTYPE not allowed"},
      {"external DTD", "<!DOCTYPE imdn SYSTEM \"http://evil.example/imdn.dtd\">" + doc(kIdDate + kDelivered),
       "DOCTYPE not allowed"},
      {"parameter entity", "<!DOCTYPE imdn [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>" + doc(kIdDate),
       "DOCTYPE not allowed"},
      {"stray ENTITY declaration", doc("<!ENTITY a \"b\">" + kIdDate + kDelivered), "DOCTYPE not allowed"},
      {"undefined entity", doc("<message-id>&nope;</message-id>"), "malformed XML"},
      {"wrong root", kDecl + "<notification xmlns=\"urn:ietf:params:xml:ns:imdn\"/>", "root element is not imdn"},
      {"wrong namespace", "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn2\">" + kIdDate + kDelivered + "</imdn>",
       "imdn not in urn:ietf:params:xml:ns:imdn"},
      {"no namespace", "<imdn>" + kIdDate + kDelivered + "</imdn>", "imdn not in urn:ietf:params:xml:ns:imdn"},
      {"missing message-id", doc("<datetime>2024-05-01T10:00:00Z</datetime>" + kDelivered), "missing message-id"},
      {"missing datetime", doc("<message-id>m1</message-id>" + kDelivered), "missing datetime"},
      {"missing notification", doc(kIdDate), "missing notification"},
      {"two notifications", doc(kIdDate + kDelivered + kDelivered), "more than one notification"},
      {"two status values",
       doc(kIdDate + "<delivery-notification><status><delivered/><failed/></status></delivery-notification>"),
       "more than one status"},
      {"two status elements",
       doc(kIdDate +
           "<delivery-notification><status><delivered/></status><status><failed/></status></delivery-notification>"),
       "more than one status"},
      {"unknown status", doc(kIdDate + "<delivery-notification><status><read/></status></delivery-notification>"),
       "unknown status"},
      {"displayed in a delivery notification",
       doc(kIdDate + "<delivery-notification><status><displayed/></status></delivery-notification>"), "unknown status"},
      {"delivered in a display notification",
       doc(kIdDate + "<display-notification><status><delivered/></status></display-notification>"), "unknown status"},
      {"empty status", doc(kIdDate + "<delivery-notification><status/></delivery-notification>"), "missing status"},
      {"notification without status", doc(kIdDate + "<delivery-notification/>"), "missing status"},
      {"text in a status value",
       doc(kIdDate + "<delivery-notification><status><delivered>yes</delivered></status></delivery-notification>"),
       "unexpected text in IMDN"},
      {"duplicate message-id", doc("<message-id>a</message-id>" + kIdDate + kDelivered), "more than one message-id"},
      {"duplicate datetime", doc(kIdDate + "<datetime>2024-05-01T10:00:00Z</datetime>" + kDelivered),
       "more than one datetime"},
      {"message-id with a space",
       doc("<message-id>a b</message-id><datetime>2024-05-01T10:00:00Z</datetime>" + kDelivered), "bad message-id"},
      {"empty message-id", doc("<message-id> </message-id><datetime>2024-05-01T10:00:00Z</datetime>" + kDelivered),
       "bad message-id"},
      {"message-id over 256",
       doc("<message-id>" + std::string(257, 'a') + "</message-id><datetime>2024-05-01T10:00:00Z</datetime>" +
           kDelivered),
       "bad message-id"},
      {"bad datetime", doc("<message-id>m</message-id><datetime>2024-05-01 10:00</datetime>" + kDelivered),
       "bad datetime"},
      {"bad recipient-uri", doc(kIdDate + "<recipient-uri>bob at example</recipient-uri>" + kDelivered),
       "bad recipient-uri"},
      {"empty original-recipient-uri", doc(kIdDate + "<original-recipient-uri/>" + kDelivered),
       "bad original-recipient-uri"},
      {"huge text", doc("<message-id>" + std::string(5000, 'a') + "</message-id>"), "IMDN text too long"},
      {"non-UTF-8", doc(kIdDate + "<subject>caf\xe9</subject>" + kDelivered), "IMDN not UTF-8"},
      {"UTF-16", std::string("\xff\xfe<\0i\0", 6), "IMDN not UTF-8"},
      {"declared Latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + kOpen + kIdDate + kDelivered + "</imdn>",
       "IMDN encoding is not UTF-8"},
      {"NUL byte", doc(kIdDate + std::string(1, '\0') + kDelivered), "malformed XML"},
      {"processing instruction", doc("<?php system('id'); ?>" + kIdDate + kDelivered),
       "processing instruction in IMDN"},
      {"unknown IMDN element", doc(kIdDate + "<read-notification/>" + kDelivered), "unknown IMDN element"},
      {"unknown element in status",
       doc(kIdDate + "<delivery-notification><status><delivered/></status><reason/></delivery-notification>"),
       "unknown IMDN element"},
      {"processing-notification",
       doc(kIdDate + "<processing-notification><status><processed/></status></processing-notification>"),
       "processing-notification not supported"},
      {"element in no namespace", doc(kIdDate + "<x xmlns=\"\"/>" + kDelivered), "IMDN element without namespace"},
      {"text between elements", doc("junk" + kIdDate + kDelivered), "unexpected text in IMDN"},
      {"element inside message-id", doc("<message-id><b>m</b></message-id>"), "element inside an IMDN text element"},
      {"nested too deep", doc(kIdDate + "<x:a xmlns:x=\"urn:example:ext\">" + deep + "</x:a>" + kDelivered),
       "IMDN nested too deep"},
      {"too many elements", doc(kIdDate + ext + wide + "</x:e>" + kDelivered), "too many IMDN elements"},
      {"content after the root", doc(kIdDate + kDelivered) + "<imdn/>", "malformed XML"},
      {"unclosed root", kDecl + kOpen + kIdDate + kDelivered, "malformed XML"},
      {"mismatched tags", doc(kIdDate + "<delivery-notification><status><delivered/></delivery-notification>"),
       "malformed XML"},
  };
  ASSERT_GE(cases.size(), 30u);
  for (const Hostile& c : cases) EXPECT_EQ(reasonFor(c.xml), c.reason) << c.name;
}

TEST(ImdnParse, EveryTruncationFailsOrGivesTheSameNotification) {
  auto full = parse(kRfcDelivered, nullptr);
  ASSERT_TRUE(full);
  std::size_t parsed = 0;
  for (std::size_t n = 0; n < kRfcDelivered.size(); ++n) {
    std::string error;
    auto cut = parse(std::string_view(kRfcDelivered).substr(0, n), &error);
    if (!cut) {
      EXPECT_FALSE(error.empty()) << n;
      continue;
    }
    ++parsed;
    EXPECT_EQ(*cut, *full) << n;
  }
  // Only the cut that drops the final newline still holds a whole document.
  EXPECT_EQ(parsed, 1u);
}

TEST(ImdnSerialize, RoundTrips) {
  std::vector<Notification> all;
  all.push_back({"34jk324j", "2008-04-04T12:16:49-05:00", "im:bob@example.com", "im:bob@example.com", Kind::Delivery,
                 "delivered"});
  all.push_back({"0123456789abcdef0123456789abcdef", "2024-05-01T10:00:00Z", "", "", Kind::Display, "displayed"});
  all.push_back({"a&b'c", "2024-05-01T10:00:00.5+01:00", "sip:x@y;a=1&b=2", "", Kind::Delivery, "forbidden"});
  all.push_back({"caf\xc3\xa9", "2024-05-01T10:00:00Z", "", "tel:+15550100", Kind::Display, "error"});
  for (const Notification& n : all) {
    std::string xml = serialize(n);
    ASSERT_FALSE(xml.empty()) << n.messageId;
    std::string error;
    auto back = parse(xml, &error);
    ASSERT_TRUE(back) << error << "\n" << xml;
    EXPECT_EQ(*back, n) << xml;
  }
  EXPECT_EQ(serialize(all[0]),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
            "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n"
            "<message-id>34jk324j</message-id>\r\n"
            "<datetime>2008-04-04T12:16:49-05:00</datetime>\r\n"
            "<recipient-uri>im:bob@example.com</recipient-uri>\r\n"
            "<original-recipient-uri>im:bob@example.com</original-recipient-uri>\r\n"
            "<delivery-notification><status><delivered/></status></delivery-notification>\r\n"
            "</imdn>\r\n");
}

TEST(ImdnSerialize, RefusesWhatWouldNotParseBack) {
  Notification ok{"m1", "2024-05-01T10:00:00Z", "", "", Kind::Delivery, "delivered"};
  ASSERT_FALSE(serialize(ok).empty());
  auto broken = [&](auto change) {
    Notification n = ok;
    change(n);
    return serialize(n);
  };
  EXPECT_EQ(broken([](Notification& n) { n.messageId.clear(); }), "");
  EXPECT_EQ(broken([](Notification& n) { n.messageId = "a</message-id><x>"; }), "");
  EXPECT_EQ(broken([](Notification& n) { n.messageId = "\xef\xbf\xbf"; }), "");  // U+FFFF: no XML character
  EXPECT_EQ(broken([](Notification& n) { n.dateTime = "now"; }), "");
  EXPECT_EQ(broken([](Notification& n) { n.recipientUri = "bob"; }), "");
  EXPECT_EQ(broken([](Notification& n) { n.status = "displayed"; }), "");
  EXPECT_EQ(broken([](Notification& n) { n.status = "delivered/><x"; }), "");
  EXPECT_EQ(broken([](Notification& n) {
              n.kind = Kind::Display;
              n.status = "failed";
            }),
            "");
}

TEST(ImdnStatus, PerKind) {
  for (const char* s : {"delivered", "failed", "forbidden", "error"}) EXPECT_TRUE(isStatus(Kind::Delivery, s)) << s;
  for (const char* s : {"displayed", "forbidden", "error"}) EXPECT_TRUE(isStatus(Kind::Display, s)) << s;
  EXPECT_FALSE(isStatus(Kind::Delivery, "displayed"));
  EXPECT_FALSE(isStatus(Kind::Display, "delivered"));
  EXPECT_FALSE(isStatus(Kind::Display, "processed"));
  EXPECT_FALSE(isStatus(Kind::Delivery, ""));
}

}  // namespace
}  // namespace cpmgw::imdn
