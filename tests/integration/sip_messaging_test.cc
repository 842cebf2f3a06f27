// CPM stand-alone messaging through the real binary, with SIPp as the devices and senders.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "harness.h"

namespace cpmgw::test {
namespace {

Poco::JSON::Object::Ptr json(const HttpAnswer& a) {
  return Poco::JSON::Parser().parse(a.body).extract<Poco::JSON::Object::Ptr>();
}

std::string cpim(const std::string& from, const std::string& to, const std::string& text, const std::string& id,
                 const std::string& disposition = "") {
  std::string s = "From: <" + from + ">\nTo: <" + to + ">\nDateTime: 2026-11-26T10:00:00.000Z\n";
  if (!id.empty()) s += "NS: imdn <urn:ietf:params:imdn>\nimdn.Message-ID: " + id + "\n";
  if (!disposition.empty()) s += "imdn.Disposition-Notification: " + disposition + "\n";
  s += "\nContent-Type: text/plain; charset=utf-8\n\n" + text;
  return s;
}

class SipMessaging : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sippInstalled()) {
      GTEST_SKIP() << "sipp not installed";
    }
    ASSERT_TRUE(gw.start()) << gw.log();
    ASSERT_NE(gw.sipPort(), 0);
    for (const char* user : {"alice", "bob"}) {
      auto a = gw.http("PUT", std::string("/v1/users/sip:") + user + "@localhost",
                       R"({"password":"secret-)" + std::string(user) + R"("})", {{"Content-Type", "application/json"}});
      ASSERT_EQ(a.status, 201) << a.body;
    }
  }
  void TearDown() override {
    if (gw.running()) {
      EXPECT_EQ(gw.stop(), 0) << gw.log();
    }
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(gw.sipPort()); }

  int registerDevice(const std::string& user, std::uint16_t devicePort, const std::string& password,
                     const std::string& expect = "200", const std::string& caps = kCpmMsgCaps) {
    return peers().registerDevice(user, devicePort, password, expect, caps);
  }
  int sendMessage(const std::string& from, const std::string& to, const std::string& body,
                  const std::string& expect = "202", const std::string& contentType = "message/cpim",
                  const std::string& transport = "u1") {
    auto p = peers();
    int code = p.sendMessage(from, to, body, expect, contentType, transport);
    lastSippOutput = p.lastOutput;
    return code;
  }
  std::unique_ptr<Background> device(std::uint16_t port, int count, const std::string& file) {
    return peers().device(port, count, file);
  }
  SipPeers peers() const { return SipPeers{target(), dir, {}}; }
  // `count` UDP datagrams of `payload` to the gateway's SIP port; false if one could not be sent.
  bool sendDatagrams(const std::string& payload, std::size_t count) const {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(gw.sipPort());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool sent = true;
    for (std::size_t i = 0; i < count && sent; ++i)
      sent = sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0;
    close(fd);
    return sent;
  }

  std::vector<std::string> messagesTo(const std::string& uri) {
    std::vector<std::string> states;
    auto list = json(gw.get("/v1/messages?to=" + uri))->getArray("messages");
    for (std::size_t i = 0; i < list->size(); ++i) states.push_back(list->getObject(i)->getValue<std::string>("state"));
    return states;
  }

  TempDir dir;
  Gateway gw{{{"sip.max_message_size", "2k"}, {"sip.deferred_retry", "1h"}}};
  std::string lastSippOutput;
};

TEST_F(SipMessaging, RegisterWithDigestAndCapabilities) {
  std::uint16_t port = freePort();
  EXPECT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  auto regs = json(gw.get("/v1/users/sip:bob@localhost/registrations"))->getArray("registrations");
  ASSERT_EQ(regs->size(), 1u);
  auto b = regs->getObject(0);
  EXPECT_EQ(b->getValue<std::string>("contact"), "sip:bob@127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(b->getObject("capabilities")->getValue<bool>("cpm_msg"));
  EXPECT_FALSE(b->getObject("capabilities")->getValue<bool>("fthttp"));
  EXPECT_GT(b->getValue<int>("expires_in_s"), 500);
}

TEST_F(SipMessaging, RegisterWithWrongPasswordOrUnknownUserIsForbidden) {
  EXPECT_EQ(registerDevice("bob", freePort(), "not-bobs-password", "403"), 0);
  EXPECT_EQ(registerDevice("mallory", freePort(), "whatever-it-is", "403"), 0);
  EXPECT_EQ(json(gw.get("/v1/users/sip:bob@localhost/registrations"))->getArray("registrations")->size(), 0u);
  EXPECT_TRUE(gw.waitForLog("refused"));
}

TEST_F(SipMessaging, MessageReachesTheRegisteredDevice) {
  std::uint16_t port = freePort();
  std::string received = dir.file("bob-device.log");
  auto bob = device(port, 1, received);
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                        cpim("sip:alice@localhost", "sip:bob@localhost", "hello bob", "msg-0001")),
            0)
      << lastSippOutput << gw.log();
  EXPECT_EQ(bob->wait(20s), 0) << bob->output() << gw.log();
  std::string log = readFile(received);
  EXPECT_NE(log.find("MESSAGE sip:bob@127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find("hello bob"), std::string::npos) << log;
  EXPECT_NE(log.find("imdn.Message-ID: msg-0001"), std::string::npos) << log;
  EXPECT_NE(log.find("Content-Type: message/cpim"), std::string::npos) << log;
  EXPECT_NE(log.find("oma.cpm.msg"), std::string::npos) << log;
  EXPECT_TRUE(eventually([&] { return messagesTo("sip:bob@localhost") == std::vector<std::string>{"delivered"}; }));
}

TEST_F(SipMessaging, CapabilitiesAreAskedWithOptionsWhenNotAnnounced) {
  std::uint16_t port = freePort();
  auto scenario = sippScenario("uas_options.xml", {}, dir);
  Background bob("sipp", {"-sf", scenario, "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(port), "-nostdin",
                          "-timeout", "20s"});
  ASSERT_EQ(registerDevice("bob", port, "secret-bob", "200", ""), 0);
  EXPECT_EQ(bob.wait(20s), 0) << bob.output() << gw.log();
  Poco::JSON::Object::Ptr reg;
  ASSERT_TRUE(eventually([&] {
    auto regs = json(gw.get("/v1/users/sip:bob@localhost/registrations"))->getArray("registrations");
    if (regs->size() != 1) return false;
    reg = regs->getObject(0);
    return reg->getValue<std::string>("capabilities_from") == "options";
  })) << gw.log();
  EXPECT_TRUE(reg->getObject("capabilities")->getValue<bool>("cpm_msg"));
  EXPECT_TRUE(reg->getObject("capabilities")->getValue<bool>("fthttp"));
}

TEST_F(SipMessaging, FileLinksWaitWhenNoDeviceTakesFileTransferOverHttp) {
  std::uint16_t port = freePort();
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);  // cpm.msg only, no fthttp
  std::string body =
      "From: <sip:alice@localhost>\nTo: <sip:bob@localhost>\nDateTime: 2026-11-26T10:00:00.000Z\n\n"
      "Content-Type: application/vnd.gsma.rcs-ft-http+xml\n\n<file/>";
  ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", body), 0) << lastSippOutput;
  std::string id;
  ASSERT_TRUE(eventually([&] {
    auto list = json(gw.get("/v1/messages?to=sip:bob@localhost"))->getArray("messages");
    if (list->size() != 1) return false;
    auto m = list->getObject(0);
    id = m->getValue<std::string>("id");
    return m->has("last_error") &&
           m->getValue<std::string>("last_error").find("file transfer over HTTP") != std::string::npos;
  })) << gw.log();
  EXPECT_EQ(json(gw.get("/v1/messages/" + id))->getValue<std::string>("state"), "queued");
}

TEST_F(SipMessaging, PlainTextMessagesAreAcceptedToo) {
  std::uint16_t port = freePort();
  std::string received = dir.file("bob-device.log");
  auto bob = device(port, 1, received);
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", "just text", "202", "text/plain"), 0)
      << lastSippOutput;
  EXPECT_EQ(bob->wait(20s), 0) << bob->output();
  EXPECT_NE(readFile(received).find("just text"), std::string::npos);
}

TEST_F(SipMessaging, DeferredMessagesArriveInOrderAfterRegistration) {
  for (const char* text : {"first", "second", "third"}) {
    ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                          cpim("sip:alice@localhost", "sip:bob@localhost", text, std::string("id-") + text)),
              0)
        << lastSippOutput;
  }
  ASSERT_TRUE(eventually([&] { return messagesTo("sip:bob@localhost").size() == 3; }));
  // Nobody to deliver to: they wait (the first was tried once and deferred).
  EXPECT_TRUE(eventually([&] {
    auto s = messagesTo("sip:bob@localhost");
    return std::all_of(s.begin(), s.end(), [](auto& x) { return x == "queued"; });
  }));
  std::uint16_t port = freePort();
  std::string received = dir.file("bob-device.log");
  auto bob = device(port, 3, received);
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  EXPECT_EQ(bob->wait(30s), 0) << bob->output() << gw.log();
  std::string log = readFile(received);
  auto first = log.find("first"), second = log.find("second"), third = log.find("third");
  ASSERT_NE(first, std::string::npos) << log;
  ASSERT_NE(second, std::string::npos) << log;
  ASSERT_NE(third, std::string::npos) << log;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(log.find("oma.cpm.deferred"), std::string::npos) << log;
  EXPECT_TRUE(eventually([&] { return messagesTo("sip:bob@localhost") == std::vector<std::string>(3, "delivered"); }));
}

TEST_F(SipMessaging, DeliveryNotificationGoesBackToTheSender) {
  std::uint16_t bobPort = freePort(), alicePort = freePort();
  std::string bobLog = dir.file("bob.log"), aliceLog = dir.file("alice.log");
  auto bob = device(bobPort, 1, bobLog);
  auto alice = device(alicePort, 1, aliceLog);
  ASSERT_EQ(registerDevice("bob", bobPort, "secret-bob"), 0);
  ASSERT_EQ(registerDevice("alice", alicePort, "secret-alice"), 0);
  ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                        cpim("sip:alice@localhost", "sip:bob@localhost", "report please", "want-report-1",
                             "positive-delivery, negative-delivery")),
            0)
      << lastSippOutput;
  EXPECT_EQ(bob->wait(20s), 0) << bob->output();
  EXPECT_NE(readFile(bobLog).find("imdn.Disposition-Notification: positive-delivery, negative-delivery"),
            std::string::npos)
      << readFile(bobLog);
  EXPECT_EQ(alice->wait(20s), 0) << alice->output() << gw.log();
  std::string report = readFile(aliceLog);
  EXPECT_NE(report.find("message/imdn+xml"), std::string::npos) << report;
  EXPECT_NE(report.find("<message-id>want-report-1</message-id>"), std::string::npos) << report;
  EXPECT_NE(report.find("<delivered/>"), std::string::npos) << report;
  EXPECT_NE(report.find("Content-Disposition: notification"), std::string::npos) << report;
}

TEST_F(SipMessaging, BadInputGetsTheRightAnswer) {
  // Malformed CPIM: no blank line between the message headers and the content.
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                        "From: <sip:alice@localhost>\nTo: <sip:bob@localhost>", "400"),
            0)
      << lastSippOutput;
  // Missing mandatory From in CPIM.
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                        "To: <sip:bob@localhost>\n\nContent-Type: text/plain\n\nx", "400"),
            0);
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", std::string(3000, 'x'), "413", "text/plain"), 0)
      << lastSippOutput;
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", "{}", "415", "application/json"), 0)
      << lastSippOutput;
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:nobody@localhost", "hi", "404", "text/plain"), 0) << lastSippOutput;
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:carol@elsewhere.example", "hi", "404", "text/plain"), 0)
      << lastSippOutput;
  EXPECT_TRUE(messagesTo("sip:bob@localhost").empty());
}

// Sofia-SIP's own log lines go through the gateway's log, escaped like every other line.
TEST_F(SipMessaging, GarbageDatagramsAreLoggedByTheGatewaysLogger) {
  ASSERT_TRUE(sendDatagrams("\x1b[31mnot SIP\r\n\r\n", 1));
  EXPECT_TRUE(gw.waitForLog("I cpmgw.sofia: nta_agent: received garbage from udp/"));
  // SIP goes on.
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:nobody@localhost", "hi", "404", "text/plain"), 0) << lastSippOutput;
}

// A flood of datagrams that are not SIP: Sofia's line for each is dropped over [general] log_rate (100 a second by
// default), and the count of the dropped ones is logged.
TEST_F(SipMessaging, AFloodOfGarbageIsLoggedWithinTheLogRate) {
  constexpr std::size_t kSent = 400;
  ASSERT_TRUE(sendDatagrams("not SIP\r\n\r\n", kSent));
  ASSERT_TRUE(gw.waitForLog("W cpmgw.sofia: ")) << gw.log();
  // SIP goes on.
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:nobody@localhost", "hi", "404", "text/plain"), 0) << lastSippOutput;
  EXPECT_EQ(gw.stop(), 0);  // the last counts are logged on the way out

  // One line per datagram that arrived (loopback may drop some under load), logged or counted.
  std::string log = gw.log();
  std::size_t logged = occurrences(log, "received garbage");
  std::size_t dropped = droppedLogLines(log, "cpmgw.sofia");
  EXPECT_GT(dropped, 0u);
  EXPECT_LE(logged + dropped, kSent);
  EXPECT_GE(logged, std::min<std::size_t>(100, logged + dropped)) << "the burst is logged";
}

// Timer K ([sip] t4, 100 ms by default) has let the transaction go when the device's second 200 OK
// arrives: the stray answer is dropped, and the next MESSAGE goes out as usual.
TEST_F(SipMessaging, AnAnswerThatArrivesAfterTimerKIsIgnored) {
  std::uint16_t port = freePort();
  auto scenario = sippScenario("uas_message_twice.xml", {}, dir);
  Background bob("sipp", {"-sf", scenario, "-m", "2", "-i", "127.0.0.1", "-p", std::to_string(port), "-nostdin",
                          "-timeout", "30s"});
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  for (const char* id : {"late-1", "late-2"}) {
    ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                          cpim("sip:alice@localhost", "sip:bob@localhost", id, id)),
              0)
        << lastSippOutput;
    ASSERT_TRUE(eventually([&] {
      auto states = messagesTo("sip:bob@localhost");
      return !states.empty() && states.back() == "delivered";
    })) << gw.log();
  }
  EXPECT_EQ(bob.wait(20s), 0) << bob.output();
  EXPECT_EQ(messagesTo("sip:bob@localhost"), (std::vector<std::string>{"delivered", "delivered"}));
  EXPECT_TRUE(gw.running());
}

TEST_F(SipMessaging, AResentMessageIsStoredOnce) {
  auto body = cpim("sip:alice@localhost", "sip:bob@localhost", "once", "dup-1");
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", body), 0);
  EXPECT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost", body), 0);
  EXPECT_TRUE(eventually([&] { return messagesTo("sip:bob@localhost").size() == 1; }));
  EXPECT_TRUE(gw.waitForLog("(duplicate)"));
}

TEST_F(SipMessaging, MessageOverTcp) {
  std::uint16_t port = freePort();
  std::string received = dir.file("bob-device.log");
  auto bob = device(port, 1, received);
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  ASSERT_EQ(
      sendMessage("sip:alice@localhost", "sip:bob@localhost",
                  cpim("sip:alice@localhost", "sip:bob@localhost", "over tcp", "tcp-1"), "202", "message/cpim", "t1"),
      0)
      << lastSippOutput;
  EXPECT_EQ(bob->wait(20s), 0) << bob->output();
  EXPECT_NE(readFile(received).find("over tcp"), std::string::npos);
}

// SIP over TLS with openssl s_client as the peer (Debian's SIPp is built without TLS).
TEST(SipTls, MessageOverTls) {
  TempDir certs;
  auto made = runProgram(
      "openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                  "subjectAltName=IP:127.0.0.1", "-keyout", certs.file("key.pem"), "-out", certs.file("cert.pem")});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  Gateway gw({{"sip.tls_cert_file", certs.file("cert.pem")},
              {"sip.tls_key_file", certs.file("key.pem")},
              {"sip.tls_port", "0"},
              {"sip.require_known_recipients", "false"}});
  ASSERT_TRUE(gw.start()) << gw.log();
  static const std::regex kTls(R"(SIP listening on tls [^ \n]*:(\d+)\n)");
  std::smatch m;
  std::string log = gw.log();
  ASSERT_TRUE(std::regex_search(log, m, kTls)) << log;
  std::string port = m[1];
  std::string body = "over tls";
  std::string request =
      "MESSAGE sip:bob@localhost SIP/2.0\r\n"
      "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-1\r\n"
      "From: <sip:alice@localhost>;tag=tls1\r\n"
      "To: <sip:bob@localhost>\r\n"
      "Call-ID: tls-call-1@127.0.0.1\r\n"
      "CSeq: 1 MESSAGE\r\n"
      "Max-Forwards: 70\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  writeFile(certs.file("request.txt"), request);
  // s_client keeps the connection open after its input ends, until the deadline stops it.
  auto r = runProgram("sh",
                      {"-c", "openssl s_client -quiet -ign_eof -verify_return_error -CAfile " + certs.file("cert.pem") +
                                 " -connect 127.0.0.1:" + port + " < " + certs.file("request.txt")},
                      3s);
  EXPECT_NE(r.output.find("SIP/2.0 202"), std::string::npos) << r.output << gw.log();
  EXPECT_TRUE(eventually(
      [&] { return gw.get("/v1/messages?to=sip:bob@localhost").body.find("over tls") != std::string::npos; }));
  EXPECT_EQ(gw.stop(), 0) << gw.log();

  // A key that does not belong to the certificate stops the start with a clear error.
  ASSERT_EQ(runProgram("openssl", {"genrsa", "-out", certs.file("other.pem"), "2048"}).exitCode, 0);
  Gateway wrongKey({{"sip.tls_cert_file", certs.file("cert.pem")},
                    {"sip.tls_key_file", certs.file("other.pem")},
                    {"sip.tls_port", "0"}});
  EXPECT_FALSE(wrongKey.start(10s));
  EXPECT_EQ(wrongKey.stop(), 78);
  EXPECT_NE(wrongKey.log().find("does not match"), std::string::npos) << wrongKey.log();
}

TEST_F(SipMessaging, NonCpmNumbersGoThroughTheInterworkingAdapterAndBack) {
  // The loopback adapter stands in for SMS: the number answers, and alice's device gets that answer.
  std::uint16_t port = freePort();
  std::string received = dir.file("alice.log");
  auto alice = device(port, 1, received);
  ASSERT_EQ(registerDevice("alice", port, "secret-alice"), 0);
  ASSERT_EQ(sendMessage("sip:alice@localhost", "tel:+15550100",
                        cpim("sip:alice@localhost", "tel:+15550100", "to a phone", "ph-1")),
            0)
      << lastSippOutput;
  EXPECT_EQ(alice->wait(20s), 0) << alice->output() << gw.log();
  std::string log = readFile(received);
  EXPECT_NE(log.find("From: <tel:+15550100>"), std::string::npos) << log;
  EXPECT_NE(log.find("to a phone"), std::string::npos) << log;
}

TEST_F(SipMessaging, DeferredMessagesSurviveAKill) {
  ASSERT_EQ(sendMessage("sip:alice@localhost", "sip:bob@localhost",
                        cpim("sip:alice@localhost", "sip:bob@localhost", "survivor", "kill-1")),
            0);
  ASSERT_TRUE(eventually([&] { return messagesTo("sip:bob@localhost").size() == 1; }));
  gw.kill9();
  ASSERT_TRUE(gw.start()) << gw.log();
  std::uint16_t port = freePort();
  std::string received = dir.file("bob-device.log");
  auto bob = device(port, 1, received);
  ASSERT_EQ(registerDevice("bob", port, "secret-bob"), 0);
  EXPECT_EQ(bob->wait(30s), 0) << bob->output() << gw.log();
  EXPECT_NE(readFile(received).find("survivor"), std::string::npos);
}

}  // namespace
}  // namespace cpmgw::test
