#include "cpmgw/router.h"

#include <gtest/gtest.h>

#include "cpmgw/config.h"

namespace cpmgw {
namespace {

TEST(NormaliseAddress, AcceptsAndCleans) {
  EXPECT_EQ(normaliseAddress("tel:+1 (555) 010-0100"), "tel:+15550100100");
  EXPECT_EQ(normaliseAddress("TEL:+4930.1234"), "tel:+49301234");
  EXPECT_EQ(normaliseAddress("tel:+15550100;phone-context=x"), "tel:+15550100");
  EXPECT_EQ(normaliseAddress("+15550100"), "tel:+15550100");
  EXPECT_EQ(normaliseAddress("5550100"), "tel:5550100");
  EXPECT_EQ(normaliseAddress("sip:Alice@Example.COM"), "sip:Alice@example.com");
  EXPECT_EQ(normaliseAddress("SIP:bob@host;transport=tcp"), "sip:bob@host");
  EXPECT_EQ(normaliseAddress("sips:carol@secure.example"), "sips:carol@secure.example");
  EXPECT_EQ(normaliseAddress("sip:example.com"), "sip:example.com");
}

TEST(NormaliseAddress, RefusesWhatItCannotRoute) {
  for (const char* bad : {"", "tel:", "tel:+", "tel:+1abc", "tel:12+3", "mailto:a@b", "sip:", "sip:a@", "sip:a b@host",
                          "sip:\"x\"@host", "http://x", "tel:+1\r\n555", "sip:a@ho<st", "sips:b\x7f", "sip:a@h\xc3\xa9",
                          "sip:\xfe@host"}) {
    EXPECT_EQ(normaliseAddress(bad), "") << bad;
  }
}

RoutingPolicy policy() {
  RoutingPolicy p;
  p.localDomains = {"localhost", "cpmgw.test"};
  p.interworkPrefixes = {"tel:+1999", "sip:sms-"};
  p.interworkEgress = "smpp";
  return p;
}

Message to(const std::string& address) {
  Message m;
  m.from = "sip:alice@localhost";
  m.to = address;
  return m;
}

TEST(Router, InterworkPrefixesWinOverLocalDomains) {
  Router r(policy());
  auto d = r.decide(to("tel:+19995550100"));
  EXPECT_EQ(d.action, RoutingDecision::Action::Interwork);
  EXPECT_EQ(d.egress, "smpp");
  EXPECT_EQ(d.name(), "interwork");
  EXPECT_EQ(r.decide(to("sip:sms-gw@localhost")).egress, "smpp");
}

TEST(Router, LocalUsersAreDeliveredOverSip) {
  Router r(policy());
  auto d = r.decide(to("sip:bob@cpmgw.test"));
  EXPECT_EQ(d.action, RoutingDecision::Action::Deliver);
  EXPECT_EQ(d.egress, kSipEgress);
  EXPECT_EQ(d.name(), "deliver");
}

TEST(Router, EverythingElseIsRejectedUnlessThereIsADefault) {
  Router r(policy());
  auto d = r.decide(to("sip:bob@elsewhere.example"));
  EXPECT_EQ(d.action, RoutingDecision::Action::Reject);
  EXPECT_NE(d.reason.find("sip:bob@elsewhere.example"), std::string::npos);
  EXPECT_EQ(r.decide(to("tel:+4930123")).action, RoutingDecision::Action::Reject);
  auto p = policy();
  p.defaultEgress = "mm7";
  auto withDefault = Router(p).decide(to("tel:+4930123"));
  EXPECT_EQ(withDefault.action, RoutingDecision::Action::Interwork);
  EXPECT_EQ(withDefault.egress, "mm7");
}

TEST(RoutingPolicy, ReadsItsConfiguration) {
  config::Schema schema;
  RoutingPolicy::declareConfig(schema);
  auto c = config::Config::defaults(schema);
  c.set("routing.local_domains", "Example.COM, localhost");
  c.set("routing.interwork_prefixes", "tel:+1999");
  c.set("routing.interwork_egress", "smpp");
  auto p = RoutingPolicy::from(c);
  EXPECT_EQ(p.localDomains, (std::vector<std::string>{"example.com", "localhost"}));
  EXPECT_EQ(p.interworkPrefixes, (std::vector<std::string>{"tel:+1999"}));
  EXPECT_EQ(p.interworkEgress, "smpp");
  EXPECT_EQ(Router(p).decide(to("sip:x@example.com")).action, RoutingDecision::Action::Deliver);
}

}  // namespace
}  // namespace cpmgw
