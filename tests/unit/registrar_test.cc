#include "sip/registrar.h"

#include <gtest/gtest.h>

#include "runtime/application.h"
#include "sip/sip_endpoint.h"

namespace cpmgw::sip {
namespace {

TEST(FeatureTags, ReadsIcsiAndIariLists) {
  auto caps = parseFeatureTags(
      {"+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm."
       "largemsg\"",
       "+g.3gpp.iari-ref=\"urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.fthttp,urn%3Aurn-7%3A3gpp-application.ims.iari."
       "rcs.ftsms\"",
       "expires=600"});
  EXPECT_TRUE(caps.cpmMsg);
  EXPECT_TRUE(caps.largeMsg);
  EXPECT_TRUE(caps.ftHttp);
  EXPECT_TRUE(caps.ftSms);
  EXPECT_FALSE(caps.ftMsrp);
  ASSERT_EQ(caps.icsi.size(), 2u);
  EXPECT_EQ(caps.icsi[0], "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg");
}

TEST(FeatureTags, MsrpFileTransferAndChatTag) {
  auto caps =
      parseFeatureTags({"+G.3GPP.IARI-REF=\"urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.ft\"", "+g.oma.sip-im"});
  EXPECT_TRUE(caps.ftMsrp);
  EXPECT_FALSE(caps.ftHttp);
  EXPECT_TRUE(caps.cpmMsg);
}

TEST(FeatureTags, NothingAnnouncedMeansNoCapability) {
  auto caps = parseFeatureTags({"expires=3600", "q=0.5", "+g.3gpp.icsi-ref=\"\"", "+g.3gpp.iari-ref=\"%zz,,\""});
  EXPECT_FALSE(caps.cpmMsg);
  EXPECT_FALSE(caps.ftHttp);
  EXPECT_FALSE(caps.ftMsrp);
}

Binding binding(const std::string& contact, TimeMs expiresAt, const std::string& instance = "") {
  Binding b;
  b.contact = contact;
  b.instance = instance;
  b.expiresAt = expiresAt;
  return b;
}

TEST(Registrar, KeepsEveryDeviceAndDropsExpiredOnes) {
  Registrar r;
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.1", 1000));
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.2", 5000));
  EXPECT_EQ(r.bindings("sip:bob@localhost", 500).size(), 2u);
  auto later = r.bindings("sip:bob@localhost", 2000);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].contact, "sip:bob@10.0.0.2");
  EXPECT_TRUE(r.bindings("sip:bob@localhost", 6000).empty());
  EXPECT_EQ(r.users(6000), 0u);
}

TEST(Registrar, SameContactOrInstanceReplaces) {
  Registrar r;
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.1", 1000, "<urn:uuid:1>"));
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.1", 2000, "<urn:uuid:1>"));  // a refresh
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.9", 3000, "<urn:uuid:1>"));  // same phone, new address
  auto b = r.bindings("sip:bob@localhost", 0);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].contact, "sip:bob@10.0.0.9");
}

TEST(Registrar, RemovesOneOrAll) {
  Registrar r;
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.1", 1000));
  r.update("sip:bob@localhost", binding("sip:bob@10.0.0.2", 1000));
  r.remove("sip:bob@localhost", "sip:bob@10.0.0.1");
  EXPECT_EQ(r.bindings("sip:bob@localhost", 0).size(), 1u);
  r.removeAll("sip:bob@localhost");
  EXPECT_TRUE(r.bindings("sip:bob@localhost", 0).empty());
  r.update("sip:a@localhost", binding("sip:a@x", 10));
  r.update("sip:b@localhost", binding("sip:b@x", 100));
  EXPECT_EQ(r.purgeExpired(50), 1u);
  EXPECT_EQ(r.users(50), 1u);
}

TEST(SipConfig, TransactionTimersDefaultToAHundredMillisecondT4AndThirtyTwoSecondTimeout) {
  auto cfg = config::Config::defaults(fullSchema());
  auto options = SipEndpoint::optionsFrom(cfg);
  EXPECT_EQ(options.t4Ms, 100);
  EXPECT_EQ(options.transactionTimeoutMs, 32000);

  cfg.set("sip.t4", "250ms");
  EXPECT_EQ(SipEndpoint::optionsFrom(cfg).t4Ms, 250);
  cfg.set("sip.t4", "10ms");
  EXPECT_EQ(SipEndpoint::optionsFrom(cfg).t4Ms, 10);
  EXPECT_THROW(cfg.set("sip.t4", "5ms"), config::ConfigError);
  EXPECT_THROW(cfg.set("sip.t4", "2m"), config::ConfigError);
}

}  // namespace
}  // namespace cpmgw::sip
