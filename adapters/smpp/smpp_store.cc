#include "smpp/smpp_store.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <sstream>
#include <stdexcept>

#include "store/sqlite_db.h"

namespace cpmgw::smpp {
namespace {

constexpr int kSchemaVersion = 1;
constexpr std::size_t kMaxBatch = 512;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS accounts (
  system_id TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL, iterations INTEGER NOT NULL,
  allowed_ips TEXT NOT NULL, max_binds INTEGER NOT NULL, tps INTEGER NOT NULL, number_prefixes TEXT NOT NULL,
  enabled INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mo_parts (
  assembly TEXT NOT NULL, seq INTEGER NOT NULL, total INTEGER NOT NULL, origin TEXT NOT NULL,
  source TEXT NOT NULL, source_ton INTEGER NOT NULL, source_npi INTEGER NOT NULL,
  dest TEXT NOT NULL, dest_ton INTEGER NOT NULL, dest_npi INTEGER NOT NULL,
  data_coding INTEGER NOT NULL, payload BLOB NOT NULL, message_id TEXT NOT NULL,
  registered_delivery INTEGER NOT NULL, arrived_at INTEGER NOT NULL, done_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (assembly, seq));
CREATE TABLE IF NOT EXISTS mt_parts (
  origin TEXT NOT NULL, smsc_id TEXT NOT NULL, message_id TEXT NOT NULL, part INTEGER NOT NULL,
  total INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  PRIMARY KEY (origin, smsc_id));
CREATE INDEX IF NOT EXISTS mt_parts_message ON mt_parts (message_id);
CREATE TABLE IF NOT EXISTS mo_reports (
  message_id TEXT PRIMARY KEY, system_id TEXT NOT NULL, sender_ids TEXT NOT NULL,
  registered_delivery INTEGER NOT NULL, source TEXT NOT NULL, source_ton INTEGER NOT NULL,
  source_npi INTEGER NOT NULL, dest TEXT NOT NULL, dest_ton INTEGER NOT NULL, dest_npi INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL, text TEXT NOT NULL);
)";

enum PartState { kPending = 0, kDelivered = 1, kFailed = 2 };

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

const char* kPartColumns =
    "assembly, seq, total, origin, source, source_ton, source_npi, dest, dest_ton, dest_npi, data_coding, payload, "
    "message_id, registered_delivery, arrived_at";

MoPart readPart(store::Statement& s) {
  MoPart p;
  p.assembly = s.columnText(0);
  p.seq = static_cast<int>(s.columnInt(1));
  p.total = static_cast<int>(s.columnInt(2));
  p.origin = s.columnText(3);
  p.source = s.columnText(4);
  p.sourceTon = static_cast<std::uint8_t>(s.columnInt(5));
  p.sourceNpi = static_cast<std::uint8_t>(s.columnInt(6));
  p.dest = s.columnText(7);
  p.destTon = static_cast<std::uint8_t>(s.columnInt(8));
  p.destNpi = static_cast<std::uint8_t>(s.columnInt(9));
  p.dataCoding = static_cast<std::uint8_t>(s.columnInt(10));
  p.payload = s.columnBlob(11);
  p.messageId = s.columnText(12);
  p.registeredDelivery = static_cast<std::uint8_t>(s.columnInt(13));
  p.arrivedAt = s.columnInt(14);
  return p;
}

std::vector<MoPart> loadParts(store::Database& db, const std::string& key) {
  auto s = db.cached(std::string("SELECT ") + kPartColumns + " FROM mo_parts WHERE assembly = ? ORDER BY seq");
  s->bind(1, key);
  std::vector<MoPart> parts;
  while (s->step()) parts.push_back(readPart(*s));
  return parts;
}

bool allOf(const std::string& s, const char* set) {
  return !s.empty() && s.find_first_not_of(set) == std::string::npos;
}

}  // namespace

std::string canonicalSmscId(const std::string& id) {
  std::string s;
  for (char c : id)
    if (!std::isspace(static_cast<unsigned char>(c)))
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto first = s.find_first_not_of('0');
  if (first == std::string::npos) return s.empty() ? s : "0";
  return s.substr(first);
}

std::vector<std::string> smscIdVariants(const std::string& id) {
  std::vector<std::string> out{canonicalSmscId(id)};
  const std::string c = out.front();  // a copy: add() grows `out`
  auto add = [&](std::string v) {
    v = canonicalSmscId(v);
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  };
  if (allOf(c, "0123456789") && c.size() <= 19) {
    std::ostringstream hex;
    hex << std::hex << std::stoull(c);
    add(hex.str());
  }
  if (allOf(c, "0123456789abcdef") && c.size() <= 15) add(std::to_string(std::stoull(c, nullptr, 16)));
  return out;
}

SmppStore::SmppStore(const std::string& path) {
  db_ = std::make_unique<store::Database>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  try {
    db_->setBusyTimeout(5000);
    if (path != ":memory:") {
      std::string mode = db_->queryText("PRAGMA journal_mode = WAL");
      if (mode != "wal") throw std::runtime_error("cannot switch to WAL (journal_mode " + mode + ")");
    }
    db_->exec("PRAGMA synchronous = FULL");
    migrate();
  } catch (const store::SqliteError& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  thread_ = std::thread([this] { run(); });
}

SmppStore::~SmppStore() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void SmppStore::migrate() {
  auto version = db_->queryInt("PRAGMA user_version");
  if (version > kSchemaVersion)
    throw std::runtime_error("written by a newer cpmgw (schema " + std::to_string(version) + ")");
  if (version == 0) {
    // A file with someone else's tables is not ours to write into.
    auto tables = db_->queryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    if (tables > 0) throw std::runtime_error("not an SMPP store (it has tables but no schema version)");
    store::Transaction tx(*db_);
    db_->exec(kSchema);
    db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
  }
}

void SmppStore::enqueue(Op op) {
  {
    std::lock_guard lock(mutex_);
    if (!stop_) {
      queue_.push_back(std::move(op));
      cv_.notify_one();
      return;
    }
  }
  // Only the destructor stops the worker; nothing should be queued after it, but a caller must never wait forever.
  if (op.after) op.after(false, "the SMPP store is closed");
}

template <typename R>
R SmppStore::call(std::function<R(store::Database&)> fn) {
  auto result = std::make_shared<std::optional<R>>();
  std::promise<void> finished;
  auto future = finished.get_future();
  std::string failure;
  enqueue({[fn, result](store::Database& db) { *result = fn(db); },
           [&finished, &failure](bool ok, const std::string& error) {
             if (!ok) failure = error;
             finished.set_value();
           }});
  future.wait();
  if (!failure.empty() || !result->has_value()) throw std::runtime_error("smpp store: " + failure);
  return std::move(**result);
}

void SmppStore::run() {
  for (;;) {
    std::vector<Op> batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<std::pair<bool, std::string>> results(batch.size(), {true, {}});
    try {
      store::Transaction tx(*db_, "BEGIN IMMEDIATE");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // A savepoint per operation: one failing write does not undo the others of the batch.
        db_->cached("SAVEPOINT op")->run();
        try {
          batch[i].run(*db_);
          db_->cached("RELEASE op")->run();
        } catch (const std::exception& e) {
          results[i] = {false, e.what()};
          db_->cached("ROLLBACK TO op")->run();
          db_->cached("RELEASE op")->run();
        }
      }
      tx.commit();
    } catch (const std::exception& e) {
      for (auto& r : results) r = {false, std::string("commit failed: ") + e.what()};
    }
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch[i].after) batch[i].after(results[i].first, results[i].second);
  }
}

void SmppStore::flush() {
  std::promise<void> done;
  auto f = done.get_future();
  enqueue({[](store::Database&) {}, [&done](bool, const std::string&) { done.set_value(); }});
  f.wait();
}

std::vector<Account> SmppStore::loadAccounts() {
  return call<std::vector<Account>>([](store::Database& db) {
    std::vector<Account> out;
    auto s = db.prepare(
        "SELECT system_id, salt, hash, iterations, allowed_ips, max_binds, tps, number_prefixes, enabled, created_at, "
        "updated_at FROM accounts ORDER BY system_id");
    while (s.step()) {
      Account a;
      a.systemId = s.columnText(0);
      a.salt = s.columnBlob(1);
      a.hash = s.columnBlob(2);
      a.iterations = static_cast<int>(s.columnInt(3));
      a.allowedIps = split(s.columnText(4));
      a.maxBinds = static_cast<int>(s.columnInt(5));
      a.tps = static_cast<int>(s.columnInt(6));
      a.numberPrefixes = split(s.columnText(7));
      a.enabled = s.columnInt(8) != 0;
      a.createdAt = s.columnInt(9);
      a.updatedAt = s.columnInt(10);
      out.push_back(std::move(a));
    }
    return out;
  });
}

void SmppStore::putAccount(const Account& a) {
  call<bool>([a](store::Database& db) {
    auto s = db.cached(
        "INSERT OR REPLACE INTO accounts (system_id, salt, hash, iterations, allowed_ips, max_binds, tps, "
        "number_prefixes, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s->bind(1, a.systemId).bindBlob(2, a.salt).bindBlob(3, a.hash).bind(4, a.iterations);
    s->bind(5, join(a.allowedIps)).bind(6, a.maxBinds).bind(7, a.tps).bind(8, join(a.numberPrefixes));
    s->bind(9, a.enabled ? 1 : 0).bind(10, a.createdAt).bind(11, a.updatedAt);
    s->run();
    return true;
  });
}

bool SmppStore::deleteAccount(const std::string& systemId) {
  return call<bool>([systemId](store::Database& db) {
    auto s = db.cached("DELETE FROM accounts WHERE system_id = ?");
    s->bind(1, systemId).run();
    return db.changes() > 0;
  });
}

void SmppStore::storePart(MoPart part, std::function<void(StorePartResult)> done) {
  auto result = std::make_shared<StorePartResult>();
  enqueue({[part, result](store::Database& db) {
             auto tomb = db.cached(
                 "SELECT message_id FROM mo_parts WHERE assembly = ? AND done_at > 0 ORDER BY seq = ? DESC LIMIT 1");
             tomb->bind(1, part.assembly).bind(2, part.seq);
             if (tomb->step()) {
               // The message these parts made was delivered already: a late repeat.
               result->duplicate = true;
               result->messageId = tomb->columnText(0);
               return;
             }
             auto ins = db.cached(std::string("INSERT OR IGNORE INTO mo_parts (") + kPartColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             ins->bind(1, part.assembly).bind(2, part.seq).bind(3, part.total).bind(4, part.origin);
             ins->bind(5, part.source).bind(6, part.sourceTon).bind(7, part.sourceNpi).bind(8, part.dest);
             ins->bind(9, part.destTon).bind(10, part.destNpi).bind(11, part.dataCoding).bindBlob(12, part.payload);
             ins->bind(13, part.messageId).bind(14, part.registeredDelivery).bind(15, part.arrivedAt);
             ins->run();
             result->duplicate = db.changes() == 0;
             auto id = db.cached("SELECT message_id FROM mo_parts WHERE assembly = ? AND seq = ?");
             id->bind(1, part.assembly).bind(2, part.seq);
             if (id->step()) result->messageId = id->columnText(0);
             auto count = db.cached("SELECT count(*) FROM mo_parts WHERE assembly = ?");
             count->bind(1, part.assembly);
             count->step();
             if (count->columnInt(0) >= part.total) {
               result->complete = true;
               result->parts = loadParts(db, part.assembly);
             }
           },
           [result, done](bool ok, const std::string& error) {
             result->ok = ok;
             result->error = error;
             done(std::move(*result));
           }});
}

void SmppStore::finishAssembly(const std::string& key, std::int64_t now, std::function<void(bool)> done) {
  enqueue({[key, now](store::Database& db) {
             auto s = db.cached("UPDATE mo_parts SET done_at = ?, payload = x'' WHERE assembly = ? AND done_at = 0");
             s->bind(1, now).bind(2, key).run();
           },
           [done](bool ok, const std::string&) {
             if (done) done(ok);
           }});
}

void SmppStore::dueAssemblies(std::int64_t now, std::int64_t timeoutMs,
                              std::function<void(std::vector<PendingAssembly>)> done) {
  auto result = std::make_shared<std::vector<PendingAssembly>>();
  enqueue({[now, timeoutMs, result](store::Database& db) {
             std::vector<PendingAssembly> due;
             {
               auto s = db.cached(
                   "SELECT assembly, max(total), count(*), min(arrived_at) FROM mo_parts WHERE done_at = 0 "
                   "GROUP BY assembly HAVING count(*) >= max(total) OR min(arrived_at) <= ?");
               s->bind(1, now - timeoutMs);
               while (s->step()) {
                 PendingAssembly a;
                 a.key = s->columnText(0);
                 a.total = static_cast<int>(s->columnInt(1));
                 a.complete = s->columnInt(2) >= a.total;
                 due.push_back(std::move(a));
               }
             }
             for (auto& a : due) a.parts = loadParts(db, a.key);
             *result = std::move(due);
           },
           [result, done](bool, const std::string&) { done(std::move(*result)); }});
}

std::int64_t SmppStore::pendingAssemblies() {
  return call<std::int64_t>([](store::Database& db) {
    return db.queryInt("SELECT count(DISTINCT assembly) FROM mo_parts WHERE done_at = 0");
  });
}

void SmppStore::recordSmscId(const std::string& origin, const std::string& smscId, const std::string& messageId,
                             int part, int total, std::int64_t now) {
  enqueue({[=](store::Database& db) {
             auto s = db.cached(
                 "INSERT OR REPLACE INTO mt_parts (origin, smsc_id, message_id, part, total, state, created_at) "
                 "VALUES (?, ?, ?, ?, ?, 0, ?)");
             s->bind(1, origin).bind(2, canonicalSmscId(smscId)).bind(3, messageId).bind(4, part).bind(5, total);
             s->bind(6, now).run();
           },
           {}});
}

void SmppStore::applyReceipt(const std::string& origin, const std::string& smscId, bool delivered,
                             std::function<void(ReceiptResult)> done) {
  auto result = std::make_shared<ReceiptResult>();
  enqueue({[=](store::Database& db) {
             std::string found;
             for (const auto& v : smscIdVariants(smscId)) {
               auto s = db.cached("SELECT message_id FROM mt_parts WHERE origin = ? AND smsc_id = ?");
               s->bind(1, origin).bind(2, v);
               if (s->step()) {
                 result->messageId = s->columnText(0);
                 found = v;
                 break;
               }
             }
             if (found.empty()) return;
             result->matched = true;
             auto upd = db.cached("UPDATE mt_parts SET state = ? WHERE origin = ? AND smsc_id = ?");
             upd->bind(1, delivered ? kDelivered : kFailed).bind(2, origin).bind(3, found).run();
             auto agg = db.cached(
                 "SELECT count(*), sum(state = 0), sum(state = 2), max(total) FROM mt_parts WHERE message_id = ?");
             agg->bind(1, result->messageId);
             agg->step();
             auto rows = agg->columnInt(0), pending = agg->columnInt(1), failed = agg->columnInt(2),
                  total = agg->columnInt(3);
             result->parts = static_cast<int>(total);
             if (rows >= total && pending == 0) {
               result->finalStatus = failed > 0 ? "failed" : "delivered";
               auto del = db.cached("DELETE FROM mt_parts WHERE message_id = ?");
               del->bind(1, result->messageId).run();
             }
           },
           [result, done](bool ok, const std::string&) {
             result->ok = ok;
             done(std::move(*result));
           }});
}

void SmppStore::dropMessage(const std::string& messageId) {
  enqueue({[messageId](store::Database& db) {
             auto s = db.cached("DELETE FROM mt_parts WHERE message_id = ?");
             s->bind(1, messageId).run();
           },
           {}});
}

void SmppStore::recordMoReport(MoReport r) {
  enqueue({[r](store::Database& db) {
             auto s = db.cached(
                 "INSERT OR REPLACE INTO mo_reports (message_id, system_id, sender_ids, registered_delivery, source, "
                 "source_ton, source_npi, dest, dest_ton, dest_npi, submitted_at, text) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             s->bind(1, r.messageId).bind(2, r.systemId).bind(3, r.senderIds).bind(4, r.registeredDelivery);
             s->bind(5, r.source).bind(6, r.sourceTon).bind(7, r.sourceNpi).bind(8, r.dest).bind(9, r.destTon);
             s->bind(10, r.destNpi).bind(11, r.submittedAt).bind(12, r.text).run();
           },
           {}});
}

void SmppStore::findMoReport(const std::string& messageId, std::function<void(std::optional<MoReport>)> done) {
  auto result = std::make_shared<std::optional<MoReport>>();
  enqueue({[messageId, result](store::Database& db) {
             auto s = db.cached(
                 "SELECT message_id, system_id, sender_ids, registered_delivery, source, source_ton, source_npi, dest, "
                 "dest_ton, dest_npi, submitted_at, text FROM mo_reports WHERE message_id = ?");
             s->bind(1, messageId);
             if (!s->step()) return;
             MoReport r;
             r.messageId = s->columnText(0);
             r.systemId = s->columnText(1);
             r.senderIds = s->columnText(2);
             r.registeredDelivery = static_cast<int>(s->columnInt(3));
             r.source = s->columnText(4);
             r.sourceTon = static_cast<std::uint8_t>(s->columnInt(5));
             r.sourceNpi = static_cast<std::uint8_t>(s->columnInt(6));
             r.dest = s->columnText(7);
             r.destTon = static_cast<std::uint8_t>(s->columnInt(8));
             r.destNpi = static_cast<std::uint8_t>(s->columnInt(9));
             r.submittedAt = s->columnInt(10);
             r.text = s->columnText(11);
             *result = std::move(r);
           },
           [result, done](bool, const std::string&) { done(std::move(*result)); }});
}

void SmppStore::deleteMoReport(const std::string& messageId) {
  enqueue({[messageId](store::Database& db) {
             auto s = db.cached("DELETE FROM mo_reports WHERE message_id = ?");
             s->bind(1, messageId).run();
           },
           {}});
}

void SmppStore::sweep(std::int64_t now, std::int64_t reportWaitMs, std::int64_t tombstoneMs) {
  enqueue({[=](store::Database& db) {
             auto a = db.cached("DELETE FROM mt_parts WHERE created_at < ?");
             a->bind(1, now - reportWaitMs).run();
             auto b = db.cached("DELETE FROM mo_reports WHERE submitted_at < ?");
             b->bind(1, now - reportWaitMs).run();
             auto c = db.cached("DELETE FROM mo_parts WHERE done_at > 0 AND done_at < ?");
             c->bind(1, now - tombstoneMs).run();
           },
           {}});
}

}  // namespace cpmgw::smpp
