// message/cpim (RFC 3862) as carried in SIP MESSAGE bodies and MSRP SEND chunks, with the IMDN
// headers of RFC 5438. A strict, pure codec: no I/O, every limit explicit, every rejection a short
// reason that can go into a SIP 400 reason phrase or Warning header.
//
// Decisions worth knowing before using it:
// - Line endings: header lines end in CRLF, as the RFC 3862 ABNF says and every mainstream RCS/CPM
//   stack sends. A bare LF or bare CR in the header sections is an error: accepting both would let a
//   message mean one thing to us and another to a peer that splits lines differently (header
//   smuggling). The content after the second blank line is opaque bytes and may hold anything.
// - Charset: both header sections must be valid UTF-8 without control characters (RFC 3862 says
//   UTF-8 for headers). The content may use any charset its Content-Type declares
//   (text/plain;charset=ISO-8859-1 is legal); contentType is reported exactly as sent.
// - Folded (continuation) lines are refused in both sections: CPIM has no folding, and no CPM client
//   folds MIME headers in a CPIM body.
// - Message header names are case-sensitive (the RFC 3862 grammar spells them as exact strings:
//   "From", "To", "cc", "DateTime", "Subject", "NS", "Require"); content header names are MIME
//   names and compare case-insensitively.
// - Values are kept as sent (the RFC 3862 backslash escapes are not decoded), except display names
//   given as quoted strings, which are unquoted and unescaped into fromDisplay / toDisplay.
// - One To only: the gateway delivers one-to-one and group chat (conference URI) messages, both of
//   which have exactly one To. Several To headers are refused rather than silently reduced.
// - Content-Length, when present, must equal the number of content bytes exactly.
// - Requesting an IMDN (imdn.Disposition-Notification) needs imdn.Message-ID and DateTime, because the
//   notification must quote both (RFC 5438).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpmgw::cpim {

// The namespace RFC 5438 registers for its CPIM headers (imdn.Message-ID, ...).
inline constexpr std::string_view kImdnNamespace = "urn:ietf:params:imdn";
// The default namespace of unprefixed CPIM headers (RFC 3862 section 3.4).
inline constexpr std::string_view kCpimHeadersNamespace = "urn:ietf:params:cpim-headers:";

struct Header {
  std::string prefix;  // "" for the default namespace
  std::string name;
  std::string params;  // raw header parameters between ':' and the value, e.g. ";lang=fr"; usually empty
  std::string value;   // as sent, without the separating space
  bool operator==(const Header&) const = default;
};

struct Message {
  std::string from, to;  // the URI inside <...> of From / To
  std::string fromDisplay, toDisplay;
  std::vector<std::string> cc;
  std::string dateTime;  // as given, validated as RFC 3339
  std::string subject;   // the first Subject header
  // Every message header in order, the typed ones above and NS lines included. serialize() writes the
  // typed fields from the members, not from here, so editing a member is enough.
  std::vector<Header> headers;
  std::map<std::string, std::string> namespaces;  // prefix -> URI ("" for a default namespace declaration)
  std::string imdnMessageId;                      // imdn.Message-ID (prefix bound to urn:ietf:params:imdn)
  // Lower-case tokens in order: positive-delivery, negative-delivery, display, processing.
  std::vector<std::string> dispositionNotification;
  std::string contentType;  // of the encapsulated content, as sent
  // Every content header in order, Content-Type included; serialize() writes contentType in place of
  // the Content-Type value and the real content size in place of a Content-Length value.
  std::vector<std::pair<std::string, std::string>> contentHeaders;
  std::string body;
  bool operator==(const Message&) const = default;
};

struct Limits {
  std::size_t maxHeaders = 64;       // message and content headers together
  std::size_t maxHeaderLine = 4096;  // bytes of one header line, line ending excluded
  std::size_t maxBody = 1 << 20;     // bytes of content
};

// Parses a message/cpim body. On error returns nullopt and sets *error (when error is not null) to a
// short ASCII reason that never quotes the input.
std::optional<Message> parse(std::string_view text, std::string* error, const Limits& limits = {});

// Writes m with CRLF line endings: NS lines for m.namespaces (plus "NS: imdn <urn:ietf:params:imdn>"
// when the imdn fields are set and no prefix is bound to it yet), the typed headers, the other headers
// of m.headers in order, the content headers and the body. Returns "" when m cannot be written as a
// message that parse() accepts with the same fields (bad URI, control characters, missing From, ...),
// so that nothing malformed ever goes on the wire.
std::string serialize(const Message& m);

// Whether a and b carry the same message: typed fields, namespaces, the other (non-typed) headers in
// order, content headers and content. Where the typed headers and NS lines sit in `headers` is not
// compared, because serialize() writes them first.
bool equivalent(const Message& a, const Message& b);

// Grammar pieces shared with the IMDN codec.
bool isDateTime(std::string_view s);     // RFC 3339 date-time, calendar-checked
bool isAbsoluteUri(std::string_view s);  // scheme ":" 1*(RFC 3986 character), ASCII only
bool isToken(std::string_view s);        // RFC 3862 Token: 1*TOKENCHAR, UTF-8 checked

}  // namespace cpmgw::cpim
