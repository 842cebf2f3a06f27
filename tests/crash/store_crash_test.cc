// Crash safety of the store: a child process writes under load and is killed with SIGKILL at a random
// point, several times over the same database. Everything the child was told is committed must be there
// afterwards, byte for byte, and the file must pass SQLite's integrity check.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "cpmgw/store.h"
#include "crash_body.h"

#ifndef CPMGW_CRASH_CHILD
#error "CPMGW_CRASH_CHILD must name the store_crash_child binary"
#endif

namespace cpmgw {
namespace {

namespace fs = std::filesystem;

struct ChildRun {
  std::string output;  // everything the child wrote to stdout
  int status = 0;      // from waitpid
};

// Starts the child, lets it run for `runFor`, kills it with SIGKILL and collects its output.
ChildRun runAndKill(const std::string& db, unsigned seed, std::chrono::milliseconds runFor) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::string seedText = std::to_string(seed);
    execl(CPMGW_CRASH_CHILD, CPMGW_CRASH_CHILD, db.c_str(), seedText.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  ChildRun run;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + runFor;
  bool killed = false;
  for (;;) {
    int timeout = -1;
    if (!killed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        // The crash point.
        kill(pid, SIGKILL);
        killed = true;
      } else {
        timeout = static_cast<int>(left.count());
      }
    }
    // Keep the pipe drained while the child runs so that it never blocks on a full pipe.
    pollfd pfd{fds[0], POLLIN, 0};
    int ready = poll(&pfd, 1, killed ? 10000 : timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (killed) break;  // bounded: never hang on a child that will not die
      continue;
    }
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      run.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      if (!killed) {  // the child ended by itself: report how
        kill(pid, SIGKILL);
        killed = true;
      }
      break;
    }
  }
  close(fds[0]);
  waitpid(pid, &run.status, 0);
  return run;
}

// Every complete line "E <id>" / "A <id>"; a trailing partial line cannot happen (one write(2) per line)
// but would be ignored.
void parse(const std::string& output, std::set<std::string>& enqueued, std::set<std::string>& acked) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t end = output.find('\n', pos);
    if (end == std::string::npos) break;
    std::string line = output.substr(pos, end - pos);
    pos = end + 1;
    ASSERT_GT(line.size(), 2u) << line;
    ASSERT_EQ(line[1], ' ') << line;
    std::string id = line.substr(2);
    if (line[0] == 'E')
      enqueued.insert(id);
    else if (line[0] == 'A')
      acked.insert(id);
    else
      FAIL() << "unexpected line from the child: " << line;
  }
}

struct Check {
  std::size_t rows = 0;
  std::string integrity;
  std::vector<std::string> badRows;
};

// Straight through sqlite3: the integrity check and a scan of every stored body.
Check inspect(const std::string& db) {
  Check check;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    check.integrity = std::string("open failed: ") + sqlite3_errmsg(conn);
    sqlite3_close(conn);
    return check;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(conn, "PRAGMA integrity_check", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    if (!check.integrity.empty()) check.integrity += "; ";
    check.integrity += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(conn, "SELECT id, body, state FROM messages", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ++check.rows;
    std::string id(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
    std::string body(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1)));
    if (body != crashBodyFor(id)) check.badRows.push_back(id);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return check;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cpmgw-crash-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(StoreCrash, CommittedWritesSurviveSigkillUnderLoad) {
  TempDir dir;
  const std::string db = (fs::path(dir.path) / "crash.db").string();

  std::random_device entropy;
  const unsigned seed = entropy();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> killAfter(50, 400);
  std::set<std::string> enqueued, acked;
  // At least kMinRuns crashes; more (within the time budget) while the child has not yet reported both
  // kinds of write, as happens when it runs slowly (sanitizer builds).
  constexpr int kMinRuns = 6;
  constexpr int kMaxRuns = 40;
  const auto budget = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto moreRuns = [&](int run) {
    if (run < kMinRuns) return true;
    return run < kMaxRuns && (enqueued.empty() || acked.empty()) && std::chrono::steady_clock::now() < budget;
  };

  for (int run = 0; moreRuns(run); ++run) {
    SCOPED_TRACE("run " + std::to_string(run) + ", seed " + std::to_string(seed));
    auto wait = std::chrono::milliseconds(killAfter(rng));
    ChildRun child = runAndKill(db, rng(), wait);
    ASSERT_TRUE(WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGKILL)
        << "the child ended by itself, status " << child.status;
    std::size_t before = enqueued.size() + acked.size();
    ASSERT_NO_FATAL_FAILURE(parse(child.output, enqueued, acked));
    std::printf("run %d: killed after %lld ms, %zu new lines, %zu enqueued and %zu acked so far\n", run,
                static_cast<long long>(wait.count()), enqueued.size() + acked.size() - before, enqueued.size(),
                acked.size());

    {
      // Opening validates the file (quick_check) and recovers the WAL the way the gateway would.
      std::unique_ptr<Store> store;
      ASSERT_NO_THROW(store = Store::open({.path = db}));
      for (const auto& id : enqueued) {
        auto m = store->get(id);
        ASSERT_TRUE(m) << "acknowledged enqueue lost: " << id;
        ASSERT_EQ(m->body, crashBodyFor(id)) << id;
      }
      for (const auto& id : acked) {
        auto m = store->get(id);
        ASSERT_TRUE(m) << "acknowledged message lost: " << id;
        ASSERT_EQ(m->state, MessageState::Delivered) << "acknowledged delivery lost: " << id;
      }
    }
    Check check = inspect(db);
    ASSERT_EQ(check.integrity, "ok");
    ASSERT_TRUE(check.badRows.empty()) << check.badRows.size() << " rows with a body that does not match, e.g. "
                                       << check.badRows.front();
    ASSERT_GE(check.rows, enqueued.size());
  }
  // The test proves nothing unless the child got work done.
  EXPECT_FALSE(enqueued.empty());
  EXPECT_FALSE(acked.empty());
}

}  // namespace
}  // namespace cpmgw
