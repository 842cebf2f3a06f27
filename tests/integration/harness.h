// Runs the real cpmgw binary on free ports with a temporary data directory, and talks to it over HTTP.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>

namespace cpmgw::test {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `deadline` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 10s);

// A temporary directory removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content);

struct ProcessResult {
  int exitCode = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr together
};
// Runs the cpmgw binary with these arguments to completion (bounded by `deadline`).
ProcessResult runCpmgw(const std::vector<std::string>& args, std::chrono::milliseconds deadline = 20s);
// Runs any program (looked up in PATH) to completion, bounded.
ProcessResult runProgram(const std::string& program, const std::vector<std::string>& args,
                         std::chrono::milliseconds deadline = 30s);

// A program running in the background (a peer such as a SIPp device); killed at destruction.
class Background {
 public:
  Background(const std::string& program, const std::vector<std::string>& args);
  ~Background();
  bool running();
  int wait(std::chrono::milliseconds deadline);  // exit code (-1: killed)
  int stop(int signal = SIGTERM, std::chrono::milliseconds deadline = 10s);
  std::string output() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exitCode_ = -1;
};

// A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both).
std::uint16_t freePort();
// A copy of tests/integration/sipp/<name> in `dir` with every @KEY@ replaced; returns its path.
std::string sippScenario(const std::string& name, const std::map<std::string, std::string>& fill, const TempDir& dir);

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

class Gateway {
 public:
  // `ini` is appended to the base test configuration ([general] data_dir, log_level=debug, admin on port 0);
  // settings of the same key in `overrides` ("section.key" -> value) replace the base ones.
  explicit Gateway(std::map<std::string, std::string> overrides = {}, std::map<std::string, std::string> env = {});
  ~Gateway();

  // Starts the binary and waits until it reports ready; returns false (with the log in `log()`) otherwise.
  bool start(std::chrono::milliseconds deadline = 15s);
  // Sends SIGTERM and waits for the exit; returns the exit code (-1 for a signal).
  int stop(std::chrono::milliseconds deadline = 30s);
  void kill9();
  bool running();

  std::uint16_t adminPort() const { return port_; }
  std::uint16_t sipPort() const { return sipPort_; }
  const std::string& token() const { return token_; }
  const std::string& dataDir() const { return data_; }
  const std::string& configPath() const { return config_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  bool waitForLog(const std::string& needle, std::chrono::milliseconds deadline = 10s) const;
  // The port of a log line "<label> <host>:<port>" (e.g. "SMPP server listening on"); 0 when none came in time.
  std::uint16_t portFromLog(const std::string& label, std::chrono::milliseconds deadline = 10s) const;

  HttpAnswer http(const std::string& method, const std::string& path, const std::string& body = {},
                  const std::map<std::string, std::string>& headers = {}, bool auth = true) const;
  HttpAnswer get(const std::string& path) const { return http("GET", path); }
  HttpAnswer postJson(const std::string& path, const std::string& json) const {
    return http("POST", path, json, {{"Content-Type", "application/json"}});
  }

 private:
  TempDir dir_;
  std::string data_, config_, logPath_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t sipPort_ = 0;
  std::string token_;
  std::optional<int> exit_;
};

// SIPp peers (Debian sip-tester) against a gateway's SIP port; scenarios in tests/integration/sipp.
inline constexpr const char* kCpmMsgCaps = ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"";
inline constexpr const char* kFtHttpCaps =
    ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\""
    ";+g.3gpp.iari-ref=\"urn%3Aurn-7%3A3gpp-application.ims.iari.rcs.fthttp\"";
bool sippInstalled();
struct SipPeers {
  std::string target;  // host:port of the gateway's SIP listener
  const TempDir& dir;  // where filled-in scenarios and traces go
  std::string lastOutput;

  // REGISTERs user@localhost's device at devicePort with digest; 0 when `expect` was the final answer.
  int registerDevice(const std::string& user, std::uint16_t devicePort, const std::string& password,
                     const std::string& expect = "200", const std::string& caps = kCpmMsgCaps);
  // Sends one MESSAGE through the gateway; 0 when `expect` was the answer.
  int sendMessage(const std::string& from, const std::string& to, const std::string& body,
                  const std::string& expect = "202", const std::string& contentType = "message/cpim",
                  const std::string& transport = "u1");
  // A device on `port` answering `count` MESSAGEs with 200, keeping what arrived in `file`.
  std::unique_ptr<Background> device(std::uint16_t port, int count, const std::string& file) const;
};

// Writes an INI file from "section.key" -> value pairs.
std::string iniText(const std::map<std::string, std::string>& settings);

// How often `needle` occurs in a gateway's `log`.
std::size_t occurrences(const std::string& log, const std::string& needle);
// The lines of `logger` a gateway's `log` says it dropped over [general] log_rate, in all its counts.
std::size_t droppedLogLines(const std::string& log, const std::string& logger);

}  // namespace cpmgw::test
