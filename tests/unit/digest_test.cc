#include "cpmgw/digest.h"

#include <gtest/gtest.h>

namespace cpmgw::digest {
namespace {

// RFC 2617 section 3.5 example.
TEST(Digest, Rfc2617Example) {
  EXPECT_EQ(ha1("Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9");
}

TEST(Digest, ParsesAuthorizationHeaders) {
  auto c = parse(R"(Digest username="alice", realm="cpmgw", nonce="1.abc", uri="sip:localhost", )"
                 R"(response="0123", algorithm=MD5, qop=auth, nc=00000001, cnonce="xyz")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->realm, "cpmgw");
  EXPECT_EQ(c->uri, "sip:localhost");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->cnonce, "xyz");
  auto escaped = parse(R"(digest username="a\"b", nonce="n", uri="u", response="r")");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->username, "a\"b");
}

TEST(Digest, RefusesMalformedHeaders) {
  for (const char* bad : {"", "Basic abc", "Digest", "Digestusername=\"a\"", "Digest username=\"a", "Digest =x",
                          "Digest username=\"a\" nonce=\"n\"", "Digest username=\"a\", nonce=\"n\", uri=\"u\"",
                          "Digest username=\"a\", username=\"b\", nonce=\"n\", uri=\"u\", response=\"r\"",
                          "Digest username=\"a\r\nX: y\", nonce=\"n\", uri=\"u\", response=\"r\""}) {
    EXPECT_FALSE(parse(bad)) << bad;
  }
}

// MD5(a:b:c) is what ha1() computes, so the client side of RFC 7616 can be written with it:
// HA2 = MD5(method:uri), response = MD5(HA1:nonce:nc:cnonce:auth:HA2).
std::string clientResponse(const Credentials& c, const std::string& method, const std::string& storedHa1) {
  auto colon = c.uri.find(':');
  std::string ha2 = ha1(method, c.uri.substr(0, colon), c.uri.substr(colon + 1));
  return ha1(storedHa1, c.nonce, c.nc + ":" + c.cnonce + ":auth:" + ha2);
}

Credentials fromChallenge(const std::string& challenge, const std::string& realm) {
  auto start = challenge.find("nonce=\"") + 7;
  Credentials c;
  c.username = "alice";
  c.realm = realm;
  c.nonce = challenge.substr(start, challenge.find('"', start) - start);
  c.uri = "sip:cpmgw.test";
  c.qop = "auth";
  c.nc = "00000001";
  c.cnonce = "0a4f113b";
  return c;
}

TEST(Digest, VerifiesAChallengeRoundTrip) {
  Authenticator auth("cpmgw.test", 300'000);
  std::string challenge = auth.challenge();
  EXPECT_NE(challenge.find("realm=\"cpmgw.test\""), std::string::npos);
  EXPECT_NE(challenge.find("qop=\"auth\""), std::string::npos);
  EXPECT_NE(auth.challenge(true).find("stale=true"), std::string::npos);
  std::string stored = ha1("alice", "cpmgw.test", "secret");
  auto c = fromChallenge(challenge, "cpmgw.test");
  c.response = clientResponse(c, "REGISTER", stored);
  TimeMs now = nowMs();
  EXPECT_EQ(auth.verify(c, "REGISTER", stored, now), Authenticator::Result::Ok);
  EXPECT_EQ(auth.verify(c, "INVITE", stored, now), Authenticator::Result::WrongResponse);
  EXPECT_EQ(auth.verify(c, "REGISTER", ha1("alice", "cpmgw.test", "guess"), now), Authenticator::Result::WrongResponse);
  EXPECT_EQ(auth.verify(c, "REGISTER", stored, now + 400'000), Authenticator::Result::StaleNonce);
  auto forged = c;
  forged.nonce = std::to_string(now) + ".00000000000000000000000000000000";
  EXPECT_EQ(auth.verify(forged, "REGISTER", stored, now), Authenticator::Result::BadNonce);
  auto garbage = c;
  garbage.nonce = "not-a-nonce";
  EXPECT_EQ(auth.verify(garbage, "REGISTER", stored, now), Authenticator::Result::BadNonce);
  auto otherRealm = c;
  otherRealm.realm = "elsewhere";
  EXPECT_EQ(auth.verify(otherRealm, "REGISTER", stored, now), Authenticator::Result::Malformed);
  auto sha = c;
  sha.algorithm = "SHA-256";
  EXPECT_EQ(auth.verify(sha, "REGISTER", stored, now), Authenticator::Result::Malformed);
  // A nonce from another process (another secret) is not accepted.
  Authenticator other("cpmgw.test");
  EXPECT_EQ(other.verify(c, "REGISTER", stored, now), Authenticator::Result::BadNonce);
}

}  // namespace
}  // namespace cpmgw::digest
