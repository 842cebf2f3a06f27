#include "sip/cpim.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/imdn.h"

namespace cpmgw::cpim {
namespace {

// What an RCS client sends for a one-to-one chat message that asks for delivery and display reports.
const std::string kGsma =
    "From: <sip:anonymous@anonymous.invalid>\r\n"
    "To: <sip:anonymous@anonymous.invalid>\r\n"
    "NS: imdn <urn:ietf:params:imdn>\r\n"
    "imdn.Message-ID: Vlz8kfjFq4R2bW9d\r\n"
    "DateTime: 2024-05-01T10:00:00.000Z\r\n"
    "imdn.Disposition-Notification: positive-delivery, display\r\n"
    "\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "Hello";

std::string minimal(const std::string& extraHeaders, const std::string& content = "Content-Type: text/plain\r\n",
                    const std::string& body = "hi") {
  return "From: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n" + extraHeaders + "\r\n" + content + "\r\n" +
         body;
}

std::string reasonFor(std::string_view text, const Limits& limits = {}) {
  std::string error;
  auto m = parse(text, &error, limits);
  return m ? std::string("<parsed>") : error;
}

TEST(CpimParse, GsmaChatMessage) {
  std::string error;
  auto m = parse(kGsma, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->from, "sip:anonymous@anonymous.invalid");
  EXPECT_EQ(m->to, "sip:anonymous@anonymous.invalid");
  EXPECT_EQ(m->fromDisplay, "");
  EXPECT_EQ(m->imdnMessageId, "Vlz8kfjFq4R2bW9d");
  EXPECT_EQ(m->dateTime, "2024-05-01T10:00:00.000Z");
  EXPECT_EQ(m->dispositionNotification, (std::vector<std::string>{"positive-delivery", "display"}));
  EXPECT_EQ(m->namespaces.at("imdn"), "urn:ietf:params:imdn");
  EXPECT_EQ(m->contentType, "text/plain; charset=utf-8");
  ASSERT_EQ(m->contentHeaders.size(), 2u);
  EXPECT_EQ(m->contentHeaders[1], (std::pair<std::string, std::string>{"Content-Length", "5"}));
  EXPECT_EQ(m->body, "Hello");
  ASSERT_EQ(m->headers.size(), 6u);
  EXPECT_EQ(m->headers[2], (Header{"", "NS", "", "imdn <urn:ietf:params:imdn>"}));
  EXPECT_EQ(m->headers[3], (Header{"imdn", "Message-ID", "", "Vlz8kfjFq4R2bW9d"}));
}

// RFC 3862 section 6's example, less its Require (which names a header we do not understand).
TEST(CpimParse, Rfc3862Example) {
  const std::string text =
      "From: MR SANDERS <im:piglet@100akerwood.com>\r\n"
      "To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n"
      "DateTime: 2000-12-13T13:40:00-08:00\r\n"
      "Subject: the weather will be fine today\r\n"
      "Subject:;lang=fr beau temps prevu pour aujourd'hui\r\n"
      "NS: MyFeatures <mid:MessageFeatures@id.foo.com>\r\n"
      "MyFeatures.VitalMessageOption: Confirmation-requested\r\n"
      "MyFeatures.WackyMessageOption: Use-silly-font\r\n"
      "\r\n"
      "Content-type: text/xml; charset=utf-8\r\n"
      "Content-ID: <1234567890@foo.com>\r\n"
      "\r\n"
      "<body>\r\nHere is the text of my message.\r\n</body>\r\n";
  std::string error;
  auto m = parse(text, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->fromDisplay, "MR SANDERS");
  EXPECT_EQ(m->from, "im:piglet@100akerwood.com");
  EXPECT_EQ(m->toDisplay, "Depressed Donkey");
  EXPECT_EQ(m->subject, "the weather will be fine today");
  EXPECT_EQ(m->headers[4], (Header{"", "Subject", ";lang=fr", "beau temps prevu pour aujourd'hui"}));
  EXPECT_EQ(m->headers[6], (Header{"MyFeatures", "VitalMessageOption", "", "Confirmation-requested"}));
  EXPECT_EQ(m->contentType, "text/xml; charset=utf-8");
  EXPECT_EQ(m->contentHeaders[1].second, "<1234567890@foo.com>");
  EXPECT_EQ(m->body, "<body>\r\nHere is the text of my message.\r\n</body>\r\n");

  // The same with its Require: we do not understand MyFeatures.VitalMessageOption, so we must refuse.
  std::string withRequire = text;
  withRequire.insert(withRequire.find("MyFeatures.Vital"), "Require: MyFeatures.VitalMessageOption\r\n");
  EXPECT_EQ(reasonFor(withRequire), "unsupported required header");
}

// RFC 5438: an IMDN travels as a CPIM message wrapping message/imdn+xml.
TEST(CpimParse, Rfc5438NotificationWrapper) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n"
      "<message-id>34jk324j</message-id>\r\n"
      "<datetime>2008-04-04T12:16:49-05:00</datetime>\r\n"
      "<display-notification><status><displayed/></status></display-notification>\r\n"
      "</imdn>\r\n";
  const std::string text =
      "From: Bob <im:bob@example.com>\r\n"
      "To: Alice <im:alice@example.com>\r\n"
      "NS: imdn <urn:ietf:params:imdn>\r\n"
      "imdn.Message-ID: d834jied93rf\r\n"
      "DateTime: 2008-04-04T12:16:49-05:00\r\n"
      "\r\n"
      "Content-type: message/imdn+xml\r\n"
      "Content-Disposition: notification\r\n"
      "Content-length: " +
      std::to_string(xml.size()) + "\r\n\r\n" + xml;
  std::string error;
  auto m = parse(text, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->contentType, "message/imdn+xml");
  EXPECT_TRUE(m->dispositionNotification.empty());
  auto n = imdn::parse(m->body, &error);
  ASSERT_TRUE(n) << error;
  EXPECT_EQ(n->messageId, "34jk324j");
  EXPECT_EQ(n->kind, imdn::Kind::Display);
  EXPECT_EQ(n->status, "displayed");
}

TEST(CpimParse, DisplayNamesAndAddresses) {
  auto m = parse(minimal("cc: <tel:+15550100>\r\ncc: Carol <sip:carol@example.com;transport=tcp>\r\n"), nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cc, (std::vector<std::string>{"tel:+15550100", "sip:carol@example.com;transport=tcp"}));

  std::string error;
  m = parse(
      "From: \"Alice \\\"Al\\\" Sm\\u00EFth\" <sip:alice@example.com>\r\nTo: Jos\xc3\xa9 <tel:+4930123>\r\n\r\n"
      "Content-Type: text/plain\r\n\r\n",
      &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->fromDisplay, "Alice \"Al\" Sm\xc3\xafth");
  EXPECT_EQ(m->toDisplay, "Jos\xc3\xa9");
  EXPECT_EQ(m->to, "tel:+4930123");
  EXPECT_EQ(m->body, "");

  // Most stacks write a quoted name with a space before '<', the grammar without; both are read.
  std::string text = minimal("");
  text.replace(0, text.find("\r\n"), "From: \"A\"<sip:alice@example.com>");
  m = parse(text, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->fromDisplay, "A");
}

TEST(CpimParse, ContentIsOpaqueAndItsCharsetIsReported) {
  // ISO-8859-1 content is legal; only the headers must be UTF-8. Bare LFs and NULs in the content are data.
  std::string body = "caf\xe9\nna\xefve\r\n";
  body.push_back('\0');
  body += "end";
  auto m = parse(minimal("", "Content-Type: text/plain;charset=ISO-8859-1\r\n", body), nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->contentType, "text/plain;charset=ISO-8859-1");
  EXPECT_EQ(m->body, body);
}

TEST(CpimParse, HeaderValueKeepsEverythingAfterOneSpace) {
  auto m = parse(minimal("Subject:   padded \\n not an escape we decode\r\nX-Empty:\r\n"), nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->subject, "  padded \\n not an escape we decode");
  EXPECT_EQ(m->headers.back(), (Header{"", "X-Empty", "", ""}));
  // A missing space after the colon cannot be misread, so it is tolerated.
  m = parse(minimal("").replace(0, 6, "From:"), nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from, "sip:alice@example.com");
}

TEST(CpimParse, NamespacesAndRequire) {
  std::string error;
  auto m = parse(minimal("NS: <urn:ietf:params:cpim-headers:>\r\nNS: x <urn:ietf:params:imdn>\r\n"
                         "Require: x.Message-ID,DateTime\r\nx.Message-ID: abc\r\nx.Original-To: <sip:o@example.com>\r\n"
                         "DateTime: 2024-02-29T23:59:60.5+14:00\r\n"),
                 &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->imdnMessageId, "abc");
  EXPECT_EQ(m->namespaces.size(), 2u);
  EXPECT_EQ(m->namespaces.at(""), "urn:ietf:params:cpim-headers:");
  EXPECT_EQ(m->headers.back(), (Header{"", "DateTime", "", "2024-02-29T23:59:60.5+14:00"}));
  // A prefix bound to something else makes imdn.* ordinary extension headers.
  m = parse(minimal("NS: imdn <http://example.com/not-imdn>\r\nimdn.Message-ID: has spaces, fine here\r\n"), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->imdnMessageId, "");
  EXPECT_EQ(m->headers.back().value, "has spaces, fine here");
}

TEST(CpimParse, DispositionValuesAreCaseInsensitiveTokens) {
  auto m = parse(minimal("NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 1\r\nDateTime: 2024-01-01T00:00:00Z\r\n"
                         "imdn.Disposition-Notification: Negative-Delivery , PROCESSING,display\r\n"),
                 nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->dispositionNotification, (std::vector<std::string>{"negative-delivery", "processing", "display"}));
  m = parse(minimal("NS: imdn <urn:ietf:params:imdn>\r\nimdn.Disposition-Notification: \r\n"), nullptr);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->dispositionNotification.empty());
}

TEST(CpimParse, LimitsAreInclusive) {
  Limits limits;
  limits.maxHeaderLine = 40;
  limits.maxHeaders = 4;
  limits.maxBody = 2;
  std::string line = "X-Pad: " + std::string(40 - 7, 'p') + "\r\n";
  ASSERT_EQ(line.size(), 42u);
  EXPECT_EQ(reasonFor(minimal(line), limits), "<parsed>");
  EXPECT_EQ(reasonFor(minimal("X-Pad: " + std::string(34, 'p') + "\r\n"), limits), "header line too long");
  EXPECT_EQ(reasonFor(minimal("X: a\r\nY: b\r\n"), limits), "too many headers");
  EXPECT_EQ(reasonFor(minimal("", "Content-Type: a/b\r\n", "abc"), limits), "content too large");
}

struct Hostile {
  const char* name;
  std::string text;
  const char* reason;
};

TEST(CpimParse, RefusesHostileInput) {
  const std::string ns = "NS: imdn <urn:ietf:params:imdn>\r\n";
  const std::string imdnOk = ns + "imdn.Message-ID: m1\r\nDateTime: 2024-01-01T00:00:00Z\r\n";
  std::string manyHeaders;
  for (int i = 0; i < 70; ++i) manyHeaders += "X-H" + std::to_string(i) + ": v\r\n";
  const std::vector<Hostile> cases = {
      {"empty input", "", "empty CPIM body"},
      {"only headers", "From: <sip:a@b>\r\nTo: <sip:c@d>\r\n", "missing blank line after message headers"},
      {"headers cut mid-line", "From: <sip:a@b>\r\nTo: <sip", "missing blank line after message headers"},
      {"missing blank line after content headers", "From: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n",
       "missing blank line after content headers"},
      {"no content headers", "From: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\n\r\nbody", "missing Content-Type"},
      {"outer MIME header included", "Content-Type: message/cpim\r\n\r\n" + minimal(""), "missing From"},
      {"NS without <>", minimal("NS: imdn urn:ietf:params:imdn\r\n"), "bad NS"},
      {"NS with two spaces", minimal("NS: imdn  <urn:ietf:params:imdn>\r\n"), "bad NS"},
      {"NS with trailing text", minimal("NS: imdn <urn:ietf:params:imdn> x\r\n"), "bad NS"},
      {"NS URI with a space", minimal("NS: imdn <urn:ietf params:imdn>\r\n"), "bad NS URI"},
      {"NS URI empty", minimal("NS: imdn <>\r\n"), "bad NS URI"},
      {"NS URI without scheme", minimal("NS: imdn <imdn>\r\n"), "bad NS URI"},
      {"NS duplicate prefix", minimal(ns + "NS: imdn <urn:example:other>\r\n"), "duplicate NS prefix"},
      {"NS redefines the default namespace", minimal("NS: <urn:example:mine>\r\n"),
       "unsupported namespace declaration"},
      {"NS aliases the CPIM headers", minimal("NS: c <urn:ietf:params:cpim-headers:>\r\n"),
       "unsupported namespace declaration"},
      {"undeclared prefix", minimal("imdn.Message-ID: m1\r\n"), "undeclared namespace prefix"},
      {"prefix used before its NS", minimal("imdn.Message-ID: m1\r\n" + ns), "undeclared namespace prefix"},
      {"CR injection in a value", minimal("Subject: hi\rX-Injected: 1\r\n"), "bare CR in headers"},
      {"LF injection in a value", minimal("Subject: hi\nX-Injected: 1\r\n"), "bare LF in headers"},
      {"bare LF line endings", "From: <sip:a@b>\nTo: <sip:c@d>\n\nContent-Type: a/b\n\n", "bare LF in headers"},
      {"NUL in a value", minimal(std::string("Subject: a\0b\r\n", 14)), "NUL in header"},
      {"control character", minimal("Subject: a\x01z\r\n"), "control character in header"},
      {"TAB in a message header", minimal("Subject:\ta\r\n"), "control character in header"},
      {"DEL in a content header", minimal("", "Content-Type: a/b\r\nX: \x7f\r\n"), "control character in header"},
      {"huge header line", minimal("X-Big: " + std::string(5000, 'a') + "\r\n"), "header line too long"},
      {"megabyte without a line break", std::string(1 << 20, 'a'), "header line too long"},
      {"too many headers", minimal(manyHeaders), "too many headers"},
      {"folded message header", minimal("Subject: a\r\n b\r\n"), "folded header line"},
      {"folded content header", minimal("", "Content-Type: text/plain;\r\n\tcharset=utf-8\r\n"), "folded header line"},
      {"header name with a space", minimal("Sub ject: x\r\n"), "bad header name"},
      {"header name with two dots", minimal(ns + "imdn.a.b: x\r\n"), "bad header name"},
      {"empty header name", minimal(": x\r\n"), "bad header name"},
      {"header without colon", minimal("Subject x\r\n"), "header without colon"},
      {"missing From", "To: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "missing From"},
      {"missing To", "From: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "missing To"},
      {"lower-case from", "from: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "missing From"},
      {"From without <>", "From: sip:a@b\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From URI without scheme", "From: <alice>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From URI with a space", "From: <sip:a b@c>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From with text after >", "From: <sip:a@b> x\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From display with a newline escape",
       "From: \"a\\nb\" <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From display with an escaped NUL",
       "From: \"\\u0000\" <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad From"},
      {"From display unterminated", "From: \"abc <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n",
       "bad From"},
      {"From display with double space", "From: A  B <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: a/b\r\n\r\n",
       "bad From"},
      {"To with two URIs", "From: <sip:a@b>\r\nTo: <sip:c@d><sip:e@f>\r\n\r\nContent-Type: a/b\r\n\r\n", "bad To"},
      {"bad cc", minimal("cc: nobody\r\n"), "bad cc"},
      {"duplicate From", minimal("From: <sip:x@example.com>\r\n"), "duplicate From"},
      {"two To", minimal("To: <sip:x@example.com>\r\n"), "more than one To"},
      {"From with a parameter", minimal("").replace(0, 5, "From:;x=y"), "unexpected header parameter"},
      {"bad header parameter", minimal("Subject:;lang=??? x\r\n"), "bad header parameter"},
      {"Subject with a non-lang parameter", minimal("Subject:;x=y x\r\n"), "unexpected header parameter"},
      {"DateTime month 13", minimal("DateTime: 2024-13-01T00:00:00Z\r\n"), "bad DateTime"},
      {"DateTime 29 February of a common year", minimal("DateTime: 2023-02-29T10:00:00Z\r\n"), "bad DateTime"},
      {"DateTime without zone", minimal("DateTime: 2024-01-01T10:00:00\r\n"), "bad DateTime"},
      {"DateTime with a space for T", minimal("DateTime: 2024-01-01 10:00:00Z\r\n"), "bad DateTime"},
      {"DateTime hour 24", minimal("DateTime: 2024-01-01T24:00:00Z\r\n"), "bad DateTime"},
      {"DateTime empty fraction", minimal("DateTime: 2024-01-01T10:00:00.Z\r\n"), "bad DateTime"},
      {"duplicate DateTime", minimal("DateTime: 2024-01-01T10:00:00Z\r\nDateTime: 2024-01-01T10:00:00Z\r\n"),
       "duplicate DateTime"},
      {"Latin-1 byte in a header", minimal("Subject: caf\xe9\r\n"), "header not UTF-8"},
      {"overlong UTF-8", minimal("Subject: \xc0\xaf\r\n"), "header not UTF-8"},
      {"UTF-8 surrogate", minimal("Subject: \xed\xa0\x80\r\n"), "header not UTF-8"},
      {"truncated UTF-8", minimal("Subject: \xe2\x82\r\n"), "header not UTF-8"},
      {"Content-Length too small", minimal("", "Content-Type: a/b\r\nContent-Length: 1\r\n", "hi"),
       "Content-Length mismatch"},
      {"Content-Length too large", minimal("", "Content-Type: a/b\r\nContent-Length: 3\r\n", "hi"),
       "Content-Length mismatch"},
      {"Content-Length not a number", minimal("", "Content-Type: a/b\r\nContent-Length: 2a\r\n", "hi"),
       "bad Content-Length"},
      {"Content-Length with a leading zero", minimal("", "Content-Type: a/b\r\nContent-Length: 02\r\n", "hi"),
       "bad Content-Length"},
      {"Content-Length negative", minimal("", "Content-Type: a/b\r\nContent-Length: -2\r\n", "hi"),
       "bad Content-Length"},
      {"Content-Length overflowing", minimal("", "Content-Type: a/b\r\nContent-Length: 99999999999999999999\r\n", "hi"),
       "bad Content-Length"},
      {"duplicate Content-Length", minimal("", "Content-Type: a/b\r\nContent-Length: 2\r\ncontent-length: 2\r\n", "hi"),
       "duplicate Content-Length"},
      {"duplicate Content-Type", minimal("", "Content-Type: a/b\r\nContent-Type: a/b\r\n"), "duplicate Content-Type"},
      {"Content-Type without subtype", minimal("", "Content-Type: text\r\n"), "bad Content-Type"},
      {"Content-Type with a bare parameter", minimal("", "Content-Type: text/plain; charset\r\n"), "bad Content-Type"},
      {"Content-Type with an open quote", minimal("", "Content-Type: text/plain; a=\"x\r\n"), "bad Content-Type"},
      {"content header name with a space", minimal("", "Content-Type : a/b\r\n"), "bad content header name"},
      {"body over the limit", minimal("", "Content-Type: a/b\r\n", std::string((1 << 20) + 1, 'x')),
       "content too large"},
      {"unknown disposition", minimal(imdnOk + "imdn.Disposition-Notification: positive-delivery, read\r\n"),
       "unknown Disposition-Notification value"},
      {"empty disposition item", minimal(imdnOk + "imdn.Disposition-Notification: display,,positive-delivery\r\n"),
       "unknown Disposition-Notification value"},
      {"disposition parameter", minimal(imdnOk + "imdn.Disposition-Notification: display;x=1\r\n"),
       "unsupported Disposition-Notification parameter"},
      {"duplicate disposition", minimal(imdnOk + "imdn.Disposition-Notification: display, display\r\n"),
       "duplicate Disposition-Notification value"},
      {"two Disposition-Notification headers",
       minimal(imdnOk + "imdn.Disposition-Notification: display\r\nimdn.Disposition-Notification: display\r\n"),
       "duplicate imdn.Disposition-Notification"},
      {"duplicate imdn.Message-ID", minimal(ns + "imdn.Message-ID: a\r\nimdn.Message-ID: b\r\n"),
       "duplicate imdn.Message-ID"},
      {"Message-ID with a space", minimal(ns + "imdn.Message-ID: a b\r\n"), "bad imdn.Message-ID"},
      {"Message-ID empty", minimal(ns + "imdn.Message-ID: \r\n"), "bad imdn.Message-ID"},
      {"Message-ID too long", minimal(ns + "imdn.Message-ID: " + std::string(257, 'a') + "\r\n"),
       "bad imdn.Message-ID"},
      {"disposition without Message-ID",
       minimal(ns + "DateTime: 2024-01-01T00:00:00Z\r\nimdn.Disposition-Notification: display\r\n"),
       "Disposition-Notification without imdn.Message-ID"},
      {"disposition without DateTime", minimal(ns + "imdn.Message-ID: m\r\nimdn.Disposition-Notification: display\r\n"),
       "Disposition-Notification without DateTime"},
      {"Require of an unknown header", minimal("Require: X-Secret\r\n"), "unsupported required header"},
      {"Require with an undeclared prefix", minimal("Require: p.X\r\n"), "undeclared namespace prefix"},
      {"Require empty", minimal("Require: \r\n"), "bad Require"},
  };
  ASSERT_GE(cases.size(), 30u);
  for (const Hostile& c : cases) EXPECT_EQ(reasonFor(c.text), c.reason) << c.name;
}

TEST(CpimParse, ErrorsAreSafeReasonPhrases) {
  // Whatever the input, the reason is short printable ASCII: it goes straight into a SIP status line.
  for (const std::string& text :
       {std::string("From: <sip:\r\n\x01\xff"), minimal("Subject: \xff\r\n"), std::string(5000, '\n')}) {
    std::string error;
    ASSERT_FALSE(parse(text, &error));
    EXPECT_LT(error.size(), 64u);
    for (char c : error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << error;
  }
}

TEST(CpimParse, EveryTruncationOfAValidMessageFails) {
  // Content-Length pins the end, so no strict prefix may parse.
  for (std::size_t n = 0; n < kGsma.size(); ++n) {
    std::string error;
    EXPECT_FALSE(parse(std::string_view(kGsma).substr(0, n), &error)) << n;
    EXPECT_FALSE(error.empty()) << n;
  }
  EXPECT_TRUE(parse(kGsma, nullptr));
}

TEST(CpimParse, TruncationWithoutContentLengthOnlyShortensTheContent) {
  std::string text = kGsma;
  text.erase(text.find("Content-Length: 5\r\n"), 19);
  auto full = parse(text, nullptr);
  ASSERT_TRUE(full);
  std::size_t bodyStart = text.size() - full->body.size();
  for (std::size_t n = 0; n < text.size(); ++n) {
    auto m = parse(std::string_view(text).substr(0, n), nullptr);
    if (n < bodyStart) {
      EXPECT_FALSE(m) << n;
      continue;
    }
    ASSERT_TRUE(m) << n;
    Message expected = *full;
    expected.body.resize(n - bodyStart);
    EXPECT_EQ(*m, expected) << n;
  }
}

TEST(CpimSerialize, RoundTripsParsedMessages) {
  const std::vector<std::string> inputs = {
      kGsma,
      minimal("cc: \"C\" <sip:c@example.com>\r\nSubject:;lang=en hello\r\nSubject:;lang=fr bonjour\r\n"
              "NS: m <http://www.gsma.com/rcs/maap/>\r\nm.Type: advertisement\r\nRequire: Subject\r\n",
              "Content-Type: application/vnd.gsma.botmessage.v1.0+json\r\nContent-ID: <x@y>\r\n", "{}"),
      "From: \"Alice \\\"A\\\" \\\\ B\" <sip:alice@example.com>\r\nTo: Bob <tel:+15550100>\r\n\r\n"
      "Content-Type: text/plain\r\n\r\n",
  };
  for (const std::string& input : inputs) {
    std::string error;
    auto first = parse(input, &error);
    ASSERT_TRUE(first) << error;
    std::string written = serialize(*first);
    ASSERT_FALSE(written.empty()) << input;
    auto second = parse(written, &error);
    ASSERT_TRUE(second) << error << "\n" << written;
    EXPECT_TRUE(equivalent(*first, *second)) << written;
    EXPECT_EQ(serialize(*second), written);
  }
}

TEST(CpimSerialize, WritesTypedFieldsWithTheImdnNamespace) {
  Message m;
  m.from = "tel:+15550100";
  m.fromDisplay = "SMS user";
  m.to = "sip:bob@example.com";
  m.dateTime = "2024-05-01T10:00:00Z";
  m.imdnMessageId = "0123456789abcdef0123456789abcdef";
  m.dispositionNotification = {"positive-delivery", "negative-delivery"};
  m.contentType = "text/plain;charset=UTF-8";
  m.body = "Hi \xf0\x9f\x91\x8b";
  std::string text = serialize(m);
  EXPECT_EQ(text,
            "NS: imdn <urn:ietf:params:imdn>\r\n"
            "From: \"SMS user\" <tel:+15550100>\r\n"
            "To: <sip:bob@example.com>\r\n"
            "DateTime: 2024-05-01T10:00:00Z\r\n"
            "imdn.Message-ID: 0123456789abcdef0123456789abcdef\r\n"
            "imdn.Disposition-Notification: positive-delivery, negative-delivery\r\n"
            "\r\n"
            "Content-Type: text/plain;charset=UTF-8\r\n"
            "\r\n"
            "Hi \xf0\x9f\x91\x8b");
  auto back = parse(text, nullptr);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->imdnMessageId, m.imdnMessageId);
  EXPECT_EQ(back->fromDisplay, "SMS user");
  EXPECT_EQ(back->body, m.body);

  // The imdn prefix taken by something else: another prefix is declared instead.
  m.namespaces["imdn"] = "urn:example:taken";
  text = serialize(m);
  EXPECT_NE(text.find("NS: imdn1 <urn:ietf:params:imdn>\r\n"), std::string::npos) << text;
  back = parse(text, nullptr);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->imdnMessageId, m.imdnMessageId);
}

TEST(CpimSerialize, RewritesContentTypeAndLengthFromTheFields) {
  auto m = parse(kGsma, nullptr);
  ASSERT_TRUE(m);
  m->body = "A longer text";
  m->contentType = "text/plain";
  m->to = "sip:carol@example.com";
  std::string text = serialize(*m);
  auto back = parse(text, nullptr);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(back->to, "sip:carol@example.com");
  EXPECT_EQ(back->contentType, "text/plain");
  EXPECT_EQ(back->contentHeaders[1].second, "13");
  EXPECT_EQ(back->body, "A longer text");
}

TEST(CpimSerialize, RefusesWhatWouldNotParseBack) {
  Message ok;
  ok.from = "sip:a@example.com";
  ok.to = "sip:b@example.com";
  ok.contentType = "text/plain";
  ASSERT_FALSE(serialize(ok).empty());
  auto broken = [&](auto change) {
    Message m = ok;
    change(m);
    return serialize(m);
  };
  EXPECT_EQ(broken([](Message& m) { m.from.clear(); }), "");
  EXPECT_EQ(broken([](Message& m) { m.to = "bob"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.to = "sip:b@example.com>\r\nX-Injected: 1\r\nY: <a:b"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.subject = "hi\r\nFrom: <sip:evil@example.com>"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.fromDisplay = "line\nbreak"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.dateTime = "yesterday"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.contentType = "text"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.imdnMessageId = "has space"; }), "");
  EXPECT_EQ(broken([](Message& m) { m.dispositionNotification = {"display"}; }), "");  // no Message-ID
  EXPECT_EQ(broken([](Message& m) {
              m.imdnMessageId = "x";
              m.dateTime = "2024-01-01T00:00:00Z";
              m.dispositionNotification = {"Display"};  // parse() would give back "display"
            }),
            "");
  EXPECT_EQ(broken([](Message& m) { m.headers.push_back({"p", "X", "", "v"}); }), "");  // undeclared prefix
  EXPECT_EQ(broken([](Message& m) { m.contentHeaders.push_back({"X-Bad\r\nInjected", "1"}); }), "");
}

TEST(CpimGrammar, DateTime) {
  for (const char* good : {"2024-05-01T10:00:00Z", "2024-05-01t10:00:00z", "2000-02-29T00:00:00+00:00",
                           "1999-12-31T23:59:60.999999-12:30", "2024-05-01T10:00:00.1Z"}) {
    EXPECT_TRUE(isDateTime(good)) << good;
  }
  for (const char* bad : {"", "2024-05-01", "2024-05-01T10:00Z", "2024-5-01T10:00:00Z", "2024-05-01T10:00:00+0100",
                          "2024-05-01T10:00:00+24:00", "2024-04-31T10:00:00Z", "1900-02-29T10:00:00Z",
                          "2024-05-01T10:60:00Z", "2024-05-01T10:00:61Z", "2024-05-01T10:00:00ZZ",
                          "2024-05-01T10:00:00.123456789012345678901234567890123456789012345Z"}) {
    EXPECT_FALSE(isDateTime(bad)) << bad;
  }
}

TEST(CpimGrammar, UrisTokensAndUtf8) {
  for (const char* good : {"sip:alice@example.com", "tel:+15550100;phone-context=example.com", "im:a@b",
                           "urn:ietf:params:imdn", "sip:[2001:db8::1]:5061", "sip:a%20b@c"}) {
    EXPECT_TRUE(isAbsoluteUri(good)) << good;
  }
  for (const char* bad : {"", "sip:", ":x", "1sip:a", "sip:a b", "sip:a%2", "sip:a%zz", "sip:<a>", "sip:caf\xc3\xa9"}) {
    EXPECT_FALSE(isAbsoluteUri(bad)) << bad;
  }
  EXPECT_TRUE(isToken("a.b-c_d!~"));
  EXPECT_TRUE(isToken("caf\xc3\xa9"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("a,b"));
  EXPECT_FALSE(isToken("\xc3"));
}

}  // namespace
}  // namespace cpmgw::cpim
