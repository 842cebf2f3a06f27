// Load generator for the crash-safety test: writes to the store at argv[1] from several threads until it
// is killed. Every completed write is reported on stdout as one line, "E <id>" once an enqueue committed
// and "A <id>" once an ack committed, so the parent knows exactly what the store has promised.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cpmgw/store.h"
#include "crash_body.h"

namespace {

using namespace cpmgw;

// One write(2) per line: a pipe write below PIPE_BUF is atomic, so a kill never leaves half a line.
void report(char kind, const std::string& id) {
  std::string line = std::string(1, kind) + " " + id + "\n";
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(3);
}

// Takes every other message straight from the commit that stores it, as the dispatcher does while its
// egress has room: those are stored already leased and never go through lease().
class EveryOtherSink : public LeaseSink {
 public:
  std::optional<TimeMs> reserve(const std::string&) override {
    if (++reservations_ % 2 == 0) return std::nullopt;
    return nowMs() + 60000;
  }
  void release(const std::string&) override {}
  void leased(StoredMessage m) override {
    std::lock_guard lock(mutex_);
    handed_.push_back(std::move(m));
  }
  std::vector<StoredMessage> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(handed_, {});
  }

 private:
  unsigned reservations_ = 0;  // the writer thread only
  std::mutex mutex_;
  std::vector<StoredMessage> handed_;
};

constexpr int kProducers = 4;
constexpr std::ptrdiff_t kInFlightPerProducer = 32;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB_PATH [SEED]\n", argv[0]);
    return 2;
  }
  unsigned seed = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)) : 1;
  Store::Options options;
  options.path = argv[1];
  std::unique_ptr<Store> store;
  EveryOtherSink sink;
  try {
    store = Store::open(options);
    store->recover(0);  // the previous run was killed: nothing it leased is in flight any more
    store->setLeaseSink(&sink);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_crash_child: %s\n", e.what());
    return 1;
  }

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&store, p, seed] {
      std::mt19937 rng(seed * 31 + static_cast<unsigned>(p));
      std::counting_semaphore<kInFlightPerProducer> slots(kInFlightPerProducer);
      for (;;) {
        slots.acquire();
        Message m;
        m.id = newMessageId();
        m.from = "sip:producer" + std::to_string(p) + "@crash.test";
        m.to = "tel:+1555" + std::to_string(rng() % 50);
        m.contentType = "application/octet-stream";
        m.body = crashBodyFor(m.id);
        m.ingress = "crash";
        m.egress = "loopback";
        m.externalIds = {{"crash", m.id}};
        std::string id = m.id;
        store->enqueue(std::move(m), 0, [&slots, id](EnqueueResult r) {
          if (r.status == EnqueueResult::Status::Stored) report('E', id);
          slots.release();
        });
      }
    });
  }

  // The dispatcher side: what the sink was handed and what lease() finds, then ack; one message in three
  // is sent round once more first.
  threads.emplace_back([&store, &sink] {
    for (;;) {
      TimeMs now = nowMs();
      auto leased = store->lease(64, now, now + 60000, {});
      for (auto& m : sink.take()) leased.push_back(std::move(m));
      if (leased.empty()) std::this_thread::yield();
      for (const auto& m : leased) {
        if (m.attempts > 0 || m.seq % 3 != 0) {
          store->ack(m.id, "delivered", {{"crash-out", m.id}}, [id = m.id](WriteResult r) {
            if (r.status == WriteResult::Status::Ok) report('A', id);
          });
        } else {
          store->nack(m.id, now, "try again", {});
        }
      }
    }
  });
  for (auto& t : threads) t.join();
  return 0;
}
