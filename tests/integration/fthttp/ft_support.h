// What the FT-over-HTTP integration tests share: a gateway with the content server on a free port, curl as
// the client (run to completion, or started and killed mid-transfer), test files generated on the fly.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

extern char** environ;

namespace cpmgw::test::ft {

struct CurlResult {
  int exitCode = -1;
  std::string out;   // the body (-o to a file or stdout)
  std::string err;   // stderr
  std::string meta;  // what -w printed (to stderr through %{stderr})
};

// A running curl, killed by the test or waited for.
class CurlProcess {
 public:
  CurlProcess(const std::vector<std::string>& args, const TempDir& dir) {
    static int serial = 0;
    outPath_ = dir.file("curl-out-" + std::to_string(++serial));
    errPath_ = outPath_ + ".err";
    std::vector<std::string> all = {"curl", "--silent", "--show-error", "--noproxy", "*"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, outPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, errPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawnp(&pid_, "curl", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(std::string("cannot start curl: ") + std::strerror(rc));
  }
  ~CurlProcess() {
    if (pid_ > 0) kill9();
  }
  CurlProcess(const CurlProcess&) = delete;
  CurlProcess& operator=(const CurlProcess&) = delete;

  void kill9() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Waits up to `deadline`; kills curl when it is still running then.
  CurlResult wait(std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    CurlResult r;
    int status = 0;
    bool done = eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, deadline);
    if (!done) {
      kill9();
    } else {
      pid_ = -1;
      r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    r.out = readFile(outPath_);
    r.err = readFile(errPath_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  std::string outPath_, errPath_;
};

inline CurlResult curl(const TempDir& dir, const std::vector<std::string>& args) {
  return CurlProcess(args, dir).wait();
}

// The status code of a request made with `args`; the body goes to /dev/null.
inline int curlStatus(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"-o", "/dev/null", "-w", "%{http_code}"});
  auto r = curl(dir, args);
  return r.out.empty() ? 0 : std::stoi(r.out);
}

// Headers (-D -) and body of one request: "HTTP/1.1 206 ...\r\nName: value\r\n...\r\n\r\n<body>".
struct Answer {
  int status = 0;
  std::string head, body;
  std::string header(const std::string& name) const {
    std::regex re("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase);
    std::smatch m;
    return std::regex_search(head, m, re) ? m[1].str() : std::string();
  }
};
inline Answer request(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"-D", "-"});
  auto r = curl(dir, args);
  Answer a;
  // Skip interim answers (100 Continue) and the ones curl answered itself (a 401 before --digest
  // credentials): the final answer is the head not followed by another.
  std::size_t at = 0;
  for (;;) {
    auto end = r.out.find("\r\n\r\n", at);
    if (end == std::string::npos) return a;
    std::string head = r.out.substr(at, end + 4 - at);
    at = end + 4;
    if (head.rfind("HTTP/1.1 1", 0) == 0 || r.out.compare(at, 9, "HTTP/1.1 ") == 0) continue;
    a.head = head;
    a.status = std::stoi(head.substr(9, 3));
    a.body = r.out.substr(at);
    return a;
  }
}

// The gateway with the content server enabled on a free port; `extra` overrides settings.
inline std::map<std::string, std::string> ftSettings(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> s = {
      {"fthttp.enabled", "true"},     {"fthttp.port", "0"},       {"fthttp.tls_port", "0"},
      {"fthttp.low_water_mark", "0"}, {"fthttp.user_quota", "0"}, {"fthttp.max_file_size", "512M"},
  };
  for (auto& [k, v] : extra) s[k] = v;
  return s;
}

// "FT-HTTP listening on <scheme>://127.0.0.1:<port>" from the log.
inline std::string ftUrl(const Gateway& gw, const std::string& scheme = "http") {
  std::regex re("FT-HTTP listening on (" + scheme + "://[^ \n]+)\n");
  std::smatch m;
  std::string log = gw.log();
  return std::regex_search(log, m, re) ? m[1].str() : std::string();
}

// Writes `size` pseudo-random bytes (fast: this makes the 200 MiB file of a test in a moment).
inline void makeFile(const std::string& path, std::uint64_t size, std::uint64_t seed = 1) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::vector<std::uint64_t> block(1 << 16);
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::uint64_t done = 0; done < size;) {
    for (auto& w : block) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      w = x;
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, block.size() * 8));
    ASSERT_EQ(::write(fd, block.data(), n), static_cast<ssize_t>(n));
    done += n;
  }
  ::close(fd);
}

inline std::string sha256File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "missing " + path;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;)
    EVP_DigestUpdate(md, buf.data(), static_cast<std::size_t>(n));
  ::close(fd);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, out, &len);
  EVP_MD_CTX_free(md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

// The url attributes of an FT XML document, in order (thumbnail first when there is one).
inline std::vector<std::string> urlsIn(const std::string& xml) {
  std::vector<std::string> urls;
  std::regex re("url=\"([^\"]*)\"");
  for (std::sregex_iterator it(xml.begin(), xml.end(), re), end; it != end; ++it) urls.push_back((*it)[1].str());
  return urls;
}
inline std::string fileUrlIn(const std::string& xml) {
  auto urls = urlsIn(xml);
  return urls.empty() ? std::string() : urls.back();
}

// Names in the files directory of the content server.
inline std::vector<std::string> storedFiles(const Gateway& gw) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(gw.dataDir() + "/files", ec))
    names.push_back(e.path().filename().string());
  return names;
}

}  // namespace cpmgw::test::ft
