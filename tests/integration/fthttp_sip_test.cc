// FT over HTTP end to end with SIPp: a MESSAGE carrying the file-info XML reaches a registered device with
// fthttp capability as it is, and reaches an SMS-only number as a text with a link that downloads the file.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "fthttp/ft_support.h"

namespace cpmgw::test {
namespace {

using namespace ft;

std::string cpimOf(const std::string& from, const std::string& to, const std::string& xml, const std::string& id) {
  return "From: <" + from + ">\nTo: <" + to +
         ">\nDateTime: 2026-11-26T10:00:00.000Z\n"
         "NS: imdn <urn:ietf:params:imdn>\nimdn.Message-ID: " +
         id +
         "\n"
         "imdn.Disposition-Notification: positive-delivery\n\n"
         "Content-Type: application/vnd.gsma.rcs-ft-http+xml\n\n" +
         xml;
}

class FtSip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sippInstalled()) {
      GTEST_SKIP() << "sipp not installed";
    }
    ASSERT_TRUE(gw_.start()) << gw_.log();
    ASSERT_NE(gw_.sipPort(), 0);
    url_ = ftUrl(gw_);
    for (const char* user : {"alice", "bob"}) {
      auto a =
          gw_.http("PUT", std::string("/v1/users/sip:") + user + "@localhost",
                   R"({"password":"secret-)" + std::string(user) + R"("})", {{"Content-Type", "application/json"}});
      ASSERT_EQ(a.status, 201) << a.body;
    }
  }
  void TearDown() override {
    if (gw_.running()) {
      EXPECT_EQ(gw_.stop(), 0) << gw_.log();
    }
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(gw_.sipPort()); }

  int registerDevice(const std::string& user, std::uint16_t devicePort) {
    return peers().registerDevice(user, devicePort, "secret-" + user, "200", kFtHttpCaps);
  }
  int sendMessage(const std::string& to, const std::string& body) {
    auto p = peers();
    int code = p.sendMessage("sip:alice@localhost", to, body);
    lastSipp_ = p.lastOutput;
    return code;
  }
  SipPeers peers() const { return SipPeers{target(), dir_, {}}; }
  std::string uploadFile(const std::string& path, const std::string& tid) {
    auto up = request(dir_, {"-F", "tid=" + tid, "-F", "File=@" + path + ";type=image/png", url_ + "/"});
    EXPECT_EQ(up.status, 200) << up.body;
    return up.body;
  }

  TempDir dir_;
  Gateway gw_{ftSettings()};
  std::string url_, lastSipp_;
};

TEST_F(FtSip, TheFileInfoReachesARegisteredDevice) {
  std::string file = dir_.file("picture.png");
  makeFile(file, 400000, 21);
  std::string xml = uploadFile(file, "sip-ft-1");
  std::uint16_t port = freePort();
  std::string received = dir_.file("bob-device.log");
  auto bob = peers().device(port, 1, received);
  ASSERT_EQ(registerDevice("bob", port), 0);
  auto regs = gw_.get("/v1/users/sip:bob@localhost/registrations");
  EXPECT_NE(regs.body.find("\"fthttp\":true"), std::string::npos) << regs.body;
  ASSERT_EQ(sendMessage("sip:bob@localhost", cpimOf("sip:alice@localhost", "sip:bob@localhost", xml, "ft-0001")), 0)
      << lastSipp_ << gw_.log();
  EXPECT_EQ(bob->wait(20s), 0) << bob->output() << gw_.log();
  std::string log = readFile(received);
  EXPECT_NE(log.find("Content-Type: application/vnd.gsma.rcs-ft-http+xml"), std::string::npos) << log;
  std::string link = fileUrlIn(xml);
  ASSERT_NE(log.find(link), std::string::npos) << log;
  // What the device got is usable: the link downloads the file.
  std::string got = dir_.file("got.png");
  EXPECT_EQ(request(dir_, {"-o", got, link}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
}

TEST_F(FtSip, TheFileReachesAnSmsOnlyNumberAsALink) {
  std::string file = dir_.file("doc.pdf");
  makeFile(file, 70000, 22);
  std::string xml = uploadFile(file, "sip-ft-2");
  ASSERT_EQ(sendMessage("tel:+15550124", cpimOf("sip:alice@localhost", "tel:+15550124", xml, "ft-0002")), 0)
      << lastSipp_ << gw_.log();
  // The loopback adapter stands in for the SMSC: it echoes what it got back to alice. The number's
  // delivery report (an IMDN) reaches alice too, in either order.
  std::string text;
  ASSERT_TRUE(eventually([&] {
    auto list = Poco::JSON::Parser()
                    .parse(gw_.get("/v1/messages?to=sip:alice@localhost").body)
                    .extract<Poco::JSON::Object::Ptr>()
                    ->getArray("messages");
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto m = list->getObject(i);
      if (m->getValue<std::string>("from") == "tel:+15550124" &&
          m->getValue<std::string>("content_type") != "message/imdn+xml")
        text = m->getValue<std::string>("body");
    }
    return !text.empty();
  })) << gw_.log();
  EXPECT_EQ(text.rfind("alice@localhost sent you a file: doc.pdf (68.4 KB) " + url_ + "/l/", 0), 0u) << text;
  auto page = request(dir_, {text.substr(text.rfind(' ') + 1)});
  ASSERT_EQ(page.status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("<a href=\"([^\"]+)\" download")));
  std::string got = dir_.file("got.pdf");
  EXPECT_EQ(request(dir_, {"-o", got, m[1].str()}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
}

}  // namespace
}  // namespace cpmgw::test
