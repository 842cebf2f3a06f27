#include "cpmgw/config.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cpmgw::config {
namespace {

Schema testSchema() {
  Schema s;
  s.add({"admin", "bind", Type::Host, "127.0.0.1", "Address the admin API listens on."});
  s.add({"admin", "port", Type::Port, "8080", "Admin API port; 0 picks a free port."});
  s.add({"admin", "token_file", Type::ReadableFile, "", "File with the admin bearer token; empty disables it."});
  s.add({"store", "path", Type::Path, "/var/lib/cpmgw/store.db", "SQLite database file."});
  s.add({"store", "max_size", Type::Size, "1G", "Largest the database may grow.", 1 << 20});
  s.add({"store", "sync", Type::Bool, "on", "fsync every commit."});
  s.add({"dispatcher", "lease_time", Type::Duration, "60s", "How long a lease lasts.", 1000, 86'400'000});
  s.add({"dispatcher", "batch", Type::Int, "256", "Messages leased per round.", 1, 100000});
  s.add({"log", "level", Type::LogLevel, "information", "Least severe level logged."});
  s.add({"log", "name", Type::String, "cpmgw", "Logger name."});
  s.add({"routing", "local_domains", Type::List, "localhost, example.com", "Domains served here."});
  return s;
}

// --- validate(): every type's valid and invalid values. ---

struct Case {
  Type type;
  std::string value;
  std::string error;  // "" = valid; otherwise the exact message
  std::int64_t min = INT64_MIN;
  std::int64_t max = INT64_MAX;
};

void expectCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    KeyDecl d{"s", "k", c.type, "", "", c.min, c.max};
    EXPECT_EQ(validate(d, c.value), c.error) << "value \"" << c.value << "\"";
  }
}

TEST(ConfigValidate, String) {
  expectCases({{Type::String, "", ""}, {Type::String, "any text; at all = yes", ""}});
}

TEST(ConfigValidate, Int) {
  expectCases({
      {Type::Int, "0", ""},
      {Type::Int, "-42", ""},
      {Type::Int, "007", ""},
      {Type::Int, "9223372036854775807", ""},
      {Type::Int, "-9223372036854775808", ""},
      {Type::Int, "  12  ", ""},  // values are trimmed
      {Type::Int, "", "empty value, expected an integer"},
      {Type::Int, "abc", "\"abc\" is not an integer"},
      {Type::Int, "10x", "\"10x\" is not an integer"},
      {Type::Int, "1.5", "\"1.5\" is not an integer"},
      {Type::Int, "+5", "\"+5\" is not an integer"},
      {Type::Int, "-", "\"-\" is not an integer"},
      {Type::Int, "0x10", "\"0x10\" is not an integer"},
      {Type::Int, "1 000", "\"1 000\" is not an integer"},
      {Type::Int, "99999999999999999999", "99999999999999999999 does not fit in a 64-bit integer"},
      {Type::Int, "9223372036854775808", "9223372036854775808 does not fit in a 64-bit integer"},
      {Type::Int, "-99999999999999999999", "-99999999999999999999 does not fit in a 64-bit integer"},
      {Type::Int, "1", "", 1, 100000},
      {Type::Int, "100000", "", 1, 100000},
      {Type::Int, "0", "0 is out of range 1..100000", 1, 100000},
      {Type::Int, "100001", "100001 is out of range 1..100000", 1, 100000},
      {Type::Int, "-5", "-5 is out of range 1..100000", 1, 100000},
      {Type::Int, "0", "0 is below the minimum 1", 1},
      {Type::Int, "11", "11 is above the maximum 10", INT64_MIN, 10},
  });
}

TEST(ConfigValidate, Bool) {
  std::vector<Case> cases;
  for (const char* v : {"true", "false", "yes", "no", "on", "off", "1", "0", "TRUE", "Off", "Yes"})
    cases.push_back({Type::Bool, v, ""});
  cases.push_back({Type::Bool, "", "empty value, expected true/false, yes/no, on/off or 1/0"});
  cases.push_back({Type::Bool, "2", "\"2\" is not a boolean (expected true/false, yes/no, on/off or 1/0)"});
  cases.push_back({Type::Bool, "enabled", "\"enabled\" is not a boolean (expected true/false, yes/no, on/off or 1/0)"});
  expectCases(cases);
}

TEST(ConfigValidate, Duration) {
  const std::string use = " is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)";
  expectCases({
      {Type::Duration, "250ms", ""},
      {Type::Duration, "30s", ""},
      {Type::Duration, "5m", ""},
      {Type::Duration, "2h", ""},
      {Type::Duration, "1d", ""},
      {Type::Duration, "30", ""},
      {Type::Duration, "0", ""},
      {Type::Duration, "", "empty value, expected a duration (e.g. 250ms, 30s, 5m, 2h, 1d)"},
      {Type::Duration, "ms", "\"ms\"" + use},
      {Type::Duration, "s", "\"s\"" + use},
      {Type::Duration, "1.5s", "\"1.5s\"" + use},
      {Type::Duration, "10x", "\"10x\"" + use},
      {Type::Duration, "-1s", "\"-1s\"" + use},
      {Type::Duration, "5 s", "\"5 s\"" + use},
      {Type::Duration, "5S", "\"5S\"" + use},  // units are lowercase: "M" could be months
      {Type::Duration, "99999999999999999999", "99999999999999999999 is too large"},
      {Type::Duration, "99999999999999999999ms", "99999999999999999999ms is too large"},
      {Type::Duration, "106751991168d", "106751991168d is too large"},  // the first day count past INT64_MAX ms
      {Type::Duration, "106751991167d", ""},
      {Type::Duration, "1s", "", 1000, 86'400'000},
      {Type::Duration, "1d", "", 1000, 86'400'000},
      {Type::Duration, "500ms", "500ms is out of range 1s..1d", 1000, 86'400'000},
      {Type::Duration, "25h", "25h is out of range 1s..1d", 1000, 86'400'000},
      {Type::Duration, "0", "0 is below the minimum 1ms", 1},
      {Type::Duration, "2m", "2m is above the maximum 90s", INT64_MIN, 90'000},
  });
}

TEST(ConfigValidate, Size) {
  const std::string use = " is not a size (use e.g. 512, 64k, 10M, 2G)";
  expectCases({
      {Type::Size, "512", ""},
      {Type::Size, "64k", ""},
      {Type::Size, "64K", ""},
      {Type::Size, "10M", ""},
      {Type::Size, "10m", ""},
      {Type::Size, "2G", ""},
      {Type::Size, "1T", ""},
      {Type::Size, "0", ""},
      {Type::Size, "8388607T", ""},
      {Type::Size, "", "empty value, expected a size (e.g. 512, 64k, 10M, 2G)"},
      {Type::Size, "10x", "\"10x\"" + use},
      {Type::Size, "1.5G", "\"1.5G\"" + use},
      {Type::Size, "k", "\"k\"" + use},
      {Type::Size, "-1", "\"-1\"" + use},
      {Type::Size, "10MB", "\"10MB\"" + use},
      {Type::Size, "99999999999999999999", "99999999999999999999 is too large"},
      {Type::Size, "8388608T", "8388608T is too large"},
      {Type::Size, "512k", "512k is below the minimum 1M", 1 << 20},
      {Type::Size, "3G", "3G is out of range 1M..2G", 1 << 20, std::int64_t{2} << 30},
      {Type::Size, "1500", "1500 is above the maximum 1k", INT64_MIN, 1024},
  });
}

TEST(ConfigValidate, Port) {
  expectCases({
      {Type::Port, "0", ""},
      {Type::Port, "80", ""},
      {Type::Port, "65535", ""},
      {Type::Port, "", "empty value, expected a port number"},
      {Type::Port, "-1", "-1 is out of range 0..65535"},
      {Type::Port, "65536", "65536 is out of range 0..65535"},
      {Type::Port, "70000", "70000 is out of range 0..65535"},
      {Type::Port, "99999999999999999999", "99999999999999999999 is out of range 0..65535"},
      {Type::Port, "http", "\"http\" is not a port number"},
      {Type::Port, "80x", "\"80x\" is not a port number"},
      {Type::Port, "8080.0", "\"8080.0\" is not a port number"},
      {Type::Port, "0", "0 is out of range 1..65535", 1},
      {Type::Port, "5061", "5061 is out of range 1..1024", 1, 1024},
  });
}

TEST(ConfigValidate, Host) {
  std::vector<Case> cases;
  for (const char* v : {"localhost", "example.com", "sip-gw.Example.NET", "a", "127.0.0.1", "0.0.0.0", "::", "::1",
                        "2001:db8::1", "::ffff:192.0.2.1", "*"})
    cases.push_back({Type::Host, v, ""});
  cases.push_back({Type::Host, "", "empty value, expected a host name or IP address"});
  const std::vector<std::string> bad = {"exa mple.com", "under_score.com", "-bad.com",    "bad-.com",          "a..b",
                                        ".com",         "host:80",         "h\xc3\xb6st", std::string(64, 'a')};
  for (const auto& v : bad) cases.push_back({Type::Host, v, "\"" + v + "\" is not a valid host name or IP address"});
  cases.push_back({Type::Host, "256.1.1.1", "\"256.1.1.1\" is not a valid IPv4 address"});
  cases.push_back({Type::Host, "127.1", "\"127.1\" is not a valid IPv4 address"});
  cases.push_back({Type::Host, "1:2:3", "\"1:2:3\" is not a valid IPv6 address"});
  cases.push_back(
      {Type::Host, "[::1]", "\"[::1]\" is not a valid IP address (write an IPv6 address without brackets)"});
  expectCases(cases);
}

TEST(ConfigValidate, PathIsNotChecked) {
  expectCases({{Type::Path, "", ""}, {Type::Path, "relative/x", ""}, {Type::Path, "/no/such/dir/file.db", ""}});
}

TEST(ConfigValidate, LogLevel) {
  std::vector<Case> cases;
  for (const char* v : {"fatal", "critical", "error", "warning", "notice", "information", "debug", "trace", "DEBUG"})
    cases.push_back({Type::LogLevel, v, ""});
  const std::string expected = ", expected fatal, critical, error, warning, notice, information, debug or trace";
  cases.push_back({Type::LogLevel, "", "empty value" + expected});
  cases.push_back({Type::LogLevel, "warn", "\"warn\" is not a log level" + expected});
  cases.push_back({Type::LogLevel, "verbose", "\"verbose\" is not a log level" + expected});
  expectCases(cases);
}

TEST(ConfigValidate, ListTakesAnything) {
  expectCases({{Type::List, "", ""}, {Type::List, "a,b", ""}, {Type::List, " , ,", ""}});
}

TEST(ConfigValidate, MessagesStayOnOneLine) {
  KeyDecl d{"s", "k", Type::Int, "", ""};
  EXPECT_EQ(validate(d, "1\n2"), "\"1\\n2\" is not an integer");
}

// --- Schema ---

TEST(SchemaAdd, FindsDeclaredKeysInOrder) {
  Schema s = testSchema();
  ASSERT_NE(s.find("admin", "port"), nullptr);
  EXPECT_EQ(s.find("admin", "port")->type, Type::Port);
  EXPECT_EQ(s.find("admin", "nope"), nullptr);
  EXPECT_EQ(s.find("nope", "port"), nullptr);
  ASSERT_EQ(s.keys().size(), 11u);
  EXPECT_EQ(s.keys().front().key(), "admin.bind");
  EXPECT_EQ(s.keys().back().key(), "routing.local_domains");
}

TEST(SchemaAdd, DuplicateIsLogicError) {
  Schema s;
  s.add({"admin", "port", Type::Port, "8080", ""});
  EXPECT_THROW(s.add({"admin", "port", Type::Int, "1", ""}), std::logic_error);
  EXPECT_NO_THROW(s.add({"sip", "port", Type::Port, "5060", ""}));  // same name, other section
}

TEST(SchemaAdd, BadDefaultIsLogicError) {
  Schema s;
  EXPECT_THROW(s.add({"a", "n", Type::Int, "abc", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Int, "0", "", 1, 10}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Port, "70000", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Host, "", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Duration, "1.5s", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Size, "10x", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Bool, "maybe", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::LogLevel, "loud", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::ReadableFile, "/no/such/file.pem", ""}), std::logic_error);
  // A file could not hold these defaults: values are trimmed and end at the line.
  EXPECT_THROW(s.add({"a", "n", Type::String, " padded", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::String, "two\nlines", ""}), std::logic_error);
  EXPECT_TRUE(s.keys().empty());
}

TEST(SchemaAdd, BadDeclarationIsLogicError) {
  Schema s;
  EXPECT_THROW(s.add({"admin", "Port", Type::Port, "80", ""}), std::logic_error);  // names are declared lowercase
  EXPECT_THROW(s.add({"Admin", "port", Type::Port, "80", ""}), std::logic_error);
  EXPECT_THROW(s.add({"admin", "tls.cert", Type::Path, "", ""}), std::logic_error);
  EXPECT_THROW(s.add({"", "port", Type::Port, "80", ""}), std::logic_error);
  EXPECT_THROW(s.add({"admin", "", Type::Port, "80", ""}), std::logic_error);
  EXPECT_THROW(s.add({"a", "n", Type::Int, "5", "", 10, 1}), std::logic_error);  // min > max
  EXPECT_TRUE(s.keys().empty());
}

TEST(SchemaDump, ListsSectionsAndKeysWithTypeRangeAndDefault) {
  Schema s = testSchema();
  s.add({"admin", "workers", Type::Int, "4", "Threads serving the admin API.", 1, 64});  // after other sections
  const std::string dump = s.dumpDefault();
  EXPECT_EQ(dump.rfind(";", 0), 0u) << dump;  // starts with a comment header
  EXPECT_NE(dump.find("\n[admin]\n; Address the admin API listens on.\n; type: host, default: 127.0.0.1\n"
                      "bind = 127.0.0.1\n\n; Admin API port; 0 picks a free port.\n; type: port, default: 8080\n"
                      "port = 8080\n"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("; type: readable file, default: (empty)\ntoken_file =\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("; type: integer, range: 1..64, default: 4\nworkers = 4\n\n[store]"), std::string::npos) << dump;
  EXPECT_NE(dump.find("; type: size, range: >= 1M, default: 1G\nmax_size = 1G\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("; type: duration, range: 1s..1d, default: 60s\nlease_time = 60s\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("; type: list, default: localhost, example.com\nlocal_domains = localhost, example.com\n"),
            std::string::npos)
      << dump;
  // Sections in declaration order.
  EXPECT_LT(dump.find("[admin]"), dump.find("[store]"));
  EXPECT_LT(dump.find("[store]"), dump.find("[dispatcher]"));
  EXPECT_LT(dump.find("[dispatcher]"), dump.find("[log]"));
  EXPECT_LT(dump.find("[log]"), dump.find("[routing]"));
}

TEST(SchemaDump, WrapsHelpAtAHundredColumns) {
  Schema s;
  std::string help;
  for (int i = 0; i < 60; ++i) help += "word" + std::to_string(i) + " ";
  help += "\nA second paragraph.";
  s.add({"a", "n", Type::String, "x", help});
  const std::string dump = s.dumpDefault();
  std::istringstream lines(dump);
  std::string line;
  int helpLines = 0;
  while (std::getline(lines, line)) {
    EXPECT_LE(line.size(), 100u) << line;
    if (line.rfind("; word", 0) == 0) ++helpLines;
  }
  EXPECT_GE(helpLines, 4);
  EXPECT_NE(dump.find("word59\n; A second paragraph.\n; type: string"), std::string::npos) << dump;
}

// --- Config: defaults, set, getters ---

TEST(ConfigDefaults, HoldsEveryDefault) {
  const Config c = Config::defaults(testSchema());
  EXPECT_EQ(c.getString("admin.bind"), "127.0.0.1");
  EXPECT_EQ(c.getPort("admin.port"), 8080);
  EXPECT_EQ(c.getString("admin.token_file"), "");
  EXPECT_EQ(c.getString("store.path"), "/var/lib/cpmgw/store.db");
  EXPECT_EQ(c.getSize("store.max_size"), std::uint64_t{1} << 30);
  EXPECT_TRUE(c.getBool("store.sync"));
  EXPECT_EQ(c.getDuration("dispatcher.lease_time"), std::chrono::seconds(60));
  EXPECT_EQ(c.getInt("dispatcher.batch"), 256);
  EXPECT_EQ(c.getString("log.level"), "information");
  EXPECT_EQ(c.getString("log.name"), "cpmgw");
  EXPECT_EQ(c.getList("routing.local_domains"), (std::vector<std::string>{"localhost", "example.com"}));
  EXPECT_EQ(c.sourcePath(), "");
}

TEST(ConfigSet, ParsesEachUnit) {
  Schema schema = testSchema();
  schema.add({"t", "timeout", Type::Duration, "1s", "Unbounded."});
  Config c = Config::defaults(schema);
  const std::vector<std::pair<std::string, std::int64_t>> durations = {
      {"250ms", 250}, {"30s", 30'000}, {"30", 30'000}, {"5m", 300'000}, {"2h", 7'200'000}, {"1d", 86'400'000}};
  for (const auto& [text, ms] : durations) {
    c.set("t.timeout", text);
    EXPECT_EQ(c.getDuration("t.timeout").count(), ms) << text;
  }
  const std::vector<std::pair<std::string, std::uint64_t>> sizes = {
      {"1048576", 1048576}, {"1024k", 1048576}, {"10M", 10ull << 20},
      {"2g", 2ull << 30},   {"1T", 1ull << 40}, {"8388607T", 8388607ull << 40}};
  for (const auto& [text, bytes] : sizes) {
    c.set("store.max_size", text);
    EXPECT_EQ(c.getSize("store.max_size"), bytes) << text;
  }
  for (const char* text : {"false", "no", "OFF", "0"}) {
    c.set("store.sync", text);
    EXPECT_FALSE(c.getBool("store.sync")) << text;
  }
  for (const char* text : {"true", "Yes", "on", "1"}) {
    c.set("store.sync", text);
    EXPECT_TRUE(c.getBool("store.sync")) << text;
  }
  c.set("admin.port", "65535");
  EXPECT_EQ(c.getPort("admin.port"), 65535);
  c.set("admin.port", "0");
  EXPECT_EQ(c.getPort("admin.port"), 0);
  c.set("dispatcher.batch", " 100000 ");
  EXPECT_EQ(c.getInt("dispatcher.batch"), 100000);
  c.set("log.level", "DEBUG");
  EXPECT_EQ(c.getString("log.level"), "debug");  // stored lowercase
  c.set("log.name", "  spaced out  ");
  EXPECT_EQ(c.getString("log.name"), "spaced out");
  c.set("routing.local_domains", " a, ,b ,, ");
  EXPECT_EQ(c.getList("routing.local_domains"), (std::vector<std::string>{"a", "b"}));
  c.set("routing.local_domains", "");
  EXPECT_TRUE(c.getList("routing.local_domains").empty());
}

TEST(ConfigSet, ValidatesLikeLoad) {
  Config c = Config::defaults(testSchema());
  try {
    c.set("admin.port", "70000");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "admin.port: 70000 is out of range 0..65535");
  }
  EXPECT_EQ(c.getPort("admin.port"), 8080);  // unchanged
  try {
    c.set("admin.portt", "1");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "admin.portt: unknown key");
  }
  EXPECT_THROW(c.set("admin", "1"), ConfigError);
  EXPECT_THROW(c.set("dispatcher.lease_time", "500ms"), ConfigError);
  EXPECT_THROW(c.set("admin.token_file", "/no/such/token"), ConfigError);
  c.set("ADMIN.Port", "9000");  // names are case-insensitive, as in the file
  EXPECT_EQ(c.getPort("admin.port"), 9000);
}

TEST(ConfigGetters, WrongTypeOrUndeclaredKeyIsLogicError) {
  const Config c = Config::defaults(testSchema());
  EXPECT_NO_THROW(c.getString("log.name"));
  EXPECT_NO_THROW(c.getString("admin.bind"));
  EXPECT_NO_THROW(c.getString("store.path"));
  EXPECT_NO_THROW(c.getString("admin.token_file"));
  EXPECT_NO_THROW(c.getString("log.level"));
  EXPECT_THROW(c.getString("admin.port"), std::logic_error);
  EXPECT_THROW(c.getString("dispatcher.batch"), std::logic_error);
  EXPECT_THROW(c.getString("routing.local_domains"), std::logic_error);
  EXPECT_THROW(c.getInt("log.name"), std::logic_error);
  EXPECT_THROW(c.getInt("admin.port"), std::logic_error);
  EXPECT_THROW(c.getInt("dispatcher.lease_time"), std::logic_error);
  EXPECT_THROW(c.getBool("log.name"), std::logic_error);
  EXPECT_THROW(c.getDuration("dispatcher.batch"), std::logic_error);
  EXPECT_THROW(c.getSize("dispatcher.lease_time"), std::logic_error);
  EXPECT_THROW(c.getPort("dispatcher.batch"), std::logic_error);
  EXPECT_THROW(c.getList("log.name"), std::logic_error);
  EXPECT_THROW(c.getString("nope.key"), std::logic_error);
  EXPECT_THROW(c.getInt("admin"), std::logic_error);
  EXPECT_THROW(c.getPort("ADMIN.PORT"), std::logic_error);  // getters take the declared spelling
  // A getter error is a programming error, never a ConfigError an operator would see.
  try {
    c.getInt("log.name");
  } catch (const ConfigError&) {
    ADD_FAILURE() << "ConfigError";
  } catch (const std::logic_error&) {
  }
}

// --- Config::load ---

class ConfigLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpmgw-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The ConfigError message loading `text` gives, or "" when it loads.
  std::string loadError(const std::string& text) { return loadErrorAt(write("cpmgw.ini", text)); }
  std::string loadErrorAt(const std::string& path) {
    try {
      Config::load(schema_, path);
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      return e.what();
    }
    return {};
  }

  // Root reads any file whatever its mode, so permission tests load in a child that gives up root first (and run
  // as-is otherwise). The child reports the load's outcome through a pipe.
  std::string loadErrorUnprivileged(const std::string& path) {
    std::filesystem::permissions(dir_, std::filesystem::perms::all & ~std::filesystem::perms::others_write &
                                           ~std::filesystem::perms::group_write);
    int fds[2];
    if (pipe(fds) != 0) return "pipe failed";
    const pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
      close(fds[0]);
      std::string message = "(loaded)";
      if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
        message = "cannot drop root";
      } else {
        try {
          Config::load(schema_, path);
        } catch (const std::exception& e) {
          message = e.what();
        }
      }
      const bool ok = ::write(fds[1], message.data(), message.size()) == static_cast<ssize_t>(message.size());
      _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    std::string out;
    char buf[512];
    ssize_t n = 0;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return out;
  }

  Schema schema_ = testSchema();
  std::string dir_;
};

TEST_F(ConfigLoad, FillsDefaultsForMissingKeys) {
  const std::string path = write("cpmgw.ini", "[admin]\nport = 9000\n");
  const Config c = Config::load(schema_, path);
  EXPECT_EQ(c.sourcePath(), path);
  EXPECT_EQ(c.getPort("admin.port"), 9000);
  EXPECT_EQ(c.getString("admin.bind"), "127.0.0.1");
  EXPECT_EQ(c.getDuration("dispatcher.lease_time"), std::chrono::seconds(60));
  EXPECT_EQ(c.getList("routing.local_domains"), (std::vector<std::string>{"localhost", "example.com"}));
}

TEST_F(ConfigLoad, EmptyFileIsAllDefaults) {
  const Config c = Config::load(schema_, write("empty.ini", ""));
  EXPECT_EQ(c.getPort("admin.port"), 8080);
  EXPECT_EQ(c.getInt("dispatcher.batch"), 256);
}

TEST_F(ConfigLoad, ReadsEveryTypeWithCommentsBlanksAndTrimming) {
  const std::string token = write("token", "secret\n");
  const std::string path = write("cpmgw.ini",
                                 "; a comment\n"
                                 "\n"
                                 "[admin]\n"
                                 "  bind   =   ::   \n"
                                 "port=0\n"
                                 "token_file = " +
                                     token +
                                     "\n"
                                     "   ; indented comment\n"
                                     "[store]\n"
                                     "path = relative/store.db\n"
                                     "max_size = 64M\n"
                                     "sync = no\n"
                                     "[dispatcher]\n"
                                     "lease_time = 250000ms\n"
                                     "batch = 10\n"
                                     "[log]\n"
                                     "level = trace\n"
                                     "name = a ; b = c\n"  // only a whole line is a comment
                                     "[routing]\n"
                                     "local_domains = one.example, two.example,\n");
  const Config c = Config::load(schema_, path);
  EXPECT_EQ(c.getString("admin.bind"), "::");
  EXPECT_EQ(c.getPort("admin.port"), 0);
  EXPECT_EQ(c.getString("admin.token_file"), token);
  EXPECT_EQ(c.getString("store.path"), "relative/store.db");
  EXPECT_EQ(c.getSize("store.max_size"), 64u << 20);
  EXPECT_FALSE(c.getBool("store.sync"));
  EXPECT_EQ(c.getDuration("dispatcher.lease_time").count(), 250000);
  EXPECT_EQ(c.getInt("dispatcher.batch"), 10);
  EXPECT_EQ(c.getString("log.level"), "trace");
  EXPECT_EQ(c.getString("log.name"), "a ; b = c");
  EXPECT_EQ(c.getList("routing.local_domains"), (std::vector<std::string>{"one.example", "two.example"}));
}

TEST_F(ConfigLoad, AcceptsCrlfAndByteOrderMark) {
  const Config c = Config::load(schema_, write("crlf.ini", "\xEF\xBB\xBF[admin]\r\nport = 9001\r\nbind = *\r\n"));
  EXPECT_EQ(c.getPort("admin.port"), 9001);
  EXPECT_EQ(c.getString("admin.bind"), "*");
}

TEST_F(ConfigLoad, DoesNotExpandVariables) {
  const Config c = Config::load(schema_, write("vars.ini", "[log]\nname = ${application.name}\n"));
  EXPECT_EQ(c.getString("log.name"), "${application.name}");
}

TEST_F(ConfigLoad, NamesAreCaseInsensitive) {
  const Config c =
      Config::load(schema_, write("case.ini", "[ADMIN]\nPort = 9000\nBIND = LocalHost\n[Log]\nLevel = Debug\n"));
  EXPECT_EQ(c.getPort("admin.port"), 9000);
  EXPECT_EQ(c.getString("admin.bind"), "LocalHost");  // values keep their case
  EXPECT_EQ(c.getString("log.level"), "debug");
  const std::string path = dir_ + "/cpmgw.ini";
  // Errors name the declared key.
  EXPECT_EQ(loadError("[Admin]\nPORT = 70000\n"), path + ": [admin] port: 70000 is out of range 0..65535");
  // Two spellings of one key are one key given twice.
  EXPECT_EQ(loadError("[admin]\nport = 1\n[ADMIN]\nPort = 2\n"),
            path + ": [ADMIN] Port: duplicate key (each key may be set once)");
}

TEST_F(ConfigLoad, BadValuesNameFileSectionAndKey) {
  const std::string path = dir_ + "/cpmgw.ini";
  EXPECT_EQ(loadError("[admin]\nport = 70000\n"), path + ": [admin] port: 70000 is out of range 0..65535");
  EXPECT_EQ(loadError("[admin]\nport = -1\n"), path + ": [admin] port: -1 is out of range 0..65535");
  EXPECT_EQ(loadError("[admin]\nport =\n"), path + ": [admin] port: empty value, expected a port number");
  EXPECT_EQ(loadError("[admin]\nport\n"), path + ": [admin] port: empty value, expected a port number");
  EXPECT_EQ(loadError("[admin]\nbind = not a host\n"),
            path + ": [admin] bind: \"not a host\" is not a valid host name or IP address");
  EXPECT_EQ(loadError("[dispatcher]\nlease_time = 1.5s\n"),
            path + ": [dispatcher] lease_time: \"1.5s\" is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)");
  EXPECT_EQ(loadError("[dispatcher]\nlease_time = 500ms\n"),
            path + ": [dispatcher] lease_time: 500ms is out of range 1s..1d");
  EXPECT_EQ(loadError("[dispatcher]\nbatch = 99999999999999999999\n"),
            path + ": [dispatcher] batch: 99999999999999999999 does not fit in a 64-bit integer");
  EXPECT_EQ(loadError("[store]\nmax_size = 10x\n"),
            path + ": [store] max_size: \"10x\" is not a size (use e.g. 512, 64k, 10M, 2G)");
  EXPECT_EQ(loadError("[store]\nsync = maybe\n"),
            path + ": [store] sync: \"maybe\" is not a boolean (expected true/false, yes/no, on/off or 1/0)");
  EXPECT_EQ(loadError("[log]\nlevel = loud\n"),
            path +
                ": [log] level: \"loud\" is not a log level, expected fatal, critical, error, warning, notice, "
                "information, debug or trace");
}

TEST_F(ConfigLoad, UnknownNamesAndStrayLinesAreErrors) {
  const std::string path = dir_ + "/cpmgw.ini";
  EXPECT_EQ(loadError("[store]\npathh = x\n"), path + ": [store] pathh: unknown key");
  EXPECT_EQ(loadError("[foo]\nbar = 1\n"), path + ": [foo]: unknown section");
  EXPECT_EQ(loadError("[admin]\nport = 1\n[foo]\n"), path + ": [foo]: unknown section");  // even without keys
  EXPECT_EQ(loadError("[admin.tls]\ncert = x\n"), path + ": [admin.tls]: unknown section");
  EXPECT_EQ(loadError("port = 80\n[admin]\n"), path + ": port: key outside any [section]");
  EXPECT_EQ(loadError("admin.port = 80\n"), path + ": admin.port: key outside any [section]");
  EXPECT_EQ(loadError("[admin]\n= 5\n"), path + ": [admin]: line without a key name");
  EXPECT_EQ(loadError("= 5\n"), path + ": line without a key name");
  EXPECT_EQ(loadError("[]\nport = 1\n"), path + ": []: empty section name");
  EXPECT_EQ(loadError("[admin]\nport = 1\nport = 2\n"),
            path + ": [admin] port: duplicate key (each key may be set once)");
  EXPECT_EQ(loadError("# a shell comment\n"), path + ": # a shell comment: '#' does not start a comment here, use ';'");
  EXPECT_EQ(loadError("[admin]\n#port = 1\n"), path + ": [admin] #port: '#' does not start a comment here, use ';'");
}

TEST_F(ConfigLoad, MissingFile) {
  const std::string path = dir_ + "/missing.ini";
  EXPECT_EQ(loadErrorAt(path), path + ": cannot read: No such file or directory");
}

TEST_F(ConfigLoad, DirectoryIsNotAConfigFile) {
  EXPECT_EQ(loadErrorAt(dir_), dir_ + ": cannot read: Is a directory");
}

TEST_F(ConfigLoad, UnreadableFile) {
  const std::string path = write("cpmgw.ini", "[admin]\nport = 1\n");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  EXPECT_EQ(loadErrorUnprivileged(path), path + ": cannot read: Permission denied");
}

TEST_F(ConfigLoad, PathWithLineBreakStaysOneLine) {
  const std::string path = dir_ + "/bad\nname.ini";
  EXPECT_EQ(loadErrorAt(path), dir_ + "/bad\\nname.ini: cannot read: No such file or directory");
}

TEST_F(ConfigLoad, ReadableFileMustBeAReadableRegularFile) {
  const std::string path = dir_ + "/cpmgw.ini";
  EXPECT_EQ(loadError("[admin]\ntoken_file = " + dir_ + "/missing.pem\n"),
            path + ": [admin] token_file: cannot read " + dir_ + "/missing.pem: No such file or directory");
  EXPECT_EQ(loadError("[admin]\ntoken_file = " + dir_ + "\n"),
            path + ": [admin] token_file: cannot read " + dir_ + ": Is a directory");
  EXPECT_EQ(loadError("[admin]\ntoken_file = /dev/null\n"),
            path + ": [admin] token_file: cannot read /dev/null: not a regular file");
  EXPECT_EQ(loadError("[admin]\ntoken_file =\n"), "");  // empty = not set

  const std::string token = write("token", "secret\n");
  ASSERT_EQ(chmod(token.c_str(), 0), 0);
  const std::string ini = write("cpmgw.ini", "[admin]\ntoken_file = " + token + "\n");
  EXPECT_EQ(loadErrorUnprivileged(ini), ini + ": [admin] token_file: cannot read " + token + ": Permission denied");
}

TEST_F(ConfigLoad, DumpDefaultLoadsBackToTheDefaults) {
  Schema s = testSchema();
  s.add({"extra", "long_help", Type::String, "x;y = z", std::string(300, 'h') + " and more words to wrap"});
  const Config loaded = Config::load(s, write("default.ini", s.dumpDefault()));
  const Config defaults = Config::defaults(s);
  for (const auto& d : s.keys()) {
    switch (d.type) {
      case Type::Int:
        EXPECT_EQ(loaded.getInt(d.key()), defaults.getInt(d.key()));
        break;
      case Type::Bool:
        EXPECT_EQ(loaded.getBool(d.key()), defaults.getBool(d.key()));
        break;
      case Type::Duration:
        EXPECT_EQ(loaded.getDuration(d.key()), defaults.getDuration(d.key()));
        break;
      case Type::Size:
        EXPECT_EQ(loaded.getSize(d.key()), defaults.getSize(d.key()));
        break;
      case Type::Port:
        EXPECT_EQ(loaded.getPort(d.key()), defaults.getPort(d.key()));
        break;
      case Type::List:
        EXPECT_EQ(loaded.getList(d.key()), defaults.getList(d.key()));
        break;
      default:
        EXPECT_EQ(loaded.getString(d.key()), defaults.getString(d.key())) << d.key();
        break;
    }
  }
}

}  // namespace
}  // namespace cpmgw::config
