// A real SMPP peer for the integration tests: a node script on the npm `smpp` package (tests/integration/smpp/),
// driven by JSON commands on its stdin and reporting JSON events on its stdout.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

extern char** environ;

namespace cpmgw::test {

using Json = Poco::JSON::Object::Ptr;

inline std::string smppPeerDir() {
  return std::string(CPMGW_SOURCE_DIR) + "/tests/integration/smpp";
}

// Why the npm peers cannot run here, or empty when they can.
inline std::string smppPeerMissing() {
  if (runProgram("node", {"--version"}).exitCode != 0) return "node is not installed (apt-get install nodejs npm)";
  if (!std::filesystem::exists(smppPeerDir() + "/node_modules/smpp/package.json"))
    return "the npm smpp package is not installed: run `npm ci --no-audit --no-fund` in tests/integration/smpp "
           "(scripts/dev.sh test does)";
  return {};
}

class SmppPeer {
 public:
  explicit SmppPeer(const std::string& script) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    errPath_ = dir_.file("stderr");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, errPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string path = smppPeerDir() + "/" + script;
    std::vector<char*> argv = {const_cast<char*>("node"), path.data(), nullptr};
    int rc = posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
      ::close(in[1]);
      ::close(out[0]);
      throw std::runtime_error("cannot start node " + path);
    }
    stdin_ = in[1];
    stdout_ = out[0];
    reader_ = std::thread([this] { readLoop(); });
    if (!waitFor("ready")) throw std::runtime_error("node " + path + " did not start: " + transcript());
  }

  ~SmppPeer() {
    if (stdin_ >= 0) ::close(stdin_);  // the script exits when its stdin closes
    bool exited = eventually([&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; }, 5s);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    ::close(stdout_);
  }

  SmppPeer(const SmppPeer&) = delete;
  SmppPeer& operator=(const SmppPeer&) = delete;

  void send(const std::string& jsonLine) {
    std::string line = jsonLine + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(stdin_, line.data() + done, line.size() - done);
      if (n <= 0) throw std::runtime_error("peer stdin closed");
      done += static_cast<std::size_t>(n);
    }
  }
  void send(const Json& command) {
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(command, out);
    send(out.str());
  }

  // The first event not taken yet that satisfies `match`; it is taken. Null when none came before the deadline.
  Json take(const std::function<bool(const Json&)>& match, std::chrono::milliseconds deadline = 15s) {
    std::unique_lock lock(mutex_);
    Json found;
    cv_.wait_for(lock, deadline, [&] {
      for (auto& e : events_) {
        if (!e.taken && match(e.event)) {
          e.taken = true;
          found = e.event;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  // The next event `ev` whose fields have these values (compared as text).
  Json waitFor(const std::string& ev, const std::map<std::string, std::string>& fields = {},
               std::chrono::milliseconds deadline = 15s) {
    return take(
        [&](const Json& e) {
          if (!e->has("ev") || e->getValue<std::string>("ev") != ev) return false;
          for (const auto& [k, v] : fields)
            if (!e->has(k) || e->get(k).toString() != v) return false;
          return true;
        },
        deadline);
  }
  // How many events `ev` came so far (taken or not).
  std::size_t count(const std::string& ev) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : events_) n += e.event->has("ev") && e.event->getValue<std::string>("ev") == ev ? 1 : 0;
    return n;
  }
  std::vector<Json> all(const std::string& ev) {
    std::lock_guard lock(mutex_);
    std::vector<Json> out;
    for (const auto& e : events_)
      if (e.event->has("ev") && e.event->getValue<std::string>("ev") == ev) out.push_back(e.event);
    return out;
  }
  // Everything the peer said, for failure messages.
  std::string transcript() {
    std::lock_guard lock(mutex_);
    std::string out = "--- peer stdout ---\n";
    for (const auto& l : lines_) out += l + "\n";
    return out + "--- peer stderr ---\n" + readFile(errPath_);
  }

 private:
  struct Event {
    Json event;
    bool taken = false;
  };

  void readLoop() {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        Json event;
        try {
          event = Poco::JSON::Parser().parse(line).extract<Json>();
        } catch (const std::exception&) {
          event = new Poco::JSON::Object;
          event->set("ev", "unparsed");
          event->set("line", line);
        }
        std::lock_guard lock(mutex_);
        lines_.push_back(line);
        events_.push_back({event, false});
        cv_.notify_all();
      }
    }
  }

  TempDir dir_;
  std::string errPath_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::vector<std::string> lines_;
};

// The JSON object of an admin API answer.
inline Json json(const HttpAnswer& a) {
  return Poco::JSON::Parser().parse(a.body).extract<Json>();
}

// Octets as lowercase hex, the way the SMPP peers report short_message and message_payload.
inline std::string hexOf(const std::string& bytes) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

// Builds a command object: cmd("bind", {{"id","a"}, ...}) with string values; numbers and objects via set().
inline Json command(const std::string& name, const std::map<std::string, Poco::Dynamic::Var>& fields = {}) {
  Json c = new Poco::JSON::Object;
  c->set("cmd", name);
  for (const auto& [k, v] : fields) c->set(k, v);
  return c;
}

// A CPM user's device played by SIPp: provisioned, registered, and answering MESSAGEs into a trace file.
class SippDevice {
 public:
  static bool available() { return sippInstalled(); }

  // Provisions `user`@localhost with a password and registers a device for it on a free port that answers `count`
  // MESSAGEs (kept in file()). Check ok() afterwards.
  SippDevice(const Gateway& gw, const std::string& user, int count) : user_(user) {
    auto put = gw.http("PUT", "/v1/users/sip:" + user + "@localhost", R"({"password":"secret-)" + user + R"("})",
                       {{"Content-Type", "application/json"}});
    if (put.status != 201 && put.status != 200) {
      error_ = "provisioning failed: " + put.body;
      return;
    }
    port_ = freePort();
    file_ = dir_.file(user + ".msg");
    auto uas = sippScenario("uas_message.xml", {}, dir_);
    device_ = std::make_unique<Background>(
        "sipp", std::vector<std::string>{"-sf", uas, "-m", std::to_string(count), "-i", "127.0.0.1", "-p",
                                         std::to_string(port_), "-nostdin", "-timeout", "60s", "-trace_msg",
                                         "-message_file", file_});
    SipPeers peers{"127.0.0.1:" + std::to_string(gw.sipPort()), dir_, {}};
    if (peers.registerDevice(user, port_, "secret-" + user) != 0) error_ = "REGISTER failed: " + peers.lastOutput;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // What the device received so far.
  std::string received() const { return file_.empty() ? std::string() : readFile(file_); }
  bool waitFor(const std::string& needle, std::chrono::milliseconds deadline = 20s) const {
    return eventually([&] { return received().find(needle) != std::string::npos; }, deadline);
  }

 private:
  TempDir dir_;
  std::string user_;
  std::uint16_t port_ = 0;
  std::string file_;
  std::string error_;
  std::unique_ptr<Background> device_;
};

}  // namespace cpmgw::test
