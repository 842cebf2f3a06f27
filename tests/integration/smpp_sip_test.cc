// SMS <-> CPM end to end: an ESME (npm smpp) and a CPM device (SIPp) on either side of cpmgw.
#include <Poco/JSON/Array.h>
#include <gtest/gtest.h>

#include "harness.h"
#include "smpp_peer.h"

namespace cpmgw::test {
namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

class SmppSip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = smppPeerMissing(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    if (!SippDevice::available()) {
      GTEST_SKIP() << "sipp not installed";
    }
    ASSERT_TRUE(gw.start()) << gw.log();
    port = gw.portFromLog("SMPP server listening on");
    ASSERT_NE(port, 0);
    ASSERT_EQ(gw.postJson("/v1/smpp/accounts", R"({"system_id":"esme1","password":"secret1"})").status, 201);
    esme = std::make_unique<SmppPeer>("esme.js");
    esme->send(command("connect", {{"id", "a"}, {"port", port}}));
    ASSERT_TRUE(esme->waitFor("connected"));
    esme->send(
        command("bind", {{"id", "a"}, {"type", "transceiver"}, {"system_id", "esme1"}, {"password", "secret1"}}));
    auto b = esme->waitFor("bind_resp");
    ASSERT_TRUE(b && b->getValue<int>("status") == 0) << esme->transcript() << gw.log();
  }
  void TearDown() override {
    esme.reset();
    if (gw.running()) {
      EXPECT_EQ(gw.stop(), 0) << gw.log();
    }
  }

  Json submit(const std::string& tag, const std::string& dest, const std::string& text, int registered = 0) {
    Json p = new Poco::JSON::Object;
    p->set("source_addr_ton", 1);
    p->set("source_addr_npi", 1);
    p->set("source_addr", "15550100");
    p->set("dest_addr_ton", 1);
    p->set("dest_addr_npi", 1);
    p->set("destination_addr", dest);
    p->set("data_coding", 0);
    p->set("esm_class", 0);
    p->set("registered_delivery", registered);
    p->set("short_message_hex", hexOf(text));
    auto c = command("submit", {{"id", "a"}, {"tag", tag}});
    c->set("params", p);
    esme->send(c);
    return esme->waitFor("submit_sm_resp", {{"tag", tag}});
  }

  Gateway gw{{{"adapters.enabled", "smpp"},
              {"routing.interwork_egress", "smpp"},
              {"smpp.port", "0"},
              {"smpp.mo_recipient", "sip:{number}@localhost"},
              {"smpp.password_iterations", "1000"}}};
  std::uint16_t port = 0;
  std::unique_ptr<SmppPeer> esme;
};

TEST_F(SmppSip, SubmitSmReachesTheCpmDeviceAsMessage) {
  SippDevice device(gw, "15550199", 1);
  ASSERT_TRUE(device.ok()) << device.error() << gw.log();
  auto r = submit("t1", "15550199", "hello from sms");
  ASSERT_TRUE(r) << esme->transcript();
  ASSERT_EQ(r->getValue<int>("status"), 0);
  ASSERT_TRUE(device.waitFor("hello from sms")) << device.received() << gw.log();
  std::string got = device.received();
  EXPECT_NE(got.find("MESSAGE sip:15550199@127.0.0.1"), std::string::npos) << got;
  EXPECT_NE(got.find("tel:+15550100"), std::string::npos) << got;
  std::string id = r->getValue<std::string>("message_id");
  EXPECT_TRUE(eventually([&] {
    return json(gw.get("/v1/messages/" + id))->getValue<std::string>("state") == "delivered";
  })) << gw.log();
}

TEST_F(SmppSip, DeliveryToTheCpmUserBecomesAReceiptForTheEsme) {
  SippDevice device(gw, "15550198", 1);
  ASSERT_TRUE(device.ok()) << device.error();
  auto r = submit("dlr", "15550198", "receipt please", 1);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->getValue<int>("status"), 0);
  std::string messageId = r->getValue<std::string>("message_id");
  ASSERT_TRUE(device.waitFor("receipt please")) << device.received() << gw.log();
  // The device's 200 makes the network send a 'delivered' report; it comes back to the ESME as a receipt.
  auto d = esme->waitFor("deliver_sm", {{"id", "a"}}, 20s);
  ASSERT_TRUE(d) << esme->transcript() << gw.log();
  EXPECT_EQ(d->getValue<int>("esm_class"), 4);
  EXPECT_EQ(d->getValue<std::string>("receipted_message_id"), messageId);
  EXPECT_EQ(d->getValue<int>("message_state"), 2);
  EXPECT_EQ(d->getValue<std::string>("destination_addr"), "15550100");
  EXPECT_EQ(d->getValue<std::string>("source_addr"), "15550198");
  std::string text = unhex(d->getValue<std::string>("short_message"));
  EXPECT_EQ(text.rfind("id:" + messageId + " sub:001 dlvrd:001 submit date:", 0), 0u) << text;
  EXPECT_NE(text.find("stat:DELIVRD err:000 text:receipt please"), std::string::npos) << text;
  EXPECT_TRUE(eventually([&] {
    return json(gw.get("/v1/adapters/smpp"))->getObject("counters")->getValue<int>("receipts_to_esmes") == 1;
  }));
}

TEST_F(SmppSip, NoReceiptWhenTheEsmeDidNotAskForOne) {
  SippDevice device(gw, "15550197", 1);
  ASSERT_TRUE(device.ok()) << device.error();
  auto r = submit("quiet", "15550197", "no receipt");
  ASSERT_TRUE(r);
  ASSERT_TRUE(device.waitFor("no receipt")) << device.received();
  EXPECT_FALSE(esme->waitFor("deliver_sm", {{"id", "a"}}, 3s)) << esme->transcript();
}

}  // namespace
}  // namespace cpmgw::test
