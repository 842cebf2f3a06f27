// The [smpp] configuration: declared keys, choices checked at creation, and SMSC bind specs.
#include "smpp/smpp_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "cpmgw/config.h"

namespace cpmgw::smpp {
namespace {

config::Config defaults() {
  config::Schema schema;
  SmppOptions::declareConfig(schema);
  return config::Config::defaults(schema);
}

TEST(SmppConfig, DefaultsAreOfflineSafe) {
  auto o = SmppOptions::from(defaults());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 0);
  EXPECT_TRUE(o.smscBinds.empty());
  EXPECT_TRUE(o.tlsCertFile.empty());
  EXPECT_FALSE(o.udh16);
  EXPECT_EQ(o.maxPdu, 4096u);
  EXPECT_EQ(o.database, ":memory:") << "without a data directory the tables stay in memory";
}

TEST(SmppConfig, DatabaseLivesInTheDataDirectory) {
  config::Schema schema;
  schema.add({"general", "data_dir", config::Type::Path, "/var/lib/cpmgw", "data"});
  SmppOptions::declareConfig(schema);
  auto c = config::Config::defaults(schema);
  EXPECT_EQ(SmppOptions::from(c).database, "/var/lib/cpmgw/smpp.db");
  c.set("smpp.database", "/elsewhere/s.db");
  EXPECT_EQ(SmppOptions::from(c).database, "/elsewhere/s.db");
}

TEST(SmppConfig, ChoicesAreChecked) {
  auto c = defaults();
  c.set("smpp.concatenation", "udh16");
  EXPECT_TRUE(SmppOptions::from(c).udh16);
  c.set("smpp.concatenation", "udh12");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
  c = defaults();
  c.set("smpp.reassembly_policy", "drop");
  EXPECT_FALSE(SmppOptions::from(c).reassemblyDeliverPartial);
  c.set("smpp.reassembly_policy", "keep");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
  c = defaults();
  c.set("smpp.mo_recipient", "sip:fixed@localhost");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
  c = defaults();
  c.set("smpp.default_alphabet", "ebcdic");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
  c = defaults();
  c.set("smpp.system_id", "a_name_far_too_long");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
  EXPECT_THROW(defaults().set("smpp.max_pdu_size", "32"), config::ConfigError);
  EXPECT_THROW(defaults().set("smpp.max_segments", "256"), config::ConfigError);
}

TEST(SmscBindSpec, ParsesEveryParameter) {
  auto s = parseSmscBindSpec(
      "opA host=10.0.0.1 port=2776 system_id=cpmgw password=pw system_type=VMA bind=tx window=50 tps=100 tls=on "
      "tls_verify=off ca_file=/etc/ca.pem smsc=operatorA");
  EXPECT_EQ(s.name, "opA");
  EXPECT_EQ(s.host, "10.0.0.1");
  EXPECT_EQ(s.port, 2776);
  EXPECT_EQ(s.systemId, "cpmgw");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.systemType, "VMA");
  EXPECT_EQ(s.bindType, BindType::Transmitter);
  EXPECT_EQ(s.window, 50u);
  EXPECT_EQ(s.tps, 100u);
  EXPECT_TRUE(s.tls);
  EXPECT_FALSE(s.tlsVerify);
  EXPECT_EQ(s.caFile, "/etc/ca.pem");
  EXPECT_EQ(s.smsc, "operatorA");
  auto d = parseSmscBindSpec("b host=smsc.example system_id=x");
  EXPECT_EQ(d.port, 2775);
  EXPECT_EQ(d.bindType, BindType::Transceiver);
  EXPECT_EQ(d.window, 10u);
  EXPECT_EQ(d.smsc, "b") << "receipts are correlated per bind unless binds share an smsc=";
}

TEST(SmscBindSpec, ReadsThePasswordFile) {
  std::string path = ::testing::TempDir() + "/smpp-password-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    out << "s3cret\r\n";
  }
  auto s = parseSmscBindSpec("p host=h system_id=x password_file=" + path);
  EXPECT_EQ(s.password, "s3cret");
  std::remove(path.c_str());
  EXPECT_THROW(parseSmscBindSpec("p host=h system_id=x password_file=" + path), config::ConfigError);
}

TEST(SmscBindSpec, RefusesWhatIsWrong) {
  for (const char* bad :
       {"", "host=h system_id=x", "n system_id=x", "n host=h", "n host=h system_id=x port=0",
        "n host=h system_id=x port=70000", "n host=h system_id=x bind=both", "n host=h system_id=x window=0",
        "n host=h system_id=x tls=maybe", "n host=h system_id=x colour=red", "n host=h system_id=x stray",
        "n host=h system_id=x password=123456789", "n host=h system_id=sixteen_chars_xx",
        "n host=h system_id=x password=a password_file=/etc/passwd"}) {
    EXPECT_THROW(parseSmscBindSpec(bad), config::ConfigError) << bad;
  }
}

TEST(SmscBindSpec, ListKeyCarriesSeveralBindsWithDistinctNames) {
  auto c = defaults();
  c.set("smpp.smsc_binds", "a host=127.0.0.1 system_id=x, b host=127.0.0.2 system_id=y bind=rx");
  auto o = SmppOptions::from(c);
  ASSERT_EQ(o.smscBinds.size(), 2u);
  EXPECT_EQ(o.smscBinds[1].bindType, BindType::Receiver);
  c.set("smpp.smsc_binds", "a host=127.0.0.1 system_id=x, a host=127.0.0.2 system_id=y");
  EXPECT_THROW(SmppOptions::from(c), config::ConfigError);
}

}  // namespace
}  // namespace cpmgw::smpp
