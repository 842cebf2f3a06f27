// Kannel (bearerbox + smsbox, Debian's kannel) as an ESME bound to cpmgw's SMPP server: an SMS sent through
// Kannel's sendsms HTTP interface reaches a CPM device (SIPp) as a MESSAGE.
#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include "harness.h"
#include "smpp_peer.h"

namespace cpmgw::test {
namespace {

bool haveProgram(const std::string& name) {
  return runProgram("sh", {"-c", "command -v " + name + " || test -x /usr/sbin/" + name}).exitCode == 0;
}

std::string program(const std::string& name) {
  auto r = runProgram("sh", {"-c", "command -v " + name + " || echo /usr/sbin/" + name});
  std::string path = r.output;
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

// GET on Kannel's sendsms interface; the status and body.
std::pair<int, std::string> httpGet(std::uint16_t port, const std::string& pathAndQuery) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request("GET", pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_0);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return {static_cast<int>(response.getStatus()), body};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

class SmppKannel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveProgram("bearerbox") || !haveProgram("smsbox")) {
      GTEST_SKIP() << "Kannel is not installed (apt-get install kannel)";
    }
    ASSERT_TRUE(gw.start()) << gw.log();
    smppPort = gw.portFromLog("SMPP server listening on");
    ASSERT_NE(smppPort, 0);
    ASSERT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"kannel","password":"kpass"})").status, 201);
    adminPort = freePort();
    boxPort = freePort();
    sendsmsPort = freePort();
    std::string conf =
        "group = core\n"
        "admin-port = " +
        std::to_string(adminPort) +
        "\n"
        "admin-password = admin-secret\n"
        "admin-allow-ip = 127.0.0.1\n"
        "smsbox-port = " +
        std::to_string(boxPort) +
        "\n"
        "box-allow-ip = 127.0.0.1\n"
        "log-file = \"" +
        dir.file("bearerbox.log") +
        "\"\n"
        "log-level = 0\n"
        "dlr-storage = internal\n"
        "\n"
        "group = smsc\n"
        "smsc = smpp\n"
        "smsc-id = cpmgw\n"
        "host = 127.0.0.1\n"
        "port = " +
        std::to_string(smppPort) +
        "\n"
        "transceiver-mode = true\n"
        "smsc-username = kannel\n"
        "smsc-password = kpass\n"
        "system-type = \"\"\n"
        "interface-version = 34\n"
        "source-addr-ton = 1\n"
        "source-addr-npi = 1\n"
        "dest-addr-ton = 1\n"
        "dest-addr-npi = 1\n"
        "enquire-link-interval = 30\n"
        "reconnect-delay = 1\n"
        "\n"
        "group = smsbox\n"
        "bearerbox-host = 127.0.0.1\n"
        "bearerbox-port = " +
        std::to_string(boxPort) +
        "\n"
        "sendsms-port = " +
        std::to_string(sendsmsPort) +
        "\n"
        "log-file = \"" +
        dir.file("smsbox.log") +
        "\"\n"
        "log-level = 0\n"
        "\n"
        "group = sendsms-user\n"
        "username = tester\n"
        "password = sendsms-secret\n"
        "\n"
        "group = sms-service\n"
        "keyword = default\n"
        "text = \"no service\"\n";
    confPath = dir.file("kannel.conf");
    writeFile(confPath, conf);
    bearerbox = std::make_unique<Background>(program("bearerbox"), std::vector<std::string>{confPath});
    ASSERT_TRUE(gw.waitForLog("kannel@127.0.0.1:", 20s)) << gw.log() << readFile(dir.file("bearerbox.log"));
    ASSERT_TRUE(gw.waitForLog("bound as transceiver")) << gw.log();
    smsbox = std::make_unique<Background>(program("smsbox"), std::vector<std::string>{confPath});
    // smsbox opens its HTTP port before it has connected to bearerbox, and a sendsms in between makes it
    // panic (conn.c: lock_out: conn != NULL): wait until it says it is connected.
    ASSERT_TRUE(eventually(
        [&] { return readFile(dir.file("smsbox.log")).find("Connected to bearerbox") != std::string::npos; }, 20s))
        << readFile(dir.file("smsbox.log"));
    ASSERT_TRUE(eventually([&] { return httpGet(sendsmsPort, "/").first != 0; }, 20s))
        << readFile(dir.file("smsbox.log"));
  }
  void TearDown() override {
    if (smsbox) smsbox->stop(SIGTERM, 10s);
    if (bearerbox) bearerbox->stop(SIGTERM, 10s);
    if (gw.running()) {
      EXPECT_EQ(gw.stop(), 0) << gw.log();
    }
  }
  // Tries again while there is no HTTP answer or a 5xx one (bearerbox not ready to route yet).
  std::pair<int, std::string> sendsms(const std::string& text) {
    std::pair<int, std::string> r;
    eventually(
        [&] {
          r = httpGet(sendsmsPort,
                      "/cgi-bin/sendsms?username=tester&password=sendsms-secret&from=15550100&to=15550199"
                      "&text=" +
                          text);
          return r.first != 0 && r.first < 500;
        },
        20s);
    return r;
  }
  std::string logs() {
    return gw.log() + "--- bearerbox ---\n" + readFile(dir.file("bearerbox.log")) + "--- smsbox ---\n" +
           readFile(dir.file("smsbox.log"));
  }

  TempDir dir;
  Gateway gw{{{"adapters.enabled", "smpp"},
              {"routing.interwork_egress", "smpp"},
              {"smpp.port", "0"},
              {"smpp.mo_recipient", "sip:{number}@localhost"},
              {"smpp.password_iterations", "1000"}}};
  std::uint16_t smppPort = 0, adminPort = 0, boxPort = 0, sendsmsPort = 0;
  std::string confPath;
  std::unique_ptr<Background> bearerbox, smsbox;
};

TEST_F(SmppKannel, SendsmsReachesTheCpmUser) {
  auto [status, body] = sendsms("Hello+from+Kannel");
  ASSERT_EQ(status, 202) << body << logs();
  ASSERT_TRUE(eventually(
      [&] { return json(gw.get("/v1/messages?to=sip:15550199@localhost"))->getArray("messages")->size() >= 1; }, 20s))
      << logs();
  auto m = json(gw.get("/v1/messages?to=sip:15550199@localhost"))->getArray("messages")->getObject(0);
  EXPECT_EQ(m->getValue<std::string>("body"), "Hello from Kannel");
  EXPECT_EQ(m->getValue<std::string>("from"), "tel:+15550100");
  EXPECT_EQ(m->getValue<std::string>("ingress"), "smpp");
}

TEST_F(SmppKannel, SendsmsReachesTheSippDeviceAsMessage) {
  if (!SippDevice::available()) {
    GTEST_SKIP() << "sipp not installed";
  }
  SippDevice device(gw, "15550199", 1);
  ASSERT_TRUE(device.ok()) << device.error() << gw.log();
  auto [status, body] = sendsms("Kannel+to+SIP");
  ASSERT_EQ(status, 202) << body << logs();
  ASSERT_TRUE(device.waitFor("Kannel to SIP", 30s)) << device.received() << logs();
  EXPECT_NE(device.received().find("MESSAGE sip:15550199@127.0.0.1"), std::string::npos) << device.received();
}

}  // namespace
}  // namespace cpmgw::test
