// cpmgw's SMPP server role against a real ESME that is not our code: the npm `smpp` package (smpp/esme.js).
#include <Poco/JSON/Array.h>
#include <gtest/gtest.h>

#include <sstream>

#include "harness.h"
#include "smpp_peer.h"

namespace cpmgw::test {
namespace {

// A PDU in hex from its parts: command_length is computed.
std::string pduHex(std::uint32_t commandId, std::uint32_t seq, const std::string& body, std::uint32_t status = 0,
                   std::optional<std::uint32_t> lengthOverride = std::nullopt) {
  auto be = [](std::uint32_t v) {
    std::string s(4, '\0');
    s[0] = static_cast<char>(v >> 24);
    s[1] = static_cast<char>(v >> 16);
    s[2] = static_cast<char>(v >> 8);
    s[3] = static_cast<char>(v);
    return s;
  };
  std::uint32_t len = lengthOverride.value_or(static_cast<std::uint32_t>(16 + body.size()));
  return hexOf(be(len) + be(commandId) + be(status) + be(seq) + body);
}

std::string text(const Json& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

class SmppServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = smppPeerMissing(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    ASSERT_TRUE(gw.start()) << gw.log();
    port = gw.portFromLog("SMPP server listening on");
    ASSERT_NE(port, 0) << gw.log();
    auto a = gw.postJson("/v1/smpp/accounts", R"({"system_id":"esme1","password":"secret1","max_binds":3,"tps":1000,)"
                                              R"("number_prefixes":["+4477"]})");
    ASSERT_EQ(a.status, 201) << a.body;
    esme = std::make_unique<SmppPeer>("esme.js");
  }
  void TearDown() override {
    esme.reset();
    if (gw.running()) {
      EXPECT_EQ(gw.stop(), 0) << gw.log();
    }
  }

  void connect(const std::string& id, bool tls = false, std::uint16_t p = 0) {
    esme->send(command("connect", {{"id", id}, {"port", p ? p : port}, {"tls", tls}}));
    ASSERT_TRUE(esme->waitFor("connected", {{"id", id}})) << esme->transcript();
  }
  int bind(const std::string& id, const std::string& systemId, const std::string& password,
           const std::string& type = "transceiver") {
    esme->send(command("bind", {{"id", id}, {"type", type}, {"system_id", systemId}, {"password", password}}));
    auto r = esme->waitFor("bind_resp", {{"id", id}});
    if (!r) ADD_FAILURE() << "no bind_resp for " << id << "\n" << esme->transcript() << gw.log();
    return r ? r->getValue<int>("status") : -1;
  }
  Json submit(const std::string& id, const std::string& tag, Json params) {
    auto c = command("submit", {{"id", id}, {"tag", tag}});
    c->set("params", params);
    esme->send(c);
    return esme->waitFor("submit_sm_resp", {{"id", id}, {"tag", tag}});
  }
  // Submits `count` copies of `params` on link `id`, `window` at a time; the count of answers by command_status
  // (null when the flood did not finish within a minute).
  Json flood(const std::string& id, int count, int window, Json params) {
    auto c = command("flood", {{"id", id}, {"tag", "flood"}, {"count", count}, {"window", window}});
    c->set("params", params);
    esme->send(c);
    auto done = esme->waitFor("flood_done", {{"id", id}}, 60s);
    if (!done) ADD_FAILURE() << "the flood on " << id << " did not finish\n" << esme->transcript();
    return done ? done->getObject("statuses") : Json();
  }
  static Json sm(const std::string& dest, const std::string& bytesHex, int dataCoding = 0, int esmClass = 0) {
    Json p = new Poco::JSON::Object;
    p->set("source_addr_ton", 1);
    p->set("source_addr_npi", 1);
    p->set("source_addr", "15550100");
    p->set("dest_addr_ton", 1);
    p->set("dest_addr_npi", 1);
    p->set("destination_addr", dest);
    p->set("data_coding", dataCoding);
    p->set("esm_class", esmClass);
    p->set("short_message_hex", bytesHex);
    return p;
  }
  Poco::JSON::Array::Ptr messagesTo(const std::string& uri) {
    return json(gw.get("/v1/messages?to=" + uri))->getArray("messages");
  }

  Gateway gw{{{"adapters.enabled", "loopback, smpp"},
              {"routing.interwork_egress", "smpp"},
              {"smpp.port", "0"},
              {"smpp.mo_recipient", "sip:{number}@localhost"},
              {"smpp.lockout_threshold", "3"},
              {"smpp.lockout_time", "1m"},
              {"smpp.password_iterations", "1000"},
              {"smpp.enquire_link_interval", "1s"},
              {"smpp.reassembly_timeout", "2s"}}};
  std::uint16_t port = 0;
  std::unique_ptr<SmppPeer> esme;
};

TEST_F(SmppServer, SubmitIsStoredForTheCpmUserBeforeTheResponse) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0) << esme->transcript() << gw.log();
  auto r = submit("a", "t1", sm("15550199", hexOf("Hello @ world")));
  ASSERT_TRUE(r) << esme->transcript();
  EXPECT_EQ(r->getValue<int>("status"), 0);
  std::string messageId = r->getValue<std::string>("message_id");
  EXPECT_EQ(messageId.size(), 32u);
  // The response came after the commit: the message is there at once.
  auto list = messagesTo("sip:15550199@localhost");
  ASSERT_EQ(list->size(), 1u) << gw.log();
  auto m = list->getObject(0);
  EXPECT_EQ(m->getValue<std::string>("id"), messageId);
  EXPECT_EQ(m->getValue<std::string>("body"), "Hello \xC2\xA1 world");  // GSM 0x40 is the inverted exclamation mark
  EXPECT_EQ(m->getValue<std::string>("from"), "tel:+15550100");
  EXPECT_EQ(m->getValue<std::string>("ingress"), "smpp");
  EXPECT_EQ(m->getValue<std::string>("egress"), "sip");
}

TEST_F(SmppServer, Ucs2AndEmojiSurvive) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  // "Grüße 😀" in UTF-16BE, the emoji as a surrogate pair.
  auto r = submit("a", "u", sm("15550199", "0047007200fc00df00650020d83dde00", 8));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->getValue<int>("status"), 0);
  auto list = messagesTo("sip:15550199@localhost");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("body"),
            "Gr\xC3\xBC\xC3\x9F"
            "e \xF0\x9F\x98\x80");
}

TEST_F(SmppServer, WrongCredentialsAreRefusedWithTheirOwnStatus) {
  connect("a");
  EXPECT_EQ(bind("a", "esme1", "wrong"), 0x0E);
  EXPECT_TRUE(esme->waitFor("close", {{"id", "a"}})) << "the link closes after a refused bind";
  connect("b");
  EXPECT_EQ(bind("b", "nobody", "secret1"), 0x0F);
  EXPECT_TRUE(gw.waitForLog("refused: wrong password (ESME_RINVPASWD)")) << gw.log();
  EXPECT_TRUE(gw.waitForLog("nobody@127.0.0.1:"));
}

TEST_F(SmppServer, RepeatedFailuresLockTheAddressOut) {
  for (int i = 0; i < 3; ++i) {
    std::string id = "f" + std::to_string(i);
    connect(id);
    EXPECT_EQ(bind(id, "esme1", "bad" + std::to_string(i)), 0x0E);
  }
  EXPECT_TRUE(gw.waitForLog("locked out")) << gw.log();
  connect("good");
  EXPECT_EQ(bind("good", "esme1", "secret1"), 0x0D) << "the right password does not help while locked out";
  auto status = json(gw.get("/v1/adapters/smpp"));
  EXPECT_GE(status->getObject("counters")->getValue<int>("lockouts"), 1);
}

TEST_F(SmppServer, AddressOutsideTheAllowListIsRefused) {
  auto a = gw.postJson("/v1/smpp/accounts", R"({"system_id":"fenced","password":"pw","allowed_ips":["10.0.0.0/8"]})");
  ASSERT_EQ(a.status, 201) << a.body;
  connect("a");
  EXPECT_EQ(bind("a", "fenced", "pw"), 0x0D);
  auto put = gw.http("PUT", "/v1/smpp/accounts/fenced", R"({"allowed_ips":["127.0.0.0/8"]})",
                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(put.status, 200) << put.body;
  connect("b");
  EXPECT_EQ(bind("b", "fenced", "pw"), 0);
}

TEST_F(SmppServer, EnquireLinkBothWays) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  esme->send(command("enquire", {{"id", "a"}, {"tag", "e1"}}));
  auto r = esme->waitFor("enquire_link_resp", {{"id", "a"}});
  ASSERT_TRUE(r) << esme->transcript();
  EXPECT_EQ(r->getValue<int>("status"), 0);
  // Idle for enquire_link_interval (1s): the gateway asks whether we are alive.
  EXPECT_TRUE(esme->waitFor("pdu", {{"id", "a"}, {"command", "enquire_link"}}, 10s)) << esme->transcript();
}

TEST_F(SmppServer, ConcatenatedMessageArrivingInReverseOrderIsReassembled) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  std::string parts[3] = {"first part, ", "second part, ", "third part."};
  for (int seq = 3; seq >= 1; --seq) {
    std::string udh = std::string("\x05\x00\x03\x2A\x03", 5) + static_cast<char>(seq);
    auto r = submit("a", "p" + std::to_string(seq), sm("15550199", hexOf(udh + parts[seq - 1]), 0, 0x40));
    ASSERT_TRUE(r) << esme->transcript();
    EXPECT_EQ(r->getValue<int>("status"), 0);
  }
  ASSERT_TRUE(eventually([&] { return messagesTo("sip:15550199@localhost")->size() == 1; })) << gw.log();
  auto m = messagesTo("sip:15550199@localhost")->getObject(0);
  EXPECT_EQ(m->getValue<std::string>("body"), "first part, second part, third part.");
  EXPECT_EQ(m->getObject("attributes")->getValue<std::string>("smpp.parts"), "3");
}

TEST_F(SmppServer, SarTlvsAndMessagePayloadAreAccepted) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  for (int seq = 1; seq <= 2; ++seq) {
    auto p = sm("15550199", hexOf(seq == 1 ? "sar one " : "sar two"));
    p->set("sar_msg_ref_num", 513);
    p->set("sar_total_segments", 2);
    p->set("sar_segment_seqnum", seq);
    auto r = submit("a", "s" + std::to_string(seq), p);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->getValue<int>("status"), 0);
  }
  std::string longText(300, 'x');
  auto p = sm("15550198", "");
  p->set("message_payload_hex", hexOf(longText));
  auto r = submit("a", "mp", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->getValue<int>("status"), 0);
  ASSERT_TRUE(eventually([&] { return messagesTo("sip:15550199@localhost")->size() == 1; })) << gw.log();
  EXPECT_EQ(messagesTo("sip:15550199@localhost")->getObject(0)->getValue<std::string>("body"), "sar one sar two");
  ASSERT_EQ(messagesTo("sip:15550198@localhost")->size(), 1u);
  EXPECT_EQ(messagesTo("sip:15550198@localhost")->getObject(0)->getValue<std::string>("body"), longText);
}

TEST_F(SmppServer, IncompleteConcatenationIsDeliveredMarkedAfterTheTimeout) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  std::string udh = std::string("\x05\x00\x03\x07\x03\x01", 6);
  auto r = submit("a", "only", sm("15550197", hexOf(udh + "the beginning"), 0, 0x40));
  ASSERT_TRUE(r);
  ASSERT_TRUE(eventually([&] { return messagesTo("sip:15550197@localhost")->size() >= 1; }, 15s)) << gw.log();
  bool marked = false;
  auto list = messagesTo("sip:15550197@localhost");
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto m = list->getObject(i);
    if (m->getObject("attributes")->has("smpp.incomplete")) {
      marked = true;
      EXPECT_EQ(m->getValue<std::string>("body"), "the beginning [...]");
      EXPECT_EQ(m->getObject("attributes")->getValue<std::string>("smpp.incomplete"), "received 1 of 3 parts");
    }
  }
  EXPECT_TRUE(marked) << gw.log();
}

TEST_F(SmppServer, MalformedPdusAreAnsweredAndTheBindSurvivesWhenTheLengthIsSane) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  // Unknown command id.
  esme->send(command("raw", {{"id", "a"}, {"hex", pduHex(0x00000099, 900, "")}}));
  auto nack = esme->waitFor("pdu", {{"id", "a"}, {"command", "generic_nack"}, {"seq", "900"}});
  ASSERT_TRUE(nack) << esme->transcript();
  EXPECT_EQ(nack->getValue<int>("status"), 0x03);
  // submit_sm whose body ends inside service_type (no terminator).
  esme->send(command("raw", {{"id", "a"}, {"hex", pduHex(0x00000004, 901, "CMT")}}));
  nack = esme->waitFor("pdu", {{"id", "a"}, {"command", "generic_nack"}, {"seq", "901"}});
  ASSERT_TRUE(nack) << esme->transcript();
  EXPECT_EQ(nack->getValue<int>("status"), 0x02);
  // submit_sm with a source TON that does not exist: the command's own response says which field.
  std::string body = std::string("\0\x09\x01", 3) + "1555" + std::string("\0\x01\x01", 3) + "15550199" +
                     std::string("\0\0\0\0\0\0\0\0\0\0\x02", 11) + "hi";
  esme->send(command("raw", {{"id", "a"}, {"hex", pduHex(0x00000004, 902, body)}}));
  auto resp = esme->waitFor("pdu", {{"id", "a"}, {"command", "submit_sm_resp"}, {"seq", "902"}});
  ASSERT_TRUE(resp) << esme->transcript();
  EXPECT_EQ(resp->getValue<int>("status"), 0x48);
  // The bind is still up.
  auto r = submit("a", "after", sm("15550199", hexOf("still here")));
  ASSERT_TRUE(r) << esme->transcript();
  EXPECT_EQ(r->getValue<int>("status"), 0);
  EXPECT_GE(json(gw.get("/v1/adapters/smpp"))->getObject("counters")->getValue<int>("bad_pdus"), 3);
}

TEST_F(SmppServer, InsaneLengthsGetAGenericNackAndTheLinkCloses) {
  connect("small");
  ASSERT_EQ(bind("small", "esme1", "secret1"), 0);
  esme->send(command("raw", {{"id", "small"}, {"hex", pduHex(0x00000015, 903, "", 0, 8)}}));
  auto nack = esme->waitFor("pdu", {{"id", "small"}, {"command", "generic_nack"}});
  ASSERT_TRUE(nack) << esme->transcript();
  EXPECT_EQ(nack->getValue<int>("status"), 0x02);
  EXPECT_TRUE(esme->waitFor("close", {{"id", "small"}})) << esme->transcript();

  connect("big");
  ASSERT_EQ(bind("big", "esme1", "secret1"), 0);
  esme->send(command("raw", {{"id", "big"}, {"hex", pduHex(0x00000004, 904, std::string(64, 'x'), 0, 100000)}}));
  EXPECT_TRUE(esme->waitFor("pdu", {{"id", "big"}, {"command", "generic_nack"}})) << esme->transcript();
  EXPECT_TRUE(esme->waitFor("close", {{"id", "big"}})) << esme->transcript();
  EXPECT_TRUE(gw.waitForLog("not sane")) << gw.log();
  // The server itself is fine.
  connect("next");
  EXPECT_EQ(bind("next", "esme1", "secret1"), 0);
}

TEST_F(SmppServer, OverThroughputIsThrottled) {
  auto a = gw.postJson("/v1/smpp/accounts", R"({"system_id":"slow","password":"pw","tps":5})");
  ASSERT_EQ(a.status, 201) << a.body;
  connect("a");
  ASSERT_EQ(bind("a", "slow", "pw"), 0);
  auto statuses = flood("a", 40, 10, sm("15550196", hexOf("fast")));
  ASSERT_TRUE(statuses);
  EXPECT_TRUE(statuses->has("88")) << "ESME_RTHROTTLED (0x58) expected: " << text(statuses);
  EXPECT_TRUE(statuses->has("0"));
}

TEST_F(SmppServer, AnEsmeThatKeepsTheWholeWindowInFlightIsNeverThrottled) {
  // Our window is 10 (the default). The ESME keeps 10 submits in flight and sends the next one the moment an answer
  // arrives: a request has left the window by the time its answer is out.
  ASSERT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"busy","password":"pw"})").status, 201);
  connect("a");
  ASSERT_EQ(bind("a", "busy", "pw"), 0);
  auto statuses = flood("a", 1000, 10, sm("15550197", hexOf("in flight")));
  ASSERT_TRUE(statuses);
  EXPECT_EQ(statuses->size(), 1u) << text(statuses);
  EXPECT_EQ(statuses->optValue<int>("0", 0), 1000) << text(statuses);
}

TEST_F(SmppServer, SubmitsBeyondThePendingLimitAreAnsweredQueueFull) {
  gw.stop();
  Gateway tight{{{"adapters.enabled", "loopback, smpp"},
                 {"routing.interwork_egress", "smpp"},
                 {"smpp.port", "0"},
                 {"smpp.mo_recipient", "sip:{number}@localhost"},
                 {"smpp.password_iterations", "1000"},
                 {"smpp.max_pending_inbound", "1"},
                 {"smpp.window", "100"}}};
  ASSERT_TRUE(tight.start()) << tight.log();
  std::uint16_t p = tight.portFromLog("SMPP server listening on");
  ASSERT_EQ(tight.postJson("/v1/smpp/accounts", R"({"system_id":"esme1","password":"secret1"})").status, 201);
  connect("a", false, p);
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  auto statuses = flood("a", 200, 50, sm("15550195", hexOf("burst")));
  ASSERT_TRUE(statuses);
  EXPECT_TRUE(statuses->has("20")) << "ESME_RMSGQFUL (0x14) expected: " << text(statuses);
  EXPECT_EQ(tight.stop(), 0);
}

TEST_F(SmppServer, MessageToAnEsmeNumberRangeIsDeliveredAsDeliverSm) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1", "receiver"), 0);
  auto post =
      gw.postJson("/v1/messages", R"({"from":"sip:+15550123@localhost","to":"tel:+447700900123","body":"to the app"})");
  ASSERT_EQ(post.status, 202) << post.body;
  std::string id = json(post)->getValue<std::string>("id");
  auto d = esme->waitFor("deliver_sm", {{"id", "a"}});
  ASSERT_TRUE(d) << esme->transcript() << gw.log();
  EXPECT_EQ(d->getValue<std::string>("destination_addr"), "447700900123");
  EXPECT_EQ(d->getValue<std::string>("source_addr"), "15550123");
  EXPECT_EQ(d->getValue<std::string>("short_message"), hexOf("to the app"));
  EXPECT_TRUE(eventually([&] {
    return json(gw.get("/v1/messages/" + id))->getValue<std::string>("state") == "delivered";
  })) << gw.log();
}

TEST_F(SmppServer, TlsBind) {
  gw.stop();
  TempDir certs;
  auto made = runProgram("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", certs.file("key.pem"),
                                     "-out", certs.file("cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  Gateway secure{{{"adapters.enabled", "loopback, smpp"},
                  {"routing.interwork_egress", "smpp"},
                  {"smpp.port", "0"},
                  {"smpp.tls_port", "0"},
                  {"smpp.tls_cert_file", certs.file("cert.pem")},
                  {"smpp.tls_key_file", certs.file("key.pem")},
                  {"smpp.mo_recipient", "sip:{number}@localhost"},
                  {"smpp.password_iterations", "1000"}}};
  ASSERT_TRUE(secure.start()) << secure.log();
  std::uint16_t tlsPort = secure.portFromLog("SMPP TLS server listening on");
  ASSERT_NE(tlsPort, 0) << secure.log();
  ASSERT_EQ(secure.postJson("/v1/smpp/accounts", R"({"system_id":"esme1","password":"secret1"})").status, 201);
  connect("t", true, tlsPort);
  ASSERT_EQ(bind("t", "esme1", "secret1"), 0) << esme->transcript() << secure.log();
  auto r = submit("t", "x", sm("15550199", hexOf("over TLS")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->getValue<int>("status"), 0);
  EXPECT_TRUE(secure.waitForLog("bound as transceiver over TLS")) << secure.log();
  EXPECT_EQ(secure.stop(), 0);
}

TEST_F(SmppServer, AccountsAreManagedThroughRestWithoutPasswords) {
  auto list = gw.get("/v1/smpp/accounts");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("password"), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("hash"), std::string::npos) << list.body;
  auto one = json(gw.get("/v1/smpp/accounts/esme1"));
  EXPECT_EQ(one->getValue<std::string>("system_id"), "esme1");
  EXPECT_EQ(one->getValue<int>("max_binds"), 3);
  EXPECT_EQ(one->getArray("number_prefixes")->getElement<std::string>(0), "tel:+4477");
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"esme1","password":"x"})").status, 409);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"toolongsystemid1","password":"x"})").status, 400);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"nopw"})").status, 400);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"pw9","password":"123456789"})").status, 400);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"ip","password":"x","allowed_ips":["300.1.1.1"]})").status,
            400);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"odd","password":"x","colour":"red"})").status, 400);
  // Integers beyond what the field or JSON numbers can hold: 400, not an internal error.
  EXPECT_EQ(
      gw.postJson("/v1/smpp/accounts", R"({"system_id":"big","password":"x","max_binds":18446744073709551615})").status,
      400);
  EXPECT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"big","password":"x","tps":1e999})").status, 400);
  EXPECT_EQ(gw.get("/v1/smpp/accounts/nobody").status, 404);
  EXPECT_EQ(gw.http("GET", "/v1/smpp/accounts", {}, {}, false).status, 401);
  // A bound ESME whose account is deleted is unbound.
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  auto del = gw.http("DELETE", "/v1/smpp/accounts/esme1");
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(esme->waitFor("pdu", {{"id", "a"}, {"command", "unbind"}})) << esme->transcript();
  EXPECT_EQ(gw.get("/v1/smpp/accounts/esme1").status, 404);
  EXPECT_EQ(gw.http("DELETE", "/v1/smpp/accounts/esme1").status, 404);
  // The account survives a restart (smpp.db).
  ASSERT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"kept","password":"pw"})").status, 201);
  ASSERT_EQ(gw.stop(), 0);
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_EQ(gw.get("/v1/smpp/accounts/kept").status, 200);
}

TEST_F(SmppServer, AdapterResourceShowsBindsAndCounters) {
  connect("a");
  ASSERT_EQ(bind("a", "esme1", "secret1"), 0);
  ASSERT_TRUE(submit("a", "m", sm("15550199", hexOf("count me"))));
  auto s = json(gw.get("/v1/adapters/smpp"));
  EXPECT_EQ(s->getValue<std::string>("name"), "smpp");
  EXPECT_EQ(s->getValue<std::string>("state"), "up");
  auto binds = s->getObject("server")->getArray("binds");
  ASSERT_EQ(binds->size(), 1u);
  EXPECT_EQ(binds->getObject(0)->getValue<std::string>("system_id"), "esme1");
  EXPECT_EQ(binds->getObject(0)->getValue<std::string>("bind_type"), "transceiver");
  EXPECT_EQ(binds->getObject(0)->getValue<int>("window"), 10);
  EXPECT_EQ(s->getObject("counters")->getValue<int>("mo_messages"), 1);
  EXPECT_TRUE(s->has("submits_per_s"));
}

}  // namespace
}  // namespace cpmgw::test
