// File names, media types and their renderings: what an uploader sends never escapes into a header,
// a path or HTML.
#include <gtest/gtest.h>

#include "cpmgw/text.h"
#include "fthttp/ft_text.h"

namespace cpmgw::fthttp {
namespace {

TEST(FtText, FileNamesLoseTheirPathsAndControls) {
  EXPECT_EQ(sanitiseFileName("photo.jpg"), "photo.jpg");
  EXPECT_EQ(sanitiseFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitiseFileName("..\\..\\windows\\win.ini"), "win.ini");
  EXPECT_EQ(sanitiseFileName("C:\\Users\\me\\x.jpg"), "x.jpg");
  EXPECT_EQ(sanitiseFileName("/"), "file");
  EXPECT_EQ(sanitiseFileName(".."), "file");
  EXPECT_EQ(sanitiseFileName("..."), "file");
  EXPECT_EQ(sanitiseFileName(""), "file");
  EXPECT_EQ(sanitiseFileName(".hidden"), "hidden");
  EXPECT_EQ(sanitiseFileName("a\r\nX-Injected: 1"), "a__X-Injected: 1");
  EXPECT_EQ(sanitiseFileName(std::string("a\0b", 3)), "a_b");
  EXPECT_EQ(sanitiseFileName("\xff\xfe.txt"), "__.txt");
  EXPECT_EQ(sanitiseFileName("\xc2\x85x"), "_x");  // C1 control NEL
  EXPECT_EQ(sanitiseFileName("evil\xe2\x80\xaegpj.exe"), "evil_gpj.exe");
  EXPECT_EQ(sanitiseFileName("caf\xc3\xa9 \xf0\x9f\x98\x80.png"), "caf\xc3\xa9 \xf0\x9f\x98\x80.png");
  std::string longName(300, 'a');
  EXPECT_EQ(sanitiseFileName(longName).size(), kMaxFileNameBytes);
  std::string longUtf8;
  for (int i = 0; i < 200; ++i) longUtf8 += "\xc3\xa9";
  auto cut = sanitiseFileName(longUtf8);
  EXPECT_LE(cut.size(), kMaxFileNameBytes);
  EXPECT_TRUE(isUtf8(cut));
}

TEST(FtText, MediaTypes) {
  EXPECT_EQ(normaliseMediaType("image/jpeg"), "image/jpeg");
  EXPECT_EQ(normaliseMediaType(" Image/JPEG ; q=1"), "image/jpeg");
  EXPECT_EQ(normaliseMediaType("application/vnd.gsma.rcs-ft-http+xml"), "application/vnd.gsma.rcs-ft-http+xml");
  for (const char* bad : {"", "image", "/jpeg", "image/", "image/jp eg", "text/html\r\nX: y", "a/b/c", "a/\"b\""})
    EXPECT_EQ(normaliseMediaType(bad), "application/octet-stream") << bad;
}

TEST(FtText, ContentDispositionIsSafeAndEncoded) {
  EXPECT_EQ(contentDisposition("a.txt"), "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt");
  auto v = contentDisposition("r\xc3\xa9sum\xc3\xa9 \"1\";\\x%.pdf");
  EXPECT_EQ(v,
            "attachment; filename=\"r__sum__ _1_;_x_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%3B%5Cx%25.pdf");
  auto injected = contentDisposition("a\r\nSet-Cookie: x=1");
  EXPECT_EQ(injected.find('\r'), std::string::npos);
  EXPECT_EQ(injected.find('\n'), std::string::npos);
}

TEST(FtText, HtmlEscaping) {
  EXPECT_EQ(htmlEscape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;&amp;&quot;");
}

TEST(FtText, HumanSizes) {
  EXPECT_EQ(humanSize(0), "0 B");
  EXPECT_EQ(humanSize(1023), "1023 B");
  EXPECT_EQ(humanSize(1536), "1.5 KB");
  EXPECT_EQ(humanSize(1048576), "1.0 MB");
  EXPECT_EQ(humanSize(209715200), "200.0 MB");
  EXPECT_EQ(humanSize(1073741824), "1.0 GB");
  EXPECT_EQ(humanSize(UINT64_MAX), "16.0 EB");
}

TEST(FtText, Encodings) {
  EXPECT_EQ(base64Url(""), "");
  EXPECT_EQ(base64Url("f"), "Zg");
  EXPECT_EQ(base64Url("fo"), "Zm8");
  EXPECT_EQ(base64Url("foo"), "Zm9v");
  EXPECT_EQ(base64Url("\xfb\xff"), "-_8");
  EXPECT_EQ(hexOf("\x01\xab"), "01ab");
}

}  // namespace
}  // namespace cpmgw::fthttp
