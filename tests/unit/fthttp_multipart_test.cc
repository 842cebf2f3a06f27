// The streaming multipart/form-data parser: every way of cutting the body into pieces gives the same parts.
#include <gtest/gtest.h>

#include <random>

#include "fthttp/multipart.h"

namespace cpmgw::fthttp {
namespace {

struct Collected : MultipartParser::Handler {
  struct Part {
    PartHeaders headers;
    std::string body;
    bool ended = false;
  };
  std::vector<Part> parts;
  void partBegin(const PartHeaders& h) override { parts.push_back({h, {}, false}); }
  void partData(std::string_view bytes) override {
    ASSERT_FALSE(parts.empty());
    ASSERT_FALSE(parts.back().ended);
    parts.back().body.append(bytes);
  }
  void partEnd() override { parts.back().ended = true; }
};

// Parses `body` fed in pieces of the given sizes (the last repeats).
Collected parse(const std::string& boundary, const std::string& body, std::vector<std::size_t> pieces,
                bool* complete = nullptr) {
  Collected c;
  MultipartParser p(boundary, c);
  std::size_t at = 0, k = 0;
  while (at < body.size()) {
    std::size_t n = std::min(pieces[std::min(k++, pieces.size() - 1)], body.size() - at);
    p.feed(std::string_view(body).substr(at, n));
    at += n;
  }
  if (complete) *complete = p.complete();
  return c;
}

std::string formBody(const std::string& b, const std::string& file) {
  return "--" + b + "\r\nContent-Disposition: form-data; name=\"tid\"\r\n\r\nf81d4fae-7dec\r\n--" + b +
         "\r\nContent-Disposition: form-data; name=\"Thumbnail\"; filename=\"t.jpg\"\r\nContent-Type: "
         "image/jpeg\r\n\r\n"
         "THUMB\r\n--" +
         b +
         "\r\nContent-Disposition: form-data; name=\"File\"; filename=\"x.bin\"\r\nContent-Type: "
         "application/octet-stream\r\nContent-Length: " +
         std::to_string(file.size()) + "\r\n\r\n" + file + "\r\n--" + b + "--\r\n";
}

// File data that is hard on the delimiter search: CRLFs, dashes, and prefixes of the delimiter itself.
std::string trickyFile(const std::string& b) {
  std::string d = "\r\n--" + b;
  std::string f = "\r\n\r\n--\r\n-";
  for (std::size_t k = 1; k < d.size(); ++k) f += d.substr(0, k) + "x";
  f += "--" + b + "\r\n";  // the boundary without the CRLF before it is data
  f += std::string("\0\r\0\n", 4);
  f += d.substr(0, d.size() - 1);  // ends with an almost-delimiter
  return f;
}

void expectForm(const Collected& c, const std::string& file) {
  ASSERT_EQ(c.parts.size(), 3u);
  EXPECT_EQ(c.parts[0].headers.name, "tid");
  EXPECT_FALSE(c.parts[0].headers.fileName);
  EXPECT_EQ(c.parts[0].body, "f81d4fae-7dec");
  EXPECT_EQ(c.parts[1].headers.name, "Thumbnail");
  EXPECT_EQ(c.parts[1].headers.fileName, "t.jpg");
  EXPECT_EQ(c.parts[1].headers.contentType, "image/jpeg");
  EXPECT_EQ(c.parts[1].body, "THUMB");
  EXPECT_EQ(c.parts[2].headers.name, "File");
  EXPECT_EQ(c.parts[2].headers.contentLength, file.size());
  EXPECT_EQ(c.parts[2].body, file);
  for (const auto& p : c.parts) EXPECT_TRUE(p.ended);
}

TEST(Multipart, ParsesAFormWholeAndByteByByte) {
  const std::string b = "----cpmgwBoundary7MA4YWxk";
  std::string file = trickyFile(b);
  std::string body = formBody(b, file);
  bool complete = false;
  expectForm(parse(b, body, {body.size()}, &complete), file);
  EXPECT_TRUE(complete);
  expectForm(parse(b, body, {1}, &complete), file);
  EXPECT_TRUE(complete);
}

TEST(Multipart, EveryCutPointGivesTheSameParts) {
  const std::string b = "xYz";
  std::string file = trickyFile(b);
  std::string body = formBody(b, file);
  for (std::size_t cut = 1; cut < body.size(); ++cut) {
    bool complete = false;
    auto c = parse(b, body, {cut, body.size()}, &complete);
    SCOPED_TRACE("cut at " + std::to_string(cut));
    expectForm(c, file);
    EXPECT_TRUE(complete);
  }
}

TEST(Multipart, RandomPiecesOfRandomData) {
  std::mt19937 rng(42);
  const std::string b = "b0undary";
  for (int round = 0; round < 50; ++round) {
    std::string file(rng() % 5000, '\0');
    for (auto& ch : file) ch = "\r\n-b0undary"[rng() % 11];  // dense in delimiter material
    std::string body = formBody(b, file);
    std::vector<std::size_t> pieces;
    for (int i = 0; i < 64; ++i) pieces.push_back(1 + rng() % 40);
    expectForm(parse(b, body, pieces), file);
  }
}

TEST(Multipart, PreambleEpilogueAndPadding) {
  const std::string b = "B";
  std::string body =
      "preamble text\r\n--B  \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--B\r\n"
      "content-disposition:form-data;name=\"b\"\r\n\r\n\r\n--B--epilogue \r\n--B\r\n junk";
  bool complete = false;
  auto c = parse(b, body, {body.size()}, &complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(c.parts.size(), 2u);
  EXPECT_EQ(c.parts[0].headers.name, "a");
  EXPECT_EQ(c.parts[0].body, "1");
  EXPECT_EQ(c.parts[1].headers.name, "b");
  EXPECT_EQ(c.parts[1].body, "");
}

TEST(Multipart, ATruncatedBodyIsNotComplete) {
  const std::string b = "B";
  std::string body = formBody(b, "0123456789");
  bool complete = true;
  // Cut inside the file part: "789" and the closing delimiter never arrive.
  auto c = parse(b, body.substr(0, body.size() - 12), {7}, &complete);
  EXPECT_FALSE(complete);
  ASSERT_EQ(c.parts.size(), 3u);
  EXPECT_FALSE(c.parts[2].ended);
  EXPECT_EQ(c.parts[2].body, "0123456");
}

TEST(Multipart, MalformedBodiesThrow) {
  const std::string b = "B";
  const char* bad[] = {
      "--B\r\n\r\nno headers\r\n--B--",                                     // no Content-Disposition
      "--B\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--B--",   // not form-data
      "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",            // no name
      "--B\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx",  // obsolete folding
      "--B\r\nContent-Disposition form-data; name=a\r\n\r\nx",              // no colon
      "--Bjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nx",         // garbage after boundary
      "--B-x",                                                              // half a close delimiter
      "--B\r\r\nContent-Disposition: form-data; name=a\r\n\r\nx",           // CR CR LF
      "--B\r\nContent-Disposition: form-data; name=a\r\nContent-Length: -1\r\n\r\nx",
      "--B\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx",  // repeated parameter
      "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx",        // unterminated quote
  };
  for (const char* body : bad) {
    Collected c;
    MultipartParser p(b, c);
    EXPECT_THROW(p.feed(body), MultipartError) << body;
  }
}

TEST(Multipart, LimitsOnHeadersAndParts) {
  const std::string b = "B";
  Collected c;
  MultipartParser p(b, c, {64, 2});
  EXPECT_THROW(p.feed("--B\r\nContent-Disposition: form-data; name=a\r\nX-Long: " + std::string(100, 'x')),
               MultipartError);
  Collected c2;
  MultipartParser p2(b, c2, {8192, 2});
  std::string three;
  for (int i = 0; i < 3; ++i) three += "--B\r\nContent-Disposition: form-data; name=p\r\n\r\nx\r\n";
  EXPECT_THROW(p2.feed(three + "--B--"), MultipartError);
  EXPECT_EQ(c2.parts.size(), 2u);
}

TEST(Multipart, HandlerExceptionsPassThrough) {
  struct Refusing : MultipartParser::Handler {
    void partBegin(const PartHeaders&) override {}
    void partData(std::string_view) override { throw std::length_error("too big"); }
    void partEnd() override {}
  } refusing;
  MultipartParser p("B", refusing);
  EXPECT_THROW(p.feed("--B\r\nContent-Disposition: form-data; name=File\r\n\r\n" + std::string(100, 'x')),
               std::length_error);
}

TEST(Multipart, FileNames) {
  auto name = [](const std::string& disposition) {
    Collected c;
    MultipartParser p("B", c);
    p.feed("--B\r\nContent-Disposition: " + disposition + "\r\n\r\nx\r\n--B--");
    return c.parts.at(0).headers.fileName.value_or("<none>");
  };
  EXPECT_EQ(name("form-data; name=File; filename=\"a b.txt\""), "a b.txt");
  EXPECT_EQ(name("form-data; name=File; filename=plain.txt"), "plain.txt");
  EXPECT_EQ(name("form-data; name=File; filename=\"C:\\dir\\x.jpg\""), "C:\\dir\\x.jpg");
  EXPECT_EQ(name("form-data; name=File; filename=\"q\\\"uote\""), "q\"uote");
  EXPECT_EQ(name("form-data; name=File; filename=\"q%22uote%0D%0Ax\""), "q\"uote\r\nx");
  EXPECT_EQ(name("form-data; name=File; filename=\"100%25.txt\""), "100%25.txt");
  EXPECT_EQ(name("form-data; name=File; filename=\"fallback\"; filename*=UTF-8''%E2%82%AC%20rates"),
            "\xe2\x82\xac rates");
  EXPECT_EQ(name("form-data; name=File; filename*=iso-8859-1'en'%A3%20rates"), "\xc2\xa3 rates");
  EXPECT_EQ(name("form-data; name=File"), "<none>");
  Collected c;
  MultipartParser p("B", c);
  EXPECT_THROW(p.feed("--B\r\nContent-Disposition: form-data; name=File; filename*=KOI8-R''%A3\r\n\r\n"),
               MultipartError);
}

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=----abc"), "----abc");
  EXPECT_EQ(multipartBoundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(multipartBoundary("multipart/form-data; charset=utf-8; boundary=x"), "x");
  EXPECT_FALSE(multipartBoundary("multipart/mixed; boundary=x"));
  EXPECT_FALSE(multipartBoundary("multipart/form-data"));
  EXPECT_FALSE(multipartBoundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipartBoundary("multipart/form-data; boundary=\"\""));
  EXPECT_FALSE(multipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(multipartBoundary("multipart/form-data; boundary=\"ends with space \""));
  EXPECT_FALSE(multipartBoundary("multipart/form-data; boundary=\"bad\r\nchar\""));
  EXPECT_FALSE(multipartBoundary("text/plain"));
  EXPECT_FALSE(multipartBoundary(""));
}

}  // namespace
}  // namespace cpmgw::fthttp
