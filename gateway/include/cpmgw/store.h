// The durable store: messages, their state history, external ids, and the delivery queue.
//
// Writes go through one writer thread that batches whatever is pending into one transaction (group
// commit); each caller's callback completes only after that transaction is on disk. Callbacks run on
// the store's sync thread, in commit order: they must be short and must not call back into the store
// synchronously (post elsewhere if more work follows). Reads use their own connections.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpmgw/message.h"
#include "cpmgw/users.h"

namespace cpmgw {

namespace config {
class Schema;
class Config;
}  // namespace config

// Thrown by Store::open for a file that is corrupt, not ours, or written by a newer version.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EnqueueResult {
  enum class Status { Stored, Duplicate, Error };
  Status status = Status::Stored;
  std::string id;       // the stored id; for Duplicate, the id of the message already stored
  std::string error;    // for Error
  bool leased = false;  // Stored already leased and handed to the LeaseSink (nobody needs to look for it)
};

// Result of a write that changes one message (ack, nack, fail, retry, remove).
struct WriteResult {
  enum class Status { Ok, NotFound, Conflict, Error };
  Status status = Status::Ok;
  std::string error;
  bool nextHead = false;  // ack or fail: the conversation's next message became its head (it may be due now)
};

struct MessageFilter {
  std::optional<MessageState> state;
  std::string to;             // exact match when non-empty
  std::string egress;         // exact match when non-empty
  std::int64_t afterSeq = 0;  // cursor: only messages with seq > afterSeq
  std::size_t limit = 100;
};

struct QueueDepth {
  std::string egress;
  std::int64_t queued = 0;
  std::int64_t leased = 0;
};

// The syncs that make commits durable: every acknowledgement waits for one, so their times are the part
// of the gateway's latency that belongs to the disk.
struct DiskSyncStats {
  static constexpr std::int64_t kSlowUs = 5'000;  // a sync this long or longer counts as slow
  std::uint64_t syncs = 0;                        // since start
  std::uint64_t slow = 0;                         // since start
  std::int64_t totalUs = 0;                       // time in syncs since start
  std::int64_t longestLastMinuteUs = 0;           // the longest in this minute and the one before
};

// Takes messages from enqueue straight to their egress. A message due now that heads its conversation
// is stored already leased when the sink reserves room for it, and is handed to the sink once that
// write is committed: no lease write and no lease query for the common case of a message that can go
// at once. A crash loses nothing: the lease is returned to the queue at the next start like any other.
class LeaseSink {
 public:
  virtual ~LeaseSink() = default;
  // Writer thread, inside the batch: room for one more message to `egress`? Returns the lease's end.
  virtual std::optional<TimeMs> reserve(const std::string& egress) = 0;
  // The reserved message was not stored after all (a duplicate, an error, a failed commit).
  virtual void release(const std::string& egress) = 0;
  // Sync thread, once the commit is on disk: the message, leased, to hand out. Must not block or wait for
  // the store.
  virtual void leased(StoredMessage message) = 0;
};

class Store {
 public:
  struct Options {
    std::string path;             // database file; created with its directory when missing
    bool synchronousFull = true;  // every commit on disk before it completes (always; tests keep it too)
    std::size_t maxBatch = 1024;  // most operations in one group commit
    std::size_t readers = 4;      // read connections in the pool
    // The WAL starts again from its beginning once it holds this many frames (one page each: 32 MiB with
    // the 2 KiB pages of a new store, 64 MiB with the 4 KiB pages of an older one); at twice as many the
    // writer copies whatever the checkpointer left. Each new start holds the writes that arrive for a few
    // milliseconds.
    std::size_t walCycleFrames = 16000;
  };

  // Opens (creating when missing) and migrates the schema. Throws StoreError for a corrupt file, a file
  // that is not a cpmgw store, or a schema newer than this binary knows: never resets it.
  static std::unique_ptr<Store> open(const Options& options);
  static Options optionsFrom(const config::Config& config);  // [store] section
  static void declareConfig(config::Schema& schema);

  virtual ~Store() = default;

  // Stores the message (state Queued, due at nextAttemptAt, or now when 0) with a first history event.
  // A message whose any external id is already stored is a Duplicate: nothing is written and the
  // existing id is returned. `done` runs after the commit.
  virtual void enqueue(Message message, TimeMs dueAt, std::function<void(EnqueueResult)> done) = 0;

  // Attaches (nullptr: detaches) the sink that enqueue hands messages to. Returns when every call to an
  // earlier sink has returned. Not from a store callback.
  virtual void setLeaseSink(LeaseSink* sink) = 0;

  // Leases up to n due messages (state Queued, nextAttemptAt <= now) for the given egresses (all when
  // empty): marks them Leased until `until`. Only the oldest unfinished message of each (from, to)
  // pair can be leased, so a conversation is delivered in the order it was sent (CPM-CONV-010).
  // Synchronous: returns after the lease is committed.
  virtual std::vector<StoredMessage> lease(std::size_t n, TimeMs now, TimeMs until,
                                           const std::vector<std::string>& egresses) = 0;

  // Outcome of a leased message. Each records a history event; `done` may be empty.
  virtual void ack(const std::string& id, const std::string& detail, const std::vector<ExternalId>& externalIds,
                   std::function<void(WriteResult)> done) = 0;
  virtual void nack(const std::string& id, TimeMs retryAt, const std::string& detail,
                    std::function<void(WriteResult)> done) = 0;
  virtual void fail(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) = 0;

  // Returns leases that expired before `now` to Queued (all leases when now is 0: at start-up nothing
  // can still be in flight). Synchronous; returns how many.
  virtual std::size_t recover(TimeMs now) = 0;

  // Admin operations. retry: a Failed or Queued message becomes due now (Conflict for other states).
  // remove: a Queued or Failed message becomes Deleted and its body is dropped (Conflict when Leased,
  // Delivered or already Deleted).
  virtual WriteResult retry(const std::string& id, const std::string& detail) = 0;
  virtual WriteResult remove(const std::string& id, const std::string& detail) = 0;

  // Makes every Queued message to `to` for `egress` due at `dueAt` (a CPM user registered: deferred messages
  // go now). `done` gets how many; it runs on the store's sync thread.
  virtual void reschedule(const std::string& to, const std::string& egress, TimeMs dueAt,
                          std::function<void(std::size_t)> done) = 0;
  // Fails every Queued message created before `createdBefore` (max_age for messages that never became
  // deliverable, such as those for users who never came back). Returns them, failed, for reports.
  virtual std::vector<StoredMessage> expire(TimeMs createdBefore, const std::string& detail) = 0;

  // CPM users (credentials, enabled). Synchronous and durable.
  virtual void putUser(const UserRecord& user) = 0;
  virtual bool removeUser(const std::string& uri) = 0;
  virtual std::vector<UserRecord> loadUsers() = 0;

  // Adds a history event without changing state (reports, notes). Asynchronous like ack.
  virtual void note(const std::string& id, const std::string& detail, std::function<void(WriteResult)> done) = 0;

  // Reads (any thread).
  virtual std::optional<StoredMessage> get(const std::string& id) = 0;
  virtual std::optional<std::string> findByExternalId(const ExternalId& ref) = 0;
  virtual std::vector<StateEvent> history(const std::string& id) = 0;
  virtual std::vector<StoredMessage> list(const MessageFilter& filter) = 0;
  virtual std::vector<QueueDepth> queueDepths() = 0;
  virtual DiskSyncStats diskSyncs() = 0;
  // Earliest nextAttemptAt among Queued messages of the given egresses, if any (dispatcher wake-up).
  virtual std::optional<TimeMs> nextDue(const std::vector<std::string>& egresses) = 0;

  // Blocks until every write submitted before the call is committed.
  virtual void flush() = 0;
};

}  // namespace cpmgw
