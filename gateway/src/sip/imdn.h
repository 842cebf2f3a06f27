// message/imdn+xml (RFC 5438): the delivery and display notifications a CPM client sends back for a
// message that asked for them. A strict, pure codec: no I/O, no DTD, no entity expansion.
//
// What parse() accepts:
// - at most kMaxDocument bytes of UTF-8 (an encoding declaration, if any, must say UTF-8);
// - no DOCTYPE at all (so no entities beyond the five predefined ones: billion-laughs and external
//   entities such as file:///etc/passwd are refused before the XML parser sees the document), no
//   processing instructions;
// - one <imdn> root in urn:ietf:params:xml:ns:imdn with exactly one <message-id> (an RFC 3862 Token),
//   one <datetime> (RFC 3339), at most one <recipient-uri>, <original-recipient-uri> and <subject>,
//   and exactly one <delivery-notification> or <display-notification> holding one <status> with one
//   status element allowed for that kind. Children may come in any order (the order carries no meaning
//   and clients differ); leaf text is trimmed of XML whitespace;
// - elements of other namespaces (extensions, RFC 5438 "##other") are skipped with their content;
//   unknown elements of the IMDN namespace and elements in no namespace are refused.
// <processing-notification> is refused: the gateway never asks for one, so receiving one is an error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cpmgw::imdn {

inline constexpr std::string_view kNamespace = "urn:ietf:params:xml:ns:imdn";
inline constexpr std::size_t kMaxDocument = 64 * 1024;

enum class Kind { Delivery, Display };

struct Notification {
  std::string messageId;             // imdn.Message-ID of the original message
  std::string dateTime;              // DateTime of the original message
  std::string recipientUri;          // optional
  std::string originalRecipientUri;  // optional
  Kind kind = Kind::Delivery;
  std::string status;  // Delivery: delivered|failed|forbidden|error; Display: displayed|forbidden|error
  bool operator==(const Notification&) const = default;
};

// Whether status is one RFC 5438 defines for that kind of notification.
bool isStatus(Kind kind, std::string_view status);

// Parses a message/imdn+xml body. On error returns nullopt and sets *error (when error is not null) to
// a short ASCII reason that never quotes the input.
std::optional<Notification> parse(std::string_view xml, std::string* error);

// The document for n, with the XML declaration and xmlns="urn:ietf:params:xml:ns:imdn". Returns "" when
// n would not parse back to itself (empty or non-Token messageId, bad dateTime or URI, a status not
// allowed for its kind).
std::string serialize(const Notification& n);

}  // namespace cpmgw::imdn
