// Runs the real cpmgw binary on free ports with a temporary data directory, and talks to it over HTTP.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
  const std::string& token() const { return token_; }
  const std::string& dataDir() const { return data_; }
  const std::string& configPath() const { return config_; }
  std::string log() const;
  bool waitForLog(const std::string& needle, std::chrono::milliseconds deadline = 10s) const;

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
  std::string token_;
  std::optional<int> exit_;
};

// Writes an INI file from "section.key" -> value pairs.
std::string iniText(const std::map<std::string, std::string>& settings);

}  // namespace cpmgw::test
