// FT over HTTP in messaging and administration: a file offered to an SMS-only number arrives as a text
// with a short link that works in a plain browser (ftsms, through the loopback adapter standing in for
// SMS), and the /v1/files REST resources.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "fthttp/ft_support.h"

namespace cpmgw::test {
namespace {

using namespace ft;

Poco::JSON::Object::Ptr json(const HttpAnswer& a) {
  return Poco::JSON::Parser().parse(a.body).extract<Poco::JSON::Object::Ptr>();
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

TEST(FtMessaging, AFileToAnSmsOnlyNumberArrivesAsALink) {
  Gateway gw(ftSettings());
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("holiday.jpg");
  makeFile(file, 300000, 5);
  auto up = request(dir, {"-F", "tid=sms-1", "-F", "File=@" + file + ";type=image/jpeg", url + "/"});
  ASSERT_EQ(up.status, 200) << up.body;
  auto sent = gw.postJson("/v1/messages", R"({"from":"sip:alice@localhost","to":"tel:+15550123",)"
                                          R"("content_type":"application/vnd.gsma.rcs-ft-http+xml","body":)" +
                                              jsonString(up.body) + "}");
  ASSERT_EQ(sent.status, 202) << sent.body;
  std::string id = json(sent)->getValue<std::string>("id");
  // The loopback plays the SMS side: it answers with what it received, from the number back to alice.
  std::string text;
  ASSERT_TRUE(eventually([&] {
    auto list = json(gw.get("/v1/messages?to=sip:alice@localhost"))->getArray("messages");
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto m = list->getObject(i);
      if (m->getValue<std::string>("from") == "tel:+15550123") text = m->getValue<std::string>("body");
    }
    return !text.empty();
  })) << gw.log();
  EXPECT_EQ(text.rfind("alice@localhost sent you a file: holiday.jpg (293.0 KB) " + url + "/l/", 0), 0u) << text;
  EXPECT_LE(text.size(), 160u);
  // The stored message to the number still holds the XML; it was delivered through the loopback.
  auto original = json(gw.get("/v1/messages/" + id));
  EXPECT_EQ(original->getValue<std::string>("content_type"), "application/vnd.gsma.rcs-ft-http+xml");
  EXPECT_TRUE(
      eventually([&] { return json(gw.get("/v1/messages/" + id))->getValue<std::string>("state") == "delivered"; }));

  // The link opens a page in a plain browser, whose download link gives the file.
  std::string link = text.substr(text.rfind(' ') + 1);
  auto page = request(dir, {"-A", "Mozilla/5.0", link});
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<h1>holiday.jpg</h1>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("293.0 KB &middot; image/jpeg"), std::string::npos) << page.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("<a href=\"([^\"]+)\" download")));
  std::string got = dir.file("got.jpg");
  EXPECT_EQ(request(dir, {"-o", got, m[1].str()}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtMessaging, FilesResourcesListShowAnswerAndDelete) {
  Gateway gw(ftSettings({{"fthttp.user_quota", "10M"}}));
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("a.txt");
  makeFile(file, 1234, 5);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(request(dir, {"-F", "tid=rest-" + std::to_string(i), "-F", "File=@" + file, url + "/"}).status, 200);
  EXPECT_EQ(gw.http("GET", "/v1/files", {}, {}, false).status, 401);
  auto list = json(gw.get("/v1/files?state=complete&limit=2"));
  ASSERT_EQ(list->getArray("files")->size(), 2u);
  auto more = json(gw.get("/v1/files?limit=2&cursor=" + list->getValue<std::string>("next_cursor")));
  EXPECT_EQ(more->getArray("files")->size(), 1u);
  EXPECT_EQ(json(gw.get("/v1/files?owner=sip:nobody@localhost"))->getArray("files")->size(), 0u);
  EXPECT_EQ(gw.get("/v1/files?state=bogus").status, 400);
  EXPECT_EQ(gw.get("/v1/files?colour=red").status, 400);

  auto usage = json(gw.get("/v1/files/usage"));
  EXPECT_EQ(usage->getValue<Poco::UInt64>("bytes"), 3u * 1234);
  EXPECT_EQ(usage->getValue<Poco::UInt64>("files"), 3u);
  EXPECT_EQ(usage->getValue<Poco::UInt64>("user_quota"), 10u << 20);
  EXPECT_GT(usage->getValue<Poco::UInt64>("disk_free"), 0u);

  auto first = list->getArray("files")->getObject(0);
  std::string id = first->getValue<std::string>("id");
  std::string link = first->getValue<std::string>("data_url");
  EXPECT_EQ(curlStatus(dir, {link}), 200);
  auto rejected = gw.postJson("/v1/files/" + id + "/reject", R"({"by":"tel:+15550123"})");
  EXPECT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(json(rejected)->getValue<std::string>("response"), "rejected");
  EXPECT_EQ(gw.http("POST", "/v1/files/" + id + "/accept").status, 200);
  auto shown = json(gw.get("/v1/files/" + id));
  EXPECT_EQ(shown->getValue<std::string>("response"), "accepted");
  EXPECT_EQ(shown->getValue<std::string>("file_name"), "a.txt");
  std::vector<std::string> events;
  auto history = shown->getArray("history");
  for (std::size_t i = 0; i < history->size(); ++i)
    events.push_back(history->getObject(i)->getValue<std::string>("event"));
  EXPECT_EQ(events, (std::vector<std::string>{"uploading", "complete", "downloaded", "rejected", "accepted"}));
  EXPECT_EQ(gw.postJson("/v1/files/" + id + "/reject", R"({"by":7})").status, 400);
  EXPECT_EQ(gw.get("/v1/files/" + std::string(32, 'a')).status, 404);
  EXPECT_EQ(gw.get("/v1/files/not-an-id").status, 404);

  EXPECT_EQ(gw.http("DELETE", "/v1/files/" + id).status, 200);
  EXPECT_EQ(gw.http("DELETE", "/v1/files/" + id).status, 404);
  EXPECT_EQ(curlStatus(dir, {link}), 404);
  EXPECT_EQ(json(gw.get("/v1/files/usage"))->getValue<Poco::UInt64>("files"), 2u);
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtMessaging, FilesResourcesSayWhenTheContentServerIsOff) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  auto a = gw.get("/v1/files");
  EXPECT_EQ(a.status, 404);
  EXPECT_NE(a.body.find("not enabled"), std::string::npos);
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

}  // namespace
}  // namespace cpmgw::test
