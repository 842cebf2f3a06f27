// The REST admin API of the real binary, over HTTP.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "harness.h"

namespace cpmgw::test {
namespace {

Poco::JSON::Object::Ptr json(const HttpAnswer& a) {
  return Poco::JSON::Parser().parse(a.body).extract<Poco::JSON::Object::Ptr>();
}

class AdminApi : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(gw.start()) << gw.log(); }
  void TearDown() override { EXPECT_EQ(gw.stop(), 0) << gw.log(); }

  std::string submit(const std::string& to, const std::string& extra = "") {
    auto a = gw.postJson("/v1/messages",
                         R"({"from":"sip:alice@localhost","to":")" + to + R"(","body":"hello")" + extra + "}");
    EXPECT_EQ(a.status, 202) << a.body;
    return json(a)->getValue<std::string>("id");
  }
  std::string stateOf(const std::string& id) {
    return json(gw.get("/v1/messages/" + id))->getValue<std::string>("state");
  }

  Gateway gw{{{"admin.max_body", "4k"}, {"loopback.fail_prefix", "tel:+1666"}}};
};

TEST_F(AdminApi, HealthNeedsNoToken) {
  auto a = gw.http("GET", "/v1/health", {}, {}, false);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(json(a)->getValue<std::string>("status"), "ok");
}

TEST_F(AdminApi, EverythingElseNeedsTheToken) {
  for (const char* path : {"/v1/status", "/v1/messages", "/v1/adapters", "/v1/nothing-here", "/v1/users/%ZZ"}) {
    auto missing = gw.http("GET", path, {}, {}, false);
    EXPECT_EQ(missing.status, 401) << path;
    EXPECT_EQ(missing.headers["WWW-Authenticate"], "Bearer realm=\"cpmgw\"");
    EXPECT_EQ(json(missing)->getValue<std::string>("error"), "Unauthorized");
    auto wrong = gw.http("GET", path, {}, {{"Authorization", "Bearer " + std::string(gw.token().size(), 'x')}}, false);
    EXPECT_EQ(wrong.status, 401) << path;
    auto basic = gw.http("GET", path, {}, {{"Authorization", "Basic " + gw.token()}}, false);
    EXPECT_EQ(basic.status, 401) << path;
  }
  EXPECT_TRUE(gw.waitForLog("refused: missing or wrong bearer token"));
}

TEST_F(AdminApi, StatusReportsVersionQueuesAndAdapters) {
  auto a = gw.get("/v1/status");
  ASSERT_EQ(a.status, 200) << a.body;
  auto o = json(a);
  EXPECT_EQ(o->getValue<std::string>("version"), CPMGW_VERSION);
  EXPECT_GE(o->getValue<int>("uptime_s"), 0);
  EXPECT_EQ(o->getArray("adapters")->getObject(0)->getValue<std::string>("name"), "loopback");
  EXPECT_EQ(a.headers["Content-Type"], "application/json");
}

TEST_F(AdminApi, StatusReportsTheDiskSyncsAcknowledgementsWaitFor) {
  auto before = json(gw.get("/v1/status"))->getObject("store");
  ASSERT_TRUE(before) << "no store object";
  submit("tel:+15550100");  // answered 202 once its commit is synced
  auto store = json(gw.get("/v1/status"))->getObject("store");
  EXPECT_GT(store->getValue<Poco::UInt64>("syncs"), before->getValue<Poco::UInt64>("syncs"));
  EXPECT_GT(store->getValue<double>("sync_avg_ms"), 0.0);
  EXPECT_GT(store->getValue<double>("sync_max_last_minute_ms"), 0.0);
  // Every sync since start falls in the last minute or the one before.
  EXPECT_GE(store->getValue<double>("sync_max_last_minute_ms"), store->getValue<double>("sync_avg_ms"));
  EXPECT_LE(store->getValue<Poco::UInt64>("slow_syncs"), store->getValue<Poco::UInt64>("syncs"));
}

TEST_F(AdminApi, AdaptersListsLoopbackUp) {
  auto o = json(gw.get("/v1/adapters"));
  auto first = o->getArray("adapters")->getObject(0);
  EXPECT_EQ(first->getValue<std::string>("name"), "loopback");
  EXPECT_EQ(first->getValue<std::string>("state"), "up");
}

TEST_F(AdminApi, UnknownRouteIs404AndWrongMethodIs405) {
  auto a = gw.get("/v1/unknown");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(json(a)->getValue<std::string>("error"), "Not Found");
  EXPECT_EQ(gw.get("/v2/status").status, 404);
  EXPECT_EQ(gw.get("/v1/messages/not-an-id").status, 404);
  auto put = gw.http("PUT", "/v1/status", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.headers["Allow"], "GET");
  EXPECT_EQ(gw.http("DELETE", "/v1/messages").status, 405);
}

TEST_F(AdminApi, ControlCharactersAndBadUtf8FromRequestsAreEscaped) {
  // A NUL, an ESC starting a terminal colour sequence, a line break that would forge a log line, and a
  // byte that is not UTF-8: the log line and the JSON answer show them as \xNN.
  auto r = gw.get("/v1/users/sip:ctl%00%1b%5b31m%0d%0aE%20cpmgw:%20forged%FF@localhost");
  EXPECT_EQ(r.status, 404);
  const std::string shown = "sip:ctl\\x00\\x1b[31m  E cpmgw: forged\\xff@localhost";
  EXPECT_EQ(json(r)->getValue<std::string>("detail"), "not a user address: " + shown);
  EXPECT_TRUE(gw.waitForLog("404 not a user address: " + shown));
}

TEST_F(AdminApi, MalformedPercentEscapesAre400) {
  for (const char* path : {"/v1/users/%ZZ", "/%", "/v1/messages/%4"}) {
    auto r = gw.get(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(json(r)->getValue<std::string>("detail"), "malformed request URI") << path;
  }
  for (const char* path : {"/v1/messages?to=%", "/v1/messages?to=%4", "/v1/messages?%G0=1", "/v1/users?limit=%"}) {
    auto r = gw.get(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(json(r)->getValue<std::string>("detail"), "malformed query string") << path;
  }
}

TEST_F(AdminApi, BadSubmissionsAreRefusedWithTheRightStatus) {
  EXPECT_EQ(gw.postJson("/v1/messages", "{not json").status, 400);
  EXPECT_EQ(gw.postJson("/v1/messages", "[1,2]").status, 400);
  EXPECT_EQ(gw.postJson("/v1/messages", "null").status, 400);
  auto huge = gw.postJson("/v1/messages", R"({"from":"sip:a@localhost","to":"tel:+15550100","body":"x","n":1e999999})");
  EXPECT_EQ(huge.status, 400);
  EXPECT_NE(json(huge)->getValue<std::string>("detail").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(gw.postJson("/v1/messages", R"({"from":"sip:a@localhost","body":"x"})").status, 400);
  EXPECT_EQ(gw.postJson("/v1/messages", R"({"from":"sip:a@localhost","to":7,"body":"x"})").status, 400);
  auto invalid = gw.postJson("/v1/messages", R"({"from":"sip:a@localhost","to":"tel:+1-abc","body":"x"})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_NE(json(invalid)->getValue<std::string>("detail").find("recipient"), std::string::npos);
  auto noRoute =
      gw.postJson("/v1/messages", R"({"from":"sip:a@localhost","to":"sip:bob@elsewhere.example","body":"x"})");
  EXPECT_EQ(noRoute.status, 404);
  auto text = gw.http("POST", "/v1/messages", R"({"to":"x"})", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  auto big = gw.postJson("/v1/messages",
                         R"({"from":"sip:a@localhost","to":"tel:+15550100","body":")" + std::string(8192, 'a') + "\"}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(gw.get("/v1/messages?state=bogus").status, 400);
  EXPECT_EQ(gw.get("/v1/messages?limit=0").status, 400);
  EXPECT_EQ(gw.get("/v1/messages?limit=abc").status, 400);
  EXPECT_EQ(gw.get("/v1/messages?cursor=-4").status, 400);
  EXPECT_EQ(gw.get("/v1/messages?colour=red").status, 400);
}

TEST_F(AdminApi, MessageGoesThroughLoopbackAndComesBack) {
  std::string id = submit("tel:+1 555 0100");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; })) << gw.log();
  auto m = json(gw.get("/v1/messages/" + id));
  EXPECT_EQ(m->getValue<std::string>("to"), "tel:+15550100");
  EXPECT_EQ(m->getValue<std::string>("egress"), "loopback");
  EXPECT_EQ(m->getValue<std::string>("decision"), "interwork");
  std::vector<std::string> states;
  auto history = m->getArray("history");
  for (std::size_t i = 0; i < history->size(); ++i)
    states.push_back(history->getObject(i)->getValue<std::string>("state"));
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[0], "queued");
  EXPECT_EQ(states[1], "leased");
  EXPECT_EQ(states[2], "delivered");

  // The loopback answers from the recipient: a message to alice, for SIP delivery.
  Poco::JSON::Object::Ptr echo;
  ASSERT_TRUE(eventually([&] {
    auto list = json(gw.get("/v1/messages?to=sip:alice@localhost"))->getArray("messages");
    if (list->size() != 1) return false;
    echo = list->getObject(0);
    return true;
  }));
  EXPECT_EQ(echo->getValue<std::string>("from"), "tel:+15550100");
  EXPECT_EQ(echo->getValue<std::string>("ingress"), "loopback");
  EXPECT_EQ(echo->getValue<std::string>("egress"), "sip");
  EXPECT_EQ(echo->getValue<std::string>("body"), "hello");
  // alice has no registered device: the SIP egress tries once and defers it.
  std::string echoId = echo->getValue<std::string>("id");
  EXPECT_TRUE(eventually([&] {
    auto e = json(gw.get("/v1/messages/" + echoId));
    return e->getValue<std::string>("state") == "queued" && e->has("last_error") &&
           e->getValue<std::string>("last_error").find("not registered") != std::string::npos;
  }));
  // The delivery report reached the original message's history.
  EXPECT_TRUE(
      eventually([&] { return gw.get("/v1/messages/" + id).body.find("report delivered") != std::string::npos; }));
}

TEST_F(AdminApi, RecipientFilterIsNormalisedAndKeepsPlus) {
  std::string id = submit("tel:+15550177");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "delivered"; }));
  for (const char* query : {"to=tel:+15550177", "to=tel%3A%2B15550177", "to=%2B1%20555%200177"}) {
    auto list = json(gw.get(std::string("/v1/messages?") + query))->getArray("messages");
    ASSERT_EQ(list->size(), 1u) << query;
    EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), id);
  }
}

TEST_F(AdminApi, ClientReferenceMakesResubmissionADuplicate) {
  std::string id = submit("tel:+15550101", R"(,"client_ref":"order-42")");
  auto again = gw.postJson(
      "/v1/messages", R"({"from":"sip:alice@localhost","to":"tel:+15550101","body":"hello","client_ref":"order-42"})");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(json(again)->getValue<std::string>("id"), id);
  EXPECT_TRUE(json(again)->getValue<bool>("duplicate"));
}

TEST_F(AdminApi, FailedMessageCanBeRetriedAndDeleted) {
  std::string id = submit("tel:+16660100");
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "failed"; })) << gw.log();
  EXPECT_EQ(json(gw.get("/v1/messages/" + id))->getValue<std::string>("last_error"), "recipient refused by loopback");
  auto retry = gw.http("POST", "/v1/messages/" + id + "/retry");
  EXPECT_EQ(retry.status, 200) << retry.body;
  ASSERT_TRUE(eventually([&] { return json(gw.get("/v1/messages/" + id))->getValue<int>("attempts") >= 2; }));
  ASSERT_TRUE(eventually([&] { return stateOf(id) == "failed"; }));
  auto del = gw.http("DELETE", "/v1/messages/" + id);
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(json(del)->getValue<std::string>("state"), "deleted");
  EXPECT_EQ(gw.http("DELETE", "/v1/messages/" + id).status, 409);
  EXPECT_EQ(gw.http("POST", "/v1/messages/" + id + "/retry").status, 409);

  std::string delivered = submit("tel:+15550102");
  ASSERT_TRUE(eventually([&] { return stateOf(delivered) == "delivered"; }));
  EXPECT_EQ(gw.http("POST", "/v1/messages/" + delivered + "/retry").status, 409);
  EXPECT_EQ(gw.http("DELETE", "/v1/messages/" + delivered).status, 409);
  std::string unknown(32, 'a');
  EXPECT_EQ(gw.get("/v1/messages/" + unknown).status, 404);
  EXPECT_EQ(gw.http("DELETE", "/v1/messages/" + unknown).status, 404);
  EXPECT_EQ(gw.http("POST", "/v1/messages/" + unknown + "/retry").status, 404);
}

TEST_F(AdminApi, ListingPagesWithACursor) {
  for (int i = 0; i < 5; ++i) submit("tel:+1666010" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return json(gw.get("/v1/messages?state=failed"))->getArray("messages")->size() == 5; }));
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto o = json(gw.get("/v1/messages?state=failed&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    auto list = o->getArray("messages");
    for (std::size_t i = 0; i < list->size(); ++i) seen.push_back(list->getObject(i)->getValue<std::string>("id"));
    if (!o->has("next_cursor")) break;
    cursor = o->getValue<std::string>("next_cursor");
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
}

}  // namespace
}  // namespace cpmgw::test
