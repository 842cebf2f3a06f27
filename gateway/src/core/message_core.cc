#include "cpmgw/message_core.h"

#include <Poco/Logger.h>

#include "cpmgw/log.h"
#include "sip/imdn.h"

namespace cpmgw {

namespace {
Poco::Logger& coreLog() {
  static Poco::Logger& logger = Poco::Logger::get("cpmgw.core");
  return logger;
}
}  // namespace

MessageCore::MessageCore(Store& store, Router router, std::size_t maxPendingWrites, std::function<void()> wake)
    : store_(store), router_(std::move(router)), maxPending_(maxPendingWrites), wake_(std::move(wake)) {}

void MessageCore::submit(Message message, std::function<void(SubmitResult)> done) {
  auto& log = coreLog();
  std::string from = normaliseAddress(message.from);
  std::string to = normaliseAddress(message.to);
  if (from.empty() || to.empty()) {
    done({SubmitResult::Status::Invalid, {}, from.empty() ? "invalid sender address" : "invalid recipient address"});
    return;
  }
  message.from = std::move(from);
  message.to = std::move(to);
  auto decision = router_.decide(message);
  if (decision.action == RoutingDecision::Action::Reject) {
    logInformation(log, "rejected message from %s to %s (ingress %s): %s", message.from, message.to, message.ingress,
                   decision.reason);
    done({SubmitResult::Status::NoRoute, {}, decision.reason});
    return;
  }
  // Admission control: a bounded number of writes waiting for their commit keeps memory bounded.
  if (pending_.fetch_add(1) >= maxPending_) {
    pending_.fetch_sub(1);
    done({SubmitResult::Status::Overloaded, {}, "too many messages pending"});
    return;
  }
  if (message.id.empty()) message.id = newMessageId();
  if (message.createdAt == 0) message.createdAt = nowMs();
  message.egress = decision.egress;
  message.decision = decision.name();
  store_.enqueue(std::move(message), 0, [this, done = std::move(done)](EnqueueResult r) {
    pending_.fetch_sub(1);
    switch (r.status) {
      case EnqueueResult::Status::Stored:
        if (wake_ && !r.leased) wake_();  // a leased message is on its way already
        done({SubmitResult::Status::Accepted, r.id, {}});
        break;
      case EnqueueResult::Status::Duplicate:
        done({SubmitResult::Status::Duplicate, r.id, "duplicate"});
        break;
      case EnqueueResult::Status::Error:
        done({SubmitResult::Status::Error, r.id, r.error});
        break;
    }
  });
}

void MessageCore::inbound(Message message, std::function<void(EnqueueResult)> accepted) {
  submit(std::move(message), [accepted = std::move(accepted)](SubmitResult r) {
    switch (r.status) {
      case SubmitResult::Status::Accepted:
        accepted({EnqueueResult::Status::Stored, r.id, {}});
        break;
      case SubmitResult::Status::Duplicate:
        accepted({EnqueueResult::Status::Duplicate, r.id, {}});
        break;
      default:
        accepted({EnqueueResult::Status::Error, r.id, r.reason});
        break;
    }
  });
}

void MessageCore::report(Report report) {
  auto& log = coreLog();
  std::string id = report.messageId;
  if (id.empty() && !report.externalRef.kind.empty()) id = store_.findByExternalId(report.externalRef).value_or("");
  auto original = id.empty() ? std::nullopt : store_.get(id);
  if (!original) {
    log.warning("unmatched %s report for %s=%s", report.status, report.externalRef.kind, report.externalRef.value);
    return;
  }
  std::string detail = "report " + report.status + (report.detail.empty() ? "" : ": " + report.detail);
  store_.note(id, detail, [id](WriteResult r) {
    if (r.status != WriteResult::Status::Ok) coreLog().warning("report for message %s not recorded: %s", id, r.error);
  });
  sendReport(*original, report.status, report.detail);
}

namespace {

bool requested(const StoredMessage& m, const std::string& what) {
  auto it = m.attributes.find(attr::kReportRequest);
  return it != m.attributes.end() && ("," + it->second + ",").find("," + what + ",") != std::string::npos;
}

}  // namespace

void MessageCore::finalOutcome(const StoredMessage& message, const DeliveryOutcome& outcome) {
  if (outcome.kind == DeliveryOutcome::Kind::Failed) {
    sendReport(message, "failed", outcome.reason);
  } else if (outcome.kind == DeliveryOutcome::Kind::Delivered && message.egress == kSipEgress &&
             networkDeliveryReports_) {
    sendReport(message, "delivered", outcome.reason);
  }
}

void MessageCore::sendReport(const StoredMessage& original, const std::string& status, const std::string& detail) {
  // Never a report on a report, and only what the sender asked for.
  if (original.attributes.count(attr::kReportOf)) return;
  bool positive = status == "delivered" || status == "displayed";
  if (!requested(original, status == "displayed" ? "display" : positive ? "positive-delivery" : "negative-delivery"))
    return;
  auto senderId = original.attributes.find(attr::kSenderMessageId);
  auto sentAt = original.attributes.find("cpim.datetime");
  imdn::Notification n;
  n.messageId = senderId != original.attributes.end() ? senderId->second : original.id;
  n.dateTime =
      sentAt != original.attributes.end() && !sentAt->second.empty() ? sentAt->second : formatTime(original.createdAt);
  n.recipientUri = original.to;
  n.kind = status == "displayed" ? imdn::Kind::Display : imdn::Kind::Delivery;
  n.status = status;
  Message r;
  r.from = original.to;
  r.to = original.from;
  r.contentType = "message/imdn+xml";
  r.body = imdn::serialize(n);
  if (r.body.empty()) {
    coreLog().warning("%s report for message %s cannot be expressed as an IMDN", status, original.id);
    return;
  }
  r.ingress = "gateway";
  r.attributes[attr::kReportOf] = original.id;
  r.attributes[attr::kReportStatus] = status;
  // One report per status and message, also when an outcome is seen twice (a redelivery after a crash).
  r.externalIds.push_back({"report", original.id + "|" + status});
  std::string id = original.id;
  submit(std::move(r), [id, status, detail](SubmitResult result) {
    auto& log = coreLog();
    if (result.acceptable())
      logInformation(log, "%s report for message %s queued as %s", status, id, result.id);
    else
      log.warning("%s report for message %s not sent: %s", status, id, result.reason);
  });
}

}  // namespace cpmgw
