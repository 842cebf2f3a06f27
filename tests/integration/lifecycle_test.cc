// Command line, configuration errors, start-up, readiness, signals and restarts of the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "harness.h"

namespace cpmgw::test {
namespace {

Poco::JSON::Object::Ptr json(const HttpAnswer& a) {
  return Poco::JSON::Parser().parse(a.body).extract<Poco::JSON::Object::Ptr>();
}

TEST(Cli, VersionAndHelp) {
  auto v = runCpmgw({"--version"});
  EXPECT_EQ(v.exitCode, 0);
  EXPECT_EQ(v.output, std::string("cpmgw ") + CPMGW_VERSION + "\n");
  auto h = runCpmgw({"--help"});
  EXPECT_EQ(h.exitCode, 0);
  EXPECT_NE(h.output.find("--check-config"), std::string::npos);
}

TEST(Cli, DaemonModeIsRefused) {
  auto r = runCpmgw({"--daemon"});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.output.find("--daemon is not supported"), std::string::npos);
}

TEST(Cli, MissingConfigOptionIsAConfigError) {
  auto r = runCpmgw({});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.output.find("--config FILE is required"), std::string::npos);
}

TEST(Cli, DumpDefaultIsAValidConfiguration) {
  auto dump = runCpmgw({"--dump-default"});
  ASSERT_EQ(dump.exitCode, 0);
  EXPECT_NE(dump.output.find("[general]"), std::string::npos);
  EXPECT_NE(dump.output.find("[store]"), std::string::npos);
  EXPECT_NE(dump.output.find("[admin]"), std::string::npos);
  TempDir dir;
  writeFile(dir.file("default.ini"), dump.output);
  auto check = runCpmgw({"--config", dir.file("default.ini"), "--check-config"});
  EXPECT_EQ(check.exitCode, 0) << check.output;
}

TEST(Cli, ShippedDevelopmentConfigIsValid) {
  auto check = runCpmgw({"--config", std::string(CPMGW_SOURCE_DIR) + "/config/cpmgw.ini", "--check-config"});
  EXPECT_EQ(check.exitCode, 0) << check.output;
}

struct BadConfig {
  std::string ini;
  std::string expected;  // part of the one error line
};

void PrintTo(const BadConfig& c, std::ostream* os) {
  *os << c.expected;
}

class CheckConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(CheckConfig, NamesTheFileTheKeyAndTheProblem) {
  TempDir dir;
  std::string path = dir.file("bad.ini");
  writeFile(path, GetParam().ini);
  auto check = runCpmgw({"--config", path, "--check-config"});
  EXPECT_EQ(check.exitCode, 1) << check.output;
  EXPECT_NE(check.output.find(path), std::string::npos) << check.output;
  EXPECT_NE(check.output.find(GetParam().expected), std::string::npos) << check.output;
  EXPECT_EQ(std::count(check.output.begin(), check.output.end(), '\n'), 1) << check.output;
  // Starting with the same file fails the same way, with the exit code systemd will not restart on.
  auto start = runCpmgw({"--config", path});
  EXPECT_EQ(start.exitCode, 78) << start.output;
  EXPECT_NE(start.output.find(GetParam().expected), std::string::npos) << start.output;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CheckConfig,
    ::testing::Values(BadConfig{"[admin]\nport = 70000\n", "[admin] port"}, BadConfig{"[admin]\nprot = 80\n", "prot"},
                      BadConfig{"[nosuchsection]\nx = 1\n", "nosuchsection"},
                      BadConfig{"[dispatcher]\nbatch = many\n", "[dispatcher] batch"},
                      BadConfig{"[general]\nlog_level = loud\n", "[general] log_level"},
                      BadConfig{"[admin]\ntls_cert_file = /nonexistent/cert.pem\n", "tls_cert_file"},
                      BadConfig{"[admin]\nhost = 0.0.0.0\n", "token_file"},
                      BadConfig{"[adapters]\nenabled = carrier-pigeon\n", "carrier-pigeon"},
                      BadConfig{"[routing]\ndefault_egress = nowhere\n", "default_egress"},
                      BadConfig{"[adapters]\nenabled = loopback, loopback\n", "listed twice"},
                      BadConfig{"[dispatcher]\nretry_base = 10m\nretry_cap = 1m\n", "retry_cap"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return "Case" + std::to_string(p.index); });

TEST(CheckConfig, ShortTokenFileIsRefusedBeforeStart) {
  TempDir dir;
  writeFile(dir.file("token"), "short\n");
  writeFile(dir.file("c.ini"), "[admin]\ntoken_file = " + dir.file("token") + "\n");
  auto r = runCpmgw({"--config", dir.file("c.ini"), "--check-config"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("at least 16 characters"), std::string::npos) << r.output;
}

TEST(CheckConfig, UnreadableFile) {
  auto r = runCpmgw({"--config", "/nonexistent/cpmgw.ini", "--check-config"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("/nonexistent/cpmgw.ini"), std::string::npos) << r.output;
}

TEST(Lifecycle, SigtermDrainsAndExitsCleanly) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_EQ(gw.stop(), 0);
  EXPECT_NE(gw.log().find("draining"), std::string::npos);
  EXPECT_NE(gw.log().find("stopped cleanly"), std::string::npos);
}

// SIGHUP re-reads [general] log_level and log_rate; a file that no longer loads leaves them as they are.
TEST(Lifecycle, SighupAppliesANewLogLevelAndLogRate) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  std::string config = readFile(gw.configPath());
  writeFile(gw.configPath(),
            std::regex_replace(config, std::regex("log_level = debug"), "log_level = notice\nlog_rate = 5"));
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(gw.waitForLog("SIGHUP: log level now notice, log rate 5 ")) << gw.log();

  // Refused tokens are warnings of cpmgw.admin: a burst of 5 is logged, and the rest is counted.
  constexpr std::size_t kRefused = 20;
  for (std::size_t i = 0; i < kRefused; ++i)
    EXPECT_EQ(gw.http("GET", "/v1/status", {}, {{"Authorization", "Bearer not-the-token-0123456789"}}, false).status,
              401);
  EXPECT_TRUE(gw.waitForLog("W cpmgw.admin: ")) << gw.log();

  writeFile(gw.configPath(), "[general]\nlog_rate = lots\n");
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  EXPECT_TRUE(gw.waitForLog("SIGHUP: configuration not reloaded: ")) << gw.log();
  EXPECT_EQ(gw.stop(), 0);  // the last counts are logged on the way out

  std::string log = gw.log();
  std::size_t logged = occurrences(log, "refused: missing or wrong bearer token");
  EXPECT_GE(logged, 5u);
  EXPECT_LT(logged, kRefused);
  EXPECT_EQ(logged + droppedLogLines(log, "cpmgw.admin"), kRefused) << log;
  EXPECT_EQ(log.find(" D cpmgw", log.find("SIGHUP: log level now")), std::string::npos) << "debug lines after SIGHUP";
}

TEST(Lifecycle, AdminTokenFromFileIsUsedAndNotPrinted) {
  TempDir dir;
  writeFile(dir.file("token"), "s3cret-token-of-the-admin-0123\n");
  Gateway gw({{"admin.token_file", dir.file("token")}});
  ASSERT_TRUE(gw.start()) << gw.log();
  auto ok = gw.http("GET", "/v1/status", {}, {{"Authorization", "Bearer s3cret-token-of-the-admin-0123"}}, false);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(gw.log().find("s3cret-token-of-the-admin-0123"), std::string::npos);
  EXPECT_EQ(gw.stop(), 0);
}

TEST(Lifecycle, QueuedMessagesSurviveAKillAndARestart) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  // bob has no device: the message waits for him, across a kill and a restart (the SIP egress may be
  // trying it at the moment we look, so wait for it to be waiting again).
  auto a = gw.postJson("/v1/messages", R"({"from":"tel:+15550100","to":"sip:bob@localhost","body":"kept"})");
  ASSERT_EQ(a.status, 202) << a.body;
  std::string id = json(a)->getValue<std::string>("id");
  gw.kill9();
  ASSERT_TRUE(gw.start()) << gw.log();
  Poco::JSON::Object::Ptr m;
  EXPECT_TRUE(eventually([&] {
    m = json(gw.get("/v1/messages/" + id));
    return m->getValue<std::string>("state") == "queued";
  }));
  EXPECT_EQ(m->getValue<std::string>("body"), "kept");
  EXPECT_EQ(gw.stop(), 0);
}

TEST(Lifecycle, CorruptDatabaseIsRefusedAndLeftAlone) {
  Gateway gw;
  std::filesystem::create_directories(gw.dataDir());
  std::string garbage(8192, '\x5a');
  writeFile(gw.dataDir() + "/cpmgw.db", garbage);
  EXPECT_FALSE(gw.start(10s));
  EXPECT_EQ(gw.stop(), 65) << gw.log();
  EXPECT_NE(gw.log().find("cpmgw.db"), std::string::npos) << gw.log();
  EXPECT_EQ(readFile(gw.dataDir() + "/cpmgw.db"), garbage);
}

TEST(Lifecycle, BusyPortIsAClearError) {
  Gateway first;
  ASSERT_TRUE(first.start()) << first.log();
  Gateway second({{"admin.port", std::to_string(first.adminPort())}});
  EXPECT_FALSE(second.start(10s));
  EXPECT_EQ(second.stop(), 78);
  EXPECT_NE(second.log().find("cannot listen on 127.0.0.1:" + std::to_string(first.adminPort())), std::string::npos)
      << second.log();
  EXPECT_EQ(first.stop(), 0);
}

// systemd's notification protocol, with a socket of our own standing in for the service manager.
TEST(Lifecycle, NotifiesReadyAndPingsTheWatchdog) {
  TempDir dir;
  std::string path = dir.file("notify");
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{0, 100'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  Gateway gw({}, {{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "400000"}});
  ASSERT_TRUE(gw.start()) << gw.log();
  std::string received;
  bool ready = false, watchdog = false;
  eventually([&] {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) received.append(buf, static_cast<std::size_t>(n)).push_back('\n');
    ready = received.find("READY=1") != std::string::npos;
    watchdog = received.find("WATCHDOG=1") != std::string::npos;
    return ready && watchdog;
  });
  EXPECT_TRUE(ready) << received;
  EXPECT_TRUE(watchdog) << received;
  // READY comes only once the admin API answers.
  EXPECT_EQ(gw.http("GET", "/v1/health", {}, {}, false).status, 200);
  EXPECT_EQ(gw.stop(), 0);
  char buf[512];
  std::string tail;
  for (int i = 0; i < 50; ++i) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    tail.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_NE(tail.find("STOPPING=1"), std::string::npos) << tail;
  close(fd);
}

}  // namespace
}  // namespace cpmgw::test
