// cpmgw's SMPP client role against a real SMSC that is not our code: the npm `smpp` package (smpp/smsc.js).
#include <Poco/JSON/Array.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "harness.h"
#include "smpp_peer.h"

namespace cpmgw::test {
namespace {

std::string cpim(const std::string& from, const std::string& to, const std::string& text, const std::string& id,
                 const std::string& disposition) {
  return "From: <" + from + ">\nTo: <" + to +
         ">\nDateTime: 2026-11-26T10:00:00.000Z\nNS: imdn <urn:ietf:params:imdn>\n" + "imdn.Message-ID: " + id +
         "\nimdn.Disposition-Notification: " + disposition + "\n\nContent-Type: text/plain; charset=utf-8\n\n" + text;
}

class SmppClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = smppPeerMissing(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    smsc = std::make_unique<SmppPeer>("smsc.js");
    smsc->send(command("listen", {{"port", 0}, {"system_id", "cpmgw"}, {"password", "secret"}}));
    auto l = smsc->waitFor("listening");
    ASSERT_TRUE(l) << smsc->transcript();
    smscPort = l->getValue<int>("port");
  }
  void TearDown() override {
    if (gw && gw->running()) {
      EXPECT_EQ(gw->stop(), 0) << gw->log();
    }
    smsc.reset();
  }

  std::string spec(const std::string& name, const std::string& extra = "") const {
    return name + " host=127.0.0.1 port=" + std::to_string(smscPort) +
           " system_id=cpmgw password=secret bind=transceiver window=10 smsc=op " + extra;
  }

  void startGateway(const std::string& binds, std::map<std::string, std::string> more = {}) {
    std::map<std::string, std::string> settings = {{"adapters.enabled", "smpp"},
                                                   {"routing.interwork_egress", "smpp"},
                                                   {"smpp.port", "0"},
                                                   {"smpp.smsc_binds", binds},
                                                   {"smpp.mo_recipient", "sip:{number}@localhost"},
                                                   {"smpp.reconnect_min", "200ms"},
                                                   {"smpp.reconnect_max", "1s"},
                                                   {"smpp.response_timeout", "3s"},
                                                   {"dispatcher.retry_base", "200ms"}};
    for (auto& [k, v] : more) settings[k] = v;
    gw = std::make_unique<Gateway>(settings);
    ASSERT_TRUE(gw->start()) << gw->log();
  }

  std::string post(const std::string& to, const std::string& body,
                   const std::string& from = "sip:+15550123@localhost") {
    Json o = new Poco::JSON::Object;
    o->set("from", from);
    o->set("to", to);
    o->set("body", body);
    std::ostringstream s;
    o->stringify(s);
    auto a = gw->postJson("/v1/messages", s.str());
    EXPECT_EQ(a.status, 202) << a.body;
    return a.status == 202 ? json(a)->getValue<std::string>("id") : std::string();
  }
  std::string stateOf(const std::string& id) {
    return json(gw->get("/v1/messages/" + id))->getValue<std::string>("state");
  }
  std::string historyOf(const std::string& id) { return gw->get("/v1/messages/" + id).body; }
  Poco::JSON::Array::Ptr messagesTo(const std::string& uri) {
    return json(gw->get("/v1/messages?to=" + uri))->getArray("messages");
  }
  bool sippAvailable() { return runProgram("sipp", {"-v"}).output.find("SIPp") != std::string::npos; }
  // One MESSAGE into the gateway through its SIP side.
  int sipMessage(const std::string& from, const std::string& to, const std::string& body) {
    SipPeers peers{"127.0.0.1:" + std::to_string(gw->sipPort()), dir, {}};
    int rc = peers.sendMessage(from, to, body);
    lastSipp = peers.lastOutput;
    return rc;
  }

  TempDir dir;
  std::unique_ptr<SmppPeer> smsc;
  std::unique_ptr<Gateway> gw;
  int smscPort = 0;
  std::string lastSipp;
};

TEST_F(SmppClient, BindsWithTheConfiguredCredentials) {
  startGateway(spec("smsc1"));
  auto b = smsc->waitFor("bind");
  ASSERT_TRUE(b) << smsc->transcript() << gw->log();
  EXPECT_EQ(b->getValue<std::string>("type"), "transceiver");
  EXPECT_EQ(b->getValue<std::string>("system_id"), "cpmgw");
  EXPECT_EQ(b->getValue<int>("status"), 0);
  EXPECT_TRUE(gw->waitForLog("cpmgw@127.0.0.1:" + std::to_string(smscPort) + " (SMSC smsc1): bound as transceiver"))
      << gw->log();
  ASSERT_TRUE(eventually([&] { return json(gw->get("/v1/adapters/smpp"))->getValue<std::string>("state") == "up"; }));
  auto s = json(gw->get("/v1/adapters/smpp"))->getArray("smsc")->getObject(0);
  EXPECT_EQ(s->getValue<std::string>("state"), "bound");
  EXPECT_EQ(s->getValue<int>("window"), 10);
}

TEST_F(SmppClient, LongGsmMessageBecomesConcatenatedSubmits) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  // 152 plain characters then '€' (an escape pair): it may not be cut after 153 septets, so it opens part 2.
  std::string text = std::string(152, 'a') + "\xE2\x82\xAC" + std::string(20, 'b');
  std::string id = post("tel:+15550100", text);
  auto p1 = smsc->waitFor("submit_sm");
  auto p2 = smsc->waitFor("submit_sm");
  ASSERT_TRUE(p1 && p2) << smsc->transcript() << gw->log();
  for (auto& p : {p1, p2}) {
    EXPECT_EQ(p->getValue<int>("esm_class") & 0x40, 0x40);
    EXPECT_EQ(p->getValue<int>("data_coding"), 0);
    EXPECT_EQ(p->getValue<std::string>("destination_addr"), "15550100");
    EXPECT_EQ(p->getValue<int>("dest_addr_ton"), 1);
    EXPECT_EQ(p->getValue<std::string>("source_addr"), "15550123");
  }
  std::string sm1 = p1->getValue<std::string>("short_message"), sm2 = p2->getValue<std::string>("short_message");
  // UDH 05 00 03 <ref> 02 <seq>: the reference is ours, the rest fixed.
  EXPECT_EQ(sm1.substr(0, 6), "050003");
  EXPECT_EQ(sm1.substr(8, 4), "0201");
  EXPECT_EQ(sm2.substr(0, 6), "050003");
  EXPECT_EQ(sm2.substr(6, 2), sm1.substr(6, 2));
  EXPECT_EQ(sm2.substr(8, 4), "0202");
  EXPECT_EQ(sm1.substr(12), hexOf(std::string(152, 'a')));          // 152 septets: the escape pair waits
  EXPECT_EQ(sm2.substr(12), "1b65" + hexOf(std::string(20, 'b')));  // ESC 0x65 is the euro sign
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
  std::string m = historyOf(id);
  EXPECT_NE(m.find("\"smpp.msgid\""), std::string::npos) << m;
  EXPECT_NE(m.find("op:" + p1->getValue<std::string>("given_id")), std::string::npos) << m;
  EXPECT_NE(m.find("op:" + p2->getValue<std::string>("given_id")), std::string::npos) << m;
}

TEST_F(SmppClient, Ucs2MessageKeepsSurrogatePairsTogether) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  // 66 x 'ж' (one UTF-16 unit each) then an emoji (two units): the pair does not fit the 67-unit part.
  std::string text;
  for (int i = 0; i < 66; ++i) text += "\xD0\xB6";
  text += "\xF0\x9F\x98\x80 end";
  std::string id = post("tel:+15550101", text);
  auto p1 = smsc->waitFor("submit_sm");
  auto p2 = smsc->waitFor("submit_sm");
  ASSERT_TRUE(p1 && p2) << smsc->transcript() << gw->log();
  EXPECT_EQ(p1->getValue<int>("data_coding"), 8);
  std::string sm1 = p1->getValue<std::string>("short_message"), sm2 = p2->getValue<std::string>("short_message");
  EXPECT_EQ(sm1.size(), (6 + 66 * 2) * 2u);
  EXPECT_EQ(sm2.substr(12, 8), "d83dde00");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
}

TEST_F(SmppClient, MessageFromSippBecomesSubmitSmWithSegments) {
  if (!sippAvailable()) {
    GTEST_SKIP() << "sipp not installed";
  }
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  std::string text = std::string(200, 'z');
  ASSERT_EQ(sipMessage("sip:alice@localhost", "tel:+15550102",
                       cpim("sip:alice@localhost", "tel:+15550102", text, "sipp-1", "negative-delivery")),
            0)
      << lastSipp << gw->log();
  auto p1 = smsc->waitFor("submit_sm");
  auto p2 = smsc->waitFor("submit_sm");
  ASSERT_TRUE(p1 && p2) << smsc->transcript() << gw->log();
  EXPECT_EQ(p1->getValue<std::string>("source_addr"), "alice");
  EXPECT_EQ(p1->getValue<int>("source_addr_ton"), 5);
  EXPECT_EQ(p1->getValue<int>("registered_delivery"), 2) << "negative-delivery only: receipts on failure";
  EXPECT_EQ(p1->getValue<std::string>("short_message").substr(12), hexOf(std::string(153, 'z')));
  // SIPp's scenario ends the body with CRLF, which travels as text.
  EXPECT_EQ(p2->getValue<std::string>("short_message").substr(12), hexOf(std::string(47, 'z') + "\r\n"));
}

TEST_F(SmppClient, ReceiptsOfEveryPartMakeOneReport) {
  if (!sippAvailable()) {
    GTEST_SKIP() << "sipp not installed";
  }
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  ASSERT_EQ(sipMessage("sip:alice@localhost", "tel:+15550103",
                       cpim("sip:alice@localhost", "tel:+15550103", std::string(170, 'r'), "want-dlr-1",
                            "positive-delivery, negative-delivery")),
            0)
      << lastSipp << gw->log();
  auto p1 = smsc->waitFor("submit_sm");
  auto p2 = smsc->waitFor("submit_sm");
  ASSERT_TRUE(p1 && p2) << smsc->transcript() << gw->log();
  EXPECT_EQ(p1->getValue<int>("registered_delivery"), 1);
  auto list = messagesTo("tel:+15550103");
  ASSERT_EQ(list->size(), 1u);
  std::string id = list->getObject(0)->getValue<std::string>("id");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
  // The receipt of the first part alone reports nothing.
  smsc->send(
      command("dlr", {{"tag", "d1"}, {"message_id", p1->getValue<std::string>("given_id")}, {"stat", "DELIVRD"}}));
  auto r1 = smsc->waitFor("deliver_sm_resp", {{"tag", "d1"}});
  ASSERT_TRUE(r1) << smsc->transcript() << gw->log();
  EXPECT_EQ(r1->getValue<int>("status"), 0);
  EXPECT_EQ(historyOf(id).find("report delivered"), std::string::npos);
  // A text-only receipt (no TLVs) for the second part completes it.
  smsc->send(command(
      "dlr",
      {{"tag", "d2"}, {"message_id", p2->getValue<std::string>("given_id")}, {"stat", "DELIVRD"}, {"tlvs", false}}));
  ASSERT_TRUE(smsc->waitFor("deliver_sm_resp", {{"tag", "d2"}}));
  ASSERT_TRUE(eventually([&] { return historyOf(id).find("report delivered") != std::string::npos; })) << gw->log();
  // The IMDN for alice is on its way (she is not registered here, so it waits in the queue).
  ASSERT_TRUE(eventually([&] {
    auto imdns = messagesTo("sip:alice@localhost");
    for (std::size_t i = 0; i < imdns->size(); ++i) {
      auto b = imdns->getObject(i)->getValue<std::string>("body");
      if (b.find("want-dlr-1") != std::string::npos && b.find("<delivered/>") != std::string::npos) return true;
    }
    return false;
  })) << gw->log();
  auto counters = json(gw->get("/v1/adapters/smpp"))->getObject("counters");
  EXPECT_EQ(counters->getValue<int>("dlr_matched"), 2);
  EXPECT_EQ(counters->getValue<int>("reports_to_core"), 1);
}

TEST_F(SmppClient, OneFailedPartFailsTheReport) {
  if (!sippAvailable()) {
    GTEST_SKIP() << "sipp not installed";
  }
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  ASSERT_EQ(sipMessage("sip:alice@localhost", "tel:+15550104",
                       cpim("sip:alice@localhost", "tel:+15550104", std::string(170, 'f'), "want-dlr-2",
                            "positive-delivery, negative-delivery")),
            0)
      << lastSipp;
  auto p1 = smsc->waitFor("submit_sm");
  auto p2 = smsc->waitFor("submit_sm");
  ASSERT_TRUE(p1 && p2) << smsc->transcript() << gw->log();
  std::string id = messagesTo("tel:+15550104")->getObject(0)->getValue<std::string>("id");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
  smsc->send(
      command("dlr", {{"tag", "a"}, {"message_id", p1->getValue<std::string>("given_id")}, {"stat", "UNDELIV"}}));
  smsc->send(
      command("dlr", {{"tag", "b"}, {"message_id", p2->getValue<std::string>("given_id")}, {"stat", "DELIVRD"}}));
  ASSERT_TRUE(smsc->waitFor("deliver_sm_resp", {{"tag", "b"}}));
  ASSERT_TRUE(eventually([&] { return historyOf(id).find("report failed") != std::string::npos; })) << gw->log();
  EXPECT_EQ(historyOf(id).find("report delivered"), std::string::npos);
}

TEST_F(SmppClient, UnknownAndIntermediateReceiptsAreCountedNotFatal) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  smsc->send(command("dlr", {{"tag", "u"}, {"message_id", "no-such-id"}, {"stat", "DELIVRD"}}));
  auto r = smsc->waitFor("deliver_sm_resp", {{"tag", "u"}});
  ASSERT_TRUE(r) << smsc->transcript();
  EXPECT_EQ(r->getValue<int>("status"), 0);
  smsc->send(command("dlr", {{"tag", "e"}, {"message_id", "4242"}, {"stat", "ENROUTE"}}));
  ASSERT_TRUE(smsc->waitFor("deliver_sm_resp", {{"tag", "e"}}));
  // Garbage in the text and no TLVs.
  Json p = new Poco::JSON::Object;
  p->set("source_addr", "1");
  p->set("destination_addr", "2");
  p->set("esm_class", 4);
  p->set("data_coding", 0);
  p->set("short_message_hex", hexOf("this is not a receipt at all"));
  auto c = command("deliver", {{"tag", "g"}});
  c->set("params", p);
  smsc->send(c);
  ASSERT_TRUE(smsc->waitFor("deliver_sm_resp", {{"tag", "g"}}));
  auto counters = json(gw->get("/v1/adapters/smpp"))->getObject("counters");
  EXPECT_EQ(counters->getValue<int>("dlr_unmatched"), 2);
  EXPECT_EQ(counters->getValue<int>("dlr_intermediate"), 1);
  EXPECT_TRUE(gw->waitForLog("receipt for unknown message id no-such-id")) << gw->log();
}

TEST_F(SmppClient, MoFromTheSmscIsStoredForTheCpmUser) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  Json p = new Poco::JSON::Object;
  p->set("source_addr_ton", 1);
  p->set("source_addr", "15550100");
  p->set("destination_addr", "15550199");
  p->set("esm_class", 0);
  p->set("data_coding", 0);
  p->set("short_message_hex", hexOf("from a phone"));
  auto c = command("deliver", {{"tag", "mo"}});
  c->set("params", p);
  smsc->send(c);
  auto r = smsc->waitFor("deliver_sm_resp", {{"tag", "mo"}});
  ASSERT_TRUE(r) << smsc->transcript();
  EXPECT_EQ(r->getValue<int>("status"), 0);
  auto list = messagesTo("sip:15550199@localhost");
  ASSERT_EQ(list->size(), 1u) << gw->log();
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("body"), "from a phone");
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("from"), "tel:+15550100");
}

TEST_F(SmppClient, SubmitsInFlightWhenTheSmscDropsAreSentAgainAfterReconnecting) {
  // A long response timeout: the held submits must still be in flight when the link drops.
  startGateway(spec("smsc1"), {{"smpp.response_timeout", "20s"}});
  ASSERT_TRUE(smsc->waitFor("bind"));
  smsc->send(command("mode", {{"submit", "hold"}}));
  ASSERT_TRUE(smsc->waitFor("mode")) << smsc->transcript();  // in force before the first submit
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(post("tel:+1555020" + std::to_string(i), "in flight " + std::to_string(i)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(smsc->waitFor("submit_sm", {{"held", "true"}})) << smsc->transcript();
  smsc->send(command("drop"));
  // cpmgw binds again and sends what was not answered.
  auto second = smsc->waitFor("bind", {}, 10s);
  ASSERT_TRUE(second) << smsc->transcript() << gw->log();
  std::string session = std::to_string(second->getValue<int>("session"));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(smsc->waitFor("submit_sm", {{"held", "true"}, {"session", session}}, 15s))
        << smsc->transcript() << gw->log();
  smsc->send(command("release"));
  for (const auto& id : ids) EXPECT_TRUE(eventually([&] { return stateOf(id) == "delivered"; }, 15s)) << gw->log();
  EXPECT_TRUE(gw->waitForLog("bind lost")) << gw->log();
  EXPECT_GE(json(gw->get("/v1/adapters/smpp"))->getObject("counters")->getValue<int>("resends"), 3);
}

TEST_F(SmppClient, ThrottledAnswersPauseTheBindAndTheMessageStillGoes) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  smsc->send(command("mode", {{"submit", "throttle"}, {"count", 3}}));
  ASSERT_TRUE(smsc->waitFor("mode")) << smsc->transcript();  // in force before the first submit
  std::string id = post("tel:+15550300", "patience");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; }, 15s)) << gw->log();
  std::size_t throttled = 0;
  for (auto& s : smsc->all("submit_sm")) throttled += s->getValue<int>("answered") == 0x58 ? 1 : 0;
  EXPECT_EQ(throttled, 3u);
  EXPECT_GE(json(gw->get("/v1/adapters/smpp"))->getObject("counters")->getValue<int>("smsc_throttled"), 3);
  EXPECT_TRUE(gw->waitForLog("answered ESME_RTHROTTLED: pausing this bind")) << gw->log();
}

TEST_F(SmppClient, PermanentRefusalFailsTheMessage) {
  startGateway(spec("smsc1"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  smsc->send(command("mode", {{"submit", "status"}, {"count", 1}, {"status", 0x0B}}));
  ASSERT_TRUE(smsc->waitFor("mode")) << smsc->transcript();  // in force before the first submit
  std::string id = post("tel:+15550301", "nowhere");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "failed"; })) << gw->log();
  EXPECT_NE(historyOf(id).find("ESME_RINVDSTADR"), std::string::npos);
}

TEST_F(SmppClient, EnquireLinkKeepsTheBindAlive) {
  startGateway(spec("smsc1"), {{"smpp.enquire_link_interval", "1s"}});
  ASSERT_TRUE(smsc->waitFor("bind"));
  EXPECT_TRUE(smsc->waitFor("enquire_link", {}, 10s)) << smsc->transcript();
}

TEST_F(SmppClient, LoadIsSpreadAcrossBinds) {
  startGateway(spec("one") + "," + spec("two"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  ASSERT_TRUE(smsc->waitFor("bind"));
  ASSERT_TRUE(eventually([&] { return json(gw->get("/v1/adapters/smpp"))->getValue<std::string>("state") == "up"; }));
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(post("tel:+155504" + std::to_string(10 + i), "spread"));
  for (const auto& id : ids) ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
  std::set<int> sessions;
  for (auto& s : smsc->all("submit_sm")) sessions.insert(s->getValue<int>("session"));
  EXPECT_EQ(sessions.size(), 2u) << smsc->transcript();
}

TEST_F(SmppClient, BindsOverTlsAndVerifiesTheSmscCertificate) {
  TempDir certs;
  auto made = runProgram("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", certs.file("key.pem"),
                                     "-out", certs.file("cert.pem"), "-days", "1", "-subj", "/CN=smsc.test", "-addext",
                                     "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto tls = std::make_unique<SmppPeer>("smsc.js");
  tls->send(command("listen",
                    {{"port", 0}, {"tls", true}, {"key", certs.file("key.pem")}, {"cert", certs.file("cert.pem")}}));
  auto l = tls->waitFor("listening");
  ASSERT_TRUE(l) << tls->transcript();
  std::string port = std::to_string(l->getValue<int>("port"));
  startGateway("secure host=127.0.0.1 port=" + port +
               " system_id=cpmgw password=secret tls=on ca_file=" + certs.file("cert.pem"));
  auto b = tls->waitFor("bind");
  ASSERT_TRUE(b) << tls->transcript() << gw->log();
  EXPECT_EQ(b->getValue<int>("status"), 0);
  EXPECT_TRUE(gw->waitForLog("(SMSC secure): bound as transceiver over TLS")) << gw->log();
  std::string id = post("tel:+15550500", "over TLS");
  auto s = tls->waitFor("submit_sm");
  ASSERT_TRUE(s) << tls->transcript() << gw->log();
  EXPECT_EQ(s->getValue<std::string>("short_message"), hexOf("over TLS"));
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw->log();
  gw->stop();
  // A certificate the CA file does not vouch for is refused.
  TempDir other;
  ASSERT_EQ(runProgram("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other.file("key.pem"),
                                   "-out", other.file("cert.pem"), "-days", "1", "-subj", "/CN=other"})
                .exitCode,
            0);
  startGateway("secure host=127.0.0.1 port=" + port +
               " system_id=cpmgw password=secret tls=on ca_file=" + other.file("cert.pem"));
  EXPECT_TRUE(gw->waitForLog("TLS handshake failed")) << gw->log();
}

TEST_F(SmppClient, RefusedBindIsRetriedWithBackOff) {
  startGateway("bad host=127.0.0.1 port=" + std::to_string(smscPort) +
               " system_id=cpmgw password=wrong bind=transceiver");
  auto first = smsc->waitFor("bind");
  ASSERT_TRUE(first) << smsc->transcript();
  EXPECT_EQ(first->getValue<int>("status"), 0x0E);
  EXPECT_TRUE(smsc->waitFor("bind", {}, 10s)) << "binding again after a refusal";
  EXPECT_TRUE(gw->waitForLog("cannot bind: bind refused: ESME_RINVPASWD")) << gw->log();
  EXPECT_EQ(json(gw->get("/v1/adapters/smpp"))->getValue<std::string>("state"), "degraded");
}

}  // namespace
}  // namespace cpmgw::test
