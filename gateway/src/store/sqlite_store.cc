// The SQLite implementation of Store: one writer thread doing group commit, a sync thread that makes
// the commits durable and completes them, a checkpointer thread, and a pool of read-only connections
// for queries.
#include <Poco/Logger.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>

#include "cpmgw/callback_round.h"
#include "cpmgw/config.h"
#include "cpmgw/store.h"
#include "store/migrations.h"
#include "store/sqlite_db.h"
#include "store/wal_vfs.h"

namespace cpmgw {

namespace {

using store::Database;
using store::SqliteError;
using store::Statement;

constexpr int kBusyTimeoutMs = 10000;
// Page size of a store created here (an existing one keeps its own). A commit writes every page it
// changed into the WAL whole, and most change only a few rows on each: at 5,000 SMPP messages/s with
// SIP delivery the gateway wrote about 31 KB per message with SQLite's 4 KiB pages and 17 KB with 2 KiB
// ones. 1 KiB pages wrote a little less still, at more checkpoint CPU and deeper indexes.
constexpr int kPageSize = 2048;

// ---------------------------------------------------------------------------------------------------
// attributes <-> JSON text. A flat object of strings only, so a small exact codec is enough: bytes
// above 0x7f pass through untouched, which keeps any value byte-identical on the way back.

void appendJsonString(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string encodeAttributes(const std::map<std::string, std::string>& attributes) {
  std::string out = "{";
  for (const auto& [key, value] : attributes) {
    if (out.size() > 1) out += ',';
    appendJsonString(out, key);
    out += ':';
    appendJsonString(out, value);
  }
  out += '}';
  return out;
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  std::map<std::string, std::string> object() {
    std::map<std::string, std::string> result;
    expect('{');
    if (peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        std::string key = string();
        expect(':');
        result[std::move(key)] = string();
        char c = next();
        if (c == '}') break;
        if (c != ',') throw std::runtime_error("expected ',' or '}'");
      }
    }
    if (peek() != '\0') throw std::runtime_error("trailing characters");
    return result;
  }

 private:
  char peek() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_])) ++pos_;
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  char next() {
    char c = peek();
    if (c == '\0') throw std::runtime_error("unexpected end");
    ++pos_;
    return c;
  }
  void expect(char c) {
    if (next() != c) throw std::runtime_error(std::string("expected '") + c + "'");
  }
  unsigned hex4() {
    if (pos_ + 4 > text_.size()) throw std::runtime_error("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        throw std::runtime_error("bad \\u escape");
    }
    return v;
  }
  static void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) throw std::runtime_error("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) throw std::runtime_error("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && pos_ + 6 <= text_.size() && text_[pos_] == '\\' &&
              text_[pos_ + 1] == 'u') {
            pos_ += 2;
            unsigned low = hex4();
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          throw std::runtime_error("bad escape");
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Row mapping

const std::string kColumns =
    "id, seq, from_addr, to_addr, content_type, body, file_ref, ingress, egress, decision, attributes, state, "
    "attempts, created_at, updated_at, next_attempt_at, lease_until, last_error";

std::string stateText(MessageState s) {
  return std::string(toString(s));
}

StoredMessage readMessage(const Statement& row) {
  StoredMessage m;
  m.id = row.columnText(0);
  m.seq = row.columnInt(1);
  m.from = row.columnText(2);
  m.to = row.columnText(3);
  m.contentType = row.columnText(4);
  m.body = row.columnBlob(5);
  m.fileRef = row.columnText(6);
  m.ingress = row.columnText(7);
  m.egress = row.columnText(8);
  m.decision = row.columnText(9);
  try {
    m.attributes = JsonReader(row.columnText(10)).object();
  } catch (const std::exception& e) {
    throw std::runtime_error("message " + m.id + ": attributes are not a JSON object of strings: " + e.what());
  }
  std::string state = row.columnText(11);
  if (!parseMessageState(state, m.state)) throw std::runtime_error("message " + m.id + ": unknown state " + state);
  m.attempts = static_cast<int>(row.columnInt(12));
  m.createdAt = row.columnInt(13);
  m.updatedAt = row.columnInt(14);
  m.nextAttemptAt = row.columnInt(15);
  m.leaseUntil = row.columnInt(16);
  m.lastError = row.columnText(17);
  return m;
}

void loadExternalIds(Database& db, StoredMessage& m) {
  auto stmt = db.cached("SELECT kind, value FROM external_ids WHERE message_seq = ?1 ORDER BY rowid");
  stmt->bind(1, m.seq);
  while (stmt->step()) m.externalIds.push_back({stmt->columnText(0), stmt->columnText(1)});
}

std::vector<std::string> distinct(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

Poco::Logger& logger() {
  static Poco::Logger& logger = Poco::Logger::get("cpmgw.store");
  return logger;
}

// ---------------------------------------------------------------------------------------------------
// Write operations queued for the writer thread.

class Op {
 public:
  virtual ~Op() = default;
  // Runs inside the batch transaction; throwing rolls back this operation only. It may run again after the
  // batch was rolled back: undo() is called first.
  virtual void apply() = 0;
  // The batch was rolled back after apply() and is going to run again: give back what apply() took
  // outside the database.
  virtual void undo() noexcept {}
  // The operation did not commit (apply threw, or the whole transaction failed).
  virtual void failed(const std::string& error) noexcept = 0;
  // On the sync thread once the commit is on disk, outside every lock: hand the result over.
  virtual void complete() noexcept = 0;
  // After every operation of the batch completed: work nobody waits for (a leased message to its
  // egress), so that the batch's acknowledgements go out first.
  virtual void handOut() noexcept {}
};

// Hands a result to a caller's callback; what the callback throws is logged, never let into the writer.
template <class Result>
void handOver(const std::function<void(Result)>& done, Result result) noexcept {
  if (!done) return;
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    logger().error("store callback threw: %s", std::string(e.what()));
  } catch (...) {
    logger().error("store callback threw a non-standard exception");
  }
}

// An operation whose result (EnqueueResult or WriteResult) goes to a callback.
template <class Result, class Fn>
class CallbackOp final : public Op {
 public:
  CallbackOp(Fn fn, std::function<void(Result)> done) : fn_(std::move(fn)), done_(std::move(done)) {}
  void apply() override { result_ = fn_(); }
  void failed(const std::string& error) noexcept override {
    result_ = Result{};
    result_.status = Result::Status::Error;
    result_.error = error;
  }
  void complete() noexcept override { handOver(done_, std::move(result_)); }

 private:
  Fn fn_;
  std::function<void(Result)> done_;
  Result result_;
};

// An operation a caller waits for; a failure reaches the caller as StoreError from the future.
template <class Result, class Fn>
class WaitOp final : public Op {
 public:
  explicit WaitOp(Fn fn) : fn_(std::move(fn)) {}
  std::future<Result> future() { return promise_.get_future(); }
  void apply() override { result_ = fn_(); }
  void failed(const std::string& error) noexcept override {
    result_.reset();
    error_ = error;
  }
  void complete() noexcept override {
    if (result_)
      promise_.set_value(std::move(*result_));
    else
      promise_.set_exception(std::make_exception_ptr(StoreError(error_)));
  }

 private:
  Fn fn_;
  std::promise<Result> promise_;
  std::optional<Result> result_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------------
// Read-only connections, handed out one per query.

class ReaderPool {
 public:
  ReaderPool(const std::string& path, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      auto db = std::make_unique<Database>(path, SQLITE_OPEN_READONLY);
      db->setBusyTimeout(kBusyTimeoutMs);
      idle_.push_back(std::move(db));
    }
  }

  class Borrowed {
   public:
    Borrowed(ReaderPool& pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    ~Borrowed() { pool_.giveBack(std::move(db_)); }
    Database& operator*() const { return *db_; }
    Database* operator->() const { return db_.get(); }

   private:
    ReaderPool& pool_;
    std::unique_ptr<Database> db_;
  };

  Borrowed borrow() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto db = std::move(idle_.back());
    idle_.pop_back();
    return Borrowed(*this, std::move(db));
  }

 private:
  void giveBack(std::unique_ptr<Database> db) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(db));
    }
    available_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Database>> idle_;
};

// A file of the store synced by path (fdatasync). Opened on the first sync, when the file exists; any
// descriptor of the file will do: fdatasync flushes the file, whoever wrote it.
class FileSync {
 public:
  explicit FileSync(std::string path) : path_(std::move(path)) {}
  ~FileSync() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileSync(const FileSync&) = delete;
  FileSync& operator=(const FileSync&) = delete;
  // "" once the file's data is on disk, else what went wrong.
  std::string sync() {
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 || ::fdatasync(fd_) != 0) return "cannot sync " + path_ + ": " + std::strerror(errno);
    return {};
  }
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------------
// WAL checkpoints on a thread of their own. Done by the writer (SQLite's default), a checkpoint copies
// a thousand pages back into the database file and syncs it inside some caller's commit: that commit
// then takes several times as long, which is what the slowest acknowledgements wait for. Here the
// writer only signals after a commit that kPages frames are waiting to be copied, and this thread
// copies them (PASSIVE: SQLite never makes the writer wait for it) while the writer goes on
// appending. Waiting for that many matters: a pass copies each page once, the latest frame of it, and
// the same few pages (the ends of the tables and indexes) are in most commits. Passes after every
// commit copied those pages again each time, at four to five times the CPU per message.
//
// The WAL starts again from its beginning only when a writer finds every frame copied, which under
// steady writing the checkpointer never achieves alone (new frames arrive while it copies): the WAL
// would grow without end. So once the WAL holds a cycle's frames (Options::walCycleFrames), the
// checkpointer copies again, a few passes at most, until fewer than kNearlyDone frames are left (each
// pass only has the frames written during the last), and then asks the writer to copy that rest
// itself, between two transactions; the next transaction reuses the WAL from its start. At twice a
// cycle the writer does so whatever is left (the checkpointer fell behind), waiting for a pass the
// checkpointer is in: SQLite lets one checkpoint run at a time and refuses the others, so a writer that
// only tried would leave the WAL growing for as long as the passes last. The writer copies after it
// has handed its last commit to the sync thread, not inside that commit: the copy takes two disk syncs
// (the WAL before, the database after), about 2 ms here, and the commit's acknowledgements need not
// wait for them. The writes that arrive meanwhile do wait, which is why a cycle is long.

class Checkpointer {
 public:
  static constexpr int kPages = 1000;      // start a pass when this many frames wait to be copied
  static constexpr int kNearlyDone = 200;  // frames left for the writer to copy

  // `cycleFrames`: bring the WAL back to its start once it holds this many (see above). `sync`: sync the
  // database file after each pass (see syncDatabase).
  Checkpointer(const std::string& path, int cycleFrames, bool sync)
      : resetPages_(cycleFrames),
        writerPages_(2 * cycleFrames),
        sync_(sync),
        file_(path),
        db_(path, SQLITE_OPEN_READWRITE) {
    db_.setBusyTimeout(kBusyTimeoutMs);
    // A connection finds out that the file is in WAL mode when it first reads it; until then a checkpoint
    // through it does nothing at all (and says so only by reporting -1 frames).
    db_.queryInt("PRAGMA user_version");
    thread_ = std::thread([this] { run(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  // sqlite3_wal_hook callback of the writer connection (it replaces SQLite's own automatic checkpoint):
  // after every commit, with the WAL's size in pages.
  static int onCommit(void* self, sqlite3*, const char*, int pages) {
    auto* checkpointer = static_cast<Checkpointer*>(self);
    int copied = checkpointer->copied_;
    if (pages < copied) checkpointer->copied_ = copied = 0;  // the WAL started again from its beginning
    if (checkpointer->nearlyDone_.exchange(false) || pages >= checkpointer->writerPages_)
      checkpointer->writerCopies_ = true;
    else if (pages - copied >= kPages)
      checkpointer->request();
    return SQLITE_OK;
  }
  // Writer thread, between two transactions: copies the rest of the WAL when the last commit asked for it,
  // after the checkpointer's pass if it is in one (the checkpointer then ends its round).
  void copyRest(Database& writer) {
    if (!std::exchange(writerCopies_, false)) return;
    writerWaits_ = true;
    std::lock_guard pass(pass_);
    writerWaits_ = false;
    sqlite3_wal_checkpoint_v2(writer.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    ++writerCopied_;
  }

 private:
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    wake_.notify_one();
  }
  void run() {
    pthread_setname_np(pthread_self(), "cpmgw-ckpt");
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || requested_; });
        if (stopping_) return;
        requested_ = false;
      }
      // At most a few passes: a writer as fast as the copying would keep this going for ever. The rest is
      // then what arrived during the last pass, the least there can be. None once the writer has copied the
      // rest itself: a pass would find everything copied and ask it to copy again.
      const std::uint64_t writerCopied = writerCopied_;
      for (int pass = 0; pass < 4 && !writerWaits_; ++pass) {
        std::lock_guard passing(pass_);
        if (writerCopied_ != writerCopied) break;
        int logged = 0, copied = 0, before = copied_;
        int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
        if (rc != SQLITE_OK) {
          if (rc != SQLITE_BUSY)
            logger().warning("WAL checkpoint of %s failed: %s", db_.path(), std::string(sqlite3_errmsg(db_.handle())));
          break;
        }
        copied_ = copied;
        if (copied > before) syncDatabase();
        if (logged < resetPages_) break;
        if (logged - copied < kNearlyDone || pass == 3) {
          nearlyDone_ = true;
          break;
        }
      }
      // Commits during the passes asked again, counting as waiting the frames the passes copied: a pass
      // now would only copy the few frames since, and sync the WAL for them. The next commit asks again
      // when a thousand frames wait.
      std::lock_guard lock(mutex_);
      requested_ = false;
    }
  }
  // SQLite syncs the database file only after a pass that finds every frame copied, which under steady
  // writing is only the writer's copy of the rest: that sync then held every page copied since the WAL
  // last started, 4 to 6 ms here while new writes waited. Synced after each pass instead, off the
  // writer's path, the pages are on disk by then. A failure here is SQLite's to find again: the WAL
  // keeps the frames until a pass whose own sync succeeds.
  void syncDatabase() {
    if (!sync_) return;
    if (std::string error = file_.sync(); !error.empty()) logger().warning("%s (after a WAL checkpoint)", error);
  }

  const int resetPages_;   // the WAL starts again once it holds this many frames
  const int writerPages_;  // the writer copies the rest however much it is
  const bool sync_;
  FileSync file_;  // the database file, for syncDatabase
  Database db_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::mutex pass_;                             // held for a checkpoint pass, by this thread or the writer
  std::atomic<bool> writerWaits_{false};        // the writer waits for pass_: make no further pass
  std::atomic<std::uint64_t> writerCopied_{0};  // the writer's copies so far (changed under pass_)
  std::atomic<bool> nearlyDone_{false};         // set here, taken by the writer's next commit
  bool writerCopies_ = false;                   // writer thread only: copyRest() has work
  std::atomic<int> copied_{0};                  // WAL frames copied by the last pass
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------------
// Making commits durable beside the writer. The writer connection commits with synchronous=NORMAL:
// the commit writes its frames to the WAL and returns without syncing. The writer hands the batch
// here and applies the next one meanwhile; this thread syncs the WAL once (fdatasync, which covers
// every frame written before it started) for all the batches that came in, and only then completes
// their operations in order: no acknowledgement goes out before its commit is on disk, as with
// synchronous=FULL, but the writer no longer stops for the disk. A crash loses at most commits that
// nobody was told about; SQLite keeps the database consistent (WAL checksums), and its checkpoints
// still sync the WAL before copying it. A failed fdatasync leaves it unknown what reached the disk: the
// operations fail and the store refuses every later write until the gateway is restarted.

class Syncer {
 public:
  // `onSettled` runs on this thread whenever everything handed over is completed.
  Syncer(std::string walPath, bool sync, std::function<void()> onSettled)
      : wal_(std::move(walPath)), sync_(sync), onSettled_(std::move(onSettled)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Syncer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();  // completes everything handed over first
  }
  // Writer thread, after the commit (or its failure): complete `batch` once the WAL is synced. A batch
  // that changed no row (`wrote` false) needs no sync of its own, only those before it.
  void committed(std::vector<std::unique_ptr<Op>> batch, bool wrote) {
    unsettled_ += batch.size();
    {
      std::lock_guard lock(mutex_);
      for (auto& op : batch) pending_.push_back(std::move(op));
      dirty_ = dirty_ || wrote;
    }
    wake_.notify_one();
  }
  // Everything handed over is completed: no callback can queue more work.
  bool settled() const { return unsettled_ == 0; }
  // Why writes are refused: "" while the disk has taken every sync.
  std::string broken() {
    std::lock_guard lock(mutex_);
    return broken_;
  }
  std::thread::id threadId() const { return thread_.get_id(); }
  DiskSyncStats stats() {
    std::int64_t now = minuteOf(std::chrono::steady_clock::now());
    std::lock_guard lock(statsMutex_);
    DiskSyncStats s = stats_;
    if (now == minute_)
      s.longestLastMinuteUs = std::max(longest_, longestBefore_);
    else if (now == minute_ + 1)
      s.longestLastMinuteUs = longest_;
    return s;
  }

 private:
  static constexpr std::int64_t kReportUs = 1'000'000;  // a sync this long is logged

  void run() {
    pthread_setname_np(pthread_self(), "cpmgw-sync");
    std::vector<std::unique_ptr<Op>> batch;
    for (;;) {
      bool dirty;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, and nothing left
        batch.swap(pending_);
        dirty = std::exchange(dirty_, false);
      }
      std::string error = broken();
      if (error.empty() && dirty && !(error = sync()).empty()) {
        logger().critical("%s", error);
        std::lock_guard lock(mutex_);
        broken_ = error + "; writes are refused until restart";
      }
      if (!error.empty())
        for (auto& op : batch) op->failed(error);
      {
        CallbackRound round;  // the callbacks of one sync: answers to the same peer leave in one write
        for (auto& op : batch) op->complete();
      }
      for (auto& op : batch) op->handOut();
      if ((unsettled_ -= batch.size()) == 0) onSettled_();
      batch.clear();
    }
  }
  std::string sync() {
    if (!sync_) return {};
    // The first sync comes after the writer's first commit: by then the WAL exists.
    auto start = std::chrono::steady_clock::now();
    std::string error = wal_.sync();
    record(start, std::chrono::steady_clock::now());
    return error.empty() ? error : error + "; the last commits may not be on disk";
  }
  void record(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
    std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(end - start).count();
    if (us >= kReportUs)
      logger().warning("syncing %s took %s ms: every acknowledgement in flight waited for it", wal_.path(),
                       std::to_string(us / 1000));
    std::int64_t minute = minuteOf(end);
    std::lock_guard lock(statsMutex_);
    ++stats_.syncs;
    stats_.totalUs += us;
    if (us >= DiskSyncStats::kSlowUs) ++stats_.slow;
    if (minute != minute_) {
      longestBefore_ = minute == minute_ + 1 ? longest_ : 0;
      longest_ = 0;
      minute_ = minute;
    }
    longest_ = std::max(longest_, us);
  }
  static std::int64_t minuteOf(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
  }

  FileSync wal_;
  const bool sync_;
  const std::function<void()> onSettled_;
  std::atomic<std::size_t> unsettled_{0};  // handed over, not completed yet
  std::mutex statsMutex_;                  // stats_, minute_, longest_, longestBefore_
  DiskSyncStats stats_;
  std::int64_t minute_ = 0;         // of the last sync
  std::int64_t longest_ = 0;        // in minute_
  std::int64_t longestBefore_ = 0;  // in the minute before
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Op>> pending_;
  bool dirty_ = false;  // pending_ holds a commit that changed rows
  std::string broken_;
  bool stopping_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------------
// Opening: refuse anything that is not a healthy cpmgw store we understand, before writing a byte.

[[noreturn]] void refuse(const std::string& path, const std::string& reason) {
  throw StoreError(path + ": " + reason + "; refusing to start");
}

void checkExistingFile(const std::string& path) {
  if (auto problem = store::existingFileProblem(path); !problem.empty()) refuse(path, problem);
}

void checkDatabase(Database& db) {
  auto problem = store::databaseProblem(db, store::kApplicationId, store::latestSchemaVersion(), "cpmgw store");
  if (!problem.empty()) refuse(db.path(), problem);
}

// ---------------------------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const Options& options);
  ~SqliteStore() override;

  void enqueue(Message message, TimeMs dueAt, std::function<void(EnqueueResult)> done) override;
  void setLeaseSink(LeaseSink* sink) override;
  std::vector<StoredMessage> lease(std::size_t n, TimeMs now, TimeMs until,
                                   const std::vector<std::string>& egresses) override;
  void ack(const std::string& id, const std::string& detail, const std::vector<ExternalId>& externalIds,
           std::function<void(WriteResult)> done) override;
  void nack(const std::string& id, TimeMs retryAt, const std::string& detail,
            std::function<void(WriteResult)> done) override;
  void fail(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) override;
  std::size_t recover(TimeMs now) override;
  WriteResult retry(const std::string& id, const std::string& detail) override;
  WriteResult remove(const std::string& id, const std::string& detail) override;
  void note(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) override;
  void reschedule(const std::string& to, const std::string& egress, TimeMs dueAt,
                  std::function<void(std::size_t)> done) override;
  std::vector<StoredMessage> expire(TimeMs createdBefore, const std::string& detail) override;
  void putUser(const UserRecord& user) override;
  bool removeUser(const std::string& uri) override;
  std::vector<UserRecord> loadUsers() override;

  std::optional<StoredMessage> get(const std::string& id) override;
  std::optional<std::string> findByExternalId(const ExternalId& ref) override;
  std::vector<StateEvent> history(const std::string& id) override;
  std::vector<StoredMessage> list(const MessageFilter& filter) override;
  std::vector<QueueDepth> queueDepths() override;
  DiskSyncStats diskSyncs() override { return syncer_->stats(); }
  std::optional<TimeMs> nextDue(const std::vector<std::string>& egresses) override;
  void flush() override;

 private:
  // The state of one message as the writer needs it to decide a transition.
  struct Row {
    std::int64_t seq = 0;
    std::string convKey;
    MessageState state = MessageState::Queued;
  };

  class EnqueueOp;

  void submit(std::unique_ptr<Op> op);
  template <class Result, class Fn>
  void submitAsync(Fn fn, std::function<void(Result)> done);
  template <class Result, class Fn>
  Result submitAndWait(const char* what, Fn fn);
  void writerLoop();
  void runBatch(std::vector<std::unique_ptr<Op>>& batch);
  // Applies the whole batch in one transaction and commits: true. When an operation throws, rolls the
  // batch back and undoes what was applied: false.
  bool applyTogether(std::vector<std::unique_ptr<Op>>& batch);

  // Writer-thread helpers (run inside the batch transaction).
  std::optional<Row> findRow(const std::string& id);
  void addEvent(const std::string& id, std::int64_t seq, TimeMs at, MessageState state, const std::string& detail);
  void recordExternalIds(const std::string& id, std::int64_t seq, const std::vector<ExternalId>& ids);
  bool promoteHead(const std::string& convKey);
  void reopen(const std::string& id, const Row& row);
  EnqueueResult doEnqueue(const Message& m, TimeMs dueAt, std::optional<StoredMessage>& leased);
  std::vector<StoredMessage> doLease(std::size_t n, TimeMs now, TimeMs until, const std::vector<std::string>& egresses);
  WriteResult doFinish(const std::string& id, MessageState to, TimeMs retryAt, const std::string& detail,
                       const std::vector<ExternalId>& externalIds);
  std::size_t doRecover(TimeMs now);
  WriteResult doRetry(const std::string& id, const std::string& detail);
  WriteResult doRemove(const std::string& id, const std::string& detail);
  WriteResult doNote(const std::string& id, const std::string& detail);
  std::size_t doReschedule(const std::string& to, const std::string& egress, TimeMs dueAt);
  std::vector<StoredMessage> doExpire(TimeMs createdBefore, const std::string& detail);

  Options options_;
  std::unique_ptr<Database> writer_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<Syncer> syncer_;
  LeaseSink* sink_ = nullptr;  // writer thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Op>> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

SqliteStore::SqliteStore(const Options& options) : options_(options) {
  namespace fs = std::filesystem;
  const std::string& path = options_.path;
  if (path.empty()) throw StoreError("store path is empty");
  if (options_.maxBatch == 0) options_.maxBatch = 1;
  if (options_.readers == 0) options_.readers = 1;

  checkExistingFile(path);
  bool existed = fs::exists(path);
  if (!existed) {
    fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) throw StoreError(path + ": cannot create directory " + parent.string() + ": " + ec.message());
  }

  try {
    // An existing file is opened without CREATE so that a file removed meanwhile is not silently recreated.
    int flags = SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
    // Through the VFS that writes each commit's WAL frames with one call (store/wal_vfs.h): the writer
    // needs a sixth to a quarter less CPU per message.
    writer_ = std::make_unique<Database>(path, flags, store::walGatheringVfs());
    writer_->setBusyTimeout(kBusyTimeoutMs);
  } catch (const SqliteError& e) {
    throw StoreError(path + ": cannot open: " + e.what());
  }
  checkDatabase(*writer_);

  try {
    writer_->exec("PRAGMA page_size = " + std::to_string(kPageSize));  // takes effect only in a new file
    std::string mode = writer_->queryText("PRAGMA journal_mode = WAL");
    if (mode != "wal") refuse(path, "cannot switch to WAL journal mode (got " + mode + ")");
    // Durable all the same when synchronousFull: the Syncer syncs the WAL before anything completes.
    writer_->exec("PRAGMA synchronous = NORMAL");
    writer_->exec("PRAGMA foreign_keys = ON");
    // 16 MiB instead of SQLite's 2 MiB: index pages touched by a large batch stay cached between commits
    // (filling a store with 100k messages took about half the time).
    writer_->exec("PRAGMA cache_size = -16384");
    // The per-operation savepoints keep the original of every page they touch in a sub-journal; kept in
    // memory it costs no system calls, as a temporary file it made most of the write(2) calls.
    writer_->exec("PRAGMA temp_store = MEMORY");
    store::migrate(*writer_);
    readers_ = std::make_unique<ReaderPool>(path, options_.readers);
    checkpointer_ =
        std::make_unique<Checkpointer>(path, static_cast<int>(options_.walCycleFrames), options_.synchronousFull);
    sqlite3_wal_hook(writer_->handle(), &Checkpointer::onCommit, checkpointer_.get());
    // Once stopping, the writer waits for the callbacks of its last commits: they may queue more writes.
    syncer_ = std::make_unique<Syncer>(path + "-wal", options_.synchronousFull, [this] {
      {
        std::lock_guard lock(mutex_);
        if (!stopping_) return;
      }
      wake_.notify_one();
    });
  } catch (const SqliteError& e) {
    throw StoreError(path + ": " + e.what());
  }
  thread_ = std::thread([this] { writerLoop(); });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  // The writer drains everything still pending, also what callbacks queue meanwhile, before it exits:
  // no callback is dropped.
  thread_.join();
  syncer_.reset();
  checkpointer_.reset();
  readers_.reset();
  writer_.reset();
}

void SqliteStore::submit(std::unique_ptr<Op> op) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(op));
  }
  wake_.notify_one();
}

template <class Result, class Fn>
void SqliteStore::submitAsync(Fn fn, std::function<void(Result)> done) {
  submit(std::make_unique<CallbackOp<Result, Fn>>(std::move(fn), std::move(done)));
}

template <class Result, class Fn>
Result SqliteStore::submitAndWait(const char* what, Fn fn) {
  // From a callback this would wait for the very thread it runs on.
  if (std::this_thread::get_id() == syncer_->threadId())
    throw std::logic_error(std::string("Store::") + what + " called from a store callback");
  auto op = std::make_unique<WaitOp<Result, Fn>>(std::move(fn));
  auto future = op->future();
  submit(std::move(op));
  return future.get();
}

void SqliteStore::writerLoop() {
  pthread_setname_np(pthread_self(), "cpmgw-store");  // visible in top -H, perf and gdb
  std::vector<std::unique_ptr<Op>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !pending_.empty() || (stopping_ && syncer_->settled()); });
      if (pending_.empty()) return;  // stopping, nothing left to commit, and no callback left to queue more
      std::size_t n = std::min(pending_.size(), options_.maxBatch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    auto changes = sqlite3_total_changes64(writer_->handle());
    runBatch(batch);
    syncer_->committed(std::move(batch), sqlite3_total_changes64(writer_->handle()) != changes);
    batch.clear();
    checkpointer_->copyRest(*writer_);
  }
}

// A batch runs first without savepoints: a savepoint copies every page its operation changes (the
// original, to roll back to), which cost the writer about a tenth of its time. Only when an operation
// throws is the batch rolled back and run again with a savepoint per operation, so that the failure
// stays that operation's own.
void SqliteStore::runBatch(std::vector<std::unique_ptr<Op>>& batch) {
  Database& db = *writer_;
  if (auto broken = syncer_->broken(); !broken.empty()) {
    for (auto& op : batch) op->failed(broken);
    return;
  }
  try {
    if (applyTogether(batch)) return;
    store::Transaction tx(db, "BEGIN IMMEDIATE");
    for (auto& op : batch) {
      db.cached("SAVEPOINT op")->run();
      try {
        op->apply();
        db.cached("RELEASE op")->run();
      } catch (const std::exception& e) {
        op->failed(e.what());
        // If SQLite already rolled back the whole transaction (I/O error, disk full) this throws and the
        // outer handler fails the batch, which is then the truth.
        db.cached("ROLLBACK TO op")->run();
        db.cached("RELEASE op")->run();
      }
    }
    tx.commit();
  } catch (const std::exception& e) {
    std::string error = std::string("commit failed: ") + e.what();
    logger().error("%s", error);
    for (auto& op : batch) op->failed(error);
  }
}

bool SqliteStore::applyTogether(std::vector<std::unique_ptr<Op>>& batch) {
  store::Transaction tx(*writer_, "BEGIN IMMEDIATE");
  std::size_t applied = 0;
  try {
    for (; applied < batch.size(); ++applied) batch[applied]->apply();
  } catch (const std::exception&) {
    for (std::size_t i = 0; i <= applied; ++i) batch[i]->undo();  // the one that threw included
    return false;                                                 // tx rolls back
  }
  tx.commit();
  return true;
}

// --- writer-thread helpers --------------------------------------------------------------------------

std::optional<SqliteStore::Row> SqliteStore::findRow(const std::string& id) {
  auto stmt = writer_->cached("SELECT seq, conv_key, state FROM messages WHERE id = ?1");
  stmt->bind(1, id);
  if (!stmt->step()) return std::nullopt;
  Row row;
  row.seq = stmt->columnInt(0);
  row.convKey = stmt->columnText(1);
  std::string state = stmt->columnText(2);
  if (!parseMessageState(state, row.state)) throw std::runtime_error("message " + id + ": unknown state " + state);
  return row;
}

void SqliteStore::addEvent(const std::string& id, std::int64_t seq, TimeMs at, MessageState state,
                           const std::string& detail) {
  auto stmt = writer_->cached(
      "INSERT INTO message_events (message_id, message_seq, at, state, detail) VALUES (?1, ?2, ?3, ?4, ?5)");
  stmt->bind(1, id).bind(2, seq).bind(3, at).bind(4, toString(state)).bind(5, detail);
  stmt->run();
}

void SqliteStore::recordExternalIds(const std::string& id, std::int64_t seq, const std::vector<ExternalId>& ids) {
  for (const auto& ext : ids) {
    // An id already recorded (for this or another message) keeps its first owner.
    auto stmt = writer_->cached(
        "INSERT OR IGNORE INTO external_ids (kind, value, message_id, message_seq) VALUES (?1, ?2, ?3, ?4)");
    stmt->bind(1, ext.kind).bind(2, ext.value).bind(3, id).bind(4, seq);
    stmt->run();
  }
}

// After a message of the conversation finished: the oldest still unfinished one becomes its head. True
// when one did.
bool SqliteStore::promoteHead(const std::string& convKey) {
  auto stmt = writer_->cached(
      "UPDATE messages SET conv_head = 1 WHERE conv_head = 0 AND seq = (SELECT seq FROM messages WHERE conv_key = "
      "?1 AND state IN ('queued', 'leased') ORDER BY seq LIMIT 1)");
  stmt->bind(1, convKey);
  stmt->run();
  return writer_->changes() > 0;
}

// A finished (failed) message becomes unfinished again: it is the head when nothing older is unfinished.
void SqliteStore::reopen(const std::string& id, const Row& row) {
  std::optional<std::int64_t> oldest;
  {
    auto stmt = writer_->cached(
        "SELECT seq FROM messages WHERE conv_key = ?1 AND state IN ('queued', 'leased') ORDER BY seq LIMIT 1");
    stmt->bind(1, row.convKey);
    if (stmt->step()) oldest = stmt->columnInt(0);
  }
  bool head = !oldest || *oldest > row.seq;
  if (head && oldest) {
    auto stmt = writer_->cached("UPDATE messages SET conv_head = 0 WHERE seq = ?1");
    stmt->bind(1, *oldest);
    stmt->run();
  }
  auto stmt = writer_->cached("UPDATE messages SET conv_head = ?2 WHERE id = ?1");
  stmt->bind(1, id).bind(2, head ? 1 : 0);
  stmt->run();
}

EnqueueResult SqliteStore::doEnqueue(const Message& m, TimeMs dueAt, std::optional<StoredMessage>& leased) {
  Database& db = *writer_;
  for (const auto& ext : m.externalIds) {
    auto stmt = db.cached("SELECT message_id FROM external_ids WHERE kind = ?1 AND value = ?2");
    stmt->bind(1, ext.kind).bind(2, ext.value);
    if (stmt->step()) return {EnqueueResult::Status::Duplicate, stmt->columnText(0), {}};
  }
  std::string convKey = m.from + '\n' + m.to;
  bool head;
  {
    auto stmt = db.cached("SELECT 1 FROM messages WHERE conv_key = ?1 AND state IN ('queued', 'leased') LIMIT 1");
    stmt->bind(1, convKey);
    head = !stmt->step();
  }
  TimeMs now = nowMs();
  // A head that is due now goes to the sink leased, when it has room: the write that stores it leases it.
  std::optional<TimeMs> leaseUntil;
  if (head && dueAt <= now && sink_) leaseUntil = sink_->reserve(m.egress);
  std::int64_t seq = 0;
  try {
    // seq from the index maximum rather than a counter in memory: correct whoever wrote last. Asked
    // before the INSERT: INSERT ... RETURNING collects its rows in a temporary b-tree, built and torn
    // down again for every message.
    {
      auto next = db.cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages");
      if (!next->step()) throw std::runtime_error("SELECT MAX(seq) returned no row");
      seq = next->columnInt(0);
    }
    auto stmt = db.cached(
        "INSERT INTO messages (id, seq, conv_key, from_addr, to_addr, content_type, body, file_ref, ingress, egress, "
        "decision, attributes, state, attempts, created_at, updated_at, next_attempt_at, lease_until, last_error, "
        "conv_head) VALUES (?1, ?18, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?16, 0, ?12, ?13, ?14, ?17, '', ?15)");
    stmt->bind(1, m.id)
        .bind(2, convKey)
        .bind(3, m.from)
        .bind(4, m.to)
        .bind(5, m.contentType)
        .bindBlob(6, m.body)
        .bind(7, m.fileRef)
        .bind(8, m.ingress)
        .bind(9, m.egress)
        .bind(10, m.decision)
        .bind(11, encodeAttributes(m.attributes))
        .bind(12, m.createdAt)
        .bind(13, now)
        .bind(14, dueAt)
        .bind(15, head ? 1 : 0)
        .bind(16, toString(leaseUntil ? MessageState::Leased : MessageState::Queued))
        .bind(17, leaseUntil.value_or(0))
        .bind(18, seq);
    stmt->run();
    recordExternalIds(m.id, seq, m.externalIds);
    addEvent(m.id, seq, now, MessageState::Queued, "enqueued");
    if (leaseUntil) addEvent(m.id, seq, now, MessageState::Leased, "leased");
  } catch (...) {
    if (leaseUntil) sink_->release(m.egress);
    throw;
  }
  if (leaseUntil) {
    StoredMessage& out = leased.emplace();
    static_cast<Message&>(out) = m;
    out.seq = seq;
    out.state = MessageState::Leased;
    out.updatedAt = now;
    out.nextAttemptAt = dueAt;
    out.leaseUntil = *leaseUntil;
  }
  return {EnqueueResult::Status::Stored, m.id, {}, leaseUntil.has_value()};
}

std::vector<StoredMessage> SqliteStore::doLease(std::size_t n, TimeMs now, TimeMs until,
                                                const std::vector<std::string>& egresses) {
  Database& db = *writer_;
  std::vector<StoredMessage> leased;
  auto collect = [&](const std::string& sql, const std::string* egress) {
    auto stmt = db.cached(sql);
    stmt->bind(1, now).bind(2, static_cast<std::int64_t>(n));
    if (egress) stmt->bind(3, *egress);
    while (stmt->step()) leased.push_back(readMessage(*stmt));
  };
  // INDEXED BY: without statistics the planner prefers messages_by_state, which walks every queued row.
  if (egresses.empty()) {
    collect("SELECT " + kColumns +
                " FROM messages INDEXED BY messages_due WHERE state = 'queued' AND conv_head = 1 AND "
                "next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?2",
            nullptr);
  } else {
    // One index range per egress, merged here: a backlog for one egress never slows leasing for another.
    for (const auto& egress : distinct(egresses))
      collect("SELECT " + kColumns +
                  " FROM messages INDEXED BY messages_due_by_egress WHERE state = 'queued' AND conv_head = 1 AND "
                  "egress = ?3 AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?2",
              &egress);
    std::sort(leased.begin(), leased.end(), [](const StoredMessage& a, const StoredMessage& b) {
      return std::tie(a.nextAttemptAt, a.seq) < std::tie(b.nextAttemptAt, b.seq);
    });
    if (leased.size() > n) leased.resize(n);
  }
  for (auto& m : leased) {
    auto stmt = db.cached("UPDATE messages SET state = 'leased', lease_until = ?2, updated_at = ?3 WHERE seq = ?1");
    stmt->bind(1, m.seq).bind(2, until).bind(3, now);
    stmt->run();
    m.state = MessageState::Leased;
    m.leaseUntil = until;
    m.updatedAt = now;
    addEvent(m.id, m.seq, now, MessageState::Leased, "leased");
    loadExternalIds(db, m);
  }
  return leased;
}

WriteResult SqliteStore::doFinish(const std::string& id, MessageState to, TimeMs retryAt, const std::string& detail,
                                  const std::vector<ExternalId>& externalIds) {
  auto row = findRow(id);
  if (!row) return {WriteResult::Status::NotFound, "no message " + id};
  if (row->state != MessageState::Leased)
    return {WriteResult::Status::Conflict, "message " + id + " is " + stateText(row->state) + ", not leased"};
  TimeMs now = nowMs();
  WriteResult result;
  if (to == MessageState::Queued) {
    auto stmt = writer_->cached(
        "UPDATE messages SET state = 'queued', attempts = attempts + 1, next_attempt_at = ?2, lease_until = 0, "
        "last_error = ?3, updated_at = ?4 WHERE seq = ?1");
    stmt->bind(1, row->seq).bind(2, retryAt).bind(3, detail).bind(4, now);
    stmt->run();
  } else {
    // Delivered or Failed: the message leaves its conversation's queue. last_error keeps the reason of a
    // failure; a delivery leaves the last retry's reason for the record.
    auto stmt = writer_->cached(
        "UPDATE messages SET state = ?2, attempts = attempts + 1, lease_until = 0, conv_head = 0, updated_at = ?3, "
        "last_error = CASE WHEN ?2 = 'failed' THEN ?4 ELSE last_error END WHERE seq = ?1");
    stmt->bind(1, row->seq).bind(2, toString(to)).bind(3, now).bind(4, detail);
    stmt->run();
    result.nextHead = promoteHead(row->convKey);
  }
  recordExternalIds(id, row->seq, externalIds);
  addEvent(id, row->seq, now, to, detail);
  return result;
}

std::size_t SqliteStore::doRecover(TimeMs now) {
  Database& db = *writer_;
  TimeMs at = now != 0 ? now : nowMs();
  std::vector<std::pair<std::string, std::int64_t>> ids;
  {
    auto stmt = db.cached(
        "UPDATE messages SET state = 'queued', lease_until = 0, updated_at = ?2 WHERE state = 'leased' AND (?1 = 0 "
        "OR lease_until < ?1) RETURNING id, seq");
    stmt->bind(1, now).bind(2, at);
    while (stmt->step()) ids.emplace_back(stmt->columnText(0), stmt->columnInt(1));
  }
  for (const auto& [id, seq] : ids) addEvent(id, seq, at, MessageState::Queued, "lease expired");
  return ids.size();
}

WriteResult SqliteStore::doRetry(const std::string& id, const std::string& detail) {
  auto row = findRow(id);
  if (!row) return {WriteResult::Status::NotFound, "no message " + id};
  if (row->state != MessageState::Failed && row->state != MessageState::Queued)
    return {WriteResult::Status::Conflict, "message " + id + " is " + stateText(row->state) + ", cannot retry"};
  TimeMs now = nowMs();
  if (row->state == MessageState::Failed) reopen(id, *row);
  auto stmt =
      writer_->cached("UPDATE messages SET state = 'queued', next_attempt_at = ?2, updated_at = ?2 WHERE seq = ?1");
  stmt->bind(1, row->seq).bind(2, now);
  stmt->run();
  addEvent(id, row->seq, now, MessageState::Queued, detail);
  return {};
}

WriteResult SqliteStore::doRemove(const std::string& id, const std::string& detail) {
  auto row = findRow(id);
  if (!row) return {WriteResult::Status::NotFound, "no message " + id};
  if (row->state != MessageState::Failed && row->state != MessageState::Queued)
    return {WriteResult::Status::Conflict, "message " + id + " is " + stateText(row->state) + ", cannot remove"};
  TimeMs now = nowMs();
  auto stmt = writer_->cached(
      "UPDATE messages SET state = 'deleted', body = NULL, conv_head = 0, lease_until = 0, updated_at = ?2 WHERE "
      "seq = ?1");
  stmt->bind(1, row->seq).bind(2, now);
  stmt->run();
  if (row->state == MessageState::Queued) promoteHead(row->convKey);
  addEvent(id, row->seq, now, MessageState::Deleted, detail);
  return {};
}

WriteResult SqliteStore::doNote(const std::string& id, const std::string& detail) {
  auto row = findRow(id);
  if (!row) return {WriteResult::Status::NotFound, "no message " + id};
  addEvent(id, row->seq, nowMs(), row->state, detail);
  return {};
}

std::size_t SqliteStore::doReschedule(const std::string& to, const std::string& egress, TimeMs dueAt) {
  auto stmt = writer_->cached(
      "UPDATE messages SET next_attempt_at = ?3 WHERE to_addr = ?1 AND egress = ?2 AND state = 'queued' AND "
      "next_attempt_at > ?3");
  stmt->bind(1, to).bind(2, egress).bind(3, dueAt);
  stmt->run();
  return static_cast<std::size_t>(sqlite3_changes(writer_->handle()));
}

std::vector<StoredMessage> SqliteStore::doExpire(TimeMs createdBefore, const std::string& detail) {
  std::vector<StoredMessage> expired;
  {
    // INDEXED BY: the planner would otherwise walk every queued row through messages_by_state.
    auto stmt = writer_->cached("SELECT " + kColumns +
                                " FROM messages INDEXED BY messages_queued_by_created WHERE state = 'queued' AND "
                                "created_at < ?1");
    stmt->bind(1, createdBefore);
    while (stmt->step()) expired.push_back(readMessage(*stmt));
  }
  TimeMs now = nowMs();
  for (auto& m : expired) {
    auto stmt = writer_->cached(
        "UPDATE messages SET state = 'failed', conv_head = 0, last_error = ?2, updated_at = ?3 WHERE seq = ?1");
    stmt->bind(1, m.seq).bind(2, detail).bind(3, now);
    stmt->run();
    addEvent(m.id, m.seq, now, MessageState::Failed, detail);
    m.state = MessageState::Failed;
    m.lastError = detail;
    m.updatedAt = now;
  }
  // The next message of each conversation becomes its head (after all are failed: several may share one).
  for (auto& m : expired) promoteHead(m.from + "\n" + m.to);
  return expired;
}

void SqliteStore::reschedule(const std::string& to, const std::string& egress, TimeMs dueAt,
                             std::function<void(std::size_t)> done) {
  struct Count {
    enum class Status { Ok, Error };
    Status status = Status::Ok;
    std::string error;
    std::size_t n = 0;
  };
  submitAsync<Count>(
      [this, to, egress, dueAt] {
        Count c;
        c.n = doReschedule(to, egress, dueAt);
        return c;
      },
      [done = std::move(done), to](Count c) {
        if (c.status == Count::Status::Error) logger().error("rescheduling messages to %s failed: %s", to, c.error);
        if (done) done(c.n);
      });
}

std::vector<StoredMessage> SqliteStore::expire(TimeMs createdBefore, const std::string& detail) {
  return submitAndWait<std::vector<StoredMessage>>(
      "expire", [this, createdBefore, &detail] { return doExpire(createdBefore, detail); });
}

void SqliteStore::putUser(const UserRecord& u) {
  submitAndWait<bool>("put user", [this, &u] {
    auto stmt = writer_->cached(
        "INSERT INTO users (uri, auth_name, realm, ha1, enabled, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT(uri) DO UPDATE SET auth_name = excluded.auth_name, realm = excluded.realm, ha1 = excluded.ha1, "
        "enabled = excluded.enabled, updated_at = excluded.updated_at");
    stmt->bind(1, u.uri).bind(2, u.authName).bind(3, u.realm).bind(4, u.ha1);
    stmt->bind(5, static_cast<std::int64_t>(u.enabled ? 1 : 0)).bind(6, u.updatedAt);
    stmt->run();
    return true;
  });
}

bool SqliteStore::removeUser(const std::string& uri) {
  return submitAndWait<bool>("remove user", [this, &uri] {
    auto stmt = writer_->cached("DELETE FROM users WHERE uri = ?1");
    stmt->bind(1, uri);
    stmt->run();
    return sqlite3_changes(writer_->handle()) > 0;
  });
}

std::vector<UserRecord> SqliteStore::loadUsers() {
  auto db = readers_->borrow();
  auto stmt = db->cached("SELECT uri, auth_name, realm, ha1, enabled, updated_at FROM users ORDER BY uri");
  std::vector<UserRecord> users;
  while (stmt->step()) {
    users.push_back({stmt->columnText(0), stmt->columnText(1), stmt->columnText(2), stmt->columnText(3),
                     stmt->columnInt(4) != 0, stmt->columnInt(5)});
  }
  return users;
}

// --- public writes ----------------------------------------------------------------------------------

// An enqueue that may lease its message to the sink: a reservation that does not commit is released.
class SqliteStore::EnqueueOp final : public Op {
 public:
  EnqueueOp(SqliteStore& store, Message message, TimeMs dueAt, std::function<void(EnqueueResult)> done)
      : store_(store), message_(std::move(message)), dueAt_(dueAt), done_(std::move(done)) {}
  void apply() override {
    sink_ = store_.sink_;
    result_ = store_.doEnqueue(message_, dueAt_, leased_);
  }
  void undo() noexcept override {
    if (leased_) {
      sink_->release(leased_->egress);
      leased_.reset();
    }
  }
  void failed(const std::string& error) noexcept override {
    undo();
    result_ = {EnqueueResult::Status::Error, message_.id, error};
  }
  void complete() noexcept override { handOver(done_, std::move(result_)); }
  void handOut() noexcept override {
    if (leased_) sink_->leased(std::move(*leased_));
  }

 private:
  SqliteStore& store_;
  Message message_;
  TimeMs dueAt_;
  std::function<void(EnqueueResult)> done_;
  EnqueueResult result_;
  LeaseSink* sink_ = nullptr;  // the sink the reservation was made with
  std::optional<StoredMessage> leased_;
};

void SqliteStore::enqueue(Message message, TimeMs dueAt, std::function<void(EnqueueResult)> done) {
  if (message.id.empty()) message.id = newMessageId();
  TimeMs now = nowMs();
  if (message.createdAt == 0) message.createdAt = now;
  if (dueAt == 0) dueAt = now;
  submit(std::make_unique<EnqueueOp>(*this, std::move(message), dueAt, std::move(done)));
}

void SqliteStore::setLeaseSink(LeaseSink* sink) {
  // On the writer thread between two operations: an enqueue that reserved with the old sink completes
  // with it before this returns (it is earlier in the same batch or in an earlier one, and the sync
  // thread completes in commit order).
  submitAndWait<bool>("set lease sink", [this, sink] {
    sink_ = sink;
    return true;
  });
}

std::vector<StoredMessage> SqliteStore::lease(std::size_t n, TimeMs now, TimeMs until,
                                              const std::vector<std::string>& egresses) {
  if (n == 0) return {};
  return submitAndWait<std::vector<StoredMessage>>(
      "lease", [this, n, now, until, &egresses] { return doLease(n, now, until, egresses); });
}

void SqliteStore::ack(const std::string& id, const std::string& detail, const std::vector<ExternalId>& externalIds,
                      std::function<void(WriteResult)> done) {
  submitAsync<WriteResult>(
      [this, id, detail, externalIds] { return doFinish(id, MessageState::Delivered, 0, detail, externalIds); },
      std::move(done));
}

void SqliteStore::nack(const std::string& id, TimeMs retryAt, const std::string& detail,
                       std::function<void(WriteResult)> done) {
  submitAsync<WriteResult>(
      [this, id, retryAt, detail] { return doFinish(id, MessageState::Queued, retryAt, detail, {}); }, std::move(done));
}

void SqliteStore::fail(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) {
  submitAsync<WriteResult>([this, id, detail] { return doFinish(id, MessageState::Failed, 0, detail, {}); },
                           std::move(done));
}

std::size_t SqliteStore::recover(TimeMs now) {
  return submitAndWait<std::size_t>("recover", [this, now] { return doRecover(now); });
}

WriteResult SqliteStore::retry(const std::string& id, const std::string& detail) {
  try {
    return submitAndWait<WriteResult>("retry", [this, &id, &detail] { return doRetry(id, detail); });
  } catch (const StoreError& e) {
    return {WriteResult::Status::Error, e.what()};
  }
}

WriteResult SqliteStore::remove(const std::string& id, const std::string& detail) {
  try {
    return submitAndWait<WriteResult>("remove", [this, &id, &detail] { return doRemove(id, detail); });
  } catch (const StoreError& e) {
    return {WriteResult::Status::Error, e.what()};
  }
}

void SqliteStore::note(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) {
  submitAsync<WriteResult>([this, id, detail] { return doNote(id, detail); }, std::move(done));
}

void SqliteStore::flush() {
  submitAndWait<bool>("flush", [] { return true; });
}

// --- reads ------------------------------------------------------------------------------------------

std::optional<StoredMessage> SqliteStore::get(const std::string& id) {
  auto db = readers_->borrow();
  // One read transaction: the row and its external ids come from the same snapshot.
  store::Transaction tx(*db);
  auto stmt = db->cached("SELECT " + kColumns + " FROM messages WHERE id = ?1");
  stmt->bind(1, id);
  if (!stmt->step()) return std::nullopt;
  StoredMessage m = readMessage(*stmt);
  loadExternalIds(*db, m);
  return m;
}

std::optional<std::string> SqliteStore::findByExternalId(const ExternalId& ref) {
  auto db = readers_->borrow();
  auto stmt = db->cached("SELECT message_id FROM external_ids WHERE kind = ?1 AND value = ?2");
  stmt->bind(1, ref.kind).bind(2, ref.value);
  if (!stmt->step()) return std::nullopt;
  return stmt->columnText(0);
}

std::vector<StateEvent> SqliteStore::history(const std::string& id) {
  auto db = readers_->borrow();
  auto stmt = db->cached(
      "SELECT at, state, detail FROM message_events WHERE message_seq = (SELECT seq FROM messages WHERE id = ?1) "
      "ORDER BY id");
  stmt->bind(1, id);
  std::vector<StateEvent> events;
  while (stmt->step()) {
    StateEvent e;
    e.at = stmt->columnInt(0);
    std::string state = stmt->columnText(1);
    if (!parseMessageState(state, e.state)) throw std::runtime_error("history of " + id + ": unknown state " + state);
    e.detail = stmt->columnText(2);
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<StoredMessage> SqliteStore::list(const MessageFilter& filter) {
  if (filter.limit == 0) return {};
  std::string sql = "SELECT " + kColumns + " FROM messages WHERE seq > ?1";
  if (filter.state) sql += " AND state = ?3";
  if (!filter.to.empty()) sql += " AND to_addr = ?4";
  if (!filter.egress.empty()) sql += " AND egress = ?5";
  sql += " ORDER BY seq LIMIT ?2";
  auto db = readers_->borrow();
  store::Transaction tx(*db);
  std::vector<StoredMessage> out;
  {
    auto stmt = db->cached(sql);
    stmt->bind(1, filter.afterSeq).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX)));
    if (filter.state) stmt->bind(3, toString(*filter.state));
    if (!filter.to.empty()) stmt->bind(4, filter.to);
    if (!filter.egress.empty()) stmt->bind(5, filter.egress);
    while (stmt->step()) out.push_back(readMessage(*stmt));
  }
  for (auto& m : out) loadExternalIds(*db, m);
  return out;
}

std::vector<QueueDepth> SqliteStore::queueDepths() {
  auto db = readers_->borrow();
  auto stmt = db->cached(
      "SELECT egress, state, count(*) FROM messages INDEXED BY messages_open_by_egress WHERE state IN ('queued', "
      "'leased') GROUP BY egress, state ORDER BY egress");
  std::vector<QueueDepth> out;
  while (stmt->step()) {
    std::string egress = stmt->columnText(0);
    if (out.empty() || out.back().egress != egress) out.push_back({egress, 0, 0});
    (stmt->columnText(1) == "queued" ? out.back().queued : out.back().leased) = stmt->columnInt(2);
  }
  return out;
}

std::optional<TimeMs> SqliteStore::nextDue(const std::vector<std::string>& egresses) {
  // Heads only: a message waiting behind an older one of its conversation is not due yet, and a
  // dispatcher woken for it would find nothing to lease.
  auto db = readers_->borrow();
  if (egresses.empty()) {
    auto stmt = db->cached(
        "SELECT next_attempt_at FROM messages INDEXED BY messages_due WHERE state = 'queued' AND conv_head = 1 "
        "ORDER BY next_attempt_at, seq LIMIT 1");
    if (!stmt->step()) return std::nullopt;
    return stmt->columnInt(0);
  }
  std::optional<TimeMs> earliest;
  for (const auto& egress : distinct(egresses)) {
    auto stmt = db->cached(
        "SELECT next_attempt_at FROM messages INDEXED BY messages_due_by_egress WHERE state = 'queued' AND "
        "conv_head = 1 AND egress = ?1 ORDER BY next_attempt_at, seq LIMIT 1");
    stmt->bind(1, egress);
    if (stmt->step() && (!earliest || stmt->columnInt(0) < *earliest)) earliest = stmt->columnInt(0);
  }
  return earliest;
}

}  // namespace

// --- Store statics ----------------------------------------------------------------------------------

std::unique_ptr<Store> Store::open(const Options& options) {
  return std::make_unique<SqliteStore>(options);
}

Store::Options Store::optionsFrom(const config::Config& config) {
  Options options;
  options.path = config.getString("store.path");
  options.maxBatch = static_cast<std::size_t>(config.getInt("store.max_batch"));
  options.readers = static_cast<std::size_t>(config.getInt("store.readers"));
  return options;
}

void Store::declareConfig(config::Schema& schema) {
  schema.add({.section = "store",
              .name = "path",
              .type = config::Type::Path,
              .defaultValue = "cpmgw.db",
              .help = "SQLite database file of the store; a relative path is taken under the data directory"});
  schema.add({.section = "store",
              .name = "max_batch",
              .type = config::Type::Int,
              .defaultValue = "1024",
              .help = "Most write operations committed together in one transaction (group commit)",
              .min = 1,
              .max = 100000});
  schema.add({.section = "store",
              .name = "readers",
              .type = config::Type::Int,
              .defaultValue = "4",
              .help = "Read-only database connections kept open for queries",
              .min = 1,
              .max = 64});
}

}  // namespace cpmgw
