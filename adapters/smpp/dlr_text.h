// SMPP delivery receipts (SMPP 3.4 appendix B): the text form
//   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
// as SMSCs really send it (any case, underscores for blanks, fields missing or reordered, extra blanks, 12-digit
// dates), the message_state values, and what each means for a delivery report. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpmgw::smpp {

struct DlrText {
  std::string id;
  std::string sub;
  std::string dlvrd;
  std::string submitDate;
  std::string doneDate;
  std::string stat;
  std::string err;
  std::string text;
};

// Parses the text form; nullopt when there is no non-empty id or neither stat nor any other receipt field.
std::optional<DlrText> parseDlrText(std::string_view text);

// What a receipt says about the message.
enum class DlrOutcome { Delivered, Failed, Pending, Unknown };
// stat word: DELIVRD/DELIVERED -> Delivered; UNDELIV, REJECTD, EXPIRED, DELETED, FAILED, ... -> Failed;
// ACCEPTD, ENROUTE, BUFFERED, ... -> Pending; anything else Unknown.
DlrOutcome outcomeOfStat(std::string_view stat);
// message_state TLV (SMPP 3.4 5.2.28): 2 delivered; 3 expired, 4 deleted, 5 undeliverable, 8 rejected -> Failed;
// 1 enroute, 6 accepted -> Pending; 7 unknown and others -> Unknown.
DlrOutcome outcomeOfMessageState(std::uint8_t state);

// message_state values used when this gateway writes a receipt.
inline constexpr std::uint8_t kMessageStateDelivered = 2;
inline constexpr std::uint8_t kMessageStateUndeliverable = 5;

// The text form of a receipt this gateway sends. Dates as YYMMDDhhmm (UTC); `text` is cut to 20 characters.
std::string renderDlrText(const std::string& id, bool delivered, std::int64_t submitMs, std::int64_t doneMs,
                          const std::string& err, const std::string& text);

}  // namespace cpmgw::smpp
