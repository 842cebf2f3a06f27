// Domain types shared by every endpoint, the store and the adapters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cpmgw {

// Milliseconds since the Unix epoch (UTC). All stored times use this unit.
using TimeMs = std::int64_t;
TimeMs nowMs();
// RFC 3339 / ISO 8601 UTC with milliseconds: 2026-11-26T13:58:05.414Z.
std::string formatTime(TimeMs t);

// A new gateway message id, 32 lowercase hex characters: the creation time in milliseconds (48 bits)
// then 80 random bits, so that ids sort by creation time.
std::string newMessageId();

// An identifier a peer uses for the same message (SIP Call-ID, imdn Message-ID, SMPP message_id, MM7 MessageID).
// (kind, value) pairs are unique across the store: that is how duplicates and reports are matched.
struct ExternalId {
  std::string kind;
  std::string value;
  bool operator==(const ExternalId&) const = default;
};

// A message as the core sees it, independent of the wire it came from.
struct Message {
  std::string id;    // gateway message id; assigned by the core when empty
  std::string from;  // normalised address (sip:, tel:)
  std::string to;
  std::string contentType;  // e.g. text/plain, message/cpim
  std::string body;         // payload bytes
  std::string fileRef;      // FT file id when the body refers to a stored file
  std::string ingress;      // which endpoint or adapter it came from ("rest", "sip", "loopback", ...)
  std::string egress;       // where the routing decision sends it
  std::string decision;     // the routing decision's name (deliver, defer, interwork, ...)
  std::vector<ExternalId> externalIds;
  std::map<std::string, std::string> attributes;  // protocol details carried along (imdn disposition, dlr, ...)
  TimeMs createdAt = 0;
};

enum class MessageState { Queued, Leased, Delivered, Failed, Deleted };
std::string_view toString(MessageState s);
bool parseMessageState(std::string_view text, MessageState& out);

struct StoredMessage : Message {
  std::int64_t seq = 0;  // global arrival order; order within a (from, to) pair
  MessageState state = MessageState::Queued;
  int attempts = 0;
  TimeMs updatedAt = 0;
  TimeMs nextAttemptAt = 0;
  TimeMs leaseUntil = 0;
  std::string lastError;
};

struct StateEvent {
  TimeMs at = 0;
  MessageState state = MessageState::Queued;
  std::string detail;
};

// The outcome of handing a message to an egress.
struct DeliveryOutcome {
  enum class Kind { Delivered, RetryAfter, Failed };
  Kind kind = Kind::Delivered;
  std::int64_t retryAfterMs = 0;  // with RetryAfter: 0 means "use the dispatcher's back-off"
  std::string reason;
  std::vector<ExternalId> externalIds;  // ids the peer assigned (recorded for report correlation)

  static DeliveryOutcome delivered(std::string reason = {}) { return {Kind::Delivered, 0, std::move(reason), {}}; }
  static DeliveryOutcome retry(std::string reason, std::int64_t afterMs = 0) {
    return {Kind::RetryAfter, afterMs, std::move(reason), {}};
  }
  static DeliveryOutcome failed(std::string reason) { return {Kind::Failed, 0, std::move(reason), {}}; }
};

// Message::attributes keys that more than one module reads. Values are plain text.
namespace attr {
// The sender wants delivery reports: a comma-separated subset of positive-delivery, negative-delivery, display
// (the CPIM imdn.Disposition-Notification values; SMPP registered_delivery maps onto them).
inline constexpr const char* kReportRequest = "report.request";
// The sender's own id for the message, which reports must quote (CPIM imdn.Message-ID; SMPP message_id).
inline constexpr const char* kSenderMessageId = "report.sender_message_id";
// This message IS a delivery report: the gateway id of the message it reports on, and its status
// (delivered, failed, forbidden, error, displayed). An egress renders it in its own form (IMDN, SMPP receipt).
inline constexpr const char* kReportOf = "report.of";
inline constexpr const char* kReportStatus = "report.status";
}  // namespace attr

// A delivery report travelling back towards the original sender (IMDN, SMPP DLR, MM7 DeliveryReport).
struct Report {
  std::string messageId;   // gateway id of the original message, when known
  ExternalId externalRef;  // otherwise the peer's id for it
  std::string status;      // delivered, failed, displayed, ...
  std::string detail;
};

}  // namespace cpmgw
