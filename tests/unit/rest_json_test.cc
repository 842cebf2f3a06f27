// Hostile REST request bodies: every one is a 400 that says why, never another exception (which the
// admin API answers with 500).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <Poco/JSON/Stringifier.h>

#include <sstream>

#include "admin/json_response.h"
#include "admin/resource_handler.h"
#include "cpmgw/text.h"
#include "smpp/smpp_admin.h"

namespace cpmgw {
namespace {

using admin::HttpError;
using Poco::Net::HTTPResponse;

struct Case {
  std::string body;
  std::string detail;  // a part of the 400's detail
};

// The detail of the 400 that `step` throws, or "" when it throws nothing.
template <typename Step>
std::string refusal(Step step) {
  try {
    step();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status, HTTPResponse::HTTP_BAD_REQUEST);
    return e.detail;
  }
  return "";
}

std::string refusal(const std::string& body) {
  return refusal([&] { admin::parseJsonObject(body); });
}

TEST(RestJson, HostileBodiesAreRefusedWithTheReason) {
  const std::vector<Case> cases = {
      {"", "invalid JSON"},
      {"{", "invalid JSON"},
      {"{\"a\":1,}", "invalid JSON"},
      {"{\"a\" 1}", "invalid JSON"},
      {"{'a':1}", "invalid JSON"},
      {"{\"a\":\"\\ud800\"}", "invalid JSON"},  // a lone surrogate
      {"{\"a\":\"\x01\"}", "invalid JSON"},     // a raw control character
      {"{\"a\":1}garbage", "invalid JSON"},
      {"{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}", "invalid JSON"},  // too deep
      {"{\"n\":1e999999}", "invalid JSON"},                                                     // beyond a double
      {"{\"n\":123456789012345678901234567890}", "invalid JSON"},                               // beyond 64 bits
      {"{\"n\":-123456789012345678901234567890}", "invalid JSON"},
      {"[1,2]", "must be a JSON object"},
      {"\"text\"", "must be a JSON object"},
      {"42", "must be a JSON object"},
      {"null", "must be a JSON object"},
      {"true", "must be a JSON object"},
      {" \n garbage", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    std::string detail = refusal(c.body);
    EXPECT_NE(detail.find(c.detail), std::string::npos) << c.body.substr(0, 60) << " -> " << detail;
  }
}

TEST(RestJson, AnObjectIsReturned) {
  auto o = admin::parseJsonObject(R"({"a":"\u00e9\ud83d\ude00","b":[1,2.5,true,null],"c":{"d":-9223372036854775808}})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->getValue<std::string>("a"), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(o->getObject("c")->getValue<Poco::Int64>("d"), INT64_MIN);
}

std::string accountRefusal(const std::string& body, bool creating = true) {
  smpp::Account account;
  return refusal([&] { smpp::applyAccountFields(account, admin::parseJsonObject(body), creating, 1); });
}

TEST(RestJson, SmppAccountFieldsOutOfRangeOrOfTheWrongTypeAreRefused) {
  const std::vector<Case> cases = {
      {R"({"password":"secret-1","max_binds":18446744073709551615})", "max_binds must be 1..1000"},
      {R"({"password":"secret-1","max_binds":9223372036854775807})", "max_binds must be 1..1000"},
      {R"({"password":"secret-1","max_binds":-9223372036854775808})", "max_binds must be 1..1000"},
      {R"({"password":"secret-1","max_binds":0})", "max_binds must be 1..1000"},
      {R"({"password":"secret-1","max_binds":18446744073709551616})", "max_binds must be 1..1000"},  // Poco: 0
      {R"({"password":"secret-1","tps":18446744073709551619})", "tps must be 0..1000000"},           // Poco: 3
      {R"({"password":"secret-1","max_binds":true})", "max_binds must be an integer"},
      {R"({"password":"secret-1","max_binds":2.5})", "max_binds must be an integer"},
      {R"({"password":"secret-1","max_binds":"2"})", "max_binds must be an integer"},
      {R"({"password":"secret-1","tps":18446744073709551615})", "tps must be 0..1000000"},
      {R"({"password":"secret-1","tps":null})", "tps must be an integer"},
      {R"({"password":"secret-1","enabled":1})", "enabled must be true or false"},
      {R"({"password":"secret-1","allowed_ips":"127.0.0.1"})", "allowed_ips must be an array of strings"},
      {R"({"password":"secret-1","allowed_ips":[1]})", "allowed_ips must be an array of strings"},
      {R"({"password":"secret-1","allowed_ips":["999.1.1.1"]})", "is not an IP address or CIDR block"},
      {R"({"password":"secret-1","number_prefixes":[["tel:+49"]]})", "number_prefixes must be an array of strings"},
      {R"({"password":7})", "password must be a string"},
      {R"({"max_binds":2})", "password is required"},
      {R"({"password":"secret-1","colour":"red"})", "unknown field 'colour'"},
  };
  for (const auto& c : cases) {
    std::string detail = accountRefusal(c.body);
    EXPECT_NE(detail.find(c.detail), std::string::npos) << c.body << " -> " << detail;
  }
  EXPECT_EQ(accountRefusal(R"({"max_binds":1000,"tps":1000000})", false), "");
}

TEST(RestJson, WhatPeersSentIsShownAsWellFormedUtf8) {
  StoredMessage m;
  m.id = "0123456789abcdef0123456789abcdef";
  m.from = "sip:a\xff@example.net";
  m.to = "tel:+15550100";
  m.body = std::string("\x00\x01\xff", 3);
  m.externalIds.push_back({"smpp.mt", "id\xfe\x1b"});
  m.lastError = "peer said \xc0\xaf";
  m.attributes["x\xff"] = "y\xff";
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(admin::messageJson(m), out);
  EXPECT_TRUE(isUtf8(out.str())) << out.str();
  auto back = admin::parseJsonObject(out.str());
  EXPECT_EQ(back->getValue<std::string>("from"), "sip:a\\xff@example.net");
  EXPECT_EQ(back->getValue<std::string>("body_base64"), "AAH/");
  EXPECT_EQ(back->getArray("external_ids")->getObject(0)->getValue<std::string>("value"), "id\\xfe\\x1b");
  EXPECT_EQ(back->getValue<std::string>("last_error"), "peer said \\xc0\\xaf");
  EXPECT_EQ(back->getObject("attributes")->getValue<std::string>("x\\xff"), "y\\xff");
}

}  // namespace
}  // namespace cpmgw
