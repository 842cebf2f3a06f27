// SMS segmentation and concatenation (3GPP TS 23.040 9.2.3.24.1/.8): choosing the coding, splitting a text into
// parts that fit one SMS, the user data header (UDH) that numbers them, and parsing UDH / SAR TLVs inbound.
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpmgw::smpp {

// SMPP data_coding values this gateway produces.
enum class Coding : std::uint8_t {
  Gsm7 = 0x00,  // SMSC default alphabet, GSM 03.38 one septet per octet
  Ucs2 = 0x08,  // UTF-16BE
};

// The size limits of one SMS (140 octets of user data on the air interface).
inline constexpr int kGsm7Single = 160;    // septets without a header
inline constexpr int kGsm7Concat8 = 153;   // septets beside a 6-octet UDH (8-bit reference)
inline constexpr int kGsm7Concat16 = 152;  // septets beside a 7-octet UDH (16-bit reference)
inline constexpr int kUcs2Single = 70;     // UTF-16 code units without a header
inline constexpr int kUcs2Concat8 = 67;    // code units beside a 6-octet UDH
inline constexpr int kUcs2Concat16 = 66;   // code units beside a 7-octet UDH

// GSM 7-bit when every character has a GSM form, UCS-2 otherwise.
Coding chooseCoding(std::u32string_view text);

struct SplitOptions {
  bool ref16 = false;  // 16-bit concatenation reference (7-octet UDH) instead of 8-bit (6 octets)
  std::size_t maxParts = 255;
};

struct SplitText {
  Coding coding = Coding::Gsm7;
  // Each part's user data without any header: septets (one per octet) for GSM 7, UTF-16BE octets for UCS-2.
  // One part means the text fits a single SMS and needs no header.
  std::vector<std::string> parts;
};

// Splits a text for sending. An escape pair (GSM extension character) or a surrogate pair (UCS-2) is never cut
// between two parts. Returns nullopt when more than maxParts parts would be needed.
std::optional<SplitText> splitText(std::u32string_view text, const SplitOptions& options);

// A concatenated message's numbering, from a UDH information element or the SAR TLVs.
struct ConcatInfo {
  std::uint16_t ref = 0;
  std::uint8_t total = 0;
  std::uint8_t seq = 0;
  bool ref16 = false;
  bool operator==(const ConcatInfo&) const = default;
};

// The UDH (UDHL octet included) that numbers part `seq` of `total`.
std::string buildConcatUdh(const ConcatInfo& info);

struct UserData {
  std::string header;   // the whole UDH including its length octet; empty without UDHI
  std::string payload;  // what follows the header
  std::optional<ConcatInfo> concat;
};

// Splits short_message into header and payload when UDHI (esm_class 0x40) is set. Returns nullopt for a header whose
// length runs past the data or whose elements overrun it. A concatenation element with total 0, seq 0 or
// seq > total is ignored as the specification asks (the message is then treated as a single part).
std::optional<UserData> parseUserData(std::string_view shortMessage, bool udhi);

// The SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum) as concatenation info; nullopt when a value is
// missing or out of range.
std::optional<ConcatInfo> concatFromSar(std::optional<std::uint16_t> ref, std::optional<std::uint8_t> total,
                                        std::optional<std::uint8_t> seq);

}  // namespace cpmgw::smpp
