// The SMPP adapter's own durable tables in smpp.db (SQLite, WAL, synchronous=FULL): ESME accounts, parts of inbound
// concatenated messages awaiting the rest, the SMSC message_id of every outbound part awaiting its receipt, and what
// an ESME's receipt will need for the messages it sent us.
//
// One worker thread owns the connection and commits whatever is queued in one transaction (group commit); each
// operation's callback runs on that thread after the commit, so the event loop never waits on the disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "smpp/smpp_accounts.h"

namespace cpmgw::store {
class Database;
}  // namespace cpmgw::store

namespace cpmgw::smpp {

struct MoPart {
  std::string assembly;  // origin|source|dest|reference|total
  int seq = 0;
  int total = 0;
  std::string origin;  // system_id of the ESME, or the SMSC bind's group
  std::string source;
  std::uint8_t sourceTon = 0;
  std::uint8_t sourceNpi = 0;
  std::string dest;
  std::uint8_t destTon = 0;
  std::uint8_t destNpi = 0;
  std::uint8_t dataCoding = 0;
  std::string payload;    // user data without the UDH
  std::string messageId;  // what the sender was given for this part
  std::uint8_t registeredDelivery = 0;
  std::int64_t arrivedAt = 0;
};

struct StorePartResult {
  bool ok = false;
  std::string error;
  std::string messageId;   // of this part (the stored one for a repeat)
  bool duplicate = false;  // this part was stored before (or its message was delivered already)
  bool complete = false;   // every part is stored now: `parts` holds them in order
  std::vector<MoPart> parts;
};

struct PendingAssembly {
  std::string key;
  int total = 0;
  bool complete = false;
  std::vector<MoPart> parts;  // in seq order
};

struct ReceiptResult {
  bool ok = false;
  bool matched = false;
  std::string messageId;    // gateway id of the message the receipt is for
  std::string finalStatus;  // "delivered" or "failed" once every part is final; empty before
  int parts = 0;
};

struct MoReport {
  std::string messageId;  // gateway id of the inbound message
  std::string systemId;   // the ESME that sent it
  std::string senderIds;  // message_ids it was given, comma-separated (one per part)
  int registeredDelivery = 0;
  std::string source;
  std::uint8_t sourceTon = 0;
  std::uint8_t sourceNpi = 0;
  std::string dest;
  std::uint8_t destTon = 0;
  std::uint8_t destNpi = 0;
  std::int64_t submittedAt = 0;
  std::string text;  // the first characters, for the receipt's text: field
};

// SMSC message ids are compared without case and leading zeros.
std::string canonicalSmscId(const std::string& id);
// The spellings a receipt may use for an id given as `id` in submit_sm_resp: itself, and hex<->decimal, because
// SMSCs are known to answer in hex and report in decimal (or the reverse).
std::vector<std::string> smscIdVariants(const std::string& id);

class SmppStore {
 public:
  // Opens (creating when missing) and migrates smpp.db; ":memory:" keeps it in memory. Throws std::runtime_error for a
  // file that is not an SMPP store or was written by a newer version.
  explicit SmppStore(const std::string& path);
  ~SmppStore();
  SmppStore(const SmppStore&) = delete;
  SmppStore& operator=(const SmppStore&) = delete;

  // Accounts: synchronous (start-up, admin threads). Throw std::runtime_error on a storage error.
  std::vector<Account> loadAccounts();
  void putAccount(const Account& account);
  bool deleteAccount(const std::string& systemId);

  // Inbound concatenation.
  void storePart(MoPart part, std::function<void(StorePartResult)> done);
  void finishAssembly(const std::string& key, std::int64_t now, std::function<void(bool ok)> done);
  void dueAssemblies(std::int64_t now, std::int64_t timeoutMs, std::function<void(std::vector<PendingAssembly>)> done);
  std::int64_t pendingAssemblies();

  // Outbound receipts.
  void recordSmscId(const std::string& origin, const std::string& smscId, const std::string& messageId, int part,
                    int total, std::int64_t now);
  // A part's final receipt; reports the message's outcome once every part is final.
  void applyReceipt(const std::string& origin, const std::string& smscId, bool delivered,
                    std::function<void(ReceiptResult)> done);
  void dropMessage(const std::string& messageId);

  // Receipts towards ESMEs.
  void recordMoReport(MoReport report);
  void findMoReport(const std::string& messageId, std::function<void(std::optional<MoReport>)> done);
  void deleteMoReport(const std::string& messageId);

  // Drops correlation data older than reportWaitMs and reassembly tombstones older than tombstoneMs.
  void sweep(std::int64_t now, std::int64_t reportWaitMs, std::int64_t tombstoneMs);
  // Waits until everything queued before the call is committed and its callback ran.
  void flush();

 private:
  struct Op {
    std::function<void(store::Database&)> run;
    std::function<void(bool ok, const std::string& error)> after;
  };
  void enqueue(Op op);
  template <typename R>
  R call(std::function<R(store::Database&)> fn);
  void run();
  void migrate();

  std::unique_ptr<store::Database> db_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Op> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cpmgw::smpp
