#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <sstream>

#include "cpmgw/log.h"
#include "cpmgw/text.h"
#include "smpp/dlr_text.h"
#include "smpp/smpp_engine_internal.h"
#include "smpp/sms_charset.h"
#include "smpp/sms_mapping.h"
#include "smpp/sms_segment.h"

namespace cpmgw::smpp {
namespace {

constexpr std::int64_t kTickMs = 100;
constexpr int kMaxAttempts = 3;               // sends of one part without an answer before the message is handed back
constexpr std::int64_t kThrottleMinMs = 200;  // first pause of a bind after ESME_RTHROTTLED; doubles to the max
constexpr std::int64_t kThrottleMaxMs = 5'000;
constexpr std::int64_t kInboundWaitMs = 30'000;  // at stop: longest wait for the core to answer what it was given

// Refusals that a resend cannot change.
bool permanentStatus(std::uint32_t s) {
  switch (s) {
    case status::kInvMsgLen:
    case status::kInvSrcAdr:
    case status::kInvDstAdr:
    case status::kInvEsmClass:
    case status::kInvSrcTon:
    case status::kInvSrcNpi:
    case status::kInvDstTon:
    case status::kInvDstNpi:
    case status::kInvSerTyp:
    case status::kInvSched:
    case status::kInvExpiry:
    case status::kRxPAppn:
    case status::kRxRAppn:
    case status::kInvOptParStream:
    case status::kInvParLen:
      return true;
    default:
      return false;
  }
}

// registered_delivery for a message whose sender asked for these IMDN dispositions.
std::uint8_t registeredDeliveryFor(const Message& m) {
  auto it = m.attributes.find(attr::kReportRequest);
  if (it == m.attributes.end()) return 0;
  if (it->second.find("positive-delivery") != std::string::npos) return 1;  // receipt on success and failure
  if (it->second.find("negative-delivery") != std::string::npos) return 2;  // receipt on failure only
  return 0;
}

std::string reportRequestOf(std::uint8_t registeredDelivery) {
  switch (registeredDelivery & 0x03) {
    case 1:
      return "positive-delivery,negative-delivery";
    case 2:
      return "negative-delivery";
    default:
      return {};
  }
}

// The command_status an ESME gets when the core refused its message (the core says why in words).
std::uint32_t statusForCoreError(const std::string& error) {
  if (error.find("pending") != std::string::npos) return status::kMsgQFul;
  if (error.find("recipient") != std::string::npos || error.find("no route") != std::string::npos)
    return status::kInvDstAdr;
  if (error.find("sender") != std::string::npos) return status::kInvSrcAdr;
  return status::kSysErr;
}

bool coreOverloaded(const std::string& error) {
  return error.find("pending") != std::string::npos;
}

// A receipt's text in GSM 7 (characters without a GSM form become '?').
std::string gsmText(const std::string& utf8) {
  std::u32string cps = utf8ToCodePoints(utf8);
  for (auto& c : cps)
    if (gsm7Septets(c) == 0) c = U'?';
  return *encodeGsm7(cps);
}

std::string firstChars(const std::string& utf8, std::size_t n) {
  std::u32string cps = utf8ToCodePoints(utf8);
  if (cps.size() > n) cps.resize(n);
  return codePointsToUtf8(cps);
}

std::vector<std::string> splitIds(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

std::optional<Account> AccountDirectory::find(const std::string& systemId) const {
  std::lock_guard lock(mutex_);
  auto it = accounts_.find(systemId);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::vector<Account> AccountDirectory::all() const {
  std::lock_guard lock(mutex_);
  std::vector<Account> out;
  for (const auto& [id, a] : accounts_) out.push_back(a);
  return out;
}

void AccountDirectory::replaceAll(std::vector<Account> accounts) {
  std::lock_guard lock(mutex_);
  accounts_.clear();
  for (auto& a : accounts) accounts_[a.systemId] = std::move(a);
}

void AccountDirectory::put(Account account) {
  std::lock_guard lock(mutex_);
  accounts_[account.systemId] = std::move(account);
}

void AccountDirectory::erase(const std::string& systemId) {
  std::lock_guard lock(mutex_);
  accounts_.erase(systemId);
}

std::optional<std::string> AccountDirectory::ownerOf(const std::string& recipient) const {
  std::lock_guard lock(mutex_);
  std::optional<std::string> best;
  std::size_t bestLen = 0;
  for (const auto& [id, a] : accounts_) {
    if (!a.enabled) continue;
    for (const auto& p : a.numberPrefixes) {
      if (recipient.compare(0, p.size(), p) == 0 && p.size() > bestLen) {
        best = id;
        bestLen = p.size();
      }
    }
  }
  return best;
}

void RateMeter::add(std::int64_t nowMs) {
  std::int64_t second = nowMs / 1000;
  if (!buckets_.empty() && buckets_.back().first == second) {
    ++buckets_.back().second;
  } else {
    buckets_.emplace_back(second, 1);
  }
  while (!buckets_.empty() && buckets_.front().first < second - kSeconds) buckets_.pop_front();
}

double RateMeter::perSecond(std::int64_t nowMs) const {
  std::int64_t second = nowMs / 1000;
  std::uint64_t sum = 0;
  for (const auto& [s, n] : buckets_)
    if (s >= second - kSeconds && s < second) sum += n;  // whole seconds only
  return static_cast<double>(sum) / static_cast<double>(kSeconds);
}

HelperThread::HelperThread() {
  thread_ = std::thread([this] {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  });
}

HelperThread::~HelperThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void HelperThread::post(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  cv_.notify_one();
}

// ---------------------------------------------------------------------------------------------------------------

SmppEngine::SmppEngine(SmppOptions options, std::shared_ptr<EventLoop> loop, SmppStore& store,
                       AccountDirectory& accounts, SmppCounters& counters, AdapterSink& sink)
    : opt_(std::move(options)),
      loop_(std::move(loop)),
      store_(store),
      accounts_(accounts),
      counters_(counters),
      sink_(sink),
      log_(Poco::Logger::get("cpmgw.smpp")),
      helper_(std::make_unique<HelperThread>()),
      alive_(std::make_shared<bool>(true)),
      lockout_(opt_.lockoutThreshold, opt_.lockoutMs) {}

SmppEngine::~SmppEngine() {
  *alive_ = false;
  helper_.reset();  // joins: no helper job runs past this point
  for (auto& l : links_) l->session.reset();
  conns_.clear();
}

void SmppEngine::start() {
  startServer();
  for (const auto& spec : opt_.smscBinds) {
    auto link = std::make_unique<Link>();
    link->spec = spec;
    double rate = spec.tps;
    link->bucket = TokenBucket(rate, std::max(1.0, rate / 10));
    if (spec.tls) {
      try {
        link->tls = makeClientTlsContext(spec.caFile, spec.tlsVerify);
      } catch (const std::exception& e) {
        link->state = Link::State::Failed;
        link->lastError = e.what();
        log_.error("SMPP %s: TLS set-up failed, the bind stays down: %s", link->label(), link->lastError);
      }
    }
    links_.push_back(std::move(link));
  }
  for (auto& link : links_)
    if (link->state != Link::State::Failed) connectLink(*link);
  nextSweepAt_ = 0;  // the first tick looks for reassemblies left from the last run
  tickTimer_ = loop_->after(kTickMs, [this] { tick(); });
  started_ = true;
  updateHealth();
}

AdapterHealth SmppEngine::health() const {
  AdapterHealth h;
  if (!started_) return h;
  int bound = linksBound_.load();
  int configured = static_cast<int>(opt_.smscBinds.size());
  if (listenFailed_) {
    h.state = bound > 0 ? AdapterHealth::State::Degraded : AdapterHealth::State::Down;
    h.detail = "the SMPP server could not listen";
  } else if (configured > 0 && bound == 0) {
    h.state = AdapterHealth::State::Degraded;
    h.detail = "no SMSC bind is up";
  } else if (bound < configured) {
    h.state = AdapterHealth::State::Degraded;
    h.detail = std::to_string(bound) + " of " + std::to_string(configured) + " SMSC binds up";
  } else {
    h.state = AdapterHealth::State::Up;
  }
  return h;
}

void SmppEngine::updateHealth() {
  int bound = 0;
  for (const auto& l : links_) bound += l->state == Link::State::Bound ? 1 : 0;
  linksBound_ = bound;
}

void SmppEngine::tick() {
  tickTimer_ = 0;
  std::int64_t now = steadyMs();
  // Server connections that never bound.
  std::vector<std::uint64_t> late;
  for (auto& [id, c] : conns_)
    if (!c->bind && !c->binding && now - c->acceptedAt > opt_.bindTimeoutMs) late.push_back(id);
  for (auto id : late) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    log_.notice("SMPP %s: no bind within %?d ms: closed", it->second->peer, opt_.bindTimeoutMs);
    it->second->session->close("no bind within the bind timeout");
  }
  // Messages that waited too long for a usable bind go back to the dispatcher's queue.
  std::vector<std::uint64_t> expired;
  for (auto& [id, job] : jobs_) {
    bool inFlight = std::any_of(job->parts.begin(), job->parts.end(), [](const auto& p) { return p.inFlight; });
    if (!inFlight && now > job->deadline) expired.push_back(id);
  }
  for (auto id : expired) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    std::string where = it->second->esme.empty() ? "SMSC" : "ESME " + it->second->esme;
    finishJob(id, DeliveryOutcome::retry("no usable " + where + " bind within " + std::to_string(opt_.holdMs) + " ms"));
  }
  if (!stopping_ && now >= nextSweepAt_) {
    nextSweepAt_ = now + std::clamp<std::int64_t>(opt_.reassemblyTimeoutMs / 4, 1000, 30'000);
    sweep();
  }
  pump();
  checkStop();
  if (!stopFinished_) tickTimer_ = loop_->after(kTickMs, [this] { tick(); });
}

// ---------------------------------------------------------------------------------------------------------------
// Outbound.

void SmppEngine::submit(StoredMessage m, DeliveryCallback done) {
  if (stopping_) {
    done(DeliveryOutcome::retry("adapter smpp is stopping"));
    return;
  }
  if (m.attributes.count(attr::kReportOf)) {
    submitReceipt(std::move(m), std::move(done));
    return;
  }
  std::string why;
  auto text = smsTextOf(m, &why);
  if (!text) {
    ++counters_.mtFailed;
    log_.notice("SMPP message %s to %s: %s", m.id, m.to, why);
    done(DeliveryOutcome::failed(why));
    return;
  }
  auto split = splitText(utf8ToCodePoints(*text), {opt_.udh16, opt_.maxSegments});
  if (!split) {
    ++counters_.mtFailed;
    done(DeliveryOutcome::failed("the text needs more than " + std::to_string(opt_.maxSegments) + " SMS parts"));
    return;
  }
  auto dest = smeAddressOf(m.to, false);
  if (!dest) {
    ++counters_.mtFailed;
    done(DeliveryOutcome::failed("recipient " + m.to + " has no SMS number"));
    return;
  }
  auto source = smeAddressOf(m.from, true);
  if (!source) {
    ++counters_.mtFailed;
    done(DeliveryOutcome::failed("sender " + m.from + " has no SMS form (number or up to 11 letters)"));
    return;
  }
  auto owner = accounts_.ownerOf(m.to);
  if (!owner && links_.empty()) {
    ++counters_.mtRetried;
    done(DeliveryOutcome::retry("no SMSC bind is configured and no ESME serves " + m.to));
    return;
  }
  auto job = std::make_unique<MtJob>();
  job->id = nextJobId_++;
  job->esme = owner.value_or("");
  std::uint8_t registered = registeredDeliveryFor(m);
  job->reportRequested = registered != 0;
  const std::size_t total = split->parts.size();
  std::uint16_t ref = 0;
  if (total > 1) {
    nextRef_ = static_cast<std::uint16_t>(nextRef_ + 1);
    if (!opt_.udh16) nextRef_ = static_cast<std::uint16_t>(nextRef_ % 256);
    if (nextRef_ == 0) nextRef_ = 1;
    ref = nextRef_;
  }
  for (std::size_t i = 0; i < total; ++i) {
    MtJob::Part part;
    part.commandId = owner ? cmd::kDeliverSm : cmd::kSubmitSm;
    SmBody& b = part.body;
    b.sourceTon = source->ton;
    b.sourceNpi = source->npi;
    b.source = source->addr;
    b.destTon = dest->ton;
    b.destNpi = dest->npi;
    b.dest = dest->addr;
    b.dataCoding = static_cast<std::uint8_t>(split->coding);
    b.registeredDelivery = registered;
    if (total > 1) {
      b.esmClass = 0x40;  // UDHI
      b.shortMessage =
          buildConcatUdh({ref, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(i + 1), opt_.udh16});
    }
    b.shortMessage += split->parts[i];
    job->parts.push_back(std::move(part));
  }
  logDebug(log_, "SMPP message %s from %s to %s: %z part(s) in %s, for %s", m.id, m.from, m.to, total,
           std::string(split->coding == Coding::Gsm7 ? "GSM 7" : "UCS-2"),
           owner ? "ESME " + *owner : std::string("the SMSC binds"));
  job->message = std::move(m);
  job->done = std::move(done);
  ++counters_.mtMessages;
  enqueueJob(std::move(job));
}

void SmppEngine::submitReceipt(StoredMessage m, DeliveryCallback done) {
  std::string of = m.attributes[attr::kReportOf];
  std::string st = m.attributes.count(attr::kReportStatus) ? m.attributes[attr::kReportStatus] : "delivered";
  if (st == "displayed") {
    done(DeliveryOutcome::delivered("display notifications have no SMPP form"));
    return;
  }
  auto loop = loop_;
  auto shared = std::make_shared<std::pair<StoredMessage, DeliveryCallback>>(std::move(m), std::move(done));
  store_.findMoReport(of, [this, loop, shared](std::optional<MoReport> r) {
    bool posted =
        loop->post([this, shared, r] { continueReceipt(std::move(shared->first), std::move(shared->second), r); });
    if (!posted) shared->second(DeliveryOutcome::retry("adapter smpp is stopping"));
  });
}

void SmppEngine::continueReceipt(StoredMessage m, DeliveryCallback done, std::optional<MoReport> r) {
  if (stopping_ && !drain_) {
    done(DeliveryOutcome::retry("adapter smpp is stopping"));
    return;
  }
  const std::string of = m.attributes[attr::kReportOf];
  const std::string st = m.attributes.count(attr::kReportStatus) ? m.attributes[attr::kReportStatus] : "delivered";
  if (!r) {
    done(DeliveryOutcome::delivered("the SMS sender of " + of + " asked for no receipt"));
    return;
  }
  bool delivered = st == "delivered";
  if ((r->registeredDelivery & 0x03) == 2 && delivered) {
    store_.deleteMoReport(of);
    done(DeliveryOutcome::delivered("the SMS sender of " + of + " wanted failure receipts only"));
    return;
  }
  auto job = std::make_unique<MtJob>();
  job->id = nextJobId_++;
  job->esme = r->systemId;
  job->receipt = true;
  job->reportOf = of;
  std::int64_t now = nowMs();
  for (const auto& id : splitIds(r->senderIds)) {
    MtJob::Part part;
    part.commandId = cmd::kDeliverSm;
    SmBody& b = part.body;
    // The receipt travels back: from the message's recipient to its sender.
    b.source = r->dest;
    b.sourceTon = r->destTon;
    b.sourceNpi = r->destNpi;
    b.dest = r->source;
    b.destTon = r->sourceTon;
    b.destNpi = r->sourceNpi;
    b.esmClass = 0x04;  // SMSC delivery receipt
    b.shortMessage = gsmText(renderDlrText(id, delivered, r->submittedAt, now, delivered ? "000" : "001", r->text));
    b.setOctets(tag::kReceiptedMessageId, id + std::string(1, '\0'));
    b.setU8(tag::kMessageState, delivered ? kMessageStateDelivered : kMessageStateUndeliverable);
    job->parts.push_back(std::move(part));
  }
  if (job->parts.empty()) {
    done(DeliveryOutcome::delivered("no message id to report on"));
    return;
  }
  logDebug(log_, "SMPP receipt %s (%s) for message %s goes to ESME %s", m.id, st, of, r->systemId);
  job->message = std::move(m);
  job->done = std::move(done);
  enqueueJob(std::move(job));
}

std::deque<SmppEngine::QueueEntry>& SmppEngine::queueFor(const MtJob& job) {
  return job.esme.empty() ? smscQueue_ : esmeQueues_[job.esme];
}

void SmppEngine::enqueueJob(std::unique_ptr<MtJob> job) {
  job->deadline = steadyMs() + opt_.holdMs;
  auto& q = queueFor(*job);
  for (std::size_t i = 0; i < job->parts.size(); ++i) q.push_back({job->id, i});
  jobs_.emplace(job->id, std::move(job));
  pump();
}

void SmppEngine::pump() {
  if (pumping_) {
    pumpAgain_ = true;  // a send failed synchronously and requeued: run again when this round ends
    return;
  }
  pumping_ = true;
  do {
    pumpAgain_ = false;
    std::int64_t now = steadyMs();
    pumpQueue(smscQueue_, smscBinds_, now);
    for (auto& [systemId, queue] : esmeQueues_) {
      auto it = esmeBinds_.find(systemId);
      if (it == esmeBinds_.end() || queue.empty()) continue;
      pumpQueue(queue, it->second, now);
    }
  } while (pumpAgain_);
  pumping_ = false;
}

void SmppEngine::pumpQueue(std::deque<QueueEntry>& queue, std::vector<std::shared_ptr<Bind>>& binds, std::int64_t now) {
  while (!queue.empty()) {
    auto job = jobs_.find(queue.front().job);
    if (job == jobs_.end()) {
      queue.pop_front();  // finished meanwhile
      continue;
    }
    // Spread over the binds: start after the one used last, take the first with window and rate to spare.
    std::shared_ptr<Bind> chosen;
    for (std::size_t k = 0; k < binds.size() && !chosen; ++k) {
      auto& b = binds[(roundRobin_ + k) % binds.size()];
      if (!b->open() || !b->canSendMt() || !b->session->windowFree() || b->throttledUntil > now) continue;
      if (b->pacing && !b->pacing->available(now)) continue;
      chosen = b;
      roundRobin_ = (roundRobin_ + k + 1) % binds.size();
    }
    if (!chosen) return;
    QueueEntry entry = queue.front();
    queue.pop_front();
    if (!sendPart(entry, chosen)) return;
  }
}

bool SmppEngine::sendPart(const QueueEntry& entry, const std::shared_ptr<Bind>& bind) {
  auto& job = *jobs_.at(entry.job);
  auto& part = job.parts[entry.part];
  Pdu pdu;
  pdu.commandId = part.commandId;
  pdu.body = part.body;
  std::weak_ptr<Bind> weak = bind;
  bool sent = false;
  try {
    sent = bind->session->sendRequest(std::move(pdu),
                                      [this, entry, weak](const Pdu* response, const std::string& failure) {
                                        auto b = weak.lock();
                                        onPartResponse(entry, b, response, failure);
                                      });
  } catch (const std::exception& e) {
    finishJob(entry.job, DeliveryOutcome::failed(std::string("cannot encode the SMS: ") + e.what()));
    return true;
  }
  if (!sent) {
    queueFor(job).push_front(entry);
    return false;
  }
  part.inFlight = true;
  if (bind->pacing) bind->pacing->take(steadyMs());
  ++bind->sent;
  ++counters_.mtParts;
  rate_.add(steadyMs());
  return true;
}

void SmppEngine::onPartResponse(QueueEntry entry, const std::shared_ptr<Bind>& bind, const Pdu* response,
                                const std::string& failure) {
  auto it = jobs_.find(entry.job);
  if (it == jobs_.end()) return;  // the message was finished meanwhile (handed back, stopped)
  MtJob& job = *it->second;
  auto& part = job.parts[entry.part];
  part.inFlight = false;
  const std::string where = bind ? bind->label() : std::string("a closed link");
  const std::string partName = "part " + std::to_string(entry.part + 1) + "/" + std::to_string(job.parts.size());
  std::int64_t now = steadyMs();
  if (!response) {
    // No answer (timeout, link lost): send it again on the next usable bind. Duplicates stay within the window.
    ++counters_.resends;
    if (++part.attempts >= kMaxAttempts) {
      finishJob(entry.job, DeliveryOutcome::retry(partName + " unanswered " + std::to_string(part.attempts) +
                                                  " times: " + failure));
    } else {
      logInformation(log_, "SMPP %s: message %s %s: %s; sending it again", where, job.message.id, partName, failure);
      queueFor(job).push_front(entry);
    }
    pump();
    return;
  }
  std::uint32_t st = response->status;
  if (response->commandId == cmd::kGenericNack && st == status::kOk) st = status::kSysErr;
  if (st == status::kOk) {
    part.acked = true;
    ++job.acked;
    job.deadline = now + opt_.holdMs;
    if (bind) bind->throttleBackoffMs = 0;
    const std::string origin = bind ? bind->origin : std::string();
    const auto* body = std::get_if<MessageIdBody>(&response->body);
    part.smscId = body ? body->messageId : std::string();
    if (!part.smscId.empty()) job.externalIds.push_back({"smpp.msgid", origin + ":" + part.smscId});
    if (job.acceptedBy.empty()) job.acceptedBy = where;
    if (job.reportRequested) {
      const std::string msgId = job.message.id;
      const int index = static_cast<int>(entry.part), total = static_cast<int>(job.parts.size());
      if (!part.smscId.empty()) {
        store_.recordSmscId(origin, part.smscId, msgId, index, total, nowMs());
      } else {
        // No id, so no receipt can come for this part: it counts as delivered once accepted.
        std::string none = "noid:" + msgId + ":" + std::to_string(index);
        store_.recordSmscId(origin, none, msgId, index, total, nowMs());
        store_.applyReceipt(origin, none, true, [this](ReceiptResult r) {
          if (r.ok && !r.finalStatus.empty()) {
            ++counters_.reportsSent;
            sink_.report({r.messageId, {}, r.finalStatus, "accepted (no receipts from this peer)"});
          }
        });
      }
    }
    if (job.acked == job.parts.size()) {
      std::string ids;
      for (const auto& p : job.parts) ids += (ids.empty() ? "" : ",") + (p.smscId.empty() ? "-" : p.smscId);
      if (job.receipt) {
        ++counters_.receiptsSent;
        store_.deleteMoReport(job.reportOf);
        finishJob(entry.job, DeliveryOutcome::delivered("receipt delivered to " + job.acceptedBy));
      } else {
        finishJob(entry.job, DeliveryOutcome::delivered("accepted by " + job.acceptedBy + " as " + ids));
      }
    }
    pump();
    return;
  }
  if (st == status::kThrottled || st == status::kMsgQFul) {
    ++counters_.smscThrottled;
    if (bind) {
      ++bind->throttled;
      bind->throttleBackoffMs = std::clamp<std::int64_t>(bind->throttleBackoffMs * 2, kThrottleMinMs, kThrottleMaxMs);
      bind->throttledUntil = now + bind->throttleBackoffMs;
      logInformation(log_, "SMPP %s: message %s %s answered %s: pausing this bind %?d ms", where, job.message.id,
                     partName, statusName(st), bind->throttleBackoffMs);
    }
    queueFor(job).push_front(entry);
    pump();
    return;
  }
  if (permanentStatus(st)) {
    finishJob(entry.job, DeliveryOutcome::failed(where + " refused " + partName + ": " + statusName(st)));
    pump();
    return;
  }
  if (++part.attempts >= kMaxAttempts) {
    finishJob(entry.job, DeliveryOutcome::retry(where + " answered " + partName + " with " + statusName(st)));
  } else {
    logInformation(log_, "SMPP %s: message %s %s answered %s: sending it again", where, job.message.id, partName,
                   statusName(st));
    queueFor(job).push_front(entry);
  }
  pump();
}

void SmppEngine::finishJob(std::uint64_t jobId, DeliveryOutcome outcome) {
  auto it = jobs_.find(jobId);
  if (it == jobs_.end()) return;
  std::unique_ptr<MtJob> job = std::move(it->second);
  jobs_.erase(it);
  const auto& m = job->message;
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::Delivered:
      ++counters_.mtDelivered;
      outcome.externalIds = job->externalIds;
      logDebug(log_, "SMPP message %s to %s: %s", m.id, m.to, outcome.reason);
      break;
    case DeliveryOutcome::Kind::Failed:
      ++counters_.mtFailed;
      log_.notice("SMPP message %s to %s failed: %s", m.id, m.to, outcome.reason);
      break;
    case DeliveryOutcome::Kind::RetryAfter:
      ++counters_.mtRetried;
      logInformation(log_, "SMPP message %s to %s handed back for a retry: %s", m.id, m.to, outcome.reason);
      break;
  }
  // Receipts of parts accepted in an attempt that did not complete can never make a report.
  if (outcome.kind != DeliveryOutcome::Kind::Delivered && job->reportRequested && job->acked > 0)
    store_.dropMessage(m.id);
  job->done(std::move(outcome));
}

// ---------------------------------------------------------------------------------------------------------------
// Inbound.

SmppEngine::Reply SmppEngine::replyFor(const std::shared_ptr<SmppSession>& session, std::uint32_t commandId,
                                       std::uint32_t sequence) {
  std::weak_ptr<SmppSession> weak = session;
  return [weak, commandId, sequence](std::uint32_t st, const std::string& messageId) {
    auto s = weak.lock();
    if (!s || !s->open()) return;
    s->respond(messageIdResp(cmd::resp(commandId), sequence, st, st == status::kOk ? messageId : std::string()));
  };
}

void SmppEngine::onInboundSm(const std::shared_ptr<Bind>& bind, Pdu&& pdu) {
  auto& sm = pdu.as<SmBody>();
  Reply reply = replyFor(bind->session, pdu.commandId, pdu.sequence);
  ++bind->received;
  if (stopping_) {
    reply(status::kThrottled, {});
    return;
  }
  // Any message type in esm_class bits 2-5 (SMSC receipt, SME acknowledgements, intermediate notification) is a report.
  if ((sm.esmClass & 0x3C) != 0) {
    handleReceipt(bind, sm, std::move(reply));
    return;
  }
  if (bind->esme) {
    auto& bucket = accountBuckets_[bind->name];
    if (!bucket.take(steadyMs())) {
      ++counters_.throttledAnswers;
      reply(status::kThrottled, {});
      return;
    }
    if (bind->inboundPending >= opt_.window) {
      ++counters_.throttledAnswers;
      reply(status::kThrottled, {});
      return;
    }
  }
  if (inboundPending_ >= opt_.maxPendingInbound) {
    ++counters_.queueFullAnswers;
    reply(status::kMsgQFul, {});
    return;
  }
  const std::string* payload = &sm.shortMessage;
  if (const Tlv* p = sm.find(tag::kMessagePayload)) payload = &p->value;
  auto ud = parseUserData(*payload, (sm.esmClass & 0x40) != 0);
  if (!ud) {
    log_.notice("SMPP %s: %s seq %u: UDHI set but the user data header is broken: %s", bind->label(),
                commandName(pdu.commandId), pdu.sequence, statusName(status::kInvEsmClass));
    reply(status::kInvEsmClass, {});
    return;
  }
  auto concat = ud->concat;
  if (!concat)
    concat = concatFromSar(sm.u16(tag::kSarMsgRefNum), sm.u8(tag::kSarTotalSegments), sm.u8(tag::kSarSegmentSeqnum));
  std::string to = moRecipient(opt_.moRecipient, sm.dest);
  if (to.empty()) {
    reply(status::kInvDstAdr, {});
    return;
  }
  std::string from = addressFromSme(sm.source, sm.sourceTon, opt_.alnumDomain);
  if (from.empty()) {
    reply(status::kInvSrcAdr, {});
    return;
  }
  if (concat && concat->total > 1) {
    MoPart part;
    part.origin = (bind->esme ? "esme:" : "smsc:") + bind->name;
    part.assembly = part.origin + "|" + sm.source + "|" + sm.dest + "|" + (concat->ref16 ? "R" : "r") +
                    std::to_string(concat->ref) + "|" + std::to_string(concat->total);
    part.seq = concat->seq;
    part.total = concat->total;
    part.source = sm.source;
    part.sourceTon = sm.sourceTon;
    part.sourceNpi = sm.sourceNpi;
    part.dest = sm.dest;
    part.destTon = sm.destTon;
    part.destNpi = sm.destNpi;
    part.dataCoding = sm.dataCoding;
    part.payload = ud->payload;
    part.messageId = newMessageId();
    part.registeredDelivery = sm.registeredDelivery;
    part.arrivedAt = nowMs();
    storeMoPart(bind, std::move(part), std::move(reply));
    return;
  }
  auto content = decodeUserData(sm.dataCoding, ud->payload, opt_.defaultAlphabetLatin1);
  Message m;
  m.id = newMessageId();
  m.from = from;
  m.to = to;
  m.contentType = content.text ? "text/plain;charset=UTF-8" : "application/octet-stream";
  m.body = content.body;
  m.ingress = "smpp";
  // A resend of the same PDU on this bind (same sequence number) is a duplicate, never a second message.
  m.externalIds.push_back({"smpp.mo", bind->name + ":" + bind->token + ":" + std::to_string(pdu.sequence)});
  m.attributes["smpp.origin"] = bind->name;
  m.attributes["smpp.data_coding"] = std::to_string(sm.dataCoding);
  std::optional<MoReport> report;
  std::string request = reportRequestOf(sm.registeredDelivery);
  if (!request.empty() && bind->esme) {
    m.attributes[attr::kReportRequest] = request;
    m.attributes[attr::kSenderMessageId] = m.id;
    MoReport r;
    r.messageId = m.id;
    r.systemId = bind->name;
    r.senderIds = m.id;
    r.registeredDelivery = sm.registeredDelivery & 0x03;
    r.source = sm.source;
    r.sourceTon = sm.sourceTon;
    r.sourceNpi = sm.sourceNpi;
    r.dest = sm.dest;
    r.destTon = sm.destTon;
    r.destNpi = sm.destNpi;
    r.submittedAt = nowMs();
    r.text = content.text ? firstChars(content.body, 20) : std::string();
    report = std::move(r);
  }
  // Encoded here, on the loop thread (libsmpp34), for the store's thread to send once the message is on disk; a TLS
  // link answers through the loop.
  std::string accepted;
  if (bind->session->answersWithoutLoop())
    accepted = encodePdu(
        messageIdResp(cmd::resp(pdu.commandId), pdu.sequence, status::kOk, bind->esme ? m.id : std::string()));
  submitInbound(bind, std::move(m), std::move(report), std::move(reply), std::move(accepted));
}

void SmppEngine::submitInbound(const std::shared_ptr<Bind>& bind, Message m, std::optional<MoReport> report,
                               Reply reply, std::string accepted) {
  ++inboundPending_;
  ++bind->inboundPending;
  auto loop = loop_;
  std::string id = m.id, from = m.from, to = m.to;
  sink_.inbound(std::move(m), [this, loop, bind, report, reply, id, from, to, accepted](EnqueueResult r) {
    // On the store's thread. The ESME may send its next request the moment it has the answer: the window counts
    // this one as answered first.
    --bind->inboundPending;
    // A stored message is answered from here, without waiting for the loop thread to wake up for it, unless the
    // link is TLS or has output waiting. The bookkeeping below stays on the loop thread, and once the answer is out
    // it waits for the loop's next iteration (the engine's tick comes every 100 ms) rather than waking it.
    const bool answered = r.status == EnqueueResult::Status::Stored && r.id == id && !accepted.empty() &&
                          bind->session->answerNow(accepted);
    auto rest = [this, bind, report, reply, id, from, to, r, answered] {
      --inboundPending_;
      if (r.status == EnqueueResult::Status::Error) {
        std::uint32_t st = statusForCoreError(r.error);
        if (st == status::kMsgQFul) ++counters_.queueFullAnswers;
        log_.notice("SMPP %s: message from %s to %s refused: %s (%s)", bind->label(), from, to, r.error,
                    statusName(st));
        reply(st, {});
        return;
      }
      if (r.status == EnqueueResult::Status::Stored) {
        ++counters_.moMessages;
        if (report) store_.recordMoReport(*report);
      }
      logDebug(log_, "SMPP %s: message %s from %s to %s %s", bind->label(), r.id, from, to,
               std::string(r.status == EnqueueResult::Status::Stored ? "stored" : "was a duplicate"));
      if (!answered) reply(status::kOk, bind->esme ? r.id : std::string());
    };
    if (answered)
      loop->postQuietly(std::move(rest));
    else
      loop->post(std::move(rest));
  });
}

void SmppEngine::storeMoPart(const std::shared_ptr<Bind>& bind, MoPart part, Reply reply) {
  ++inboundPending_;
  ++bind->inboundPending;
  auto loop = loop_;
  std::string key = part.assembly;
  int seq = part.seq, total = part.total;
  store_.storePart(std::move(part), [this, loop, bind, reply, key, seq, total](StorePartResult r) {
    auto shared = std::make_shared<StorePartResult>(std::move(r));
    loop->post([this, bind, reply, key, seq, total, shared] {
      --inboundPending_;
      --bind->inboundPending;
      if (!shared->ok) {
        log_.error("SMPP %s: part %d/%d of %s not stored: %s", bind->label(), seq, total, key, shared->error);
        reply(status::kSysErr, {});
        return;
      }
      ++counters_.moParts;
      logDebug(log_, "SMPP %s: part %d/%d of %s stored as %s%s", bind->label(), seq, total, key, shared->messageId,
               std::string(shared->duplicate ? " (repeat)" : ""));
      reply(status::kOk, bind->esme ? shared->messageId : std::string());
      if (shared->complete) deliverAssembly(std::move(shared->parts), false);
    });
  });
}

void SmppEngine::deliverAssembly(std::vector<MoPart> parts, bool incomplete) {
  if (parts.empty()) return;
  const std::string key = parts.front().assembly;
  if (!assembling_.insert(key).second) return;  // already on its way
  const MoPart& first = parts.front();
  const int total = first.total;
  std::string body;
  bool text = true;
  auto decodeRun = [&](const std::string& bytes) {
    auto c = decodeUserData(first.dataCoding, bytes, opt_.defaultAlphabetLatin1);
    text = text && c.text;
    return c.body;
  };
  if (!incomplete) {
    // Parts are joined before decoding: a careless sender may cut an escape or surrogate pair across them.
    std::string joined;
    for (const auto& p : parts) joined += p.payload;
    body = decodeRun(joined);
  } else {
    std::string run;
    int expected = 1;
    for (const auto& p : parts) {
      if (p.seq != expected) {
        body += decodeRun(run) + " [...] ";
        run.clear();
      }
      run += p.payload;
      expected = p.seq + 1;
    }
    body += decodeRun(run);
    if (expected <= total) body += " [...]";
  }
  std::int64_t firstAt = first.arrivedAt;
  std::uint8_t registered = 0;
  std::string senderIds;
  for (const auto& p : parts) {
    firstAt = std::min(firstAt, p.arrivedAt);
    registered |= p.registeredDelivery & 0x03;
    senderIds += (senderIds.empty() ? "" : ",") + p.messageId;
  }
  const bool fromEsme = first.origin.rfind("esme:", 0) == 0;
  const std::string originName = first.origin.substr(first.origin.find(':') + 1);
  Message m;
  m.id = newMessageId();
  m.from = addressFromSme(first.source, first.sourceTon, opt_.alnumDomain);
  m.to = moRecipient(opt_.moRecipient, first.dest);
  m.contentType = text ? "text/plain;charset=UTF-8" : "application/octet-stream";
  m.body = std::move(body);
  m.ingress = "smpp";
  // Derived from the assembly, so delivering it again after a crash is a duplicate.
  m.externalIds.push_back({"smpp.mo", "asm:" + key + "@" + std::to_string(firstAt)});
  m.attributes["smpp.origin"] = originName;
  m.attributes["smpp.parts"] = std::to_string(total);
  if (incomplete)
    m.attributes["smpp.incomplete"] =
        "received " + std::to_string(parts.size()) + " of " + std::to_string(total) + " parts";
  std::optional<MoReport> report;
  std::string request = reportRequestOf(registered);
  if (!request.empty() && fromEsme) {
    m.attributes[attr::kReportRequest] = request;
    m.attributes[attr::kSenderMessageId] = senderIds;
    MoReport r;
    r.messageId = m.id;
    r.systemId = originName;
    r.senderIds = senderIds;
    r.registeredDelivery = registered;
    r.source = first.source;
    r.sourceTon = first.sourceTon;
    r.sourceNpi = first.sourceNpi;
    r.dest = first.dest;
    r.destTon = first.destTon;
    r.destNpi = first.destNpi;
    r.submittedAt = firstAt;
    r.text = text ? firstChars(m.body, 20) : std::string();
    report = std::move(r);
  }
  logDebug(log_, "SMPP %s: %s message %s from %s to %s reassembled from %z of %d parts", originName,
           std::string(incomplete ? "incomplete" : "complete"), m.id, m.from, m.to, parts.size(), total);
  ++inboundPending_;
  auto loop = loop_;
  std::string id = m.id;
  sink_.inbound(std::move(m), [this, loop, key, report, id, originName](EnqueueResult r) {
    loop->post([this, loop, key, report, id, originName, r] {
      --inboundPending_;
      if (r.status == EnqueueResult::Status::Error && coreOverloaded(r.error)) {
        // The parts stay stored; the next sweep offers the message again.
        assembling_.erase(key);
        logInformation(log_, "SMPP %s: reassembled message %s deferred: %s", originName, id, r.error);
        return;
      }
      if (r.status == EnqueueResult::Status::Error) {
        log_.error("SMPP %s: reassembled message %s refused by the core, dropped: %s", originName, id, r.error);
      } else {
        if (r.status == EnqueueResult::Status::Stored) ++counters_.moMessages;
        if (r.status == EnqueueResult::Status::Stored && report) store_.recordMoReport(*report);
      }
      store_.finishAssembly(key, nowMs(),
                            [this, loop, key](bool) { loop->post([this, key] { assembling_.erase(key); }); });
    });
  });
}

void SmppEngine::sweep() {
  auto loop = loop_;
  std::int64_t now = nowMs();
  store_.sweep(now, opt_.reportWaitMs, opt_.reassemblyTimeoutMs);
  store_.dueAssemblies(now, opt_.reassemblyTimeoutMs, [this, loop](std::vector<PendingAssembly> due) {
    auto shared = std::make_shared<std::vector<PendingAssembly>>(std::move(due));
    loop->post([this, shared] {
      for (auto& a : *shared) {
        if (a.parts.empty() || assembling_.count(a.key)) continue;
        if (a.complete) {
          deliverAssembly(std::move(a.parts), false);
          continue;
        }
        ++counters_.reassemblyTimeouts;
        if (opt_.reassemblyDeliverPartial) {
          log_.notice("SMPP reassembly %s timed out with %z of %d parts: delivering what arrived", a.key,
                      a.parts.size(), a.total);
          deliverAssembly(std::move(a.parts), true);
        } else {
          ++counters_.reassemblyDropped;
          log_.notice("SMPP reassembly %s timed out with %z of %d parts: dropped", a.key, a.parts.size(), a.total);
          store_.finishAssembly(a.key, nowMs(), {});
        }
      }
    });
  });
}

void SmppEngine::handleReceipt(const std::shared_ptr<Bind>& bind, const SmBody& sm, Reply reply) {
  std::string id = sm.cstring(tag::kReceiptedMessageId).value_or("");
  auto state = sm.u8(tag::kMessageState);
  const std::string* payload = &sm.shortMessage;
  if (const Tlv* p = sm.find(tag::kMessagePayload)) payload = &p->value;
  auto text = parseDlrText(*payload);
  if (id.empty() && text) id = text->id;
  DlrOutcome outcome = DlrOutcome::Unknown;
  if (state) outcome = outcomeOfMessageState(*state);
  if (outcome == DlrOutcome::Unknown && text) outcome = outcomeOfStat(text->stat);
  std::string stat = text ? text->stat : std::string();
  std::string err = text ? text->err : std::string();
  if (id.empty()) {
    ++counters_.dlrUnmatched;
    log_.warning("SMPP %s: receipt without a message id (%z octets): counted and ignored", bind->label(),
                 payload->size());
    reply(status::kOk, {});
    return;
  }
  if (outcome == DlrOutcome::Pending) {
    ++counters_.dlrIntermediate;
    logDebug(log_, "SMPP %s: intermediate receipt for %s (%s)", bind->label(), id, stat);
    reply(status::kOk, {});
    return;
  }
  if (outcome == DlrOutcome::Unknown) {
    ++counters_.dlrUnmatched;
    log_.warning("SMPP %s: receipt for %s with unknown status '%s': counted and ignored", bind->label(), id, stat);
    reply(status::kOk, {});
    return;
  }
  const bool delivered = outcome == DlrOutcome::Delivered;
  std::string detail = bind->label() + " receipt for " + id + (stat.empty() ? "" : ": stat " + stat) +
                       (err.empty() ? "" : " err " + err);
  ++inboundPending_;
  auto loop = loop_;
  store_.applyReceipt(bind->origin, id, delivered, [this, loop, bind, reply, id, detail](ReceiptResult r) {
    // On the store thread, after the commit: the report goes to the core exactly once, with the last final part.
    if (r.ok && r.matched && !r.finalStatus.empty()) {
      ++counters_.reportsSent;
      sink_.report({r.messageId, {}, r.finalStatus, detail});
    }
    loop->post([this, bind, reply, id, r] {
      --inboundPending_;
      if (!r.ok) {
        log_.error("SMPP %s: receipt for %s not recorded: answered %s", bind->label(), id, statusName(status::kSysErr));
        reply(status::kSysErr, {});
        return;
      }
      if (r.matched) {
        ++counters_.dlrMatched;
        logDebug(log_, "SMPP %s: receipt for %s matches message %s%s", bind->label(), id, r.messageId,
                 r.finalStatus.empty() ? std::string(" (parts still open)") : ": " + r.finalStatus);
      } else {
        ++counters_.dlrUnmatched;
        log_.notice("SMPP %s: receipt for unknown message id %s: counted and ignored", bind->label(), id);
      }
      reply(status::kOk, {});
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Stop.

void SmppEngine::beginStop(bool drain, std::function<void()> stopped) {
  stopping_ = true;
  drain_ = drain;
  stopped_ = std::move(stopped);
  std::int64_t now = steadyMs();
  drainDeadline_ = drain ? now + opt_.responseTimeoutMs + 1000 : now;
  inboundDeadline_ = now + kInboundWaitMs;
  if (listenFd_) {
    loop_->unwatch(listenFd_.get());
    listenFd_.reset();
  }
  if (tlsListenFd_) {
    loop_->unwatch(tlsListenFd_.get());
    tlsListenFd_.reset();
  }
  for (auto& l : links_) {
    if (l->timer) {
      loop_->cancel(l->timer);
      l->timer = 0;
    }
  }
  if (!drain) {
    std::vector<std::uint64_t> ids;
    for (auto& [id, job] : jobs_) ids.push_back(id);
    for (auto id : ids) finishJob(id, DeliveryOutcome::retry("adapter smpp stopped"));
  }
  checkStop();
}

void SmppEngine::checkStop() {
  if (!stopping_ || !stopped_) return;
  std::int64_t now = steadyMs();
  if (!jobs_.empty()) {
    if (now < drainDeadline_) return;
    std::vector<std::uint64_t> ids;
    for (auto& [id, job] : jobs_) ids.push_back(id);
    for (auto id : ids) finishJob(id, DeliveryOutcome::retry("adapter smpp stopped before an answer came"));
  }
  if (inboundPending_ > 0 && now < inboundDeadline_) return;
  if (!unbindSent_) {
    unbindSent_ = true;
    unbindDeadline_ = now + std::min<std::int64_t>(opt_.responseTimeoutMs, 2000);
    for (auto& [id, c] : conns_) c->session->unbind();
    for (auto& l : links_)
      if (l->session) l->session->unbind();
  }
  bool open = false;
  for (auto& [id, c] : conns_) open = open || !c->session->closed();
  for (auto& l : links_) open = open || (l->session && !l->session->closed());
  if (open && now < unbindDeadline_) return;
  for (auto& [id, c] : conns_) c->session->close("adapter stopped");
  for (auto& l : links_)
    if (l->session) l->session->close("adapter stopped");
  if (tickTimer_) {
    loop_->cancel(tickTimer_);
    tickTimer_ = 0;
  }
  stopFinished_ = true;
  auto done = std::move(stopped_);
  stopped_ = nullptr;
  done();
}

// ---------------------------------------------------------------------------------------------------------------
// REST view.

Poco::JSON::Object::Ptr SmppEngine::snapshot() {
  using Poco::JSON::Array;
  using Poco::JSON::Object;
  std::int64_t now = steadyMs();
  Object::Ptr o = new Object;
  Object::Ptr server = new Object;
  server->set("listen", listenFd_ ? opt_.host + ":" + std::to_string(port_.load()) : std::string());
  server->set("tls_listen", tlsListenFd_ ? opt_.host + ":" + std::to_string(tlsPort_.load()) : std::string());
  Array::Ptr binds = new Array;
  std::size_t unbound = 0;
  for (const auto& [id, c] : conns_) {
    if (!c->bind) {
      ++unbound;
      continue;
    }
    const auto& b = *c->bind;
    Object::Ptr x = new Object;
    x->set("system_id", b.name);
    x->set("peer", c->peer);
    x->set("bind_type", toString(b.type));
    x->set("tls", b.tls);
    x->set("state", std::string(b.open() ? "bound" : "closing"));
    x->set("bound_for_s", (now - b.boundAt) / 1000);
    x->set("window_used", static_cast<Poco::UInt64>(b.session->outstanding()));
    x->set("window", static_cast<Poco::UInt64>(b.session->window()));
    x->set("inbound_pending", static_cast<Poco::UInt64>(b.inboundPending));
    x->set("received", b.received);
    x->set("sent", b.sent);
    binds->add(x);
  }
  server->set("binds", binds);
  server->set("unbound_connections", static_cast<Poco::UInt64>(unbound));
  o->set("server", server);
  Array::Ptr smscs = new Array;
  static const char* kStates[] = {"idle", "resolving", "connecting", "binding", "bound", "waiting", "failed"};
  for (const auto& l : links_) {
    Object::Ptr x = new Object;
    x->set("name", l->spec.name);
    x->set("host", l->spec.host);
    x->set("port", l->spec.port);
    x->set("system_id", l->spec.systemId);
    x->set("bind_type", toString(l->spec.bindType));
    x->set("tls", l->spec.tls);
    x->set("state", std::string(kStates[static_cast<int>(l->state)]));
    x->set("window", static_cast<Poco::UInt64>(l->spec.window));
    x->set("window_used", static_cast<Poco::UInt64>(l->session && l->session->open() ? l->session->outstanding() : 0));
    x->set("tps", l->spec.tps);
    x->set("sent", l->bind ? l->bind->sent : 0);
    x->set("received", l->bind ? l->bind->received : 0);
    x->set("throttled", l->bind ? l->bind->throttled : 0);
    x->set("throttled_for_ms", l->bind && l->bind->throttledUntil > now ? l->bind->throttledUntil - now : 0);
    x->set("connects", l->connects);
    x->set("last_error", printable(l->lastError));
    smscs->add(x);
  }
  o->set("smsc", smscs);
  o->set("submits_per_s", rate_.perSecond(now));
  std::size_t queuedParts = smscQueue_.size();
  for (const auto& [id, q] : esmeQueues_) queuedParts += q.size();
  o->set("messages_in_flight", static_cast<Poco::UInt64>(jobs_.size()));
  o->set("parts_waiting", static_cast<Poco::UInt64>(queuedParts));
  o->set("inbound_pending", static_cast<Poco::UInt64>(inboundPending_));
  Object::Ptr c = new Object;
  c->set("mo_messages", counters_.moMessages.load());
  c->set("mo_parts", counters_.moParts.load());
  c->set("mt_messages", counters_.mtMessages.load());
  c->set("mt_parts_sent", counters_.mtParts.load());
  c->set("mt_delivered", counters_.mtDelivered.load());
  c->set("mt_failed", counters_.mtFailed.load());
  c->set("mt_retried", counters_.mtRetried.load());
  c->set("resends", counters_.resends.load());
  c->set("smsc_throttled", counters_.smscThrottled.load());
  c->set("dlr_matched", counters_.dlrMatched.load());
  c->set("dlr_unmatched", counters_.dlrUnmatched.load());
  c->set("dlr_intermediate", counters_.dlrIntermediate.load());
  c->set("reports_to_core", counters_.reportsSent.load());
  c->set("receipts_to_esmes", counters_.receiptsSent.load());
  c->set("throttled_answers", counters_.throttledAnswers.load());
  c->set("queue_full_answers", counters_.queueFullAnswers.load());
  c->set("bad_pdus", counters_.badPdus.load());
  c->set("binds_accepted", counters_.bindsAccepted.load());
  c->set("bind_failures", counters_.bindFailures.load());
  c->set("lockouts", counters_.lockouts.load());
  c->set("reassembly_timeouts", counters_.reassemblyTimeouts.load());
  c->set("reassembly_dropped", counters_.reassemblyDropped.load());
  o->set("counters", c);
  return o;
}

}  // namespace cpmgw::smpp
