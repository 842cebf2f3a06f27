// The SMPP adapter's work on its event-loop thread: the server role (ESMEs and SMSCs bind to us), the client role
// (we bind to operator SMSCs), outbound messages split into parts and spread over binds with windows, throughput
// limits and retries, inbound messages (single or reassembled) handed to the core and acknowledged after the
// commit, and delivery receipts both ways.
//
// Every member function runs on the loop thread unless it says otherwise. Work that touches the disk goes to the
// SmppStore worker, password hashing and DNS to a helper thread; their results come back through post().
#pragma once

#include <Poco/JSON/Object.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cpmgw/adapter.h"
#include "smpp/event_loop.h"
#include "smpp/smpp_accounts.h"
#include "smpp/smpp_config.h"
#include "smpp/smpp_session.h"
#include "smpp/smpp_store.h"

namespace Poco {
class Logger;
}  // namespace Poco

namespace cpmgw::smpp {

// Counters for REST and logs; written on the loop and store threads, read anywhere.
struct SmppCounters {
  std::atomic<std::uint64_t> moMessages{0}, moParts{0}, mtMessages{0}, mtParts{0}, mtDelivered{0}, mtFailed{0},
      mtRetried{0}, resends{0}, smscThrottled{0}, dlrMatched{0}, dlrUnmatched{0}, dlrIntermediate{0}, reportsSent{0},
      receiptsSent{0}, throttledAnswers{0}, queueFullAnswers{0}, badPdus{0}, bindsAccepted{0}, bindFailures{0},
      lockouts{0}, reassemblyTimeouts{0}, reassemblyDropped{0};
};

// ESME accounts as the loop and the admin threads see them; smpp.db is the durable copy. Thread-safe.
class AccountDirectory {
 public:
  std::optional<Account> find(const std::string& systemId) const;
  std::vector<Account> all() const;
  void replaceAll(std::vector<Account> accounts);
  void put(Account account);
  void erase(const std::string& systemId);
  // The account whose number prefix is the longest match for this recipient, if any.
  std::optional<std::string> ownerOf(const std::string& recipient) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Account> accounts_;
};

// Events per second, averaged over the last few whole seconds. Loop thread only.
class RateMeter {
 public:
  void add(std::int64_t nowMs);
  double perSecond(std::int64_t nowMs) const;

 private:
  static constexpr std::int64_t kSeconds = 5;
  std::deque<std::pair<std::int64_t, std::uint64_t>> buckets_;  // (second, count)
};

// A small thread for blocking work that must stay off the loop (PBKDF2, name resolution).
class HelperThread {
 public:
  HelperThread();
  ~HelperThread();
  void post(std::function<void()> job);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

class SmppEngine {
 public:
  SmppEngine(SmppOptions options, std::shared_ptr<EventLoop> loop, SmppStore& store, AccountDirectory& accounts,
             SmppCounters& counters, AdapterSink& sink);
  ~SmppEngine();

  void start();
  void submit(StoredMessage message, DeliveryCallback done);
  // Stops taking work, finishes (drain) or hands back in-flight messages, waits for pending inbound commits,
  // unbinds every link, then calls `stopped` (on the loop thread).
  void beginStop(bool drain, std::function<void()> stopped);
  // An account was changed or removed through REST: binds it may no longer hold are closed.
  void accountChanged(const std::string& systemId);
  Poco::JSON::Object::Ptr snapshot();

  // Any thread.
  AdapterHealth health() const;
  std::uint16_t port() const { return port_.load(); }
  std::uint16_t tlsPort() const { return tlsPort_.load(); }

 private:
  struct Bind;
  struct Conn;
  struct Link;
  struct MtJob;
  struct QueueEntry {
    std::uint64_t job;
    std::size_t part;
  };
  using Reply = std::function<void(std::uint32_t status, const std::string& messageId)>;

  // Server role.
  void startServer();
  int listenOn(const std::string& host, std::uint16_t port, std::uint16_t& bound);
  void acceptAll(int listenFd, bool tls);
  void onServerRequest(std::uint64_t connId, Pdu&& pdu);
  void handleBind(std::uint64_t connId, Pdu&& pdu);
  void finishBind(std::uint64_t connId, std::uint32_t commandId, std::uint32_t sequence, const std::string& systemId,
                  std::optional<Account> account, bool passwordOk);
  void refuseBind(Conn& conn, std::uint32_t commandId, std::uint32_t sequence, const std::string& systemId,
                  std::uint32_t status, const std::string& why, bool countsAsFailure);
  void onServerClosed(std::uint64_t connId, const std::string& reason);

  // Client role.
  void connectLink(Link& link);
  void connectResolved(Link& link, int family, const std::string& address);
  void onLinkOpen(Link& link);
  void onLinkClosed(Link& link, const std::string& reason);
  void scheduleReconnect(Link& link);

  // Outbound (MT).
  void submitReceipt(StoredMessage message, DeliveryCallback done);
  void continueReceipt(StoredMessage message, DeliveryCallback done, std::optional<MoReport> report);
  std::deque<QueueEntry>& queueFor(const MtJob& job);
  void enqueueJob(std::unique_ptr<MtJob> job);
  void pump();
  void pumpQueue(std::deque<QueueEntry>& queue, std::vector<std::shared_ptr<Bind>>& binds, std::int64_t now);
  // False when the bind could not take it after all (the part is queued again).
  bool sendPart(const QueueEntry& entry, const std::shared_ptr<Bind>& bind);
  void onPartResponse(QueueEntry entry, const std::shared_ptr<Bind>& bind, const Pdu* response,
                      const std::string& failure);
  void finishJob(std::uint64_t jobId, DeliveryOutcome outcome);

  // Inbound (MO) and receipts.
  void onInboundSm(const std::shared_ptr<Bind>& bind, Pdu&& pdu);
  void handleReceipt(const std::shared_ptr<Bind>& bind, const SmBody& sm, Reply reply);
  // `accepted`: the encoded answer the store's thread writes itself once the message is stored; empty when the
  // link cannot take it that way (TLS).
  void submitInbound(const std::shared_ptr<Bind>& bind, Message message, std::optional<MoReport> report, Reply reply,
                     std::string accepted);
  void storeMoPart(const std::shared_ptr<Bind>& bind, MoPart part, Reply reply);
  void deliverAssembly(std::vector<MoPart> parts, bool incomplete);
  void sweep();

  // Timers and stop.
  void tick();
  void checkStop();
  Reply replyFor(const std::shared_ptr<SmppSession>& session, std::uint32_t commandId, std::uint32_t sequence);
  void updateHealth();

  SmppOptions opt_;
  std::shared_ptr<EventLoop> loop_;
  SmppStore& store_;
  AccountDirectory& accounts_;
  SmppCounters& counters_;
  AdapterSink& sink_;
  Poco::Logger& log_;
  std::unique_ptr<HelperThread> helper_;
  std::shared_ptr<bool> alive_;  // helper-thread jobs check it before posting back

  // Server role.
  UniqueFd listenFd_, tlsListenFd_;
  SslCtxPtr serverTls_;
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::uint64_t nextConnId_ = 1;
  Lockout lockout_;
  std::map<std::string, TokenBucket> accountBuckets_;
  std::map<std::string, std::vector<std::shared_ptr<Bind>>> esmeBinds_;

  // Client role.
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::shared_ptr<Bind>> smscBinds_;

  // Outbound.
  std::map<std::uint64_t, std::unique_ptr<MtJob>> jobs_;
  std::uint64_t nextJobId_ = 1;
  std::deque<QueueEntry> smscQueue_;
  std::map<std::string, std::deque<QueueEntry>> esmeQueues_;
  std::uint16_t nextRef_ = 0;
  std::size_t roundRobin_ = 0;
  bool pumping_ = false;
  bool pumpAgain_ = false;

  // Inbound.
  std::size_t inboundPending_ = 0;
  std::set<std::string> assembling_;

  RateMeter rate_;  // parts sent

  // Timers and stop.
  EventLoop::TimerId tickTimer_ = 0;
  std::int64_t nextSweepAt_ = 0;
  bool stopping_ = false;
  bool drain_ = true;
  std::function<void()> stopped_;
  std::int64_t drainDeadline_ = 0;
  std::int64_t inboundDeadline_ = 0;
  std::int64_t unbindDeadline_ = 0;
  bool unbindSent_ = false;
  bool stopFinished_ = false;

  // Health, readable from any thread.
  std::atomic<std::uint16_t> port_{0}, tlsPort_{0};
  std::atomic<bool> listenFailed_{false};
  std::atomic<int> linksBound_{0};
  std::atomic<bool> started_{false};
};

}  // namespace cpmgw::smpp
