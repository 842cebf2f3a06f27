// ESME account checks: salted password hashes, allow-lists, lockout, throughput buckets, field rules.
#include "smpp/smpp_accounts.h"

#include <gtest/gtest.h>

namespace cpmgw::smpp {
namespace {

TEST(SmppPassword, SaltedHashVerifiesOnlyTheRightPassword) {
  Account a, b;
  setPassword(a, "secret1", 1000);
  setPassword(b, "secret1", 1000);
  EXPECT_EQ(a.hash.size(), 32u);
  EXPECT_EQ(a.salt.size(), 16u);
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.hash, b.hash) << "the same password hashes differently under another salt";
  EXPECT_TRUE(verifyPassword(a, "secret1"));
  EXPECT_FALSE(verifyPassword(a, "secret2"));
  EXPECT_FALSE(verifyPassword(a, "secret"));
  EXPECT_FALSE(verifyPassword(a, ""));
  Account empty;
  EXPECT_FALSE(verifyPassword(empty, ""));
  burnPasswordCheck("anything", 1000);
}

TEST(SmppAllowList, AddressesAndBlocksOfBothFamilies) {
  EXPECT_TRUE(ipAllowed({}, "192.0.2.1"));
  EXPECT_TRUE(ipAllowed({"192.0.2.1"}, "192.0.2.1"));
  EXPECT_FALSE(ipAllowed({"192.0.2.1"}, "192.0.2.2"));
  EXPECT_TRUE(ipAllowed({"10.0.0.0/8"}, "10.200.3.4"));
  EXPECT_FALSE(ipAllowed({"10.0.0.0/8"}, "11.0.0.1"));
  EXPECT_TRUE(ipAllowed({"192.168.1.128/25"}, "192.168.1.200"));
  EXPECT_FALSE(ipAllowed({"192.168.1.128/25"}, "192.168.1.100"));
  EXPECT_TRUE(ipAllowed({"0.0.0.0/0"}, "203.0.113.9"));
  EXPECT_TRUE(ipAllowed({"::1"}, "::1"));
  EXPECT_TRUE(ipAllowed({"2001:db8::/32"}, "2001:db8:1::5"));
  EXPECT_FALSE(ipAllowed({"2001:db8::/32"}, "2001:db9::5"));
  EXPECT_TRUE(ipAllowed({"10.0.0.0/8"}, "::ffff:10.1.2.3")) << "an IPv4 client on a dual-stack socket";
  EXPECT_FALSE(ipAllowed({"10.0.0.0/8"}, "not-an-ip"));
  EXPECT_TRUE(ipAllowed({"garbage", "127.0.0.1"}, "127.0.0.1"));
  for (const char* ok : {"1.2.3.4", "1.2.3.0/24", "::", "fe80::/10", "10.0.0.0/0"})
    EXPECT_TRUE(validAllowEntry(ok)) << ok;
  for (const char* bad : {"", "1.2.3", "300.1.1.1", "1.2.3.4/33", "::/129", "1.2.3.4/", "1.2.3.4/x", "host.example"})
    EXPECT_FALSE(validAllowEntry(bad)) << bad;
}

TEST(SmppLockout, LocksAfterThresholdWithinTheWindow) {
  Lockout l(3, 1000);
  EXPECT_FALSE(l.failure("a", 0));
  EXPECT_FALSE(l.failure("a", 10));
  EXPECT_FALSE(l.locked("a", 20));
  EXPECT_TRUE(l.failure("a", 20));
  EXPECT_TRUE(l.locked("a", 21));
  EXPECT_TRUE(l.locked("a", 1019));
  EXPECT_FALSE(l.locked("b", 21)) << "per address";
  EXPECT_FALSE(l.locked("a", 1021)) << "the lock expires";
  // Failures further apart than the window do not add up.
  Lockout slow(3, 1000);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(slow.failure("c", i * 2000));
  // A success forgets the failures.
  Lockout reset(2, 1000);
  EXPECT_FALSE(reset.failure("d", 0));
  reset.success("d");
  EXPECT_FALSE(reset.failure("d", 1));
}

TEST(SmppTokenBucket, LimitsTheRateAndRefills) {
  TokenBucket b(10, 2);
  EXPECT_TRUE(b.take(1000));
  EXPECT_TRUE(b.take(1000));
  EXPECT_FALSE(b.take(1000));
  EXPECT_GT(b.waitMs(1000), 90);
  EXPECT_LE(b.waitMs(1000), 101);
  EXPECT_FALSE(b.take(1050));
  EXPECT_TRUE(b.take(1100));
  EXPECT_TRUE(b.take(5000));
  EXPECT_TRUE(b.take(5000));
  EXPECT_FALSE(b.take(5000)) << "no more than the burst is saved up";
  TokenBucket unlimited;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.take(0));
  unlimited.reconfigure(5, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(unlimited.take(100)) << "a bucket that was unlimited starts full";
  EXPECT_FALSE(unlimited.take(100));
}

TEST(SmppAccountFields, SmppLimitsApply) {
  EXPECT_TRUE(checkSystemId("esme1").empty());
  EXPECT_TRUE(checkSystemId("fifteen_chars_x").empty());
  EXPECT_FALSE(checkSystemId("").empty());
  EXPECT_FALSE(checkSystemId("sixteen_chars_xx").empty());
  EXPECT_FALSE(checkSystemId("has space").empty());
  EXPECT_FALSE(checkSystemId("a/b").empty());
  EXPECT_TRUE(checkPassword("12345678").empty());
  EXPECT_FALSE(checkPassword("123456789").empty());
  EXPECT_FALSE(checkPassword("").empty());
  EXPECT_TRUE(checkNumberPrefix("+4477").empty());
  EXPECT_TRUE(checkNumberPrefix("tel:+1").empty());
  EXPECT_FALSE(checkNumberPrefix("4477").empty());
  EXPECT_FALSE(checkNumberPrefix("+44a").empty());
  EXPECT_FALSE(checkNumberPrefix("+").empty());
  EXPECT_EQ(normaliseNumberPrefix("+4477"), "tel:+4477");
  EXPECT_EQ(normaliseNumberPrefix("tel:+4477"), "tel:+4477");
}

}  // namespace
}  // namespace cpmgw::smpp
