// Store throughput: full message cycles through the gateway store against a raw SQLite reference with
// the same durability, measured in the same run.
//
//   gateway: each producer thread repeats enqueue (waits for the commit callback; the message is stored
//            leased to a LeaseSink, as the dispatcher takes it) -> ack (waits for the commit callback).
//            One cycle = one message made durable, leased and delivered, as the gateway does it.
//   raw:     one SQLite connection shared by the producer threads under a mutex, each doing one INSERT
//            in its own transaction (insert + commit per row) -- the best a store without group commit
//            can do, since a second connection would only wait for the write lock.
// Both use WAL and synchronous=FULL on a file in a temporary directory under /tmp.
//
// Usage: store_bench [SECONDS_PER_MEASUREMENT]   (default 3, at most 60)
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpmgw/store.h"
#include "thread_cpu.h"

namespace {

using namespace cpmgw;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::string kBody(160, 'b');  // an SMS-sized payload

// Waits for one callback on the thread that issued the call.
template <class T>
class Waiter {
 public:
  std::function<void(T)> callback() {
    return [this](T value) {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
      ready_ = true;
      cv_.notify_one();
    };
  }
  T wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return ready_; });
    ready_ = false;
    return std::move(value_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool ready_ = false;
  T value_{};
};

// Takes every message at once, as the dispatcher does while its egress has room.
class TakeAll : public LeaseSink {
 public:
  std::optional<TimeMs> reserve(const std::string&) override { return nowMs() + 30000; }
  void release(const std::string&) override {}
  void leased(StoredMessage) override {}
};

// `cpuPerCycle`: microseconds of CPU per cycle of the store's writer, sync and checkpoint threads.
double runGateway(const std::string& dir, int producers, std::chrono::seconds duration,
                  std::map<std::string, double>& cpuPerCycle) {
  Store::Options options;
  options.path = (fs::path(dir) / ("gateway-" + std::to_string(producers) + ".db")).string();
  auto store = Store::open(options);
  auto cpuBefore = bench::threadCpuSeconds(::getpid());
  TakeAll sink;
  store->setLeaseSink(&sink);
  std::atomic<long> cycles{0};
  std::atomic<bool> failed{false};
  auto deadline = Clock::now() + duration;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Waiter<EnqueueResult> enqueued;
      Waiter<WriteResult> acked;
      // A conversation of its own: each message heads it, so it can be leased at once.
      Message m;
      m.from = "sip:producer" + std::to_string(p) + "@bench";
      m.to = "tel:+1555000" + std::to_string(p);
      m.contentType = "text/plain";
      m.body = kBody;
      m.ingress = "bench";
      m.egress = "bench";
      while (Clock::now() < deadline && !failed) {
        store->enqueue(m, 0, enqueued.callback());
        auto stored = enqueued.wait();
        if (stored.status != EnqueueResult::Status::Stored || !stored.leased) break;
        store->ack(stored.id, "delivered", {}, acked.callback());
        if (acked.wait().status != WriteResult::Status::Ok) break;
        ++cycles;
      }
      if (Clock::now() < deadline) failed = true;
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto cpuAfter = bench::threadCpuSeconds(::getpid());
  store->setLeaseSink(nullptr);
  if (failed) throw std::runtime_error("a gateway cycle failed");
  for (const char* thread : {"cpmgw-store", "cpmgw-sync", "cpmgw-ckpt"})
    cpuPerCycle[thread] = (cpuAfter[thread] - cpuBefore[thread]) / std::max(1.0, static_cast<double>(cycles)) * 1e6;
  return static_cast<double>(cycles) / seconds;
}

void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

double runRaw(const std::string& dir, int producers, std::chrono::seconds duration) {
  std::string path = (fs::path(dir) / ("raw-" + std::to_string(producers) + ".db")).string();
  sqlite3* db = nullptr;
  check(db, sqlite3_open(path.c_str(), &db), "open");
  check(db,
        sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE messages (id TEXT PRIMARY "
                     "KEY, seq INTEGER, body BLOB, created_at INTEGER)",
                     nullptr, nullptr, nullptr),
        "schema");
  sqlite3_stmt* insert = nullptr;
  check(db, sqlite3_prepare_v2(db, "INSERT INTO messages VALUES (?1, ?2, ?3, ?4)", -1, &insert, nullptr), "prepare");
  std::mutex mutex;
  long seq = 0;
  auto deadline = Clock::now() + duration;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&] {
      while (Clock::now() < deadline) {
        std::string id = newMessageId();
        std::lock_guard lock(mutex);
        sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 2, ++seq);
        sqlite3_bind_blob(insert, 3, kBody.data(), static_cast<int>(kBody.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert, 4, nowMs());
        check(db, sqlite3_step(insert), "insert");  // autocommit: insert + commit
        sqlite3_reset(insert);
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return static_cast<double>(seq) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  long seconds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 3;
  if (seconds < 1 || seconds > 60) {
    std::fprintf(stderr, "usage: %s [SECONDS_PER_MEASUREMENT 1..60]\n", argv[0]);
    return 2;
  }
  char tmpl[] = "/tmp/cpmgw-store-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int rc = 0;
  try {
    std::printf(
        "store_bench: full cycles (enqueue leased to the sink -> ack, each committed) vs raw insert+commit per row\n");
    std::printf("raw reference: one connection shared by the producers under a mutex; both WAL + synchronous=FULL\n");
    for (int producers : {1, 8, 64}) {
      std::map<std::string, double> cpu;
      double gateway = runGateway(dir, producers, std::chrono::seconds(seconds), cpu);
      double raw = runRaw(dir, producers, std::chrono::seconds(seconds));
      std::printf(
          "producers=%d gateway=%.0f/s raw=%.0f/s ratio=%.2f (CPU per cycle: writer %.0f us, sync %.0f, "
          "checkpoints %.0f)\n",
          producers, gateway, raw, gateway / raw, cpu["cpmgw-store"], cpu["cpmgw-sync"], cpu["cpmgw-ckpt"]);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.what());
    rc = 1;
  }
  fs::remove_all(dir);
  return rc;
}
