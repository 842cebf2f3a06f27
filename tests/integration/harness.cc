#include "harness.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cpmgw::test {

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(10ms);
  }
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cpmgw-it-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string iniText(const std::map<std::string, std::string>& settings) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;
  for (const auto& [key, value] : settings) {
    auto dot = key.find('.');
    sections[key.substr(0, dot)].emplace_back(key.substr(dot + 1), value);
  }
  std::string text;
  for (const auto& [section, keys] : sections) {
    text += "[" + section + "]\n";
    for (const auto& [k, v] : keys) text += k + " = " + v + "\n";
  }
  return text;
}

std::size_t occurrences(const std::string& log, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + needle.size())) ++n;
  return n;
}

std::size_t droppedLogLines(const std::string& log, const std::string& logger) {
  const std::string marker = " W " + logger + ": ", what = " lines not logged: over [general] log_rate";
  std::size_t dropped = 0;
  for (auto at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
    std::size_t digits = at + marker.size(), end = digits;
    while (end < log.size() && std::isdigit(static_cast<unsigned char>(log[end]))) ++end;
    if (end > digits && log.compare(end, what.size(), what) == 0)
      dropped += std::stoul(log.substr(digits, end - digits));
  }
  return dropped;
}

namespace {

pid_t spawnProgram(const std::string& program, const std::vector<std::string>& args, const std::string& outputPath,
                   const std::map<std::string, std::string>& env) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envStrings;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    auto name = s.substr(0, s.find('='));
    if (!env.count(name) && name != "NOTIFY_SOCKET" && name != "WATCHDOG_USEC" && name != "WATCHDOG_PID")
      envStrings.push_back(s);
  }
  for (const auto& [k, v] : env) envStrings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, outputPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("posix_spawn failed: ") + std::strerror(rc));
  return pid;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& outputPath,
            const std::map<std::string, std::string>& env) {
  return spawnProgram(CPMGW_BINARY, args, outputPath, env);
}

// Waits for the child up to `deadline`; nullopt when it is still running.
std::optional<int> waitChild(pid_t pid, std::chrono::milliseconds deadline, int* signalOut = nullptr) {
  std::optional<int> result;
  eventually(
      [&] {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r != pid) return false;
        if (WIFEXITED(status)) {
          result = WEXITSTATUS(status);
        } else {
          result = -1;
          if (signalOut) *signalOut = WTERMSIG(status);
        }
        return true;
      },
      deadline);
  return result;
}

}  // namespace

ProcessResult runCpmgw(const std::vector<std::string>& args, std::chrono::milliseconds deadline) {
  return runProgram(CPMGW_BINARY, args, deadline);
}

ProcessResult runProgram(const std::string& program, const std::vector<std::string>& args,
                         std::chrono::milliseconds deadline) {
  TempDir dir;
  ProcessResult result;
  pid_t pid = spawnProgram(program, args, dir.file("out"), {});
  auto code = waitChild(pid, deadline, &result.signal);
  if (!code) {
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    result.signal = SIGKILL;
  } else {
    result.exitCode = *code;
  }
  result.output = readFile(dir.file("out"));
  return result;
}

Background::Background(const std::string& program, const std::vector<std::string>& args) {
  pid_ = spawnProgram(program, args, dir_.file("out"), {});
}

Background::~Background() {
  stop(SIGKILL);
}

bool Background::running() {
  if (exited_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  return true;
}

int Background::wait(std::chrono::milliseconds deadline) {
  eventually([&] { return !running(); }, deadline);
  return exited_ ? exitCode_ : stop(SIGKILL);
}

int Background::stop(int signal, std::chrono::milliseconds deadline) {
  if (!running()) return exitCode_;
  ::kill(pid_, signal);
  if (!eventually([&] { return !running(); }, deadline)) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    exited_ = true;
    exitCode_ = -1;
  }
  return exitCode_;
}

std::string Background::output() const {
  return readFile(dir_.file("out"));
}

std::uint16_t freePort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bool ok = bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
              getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ok = ok && bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(udp);
    close(tcp);
    if (ok) return ntohs(addr.sin_port);
  }
  throw std::runtime_error("no free port");
}

std::string sippScenario(const std::string& name, const std::map<std::string, std::string>& fill, const TempDir& dir) {
  std::string text = readFile(std::string(CPMGW_SOURCE_DIR) + "/tests/integration/sipp/" + name);
  if (text.empty()) throw std::runtime_error("no SIPp scenario " + name);
  for (const auto& [key, value] : fill) {
    std::string placeholder = "@" + key + "@";
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
      text.replace(at, placeholder.size(), value);
  }
  static int counter = 0;
  std::string path = dir.file(std::to_string(++counter) + "-" + name);
  writeFile(path, text);
  return path;
}

bool sippInstalled() {
  return runProgram("sipp", {"-v"}).output.find("SIPp") != std::string::npos;
}

int SipPeers::registerDevice(const std::string& user, std::uint16_t devicePort, const std::string& password,
                             const std::string& expect, const std::string& caps) {
  auto scenario = sippScenario("register.xml", {{"EXPECT", expect}}, dir);
  auto r = runProgram("sipp", {target,
                               "-sf",
                               scenario,
                               "-m",
                               "1",
                               "-i",
                               "127.0.0.1",
                               "-p",
                               std::to_string(freePort()),
                               "-nostdin",
                               "-timeout",
                               "15s",
                               "-au",
                               user,
                               "-ap",
                               password,
                               "-key",
                               "user",
                               user,
                               "-key",
                               "domain",
                               "localhost",
                               "-key",
                               "contact_host",
                               "127.0.0.1",
                               "-key",
                               "contact_port",
                               std::to_string(devicePort),
                               "-key",
                               "expires",
                               "600",
                               "-key",
                               "caps",
                               caps});
  lastOutput = r.output;
  return r.exitCode;
}

int SipPeers::sendMessage(const std::string& from, const std::string& to, const std::string& body,
                          const std::string& expect, const std::string& contentType, const std::string& transport) {
  auto scenario = sippScenario("message.xml", {{"EXPECT", expect}, {"BODY", body}}, dir);
  auto r = runProgram(
      "sipp",
      {target, "-sf",     scenario,   "-m",           "1",        "-i",   "127.0.0.1", "-p", std::to_string(freePort()),
       "-t",   transport, "-nostdin", "-timeout",     "15s",      "-key", "from",      from, "-key",
       "to",   to,        "-key",     "content_type", contentType});
  lastOutput = r.output;
  return r.exitCode;
}

std::unique_ptr<Background> SipPeers::device(std::uint16_t port, int count, const std::string& file) const {
  auto scenario = sippScenario("uas_message.xml", {}, dir);
  return std::make_unique<Background>(
      "sipp", std::vector<std::string>{"-sf", scenario, "-m", std::to_string(count), "-i", "127.0.0.1", "-p",
                                       std::to_string(port), "-nostdin", "-timeout", "30s", "-trace_msg",
                                       "-message_file", file});
}

Gateway::Gateway(std::map<std::string, std::string> overrides, std::map<std::string, std::string> env)
    : env_(std::move(env)) {
  data_ = dir_.file("data");
  config_ = dir_.file("cpmgw.ini");
  logPath_ = dir_.file("cpmgw.log");
  std::map<std::string, std::string> settings = {
      {"general.data_dir", data_},
      {"general.log_level", "debug"},
      {"general.drain_timeout", "5s"},
      {"admin.host", "127.0.0.1"},
      {"admin.port", "0"},
      {"sip.port", "0"},
      {"routing.local_domains", "localhost"},
      {"routing.interwork_prefixes", "tel:"},
      {"routing.interwork_egress", "loopback"},
      {"adapters.enabled", "loopback"},
  };
  for (auto& [k, v] : overrides) settings[k] = v;
  writeFile(config_, iniText(settings));
}

Gateway::~Gateway() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Gateway::start(std::chrono::milliseconds deadline) {
  exit_.reset();
  port_ = 0;
  auto before = readFile(logPath_).size();
  pid_ = spawn({"--config", config_}, logPath_, env_);
  static const std::regex kListening(R"(admin API listening on https?://[^ \n]*:(\d+)\n)");
  static const std::regex kSip(R"(SIP listening on udp\+tcp [^ \n]*:(\d+)\n)");
  bool ok = eventually(
      [&] {
        if (!running()) return true;
        auto text = readFile(logPath_).substr(before);
        std::smatch m;
        if (text.find("ready") == std::string::npos || !std::regex_search(text, m, kListening)) return false;
        port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
        if (std::regex_search(text, m, kSip)) sipPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
        return true;
      },
      deadline);
  if (!ok || port_ == 0) return false;
  token_ = readFile(data_ + "/admin.token");
  while (!token_.empty() && token_.back() == '\n') token_.pop_back();
  return true;
}

bool Gateway::running() {
  if (pid_ <= 0 || exit_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return false;
  }
  return true;
}

int Gateway::stop(std::chrono::milliseconds deadline) {
  if (!running()) return exit_.value_or(-1);
  ::kill(pid_, SIGTERM);
  auto code = waitChild(pid_, deadline);
  if (!code) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    exit_ = -1;
  } else {
    exit_ = *code;
  }
  return *exit_;
}

void Gateway::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  exit_ = -1;
}

std::string Gateway::log() const {
  return readFile(logPath_);
}

std::uint16_t Gateway::portFromLog(const std::string& label, std::chrono::milliseconds deadline) const {
  std::string escaped;
  for (char c : label) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) escaped += '\\';
    escaped += c;
  }
  const std::regex line(escaped + R"( [^ \n]*:(\d+)\n)");
  std::uint16_t port = 0;
  eventually(
      [&] {
        std::smatch m;
        std::string text = log();
        if (!std::regex_search(text, m, line)) return false;
        port = static_cast<std::uint16_t>(std::stoi(m[1]));
        return true;
      },
      deadline);
  return port;
}

bool Gateway::waitForLog(const std::string& needle, std::chrono::milliseconds deadline) const {
  return eventually([&] { return log().find(needle) != std::string::npos; }, deadline);
}

HttpAnswer Gateway::http(const std::string& method, const std::string& path, const std::string& body,
                         const std::map<std::string, std::string>& headers, bool auth) const {
  Poco::Net::HTTPClientSession session("127.0.0.1", port_);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (auth) request.set("Authorization", "Bearer " + token_);
  for (const auto& [k, v] : headers) request.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT")
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpAnswer answer;
  answer.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, answer.body);
  for (const auto& [k, v] : response) answer.headers[k] = v;
  return answer;
}

}  // namespace cpmgw::test
