// SMPP 3.4 PDUs: the model the adapter speaks in, framing, and the codec over libsmpp34.
//
// libsmpp34 packs and unpacks the PDUs. It is strict and fragile in ways a network peer must not be able to reach:
// it reads C strings with strlen (past the end of an unterminated buffer), leaks the TLV it was parsing when a TLV
// is malformed, writes its log of every field into a 2 KiB global without bounds (many TLVs overflow it), rejects
// interface_version other than 0x34, and keeps its error text in globals. So every PDU is walked here first: the walk
// checks the structure (C string terminators and sizes, sm_length, TLV bounds, the width libsmpp34 will read for each
// TLV, at most kMaxTlvs TLVs) and only a PDU that passes reaches libsmpp34, in a copy with a terminating zero after
// it. Calls into libsmpp34 are serialised by a mutex; in the gateway they all come from the SMPP event-loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cpmgw::smpp {

namespace cmd {
inline constexpr std::uint32_t kGenericNack = 0x80000000;
inline constexpr std::uint32_t kBindReceiver = 0x00000001;
inline constexpr std::uint32_t kBindTransmitter = 0x00000002;
inline constexpr std::uint32_t kSubmitSm = 0x00000004;
inline constexpr std::uint32_t kDeliverSm = 0x00000005;
inline constexpr std::uint32_t kUnbind = 0x00000006;
inline constexpr std::uint32_t kBindTransceiver = 0x00000009;
inline constexpr std::uint32_t kEnquireLink = 0x00000015;
inline constexpr std::uint32_t kResponseBit = 0x80000000;
inline constexpr std::uint32_t resp(std::uint32_t c) {
  return c | kResponseBit;
}
inline constexpr bool isResponse(std::uint32_t c) {
  return (c & kResponseBit) != 0;
}
inline constexpr bool isBind(std::uint32_t c) {
  return c == kBindReceiver || c == kBindTransmitter || c == kBindTransceiver;
}
}  // namespace cmd

namespace status {
inline constexpr std::uint32_t kOk = 0x00;
inline constexpr std::uint32_t kInvMsgLen = 0x01;
inline constexpr std::uint32_t kInvCmdLen = 0x02;
inline constexpr std::uint32_t kInvCmdId = 0x03;
inline constexpr std::uint32_t kInvBndSts = 0x04;
inline constexpr std::uint32_t kAlyBnd = 0x05;
inline constexpr std::uint32_t kSysErr = 0x08;
inline constexpr std::uint32_t kInvSrcAdr = 0x0A;
inline constexpr std::uint32_t kInvDstAdr = 0x0B;
inline constexpr std::uint32_t kBindFail = 0x0D;
inline constexpr std::uint32_t kInvPaswd = 0x0E;
inline constexpr std::uint32_t kInvSysId = 0x0F;
inline constexpr std::uint32_t kMsgQFul = 0x14;
inline constexpr std::uint32_t kInvSerTyp = 0x15;
inline constexpr std::uint32_t kInvEsmClass = 0x43;
inline constexpr std::uint32_t kSubmitFail = 0x45;
inline constexpr std::uint32_t kInvSrcTon = 0x48;
inline constexpr std::uint32_t kInvSrcNpi = 0x49;
inline constexpr std::uint32_t kInvDstTon = 0x50;
inline constexpr std::uint32_t kInvDstNpi = 0x51;
inline constexpr std::uint32_t kInvSysTyp = 0x53;
inline constexpr std::uint32_t kThrottled = 0x58;
inline constexpr std::uint32_t kInvSched = 0x61;
inline constexpr std::uint32_t kInvExpiry = 0x62;
inline constexpr std::uint32_t kRxTAppn = 0x64;
inline constexpr std::uint32_t kRxPAppn = 0x65;
inline constexpr std::uint32_t kRxRAppn = 0x66;
inline constexpr std::uint32_t kInvOptParStream = 0xC0;
inline constexpr std::uint32_t kInvParLen = 0xC2;
inline constexpr std::uint32_t kUnknownErr = 0xFF;
}  // namespace status

namespace tag {
inline constexpr std::uint16_t kReceiptedMessageId = 0x001E;
inline constexpr std::uint16_t kUserMessageReference = 0x0204;
inline constexpr std::uint16_t kSarMsgRefNum = 0x020C;
inline constexpr std::uint16_t kSarTotalSegments = 0x020E;
inline constexpr std::uint16_t kSarSegmentSeqnum = 0x020F;
inline constexpr std::uint16_t kScInterfaceVersion = 0x0210;
inline constexpr std::uint16_t kNetworkErrorCode = 0x0423;
inline constexpr std::uint16_t kMessagePayload = 0x0424;
inline constexpr std::uint16_t kMessageState = 0x0427;
}  // namespace tag

// "submit_sm", "bind_transceiver_resp", ... or "command 0x...".
std::string commandName(std::uint32_t commandId);
// "ESME_RTHROTTLED", ... or "0x...".
std::string statusName(std::uint32_t status);

struct Tlv {
  std::uint16_t tag = 0;
  std::string value;  // wire form: integers big-endian
  bool operator==(const Tlv&) const = default;
};

struct BindBody {
  std::string systemId;
  std::string password;
  std::string systemType;
  std::uint8_t interfaceVersion = 0x34;  // as the peer sent it (libsmpp34 itself only takes 0x34)
  std::uint8_t addrTon = 0;
  std::uint8_t addrNpi = 0;
  std::string addressRange;
};

struct BindRespBody {
  std::string systemId;
  std::vector<Tlv> tlvs;
};

// submit_sm and deliver_sm.
struct SmBody {
  std::string serviceType;
  std::uint8_t sourceTon = 0;
  std::uint8_t sourceNpi = 0;
  std::string source;
  std::uint8_t destTon = 0;
  std::uint8_t destNpi = 0;
  std::string dest;
  std::uint8_t esmClass = 0;
  std::uint8_t protocolId = 0;
  std::uint8_t priority = 0;
  std::string scheduleDeliveryTime;
  std::string validityPeriod;
  std::uint8_t registeredDelivery = 0;
  std::uint8_t replaceIfPresent = 0;
  std::uint8_t dataCoding = 0;
  std::uint8_t smDefaultMsgId = 0;
  std::string shortMessage;
  std::vector<Tlv> tlvs;

  const Tlv* find(std::uint16_t t) const;
  std::optional<std::uint8_t> u8(std::uint16_t t) const;      // nullopt when absent or not one octet
  std::optional<std::uint16_t> u16(std::uint16_t t) const;    // nullopt when absent or not two octets
  std::optional<std::string> cstring(std::uint16_t t) const;  // octets up to the first zero
  void setU8(std::uint16_t t, std::uint8_t v);
  void setU16(std::uint16_t t, std::uint16_t v);
  void setOctets(std::uint16_t t, std::string v);
};

// submit_sm_resp and deliver_sm_resp.
struct MessageIdBody {
  std::string messageId;
};

struct Pdu {
  std::uint32_t commandId = 0;
  std::uint32_t status = 0;
  std::uint32_t sequence = 0;
  std::variant<std::monostate, BindBody, BindRespBody, SmBody, MessageIdBody> body;

  template <typename T>
  T& as() {
    return std::get<T>(body);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(body);
  }
};

inline constexpr std::size_t kHeaderSize = 16;
// libsmpp34 writes a log line per field into a 2 KiB global; 16 TLVs keep the worst case well inside it.
inline constexpr std::size_t kMaxTlvs = 16;
inline constexpr std::size_t kMaxShortMessage = 254;  // sm_length limit libsmpp34 unpacks
inline constexpr std::size_t kMaxPayloadTlv = 1024;   // message_payload limit libsmpp34 unpacks

// Whether the buffered bytes hold a whole PDU. Invalid: command_length below the header size or above maxPdu; the
// stream cannot be resynchronised then and the connection must close.
struct Frame {
  enum class State { NeedMore, Ready, Invalid } state = State::NeedMore;
  std::uint32_t length = 0;
};
Frame peekFrame(std::string_view buffered, std::size_t maxPdu);

struct Decoded {
  std::optional<Pdu> pdu;       // the PDU, when it decoded
  std::uint32_t commandId = 0;  // from the header, also when the body did not decode
  std::uint32_t sequence = 0;
  std::uint32_t status = 0;       // header command_status
  std::uint32_t errorStatus = 0;  // why it did not decode: the command_status to answer with
  bool genericNack = false;       // answer with generic_nack (structure broken, command unknown) rather than the
                                  // command's own response (a field's value is wrong)
  std::string error;              // for the log
};

// Decodes exactly one PDU (a Ready frame). Never throws; never reads outside `bytes`.
Decoded decodePdu(std::string_view bytes);

// Encodes a PDU. Throws std::invalid_argument for a field that does not fit its SMPP size (a programming error:
// callers build PDUs from validated values).
std::string encodePdu(const Pdu& pdu);

// Convenience constructors.
Pdu headerOnly(std::uint32_t commandId, std::uint32_t sequence, std::uint32_t status = 0);
Pdu messageIdResp(std::uint32_t commandId, std::uint32_t sequence, std::uint32_t status, std::string messageId);
Pdu bindResp(std::uint32_t bindCommandId, std::uint32_t sequence, std::uint32_t status, std::string systemId);

}  // namespace cpmgw::smpp
