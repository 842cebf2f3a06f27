// The FT-over-HTTP XML codec: round trips, the GSMA examples, and hostile documents.
#include <gtest/gtest.h>

#include "fthttp/ft_xml.h"

namespace cpmgw::fthttp {
namespace {

FtDocument sample() {
  FtDocument doc;
  doc.file = {183524, "DSC00001.jpg", "image/jpeg", "https://ft.example/d/abc", 1312658959000, "render"};
  doc.thumbnail = FileInfo{7427, "", "image/jpeg", "https://ft.example/d/thumb", 1312658959000, ""};
  return doc;
}

TEST(FtXml, RoundTripsWithAndWithoutThumbnail) {
  auto doc = sample();
  auto decoded = decodeFtDocument(encodeFtDocument(doc));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, doc);
  doc.thumbnail.reset();
  doc.file.disposition.clear();
  decoded = decodeFtDocument(encodeFtDocument(doc));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, doc);
}

TEST(FtXml, EscapesNamesAndUrls) {
  auto doc = sample();
  doc.file.name = "a<b>&\"c'.txt";
  doc.file.url = "https://ft.example/d/x?a=1&b=\"2\"";
  std::string xml = encodeFtDocument(doc);
  EXPECT_EQ(xml.find("a<b>"), std::string::npos);
  auto decoded = decodeFtDocument(xml);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->file.name, doc.file.name);
  EXPECT_EQ(decoded->file.url, doc.file.url);
}

TEST(FtXml, DecodesTheGsmaExample) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp" xmlns:am="urn:gsma:params:xml:ns:rcs:rcs:rram">
  <file-info type="thumbnail">
    <file-size>7427</file-size>
    <content-type>image/jpeg</content-type>
    <data url="https://ftcontentserver.rcs/download?id=001" until="2011-08-06T19:29:19.000Z"/>
  </file-info>
  <file-info type="file" file-disposition="render">
    <file-size>183524</file-size>
    <file-name>DSC00001.jpg</file-name>
    <content-type>image/jpeg</content-type>
    <data url="https://ftcontentserver.rcs/download?id=abc" until="2011-08-06T19:29:19.000Z"/>
    <am:playing-length>12</am:playing-length>
  </file-info>
</file>)";
  std::string error;
  auto doc = decodeFtDocument(xml, &error);
  ASSERT_TRUE(doc) << error;
  EXPECT_EQ(doc->file.size, 183524u);
  EXPECT_EQ(doc->file.name, "DSC00001.jpg");
  EXPECT_EQ(doc->file.disposition, "render");
  EXPECT_EQ(doc->file.url, "https://ftcontentserver.rcs/download?id=abc");
  EXPECT_EQ(doc->file.until, 1312658959000);
  ASSERT_TRUE(doc->thumbnail);
  EXPECT_EQ(doc->thumbnail->size, 7427u);
}

TEST(FtXml, ResumeInfoRoundTrips) {
  ResumeInfo info{0, 1048575, "https://ft.example/u/tok"};
  auto decoded = decodeResumeInfo(encodeResumeInfo(info));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, info);
  EXPECT_FALSE(
      decodeResumeInfo(R"(<file-resume-info><file-range start="9" end="3"/><data url="u"/></file-resume-info>)"));
  EXPECT_FALSE(decodeResumeInfo(R"(<file-resume-info><data url="u"/></file-resume-info>)"));
  EXPECT_FALSE(decodeResumeInfo(R"(<file-resume-info><file-range start="0" end="3"/></file-resume-info>)"));
  EXPECT_FALSE(
      decodeResumeInfo(R"(<file-resume-info><file-range start="-1" end="3"/><data url="u"/></file-resume-info>)"));
}

// Every required field in turn left out, repeated or broken.
TEST(FtXml, RefusesMissingOrBrokenFields) {
  const std::string head = R"(<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp"><file-info type="file">)";
  const std::string tail = "</file-info></file>";
  const std::string size = "<file-size>10</file-size>";
  const std::string name = "<file-name>a.txt</file-name>";
  const std::string type = "<content-type>text/plain</content-type>";
  const std::string data = R"(<data url="http://x/d/1" until="2030-01-01T00:00:00Z"/>)";
  EXPECT_TRUE(decodeFtDocument(head + size + name + type + data + tail));
  struct Case {
    std::string body;
    const char* why;
  } cases[] = {
      {name + type + data, "no size"},
      {size + type + data, "no name"},
      {size + name + data, "no type"},
      {size + name + type, "no data"},
      {size + size + name + type + data, "two sizes"},
      {"<file-size>-1</file-size>" + name + type + data, "negative size"},
      {"<file-size>1e3</file-size>" + name + type + data, "not a number"},
      {"<file-size>99999999999999999999999</file-size>" + name + type + data, "size overflow"},
      {size + "<file-name></file-name>" + type + data, "empty name"},
      {size + name + type + R"(<data until="2030-01-01T00:00:00Z"/>)", "no url"},
      {size + name + type + R"(<data url="http://x/d/1"/>)", "no until"},
      {size + name + type + R"(<data url="http://x/d/1" until="tomorrow"/>)", "bad until"},
      {size + name + type + R"(<data url="http://x/d/1" until="2030-02-30T00:00:00Z"/>)", "no such day"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(decodeFtDocument(head + c.body + tail, &error)) << c.why;
    EXPECT_FALSE(error.empty()) << c.why;
  }
  EXPECT_FALSE(decodeFtDocument(R"(<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp"></file>)"));
  EXPECT_FALSE(decodeFtDocument(R"(<other xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp"/>)"));
  EXPECT_FALSE(decodeFtDocument(R"(<file xmlns="urn:example:other"><file-info type="file"/></file>)"));
  EXPECT_FALSE(decodeFtDocument(head + size + name + type + data + tail.substr(0, 12)));  // truncated
  EXPECT_FALSE(decodeFtDocument(""));
  EXPECT_FALSE(decodeFtDocument("not xml at all"));
  // Two file parts, or a file-info of an unknown type.
  std::string one = R"(<file-info type="file">)" + size + name + type + data + "</file-info>";
  EXPECT_FALSE(decodeFtDocument(R"(<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">)" + one + one + "</file>"));
  EXPECT_FALSE(decodeFtDocument(R"(<file><file-info type="video">)" + size + name + type + data + tail));
}

TEST(FtXml, RefusesDoctypesAndEntities) {
  const char* laughs = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<file><file-info type="file"><file-size>1</file-size><file-name>&lol3;</file-name>
<content-type>a/b</content-type><data url="u" until="2030-01-01T00:00:00Z"/></file-info></file>)";
  std::string error;
  EXPECT_FALSE(decodeFtDocument(laughs, &error));
  EXPECT_NE(error.find("not allowed"), std::string::npos) << error;
  const char* external = R"(<?xml version="1.0"?><!DOCTYPE file SYSTEM "file:///etc/passwd"><file/>)";
  EXPECT_FALSE(decodeFtDocument(external));
  const char* lowercase = R"(<!doctype file><file/>)";
  EXPECT_FALSE(decodeFtDocument(lowercase));
  // An undeclared entity is not well-formed without a DTD.
  const char* undeclared = R"(<file><file-info type="file"><file-size>1</file-size><file-name>&xxe;</file-name>
<content-type>a/b</content-type><data url="u" until="2030-01-01T00:00:00Z"/></file-info></file>)";
  EXPECT_FALSE(decodeFtDocument(undeclared));
  // Predefined and numeric references are fine; so are comments and CDATA.
  const char* fine = R"(<!-- c --><file><file-info type="file"><file-size>1</file-size>
<file-name>a&amp;b&#x41;<![CDATA[<c>]]></file-name><content-type>a/b</content-type>
<data url="u" until="2030-01-01T00:00:00Z"/></file-info></file>)";
  auto doc = decodeFtDocument(fine, &error);
  ASSERT_TRUE(doc) << error;
  EXPECT_EQ(doc->file.name, "a&bA<c>");
}

TEST(FtXml, RefusesHugeOrDeepDocuments) {
  std::string bigAttr = R"(<file><file-info type="file"><file-size>1</file-size><file-name>a</file-name>)"
                        R"(<content-type>a/b</content-type><data url=")" +
                        std::string(kMaxXmlField + 1, 'u') + R"(" until="2030-01-01T00:00:00Z"/></file-info></file>)";
  std::string error;
  EXPECT_FALSE(decodeFtDocument(bigAttr, &error));
  EXPECT_NE(error.find("too long"), std::string::npos) << error;
  std::string bigText = R"(<file><file-info type="file"><file-size>1</file-size><file-name>)" +
                        std::string(kMaxXmlField + 1, 'n') +
                        R"(</file-name><content-type>a/b</content-type>)"
                        R"(<data url="u" until="2030-01-01T00:00:00Z"/></file-info></file>)";
  EXPECT_FALSE(decodeFtDocument(bigText));
  EXPECT_FALSE(decodeFtDocument(std::string(kMaxXmlDocument + 1, ' ')));
  std::string deep = "<file>";
  for (int i = 0; i < 20; ++i) deep += "<x>";
  for (int i = 0; i < 20; ++i) deep += "</x>";
  deep += "</file>";
  EXPECT_FALSE(decodeFtDocument(deep, &error));
  EXPECT_NE(error.find("deep"), std::string::npos) << error;
  std::string many = "<file>";
  for (int i = 0; i < 100; ++i) many += "<x/>";
  many += "</file>";
  EXPECT_FALSE(decodeFtDocument(many, &error));
  EXPECT_NE(error.find("too many"), std::string::npos) << error;
  std::string attrs = "<file";
  for (int i = 0; i < 20; ++i) attrs += " a" + std::to_string(i) + "=\"1\"";
  attrs += "/>";
  EXPECT_FALSE(decodeFtDocument(attrs));
}

TEST(FtXml, UntilIsIso8601Utc) {
  EXPECT_EQ(formatUntil(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatUntil(1312658959123), "2011-08-06T19:29:19.123Z");
  EXPECT_EQ(parseUntil("2011-08-06T19:29:19.123Z"), 1312658959123);
  EXPECT_EQ(parseUntil("2011-08-06T19:29:19Z"), 1312658959000);
  EXPECT_EQ(parseUntil("2011-08-06T21:29:19+02:00"), 1312658959000);
  EXPECT_EQ(parseUntil("2011-08-06T17:29:19-02:00"), 1312658959000);
  EXPECT_EQ(parseUntil("2000-02-29T00:00:00Z"), 951782400000);
  // Every time the parser accepts is written back as it reads, years before 1000 and 1970 included.
  for (TimeMs t :
       {TimeMs{0}, TimeMs{951782400000}, TimeMs{4102444800999}, TimeMs{-1500}, *parseUntil("0450-08-06T19:29:19.000Z"),
        *parseUntil("0000-01-01T00:00:00.001Z"), *parseUntil("9999-12-31T23:59:59.999Z")})
    EXPECT_EQ(parseUntil(formatUntil(t)), t) << formatUntil(t);
  for (const char* bad :
       {"", "2011-08-06", "2011-08-06T19:29:19", "2011-13-06T19:29:19Z", "2011-08-06T24:00:00Z",
        "2011-08-06T19:29:19.Z", "2011-08-06T19:29:19Zjunk", "2011-08-06 19:29:19Z", "2011-08-06T19:29:19+2:00",
        "x011-08-06T19:29:19Z", "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"}) {
    EXPECT_FALSE(parseUntil(bad)) << bad;
  }
}

}  // namespace
}  // namespace cpmgw::fthttp
