// SMPP in -> durable -> SIP out: an SMPP client (C++, PDUs through libsmpp34) submits 160-character SMS with a window
// of 10 and of 100 to cpmgw's SMPP server, which stores each message before its submit_sm_resp and delivers it to a
// CPM device played by a SIPp UAS. It prints durable msg/s and the submit -> submit_sm_resp latency (p50/p99), then
// p99 at half the target load (5,000 msg/s, half of targets.md's 10,000) and at half the best rate it measured,
// beside the same client against a plain npm smpp server that answers at once, in the same run (paced at the same
// rates, so that the p99 compare). Right after the gateway's runs it measures the disk's own floor at the paced
// rates: a 4 KiB page written per message and synced with group commit, timed like a message. It tells how much of
// the p99 is the disk's at that moment (this figure moves from run to run on a virtual disk). It also prints, per run,
// how many of the gateway's own WAL syncs took 5 ms or more (GET /v1/status): each such stall delays every answer
// that waits for it. Then it runs a second gateway with its store on tmpfs (/dev/shm), where a sync costs nothing,
// and measures it the same way (windows 10 and 100, then paced at 5,000 msg/s): the latency that is the gateway's
// own, without the disk's.
//
// Usage: smpp_bench [MESSAGES_PER_RUN]   (default 20000)
// Needs node with tests/integration/smpp/node_modules (npm ci) for the reference, and sipp for SIP delivery; without
// them those parts are skipped and said so.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "smpp/smpp_pdu.h"
#include "thread_cpu.h"

extern char** environ;

namespace {

using namespace cpmgw::smpp;
using cpmgw::bench::threadCpuSeconds;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Polls `cond` every 10 ms until it holds or `seconds` pass.
template <typename F>
bool waitUntil(F cond, double seconds) {
  auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (Clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// A child process with its output in a file.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& outPath, const std::vector<std::string>& env = {}) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.push_back(*e);
    for (const auto& e : env) envs.push_back(e);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (posix_spawnp(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() { stop(); }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int wait(double seconds) {
    int status = 0;
    bool done = waitUntil([&] { return pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_; }, seconds);
    if (!done) return -2;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (wait(20) == -2) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

bool inPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && ::access((d + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

struct Http {
  std::uint16_t port = 0;
  std::string token;
  std::pair<int, std::string> call(const std::string& method, const std::string& path, const std::string& body = {}) {
    Poco::Net::HTTPClientSession s("127.0.0.1", port);
    s.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Authorization", "Bearer " + token);
    if (!body.empty()) {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::string out;
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), out);
    return {static_cast<int>(resp.getStatus()), out};
  }
};

struct RunResult {
  std::size_t messages = 0;
  double seconds = 0;
  double p50 = 0, p99 = 0, max = 0;  // ms
  std::map<std::uint32_t, std::size_t> statuses;
  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  std::size_t errors() const {
    std::size_t n = 0;
    for (const auto& [s, c] : statuses) n += s == 0 ? 0 : c;
    return n;
  }
};

// An ESME on one TCP connection: submit_sm with a window, optionally paced, timing each submit_sm_resp.
class Client {
 public:
  bool connectTo(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return true;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool bind(const std::string& systemId, const std::string& password) {
    Pdu p;
    p.commandId = cmd::kBindTransceiver;
    p.sequence = seq_++;
    p.body = BindBody{systemId, password, "", 0x34, 0, 0, ""};
    out_ = encodePdu(p);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      pump(50);
      for (auto& d : take()) {
        if (d.commandId == cmd::resp(cmd::kBindTransceiver)) return d.status == status::kOk;
      }
    }
    return false;
  }

  // `templates` are encoded submit_sm whose sequence number is patched per send.
  RunResult run(const std::vector<std::string>& templates, std::size_t n, std::size_t window, double pacePerSecond) {
    RunResult r;
    std::vector<std::int64_t> sentAt(n, 0), latency;
    latency.reserve(n);
    std::uint32_t first = seq_;
    std::size_t sent = 0, received = 0, outstanding = 0;
    std::int64_t start = nowNs();
    while (received < n) {
      std::int64_t now = nowNs();
      std::size_t allowed =
          pacePerSecond > 0 ? static_cast<std::size_t>(static_cast<double>(now - start) / 1e9 * pacePerSecond) + 1 : n;
      while (sent < n && outstanding < window && sent < allowed) {
        std::string pdu = templates[sent % templates.size()];
        std::uint32_t s = htonl(seq_++);
        std::memcpy(pdu.data() + 12, &s, 4);
        out_ += pdu;
        sentAt[sent++] = now;
        ++outstanding;
      }
      if (!pump(pacePerSecond > 0 ? 1 : 100)) break;
      std::int64_t got = nowNs();
      for (auto& d : take()) {
        if (d.commandId != cmd::resp(cmd::kSubmitSm)) continue;
        std::size_t i = d.sequence - first;
        if (i >= n || sentAt[i] == 0) continue;
        latency.push_back(got - sentAt[i]);
        ++r.statuses[d.status];
        ++received;
        --outstanding;
      }
    }
    r.seconds = static_cast<double>(nowNs() - start) / 1e9;
    r.messages = received;
    std::sort(latency.begin(), latency.end());
    auto pct = [&](double q) {
      return latency.empty() ? 0.0
                             : static_cast<double>(latency[static_cast<std::size_t>(q * (latency.size() - 1))]) / 1e6;
    };
    r.p50 = pct(0.50);
    r.p99 = pct(0.99);
    r.max = pct(1.0);
    return r;
  }

  void unbind() {
    out_ += encodePdu(headerOnly(cmd::kUnbind, seq_++));
    pump(100);
  }

 private:
  struct Header {
    std::uint32_t commandId, status, sequence;
  };

  // Writes what is queued and reads what arrived; false when the link is gone.
  bool pump(int timeoutMs) {
    pollfd p{fd_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, timeoutMs) < 0) return false;
    if (!out_.empty()) {
      ssize_t w = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (w > 0) out_.erase(0, static_cast<std::size_t>(w));
      if (w < 0 && errno != EAGAIN) return false;
    }
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return false;
      break;
    }
    return true;
  }
  // Complete PDUs received: only headers are needed (responses), and the peer's requests are answered here.
  std::vector<Header> take() {
    std::vector<Header> out;
    std::size_t pos = 0;
    for (;;) {
      Frame f = peekFrame(std::string_view(in_).substr(pos), 1 << 16);
      if (f.state != Frame::State::Ready) break;
      auto be = [&](std::size_t at) {
        std::uint32_t v;
        std::memcpy(&v, in_.data() + pos + at, 4);
        return ntohl(v);
      };
      Header h{be(4), be(8), be(12)};
      if (h.commandId == cmd::kEnquireLink) out_ += encodePdu(headerOnly(cmd::resp(cmd::kEnquireLink), h.sequence));
      if (h.commandId == cmd::kDeliverSm)
        out_ += encodePdu(messageIdResp(cmd::resp(cmd::kDeliverSm), h.sequence, status::kOk, ""));
      out.push_back(h);
      pos += f.length;
    }
    in_.erase(0, pos);
    return out;
  }

  int fd_ = -1;
  std::uint32_t seq_ = 1;
  std::string in_, out_;
};

// submit_sm from 1000 different senders to one CPM user: separate conversations, so SIP delivery runs in parallel.
std::vector<std::string> submitTemplates() {
  std::vector<std::string> out;
  for (int i = 0; i < 1000; ++i) {
    Pdu p;
    p.commandId = cmd::kSubmitSm;
    p.sequence = 1;
    SmBody b;
    b.sourceTon = 1;
    b.sourceNpi = 1;
    b.source = "1555" + std::to_string(1000000 + i);
    b.destTon = 1;
    b.destNpi = 1;
    b.dest = "1000";
    b.shortMessage = std::string(160, 'b');
    p.body = b;
    out.push_back(encodePdu(p));
  }
  return out;
}

// The throughput target of targets.md; its p99 target holds at half of it.
constexpr double kTargetRate = 10000;

struct Series {
  std::string name;
  std::vector<std::pair<std::string, RunResult>> runs;  // window 10, window 100, then the paced runs
  std::vector<double> paced;                            // msg/s of the paced runs
};

// Window 10 and 100 at full speed, then window 100 paced at each rate of `paces` (msg/s; 0 for half the best
// rate measured). `settle` runs before each run: the gateway's deliveries of the previous run finish first,
// so that each run starts from an idle gateway rather than one still busy with the last run's messages.
Series measure(const std::string& name, std::uint16_t port, const std::string& systemId, const std::string& password,
               std::size_t n, const std::function<void()>& settle, const std::vector<double>& paces) {
  Series s{name, {}, {}};
  auto templates = submitTemplates();
  Client c;
  if (!c.connectTo(port) || !c.bind(systemId, password)) {
    std::fprintf(stderr, "smpp_bench: %s: cannot bind on port %u\n", name.c_str(), port);
    return s;
  }
  c.run(templates, std::min<std::size_t>(n / 10, 2000), 10, 0);  // warm-up
  double best = 0;
  for (std::size_t window : {10u, 100u}) {
    settle();
    auto r = c.run(templates, n, window, 0);
    best = std::max(best, r.rate());
    s.runs.emplace_back("window " + std::to_string(window), r);
  }
  for (double pace : paces) {
    double rate = pace > 0 ? pace : best / 2;
    settle();
    auto r = c.run(templates, std::max<std::size_t>(2000, static_cast<std::size_t>(rate * 3)), 100, rate);
    s.runs.emplace_back("paced " + std::to_string(static_cast<int>(rate)) + "/s", r);
    s.paced.push_back(rate);
  }
  c.unbind();
  return s;
}

// The disk's own floor at `rate` msg/s: one 4 KiB page written per message to a file in `dir`, and one fdatasync
// for everything written since the last, on a second thread (group commit, as the store does it). The latency runs
// from the time each message is due to the end of the sync that covers it: no store that syncs before it answers
// can do better on this disk at that moment.
RunResult diskFloor(const fs::path& dir, double rate, std::size_t n) {
  RunResult r;
  constexpr std::size_t kPage = 4096, kFile = 64 << 20;  // the page cycles through the file, as the WAL does
  std::string path = (dir / "floor.bin").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return r;
  std::string chunk(1 << 20, 'f');
  for (std::size_t off = 0; off < kFile; off += chunk.size()) (void)!::pwrite(fd, chunk.data(), chunk.size(), off);
  ::fsync(fd);
  std::vector<std::int64_t> due(n), done(n);
  std::mutex mutex;
  std::condition_variable wake;
  std::int64_t written = -1;
  std::thread syncer([&] {
    for (std::int64_t durable = -1; durable < static_cast<std::int64_t>(n) - 1;) {
      std::int64_t upto;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return written > durable; });
        upto = written;
      }
      ::fdatasync(fd);
      std::int64_t t = nowNs();
      for (std::int64_t i = durable + 1; i <= upto; ++i) done[static_cast<std::size_t>(i)] = t;
      durable = upto;
    }
  });
  const std::int64_t start = nowNs();
  for (std::size_t i = 0; i < n; ++i) {
    due[i] = start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(due[i] - nowNs(), 0)));
    (void)!::pwrite(fd, chunk.data(), kPage, static_cast<off_t>(i * kPage % kFile));
    {
      std::lock_guard lock(mutex);
      written = static_cast<std::int64_t>(i);
    }
    wake.notify_one();
  }
  syncer.join();
  ::close(fd);
  fs::remove(path);
  std::vector<double> ms(n);
  for (std::size_t i = 0; i < n; ++i) ms[i] = static_cast<double>(done[i] - due[i]) / 1e6;
  std::sort(ms.begin(), ms.end());
  r.messages = n;
  r.seconds = static_cast<double>(done.back() - start) / 1e9;
  r.p50 = ms[n / 2];
  r.p99 = ms[n * 99 / 100];
  r.max = ms.back();
  r.statuses[0] = n;
  return r;
}

void print(const Series& s) {
  for (const auto& [what, r] : s.runs) {
    std::printf("  %-34s %-22s %9.0f %8.2f %8.2f %8.2f %7zu\n", s.name.c_str(), what.c_str(), r.rate(), r.p50, r.p99,
                r.max, r.errors());
  }
}

// cpmgw with SMPP in and SIP out, durable as in production (WAL, synchronous=FULL), its configuration and logs in
// `work` and its store in `data`; the CPM user sip:1000@localhost is a SIPp UAS registered with it.
class Gateway {
 public:
  Gateway(const fs::path& work, const fs::path& data, const std::string& source, bool haveSipp) {
    fs::create_directories(work);
    std::string config =
        "[general]\ndata_dir = " + data.string() +
        "\nlog_level = notice\n[admin]\nhost = 127.0.0.1\nport = 0\n[sip]\nport = 0\n"
        "[routing]\nlocal_domains = localhost\ninterwork_prefixes = tel:\ninterwork_egress = smpp\n"
        "[adapters]\nenabled = smpp\n"
        "[smpp]\nport = 0\nwindow = 1000\nmax_pending_inbound = 100000\nmo_recipient = sip:{number}@localhost\n"
        "password_iterations = 1000\n";
    std::ofstream(work / "cpmgw.ini") << config;
    std::string log = (work / "cpmgw.log").string();
    gw_ =
        std::make_unique<Child>(std::vector<std::string>{CPMGW_BINARY, "--config", (work / "cpmgw.ini").string()}, log);
    std::smatch m;
    std::string text;
    if (!waitUntil([&] { return (text = readFile(log)).find("ready") != std::string::npos; }, 20) ||
        !std::regex_search(text, m, std::regex(R"(admin API listening on http://[^ \n]*:(\d+))"))) {
      std::fprintf(stderr, "smpp_bench: cpmgw did not start:\n%s\n", text.c_str());
      return;
    }
    http_ = Http{static_cast<std::uint16_t>(std::stoi(m[1])), readFile((data / "admin.token").string())};
    while (!http_.token.empty() && http_.token.back() == '\n') http_.token.pop_back();
    std::regex_search(text, m, std::regex(R"(SMPP server listening on [^ \n]*:(\d+))"));
    smppPort = static_cast<std::uint16_t>(std::stoi(m[1]));
    std::regex sipRe(R"(SIP listening on [^ \n]* [^ \n]*:(\d+))");
    std::uint16_t sipPort = std::regex_search(text, m, sipRe) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
    http_.call("POST", "/v1/smpp/accounts", R"({"system_id":"bench","password":"bench"})");
    if (!haveSipp || !sipPort) return;

    // The CPM user and its device.
    http_.call("PUT", "/v1/users/sip:1000@localhost", R"({"password":"bench-secret"})");
    auto freeUdpPort = [] {
      int s = ::socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
      socklen_t len = sizeof a;
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
      ::close(s);
      return ntohs(a.sin_port);
    };
    std::uint16_t devicePort = freeUdpPort();
    uas_ = std::make_unique<Child>(
        std::vector<std::string>{"sipp", "-sf", source + "/tests/integration/sipp/uas_message.xml", "-i", "127.0.0.1",
                                 "-p", std::to_string(devicePort), "-nostdin", "-m", "100000000"},
        (work / "uas.log").string());
    std::string reg = readFile(source + "/tests/integration/sipp/register.xml");
    for (auto at = reg.find("@EXPECT@"); at != std::string::npos; at = reg.find("@EXPECT@")) reg.replace(at, 8, "200");
    std::ofstream(work / "register.xml") << reg;
    Child r({"sipp",
             "127.0.0.1:" + std::to_string(sipPort),
             "-sf",
             (work / "register.xml").string(),
             "-m",
             "1",
             "-i",
             "127.0.0.1",
             "-p",
             std::to_string(freeUdpPort()),
             "-nostdin",
             "-timeout",
             "15s",
             "-au",
             "1000",
             "-ap",
             "bench-secret",
             "-key",
             "user",
             "1000",
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
             "3600",
             "-key",
             "caps",
             ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\""},
            (work / "register.log").string());
    int rc = r.wait(20);
    note.clear();
    if (rc != 0) {
      std::string out = readFile((work / "register.log").string());
      note = "SIP delivery: REGISTER failed (sipp exit " + std::to_string(rc) +
             "), messages stay queued: " + out.substr(out.size() > 300 ? out.size() - 300 : 0);
    }
  }
  bool started() const { return smppPort != 0; }
  pid_t pid() const { return gw_->pid(); }
  void stop() { gw_->stop(); }

  // Messages stored for the SIP device and not delivered yet.
  std::int64_t pending() {
    auto q = status()->getArray("queues");
    std::int64_t left = 0;
    for (std::size_t i = 0; i < q->size(); ++i)
      if (q->getObject(i)->getValue<std::string>("egress") == "sip")
        left += q->getObject(i)->getValue<std::int64_t>("queued") + q->getObject(i)->getValue<std::int64_t>("leased");
    return left;
  }
  // The gateway's count so far of WAL syncs that took 5 ms or more (the disk's stalls).
  std::int64_t slowSyncs() { return status()->getObject("store")->getValue<std::int64_t>("slow_syncs"); }
  // Before each run: the deliveries of the last one finish first, so that each run starts from an idle gateway
  // rather than one still busy with the last run's messages.
  void settle() {
    if (note.empty()) waitUntil([&] { return pending() == 0; }, 120);
  }

  std::uint16_t smppPort = 0;
  std::string note = "SIP delivery: sipp not installed, messages stay queued for the CPM user";  // empty: SIP runs

 private:
  Poco::JSON::Object::Ptr status() {
    return Poco::JSON::Parser().parse(http_.call("GET", "/v1/status").second).extract<Poco::JSON::Object::Ptr>();
  }

  std::unique_ptr<Child> gw_;
  std::unique_ptr<Child> uas_;
  Http http_;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? static_cast<std::size_t>(std::stoul(argv[1])) : 20000;
  const std::string source = CPMGW_SOURCE_DIR;
  fs::path dir = fs::temp_directory_path() / ("smpp-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  bool haveSipp = inPath("sipp");
  bool haveNode = inPath("node") && fs::exists(source + "/tests/integration/smpp/node_modules/smpp/package.json");

  Gateway gw(dir, dir / "data", source, haveSipp);
  if (!gw.started()) return 1;
  // The gateway's count of slow WAL syncs before each run and after the last: the disk's stalls during each run.
  std::vector<std::int64_t> slowSyncs;
  auto settle = [&] {
    gw.settle();
    slowSyncs.push_back(gw.slowSyncs());
  };
  auto cpuBefore = threadCpuSeconds(gw.pid());
  auto gateway = measure("cpmgw (stored, then SIP)", gw.smppPort, "bench", "bench", n, settle, {kTargetRate / 2, 0});
  slowSyncs.push_back(gw.slowSyncs());

  // How fast the stored messages reached the SIPp device.
  std::string sipLine = gw.note;
  if (gw.note.empty()) {
    auto t0 = Clock::now();
    std::int64_t before = gw.pending();
    waitUntil([&] { return gw.pending() == 0; }, 120);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::int64_t after = gw.pending();
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "SIP delivery to the SIPp UAS: %lld still queued after the last SMPP run, %lld left %.1f s later",
                  static_cast<long long>(before), static_cast<long long>(after), secs);
    sipLine = buf;
  }
  std::size_t stored = 0;
  for (const auto& [run, r] : gateway.runs) stored += r.messages;
  // Microseconds of CPU per stored message, by thread (threads that ended meanwhile are not counted).
  std::vector<std::pair<double, std::string>> cpuPerMessage;
  double cpuTotal = 0;
  for (const auto& [thread, seconds] : threadCpuSeconds(gw.pid())) {
    double us = stored ? (seconds - cpuBefore[thread]) / static_cast<double>(stored) * 1e6 : 0;
    cpuTotal += us;
    if (us >= 1) cpuPerMessage.emplace_back(us, thread);
  }
  std::sort(cpuPerMessage.rbegin(), cpuPerMessage.rend());
  gw.stop();

  // The disk alone at the same rates, right after: the part of the latency that is the disk's.
  Series disk{"disk floor (4 KiB + fdatasync)", {}, {}};
  for (double rate : gateway.paced)
    disk.runs.emplace_back("paced " + std::to_string(static_cast<int>(rate)) + "/s",
                           diskFloor(dir, rate, std::max<std::size_t>(2000, static_cast<std::size_t>(rate * 3))));

  // The same gateway with its store on tmpfs, where a sync costs nothing, at the target's half load: the part of the
  // latency that is the gateway's own. Skipped where /dev/shm is not a tmpfs with room for the store.
  Series memory{"cpmgw, store on tmpfs (no disk)", {}, {}};
  std::string memoryNote = "store on tmpfs skipped: /dev/shm is not a tmpfs with 512 MiB free";
  struct statfs shm {};
  if (::statfs("/dev/shm", &shm) == 0 && shm.f_type == TMPFS_MAGIC &&
      static_cast<double>(shm.f_bavail) * static_cast<double>(shm.f_bsize) >= 512.0 * (1 << 20)) {
    fs::path data = fs::path("/dev/shm") / dir.filename();
    try {
      Gateway inMemory(dir / "tmpfs", data, source, haveSipp);
      if (inMemory.started())
        memory =
            measure(memory.name, inMemory.smppPort, "bench", "bench", n, [&] { inMemory.settle(); }, {kTargetRate / 2});
      memoryNote = inMemory.started() ? "" : "store on tmpfs: cpmgw did not start";
    } catch (const std::exception& e) {
      memoryNote = std::string("store on tmpfs: ") + e.what();
    }
    std::error_code ec;
    fs::remove_all(data, ec);
  }

  // The same client against a plain npm smpp server that answers every submit_sm at once.
  Series reference{"npm smpp server (answers at once)", {}, {}};
  std::unique_ptr<Child> npm;
  if (haveNode) {
    std::string out = (dir / "npm.log").string();
    npm = std::make_unique<Child>(
        std::vector<std::string>{"node", source + "/bench/smpp_bench_smsc.js"}, out,
        std::vector<std::string>{"NODE_PATH=" + source + "/tests/integration/smpp/node_modules"});
    std::smatch pm;
    std::string o;
    if (waitUntil([&] { return std::regex_search(o = readFile(out), pm, std::regex(R"(listening (\d+))")); }, 10)) {
      // Paced at the gateway's rates, so that the p99 compare.
      reference = measure(
          reference.name, static_cast<std::uint16_t>(std::stoi(pm[1])), "bench", "bench", n, [] {}, gateway.paced);
    }
  }

  std::printf("SMPP bench: %zu submit_sm per run (160 GSM characters, 1000 senders), submit_sm -> submit_sm_resp\n", n);
  std::printf("  %-34s %-22s %9s %8s %8s %8s %7s\n", "target", "run", "msg/s", "p50 ms", "p99 ms", "max ms", "errors");
  print(gateway);
  print(disk);
  print(memory);
  if (!memoryNote.empty()) std::printf("  %s\n", memoryNote.c_str());
  if (!reference.runs.empty())
    print(reference);
  else
    std::printf("  npm smpp reference skipped: node or tests/integration/smpp/node_modules missing (npm ci)\n");
  std::printf("  %s\n", sipLine.c_str());
  std::printf("  cpmgw CPU per message (SMPP in, stored, delivered over SIP): %.0f us (", cpuTotal);
  for (std::size_t i = 0; i < cpuPerMessage.size(); ++i)
    std::printf("%s%s %.0f", i ? ", " : "", cpuPerMessage[i].second.c_str(), cpuPerMessage[i].first);
  std::printf(")\n");
  if (slowSyncs.size() == gateway.runs.size() + 1) {
    std::printf("  cpmgw WAL syncs of 5 ms or more (the disk's stalls) during each run:");
    for (std::size_t i = 0; i < gateway.runs.size(); ++i)
      std::printf("%s %s: %lld", i ? "," : "", gateway.runs[i].first.c_str(),
                  static_cast<long long>(slowSyncs[i + 1] - slowSyncs[i]));
    std::printf("\n");
  }
  if (gateway.runs.size() == 4) {
    double best = std::max(gateway.runs[0].second.rate(), gateway.runs[1].second.rate());
    const auto& halfRun = gateway.runs[2].second;
    if (!reference.runs.empty()) {
      for (std::size_t i = 0; i < 2; ++i)
        std::printf("  ratio cpmgw / npm reference, %s: %.2f\n", gateway.runs[i].first.c_str(),
                    gateway.runs[i].second.rate() / std::max(1.0, reference.runs[i].second.rate()));
    }
    std::printf("  target >= %.0f durable msg/s: %s (best %.0f)\n", kTargetRate,
                best >= kTargetRate ? "met" : "NOT met", best);
    std::printf(
        "  target p99 <= 5 ms at half that load (%.0f/s): %s (p99 %.2f ms at %.0f/s; the disk floor: p99 %.2f ms)\n",
        kTargetRate / 2, halfRun.p99 <= 5 ? "met" : "NOT met", halfRun.p99, halfRun.rate(),
        disk.runs.empty() ? 0.0 : disk.runs[0].second.p99);
    if (memory.runs.size() == 3)
      std::printf("  the same with the store on tmpfs (no disk syncs): p99 %.2f ms at %.0f/s\n",
                  memory.runs[2].second.p99, memory.runs[2].second.rate());
    std::printf("  at half the best rate measured: p99 %.2f ms at %.0f/s\n", gateway.runs[3].second.p99,
                gateway.runs[3].second.rate());
    if (reference.runs.size() == 4)
      std::printf("  npm reference at the same rates: p99 %.2f and %.2f ms\n", reference.runs[2].second.p99,
                  reference.runs[3].second.p99);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
