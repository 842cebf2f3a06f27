#include "smpp/smpp_pdu.h"

#include <arpa/inet.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

// libsmpp34's headers have no C++ guards and must come in this order (params uses the struct types).
// clang-format off
extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}
// clang-format on

namespace cpmgw::smpp {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// The widths libsmpp34 reads for each TLV (its def_frame/*.tlv tables). A TLV whose length differs from the width
// would make libsmpp34 lose its place in the PDU, so the walk refuses it first.

enum class TlvType { U8, U16, U32, Octets };
struct TlvKind {
  TlvType type;
  std::uint16_t max;  // for Octets
};
struct TlvEntry {
  std::uint16_t tag;
  TlvKind kind;
};

constexpr TlvKind kU8{TlvType::U8, 1};
constexpr TlvKind kU16{TlvType::U16, 2};
constexpr TlvKind kOctets1024{TlvType::Octets, 1024};
constexpr TlvKind octets(std::uint16_t n) {
  return {TlvType::Octets, n};
}

constexpr TlvEntry kSubmitSmTlvs[] = {
    {0x0204, kU16},        {0x020A, kU16},       {0x000D, kU8},        {0x020B, kU16},      {0x0005, kU8},
    {0x020C, kU16},        {0x020E, kU8},        {0x020F, kU8},        {0x0426, kU8},       {0x0019, kU8},
    {0x0424, kOctets1024}, {0x0201, kU8},        {0x0381, octets(19)}, {0x0302, kU8},       {0x0303, octets(65)},
    {0x0202, octets(23)},  {0x0203, octets(23)}, {0x0205, kU8},        {0x1201, kU8},       {0x1203, kU16},
    {0x1204, kU8},         {0x0030, kU8},        {0x0304, kU8},        {0x130C, octets(0)}, {0x020D, kU8},
    {0x1380, kU8},         {0x1383, kU16},       {0x0501, octets(1)},
};

constexpr TlvEntry kDeliverSmTlvs[] = {
    {0x0204, kU16},       {0x020A, kU16},       {0x020B, kU16},       {0x020C, kU16}, {0x020E, kU8},
    {0x020F, kU8},        {0x0205, kU8},        {0x0201, kU8},        {0x0019, kU8},  {0x0424, kOctets1024},
    {0x0381, octets(19)}, {0x0202, octets(23)}, {0x0203, octets(23)}, {0x020D, kU8},  {0x1383, kU16},
    {0x0423, octets(3)},  {0x0427, kU8},        {0x001E, octets(65)}, {0x0421, kU8},  {0x000E, kU8},
};

constexpr TlvEntry kBindRespTlvs[] = {{0x0210, kU8}};

TlvKind tlvKind(std::uint32_t commandId, std::uint16_t t) {
  auto lookup = [t](const auto& table) {
    for (const auto& e : table)
      if (e.tag == t) return e.kind;
    return kOctets1024;  // libsmpp34 forwards any other tag as up to 1024 octets
  };
  switch (commandId) {
    case cmd::kSubmitSm:
      return lookup(kSubmitSmTlvs);
    case cmd::kDeliverSm:
      return lookup(kDeliverSmTlvs);
    default:
      return lookup(kBindRespTlvs);
  }
}

bool validTon(std::uint8_t v) {
  return v <= 6;
}
bool validNpi(std::uint8_t v) {
  return v == 0 || v == 1 || v == 3 || v == 4 || v == 6 || v == 8 || v == 9 || v == 10 || v == 14 || v == 18;
}

std::uint32_t be32(std::string_view b, std::size_t at) {
  return (std::uint32_t(std::uint8_t(b[at])) << 24) | (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}

// ---------------------------------------------------------------------------------------------------------------
// The structural walk.

struct WalkError {
  std::uint32_t status;
  bool nack;
  std::string what;
};

class Walker {
 public:
  Walker(std::string_view pdu, std::size_t at) : b_(pdu), pos_(at) {}

  // A C-octet string: its terminator must lie inside the PDU; longer than `max` (terminator included) is a value
  // error with `tooLong` as the status.
  std::optional<WalkError> cstring(const char* field, std::size_t max, std::uint32_t tooLong,
                                   std::size_t* start = nullptr, std::size_t* length = nullptr) {
    auto nul = b_.find('\0', pos_);
    if (nul == std::string_view::npos)
      return WalkError{status::kInvCmdLen, true, std::string(field) + " has no terminator"};
    if (start) *start = pos_;
    if (length) *length = nul - pos_;
    if (nul - pos_ + 1 > max)
      return WalkError{tooLong, false, std::string(field) + " longer than " + std::to_string(max - 1)};
    pos_ = nul + 1;
    return std::nullopt;
  }
  std::optional<WalkError> u8(const char* field, std::uint8_t& v, std::size_t* at = nullptr) {
    if (pos_ >= b_.size()) return WalkError{status::kInvCmdLen, true, std::string(field) + " missing"};
    if (at) *at = pos_;
    v = static_cast<std::uint8_t>(b_[pos_++]);
    return std::nullopt;
  }
  std::optional<WalkError> bytes(const char* field, std::size_t n) {
    if (pos_ + n > b_.size()) return WalkError{status::kInvCmdLen, true, std::string(field) + " runs past the PDU"};
    pos_ += n;
    return std::nullopt;
  }
  std::optional<WalkError> tlvs(std::uint32_t commandId) {
    std::size_t count = 0;
    while (pos_ < b_.size()) {
      if (++count > kMaxTlvs)
        return WalkError{status::kInvOptParStream, false, "more than " + std::to_string(kMaxTlvs) + " TLVs"};
      if (pos_ + 4 > b_.size()) return WalkError{status::kInvOptParStream, false, "truncated TLV header"};
      auto t = static_cast<std::uint16_t>((std::uint8_t(b_[pos_]) << 8) | std::uint8_t(b_[pos_ + 1]));
      auto len = static_cast<std::size_t>((std::uint8_t(b_[pos_ + 2]) << 8) | std::uint8_t(b_[pos_ + 3]));
      pos_ += 4;
      if (pos_ + len > b_.size()) return WalkError{status::kInvOptParStream, false, "TLV value runs past the PDU"};
      auto kind = tlvKind(commandId, t);
      std::size_t width = kind.type == TlvType::U8    ? 1
                          : kind.type == TlvType::U16 ? 2
                          : kind.type == TlvType::U32 ? 4
                                                      : 0;
      if (width != 0 && len != width)
        return WalkError{status::kInvParLen, false,
                         "TLV 0x" + hex(t) + " must be " + std::to_string(width) + " octets"};
      if (width == 0 && len > kind.max)
        return WalkError{t == tag::kMessagePayload ? status::kInvMsgLen : status::kInvParLen, false,
                         "TLV 0x" + hex(t) + " longer than " + std::to_string(kind.max) + " octets"};
      pos_ += len;
    }
    return std::nullopt;
  }
  bool atEnd() const { return pos_ == b_.size(); }
  std::size_t pos() const { return pos_; }

  static std::string hex(std::uint32_t v) {
    char buf[12];
    std::snprintf(buf, sizeof buf, "%04X", v);
    return buf;
  }

 private:
  std::string_view b_;
  std::size_t pos_;
};

// ---------------------------------------------------------------------------------------------------------------
// libsmpp34 calls.

std::mutex& libraryMutex() {
  static std::mutex m;
  return m;
}

std::string libraryError() {
  std::string e(smpp34_strerror, strnlen(smpp34_strerror, sizeof smpp34_strerror));
  return e.size() > 200 ? e.substr(e.size() - 200) : e;
}

template <typename T>
bool unpack(std::uint32_t type, T& out, std::string_view bytes, std::string& error) {
  // The terminating zero keeps libsmpp34's strlen inside our buffer whatever the walk missed.
  std::string copy(bytes);
  copy.push_back('\0');
  std::lock_guard lock(libraryMutex());
  int rc =
      smpp34_unpack(type, &out, reinterpret_cast<const std::uint8_t*>(copy.data()), static_cast<int>(bytes.size()));
  if (rc != 0) error = "libsmpp34: " + libraryError();
  return rc == 0;
}

template <std::size_t N>
std::string str(const std::uint8_t (&field)[N]) {
  return std::string(reinterpret_cast<const char*>(field), strnlen(reinterpret_cast<const char*>(field), N));
}

template <std::size_t N>
void put(std::uint8_t (&field)[N], const std::string& value, const char* name) {
  if (value.size() + 1 > N || value.find('\0') != std::string::npos)
    throw std::invalid_argument(std::string(name) + " does not fit " + std::to_string(N - 1) + " octets");
  std::memcpy(field, value.data(), value.size());
  field[value.size()] = 0;
}

std::vector<Tlv> takeTlvs(std::uint32_t commandId, tlv_t* head) {
  std::vector<Tlv> out;
  for (tlv_t* t = head; t != nullptr; t = t->next) {
    Tlv v;
    v.tag = t->tag;
    auto kind = tlvKind(commandId, t->tag);
    switch (kind.type) {
      case TlvType::U8:
        v.value = std::string(1, static_cast<char>(t->value.val08));
        break;
      case TlvType::U16:
        v.value = {static_cast<char>(t->value.val16 >> 8), static_cast<char>(t->value.val16 & 0xFF)};
        break;
      case TlvType::U32:
        v.value = {static_cast<char>(t->value.val32 >> 24), static_cast<char>((t->value.val32 >> 16) & 0xFF),
                   static_cast<char>((t->value.val32 >> 8) & 0xFF), static_cast<char>(t->value.val32 & 0xFF)};
        break;
      case TlvType::Octets:
        v.value =
            std::string(reinterpret_cast<const char*>(t->value.octet), std::min<std::size_t>(t->length, MAX_TLV_SIZE));
        break;
    }
    out.push_back(std::move(v));
  }
  destroy_tlv(head);
  // libsmpp34 prepends each TLV it reads: restore the wire order.
  return {out.rbegin(), out.rend()};
}

// Builds libsmpp34's TLV chain in wire order; the caller destroys it.
tlv_t* makeTlvs(std::uint32_t commandId, const std::vector<Tlv>& tlvs) {
  if (tlvs.size() > kMaxTlvs) throw std::invalid_argument("too many TLVs");
  tlv_t* head = nullptr;
  for (auto it = tlvs.rbegin(); it != tlvs.rend(); ++it) {
    tlv_t t{};
    t.tag = it->tag;
    auto kind = tlvKind(commandId, it->tag);
    const std::string& v = it->value;
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(v[i]); };
    switch (kind.type) {
      case TlvType::U8:
        if (v.size() != 1) throw std::invalid_argument("TLV 0x" + Walker::hex(it->tag) + " must be 1 octet");
        t.value.val08 = byte(0);
        break;
      case TlvType::U16:
        if (v.size() != 2) throw std::invalid_argument("TLV 0x" + Walker::hex(it->tag) + " must be 2 octets");
        t.value.val16 = static_cast<std::uint16_t>((byte(0) << 8) | byte(1));
        break;
      case TlvType::U32:
        if (v.size() != 4) throw std::invalid_argument("TLV 0x" + Walker::hex(it->tag) + " must be 4 octets");
        t.value.val32 =
            (std::uint32_t(byte(0)) << 24) | (std::uint32_t(byte(1)) << 16) | (std::uint32_t(byte(2)) << 8) | byte(3);
        break;
      case TlvType::Octets:
        if (v.size() > kind.max) throw std::invalid_argument("TLV 0x" + Walker::hex(it->tag) + " too long");
        std::memcpy(t.value.octet, v.data(), v.size());
        break;
    }
    t.length = static_cast<std::uint16_t>(v.size());
    if (build_tlv(&head, &t) != 0) {
      destroy_tlv(head);
      throw std::runtime_error("out of memory building TLVs");
    }
  }
  return head;
}

template <typename T>
std::string pack(std::uint32_t type, T& in, std::size_t capacity) {
  std::string out(capacity, '\0');
  int len = 0;
  std::lock_guard lock(libraryMutex());
  int rc = smpp34_pack(type, reinterpret_cast<std::uint8_t*>(out.data()), static_cast<int>(out.size()), &len, &in);
  if (rc != 0) throw std::invalid_argument("cannot encode " + commandName(type) + ": libsmpp34: " + libraryError());
  out.resize(static_cast<std::size_t>(len));
  return out;
}

template <typename T>
void setHeader(T& t, const Pdu& p) {
  t.command_length = 0;
  t.command_id = p.commandId;
  t.command_status = p.status;
  t.sequence_number = p.sequence;
}

template <typename T>
void fromHeader(Pdu& p, const T& t) {
  p.commandId = t.command_id;
  p.status = t.command_status;
  p.sequence = t.sequence_number;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-command decoders.

template <typename T>
void decodeBind(std::string_view bytes, Decoded& d) {
  Walker w(bytes, kHeaderSize);
  std::size_t versionAt = 0, tonAt = 0, npiAt = 0;
  std::uint8_t version = 0, ton = 0, npi = 0;
  std::optional<WalkError> e;
  if (!e) e = w.cstring("system_id", 16, status::kInvSysId);
  if (!e) e = w.cstring("password", 9, status::kInvPaswd);
  if (!e) e = w.cstring("system_type", 13, status::kInvSysTyp);
  if (!e) e = w.u8("interface_version", version, &versionAt);
  if (!e) e = w.u8("addr_ton", ton, &tonAt);
  if (!e) e = w.u8("addr_npi", npi, &npiAt);
  if (!e) e = w.cstring("address_range", 41, status::kBindFail);
  if (!e && !w.atEnd()) e = WalkError{status::kInvCmdLen, true, "bytes after address_range"};
  if (e) {
    d.errorStatus = e->status;
    d.genericNack = e->nack;
    d.error = e->what;
    return;
  }
  // SMPP 5.0 (0x50) and 3.3 (0x33) ESMEs speak the 3.4 subset used here, and address_range is not used for routing:
  // normalise what libsmpp34 would refuse, keeping the peer's version for the log.
  std::string copy(bytes);
  copy[versionAt] = 0x34;
  if (!validTon(ton)) copy[tonAt] = 0;
  if (!validNpi(npi)) copy[npiAt] = 0;
  T t{};
  if (!unpack(d.commandId, t, copy, d.error)) {
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    return;
  }
  Pdu p;
  fromHeader(p, t);
  BindBody b;
  b.systemId = str(t.system_id);
  b.password = str(t.password);
  b.systemType = str(t.system_type);
  b.interfaceVersion = version;
  b.addrTon = t.addr_ton;
  b.addrNpi = t.addr_npi;
  b.addressRange = str(t.address_range);
  p.body = std::move(b);
  d.pdu = std::move(p);
}

template <typename T>
void decodeBindResp(std::string_view bytes, Decoded& d) {
  Pdu p;
  p.commandId = d.commandId;
  p.status = d.status;
  p.sequence = d.sequence;
  if (d.status != status::kOk) {
    // A refusal: only the status matters, and libsmpp34 does not know every status an SMSC may use.
    p.body = BindRespBody{};
    d.pdu = std::move(p);
    return;
  }
  Walker w(bytes, kHeaderSize);
  std::optional<WalkError> e = w.cstring("system_id", 16, status::kInvCmdLen);
  if (!e) e = w.tlvs(d.commandId);
  if (e) {
    d.errorStatus = e->status;
    d.genericNack = true;
    d.error = e->what;
    return;
  }
  T t{};
  if (!unpack(d.commandId, t, bytes, d.error)) {
    destroy_tlv(t.tlv);
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    return;
  }
  fromHeader(p, t);
  BindRespBody b;
  b.systemId = str(t.system_id);
  b.tlvs = takeTlvs(d.commandId, t.tlv);
  p.body = std::move(b);
  d.pdu = std::move(p);
}

template <typename T>
void decodeSm(std::string_view bytes, Decoded& d) {
  const bool deliver = d.commandId == cmd::kDeliverSm;
  Walker w(bytes, kHeaderSize);
  std::uint8_t sTon = 0, sNpi = 0, dTon = 0, dNpi = 0, v = 0, smLength = 0;
  std::optional<WalkError> e;
  if (!e) e = w.cstring("service_type", 6, status::kInvSerTyp);
  if (!e) e = w.u8("source_addr_ton", sTon);
  if (!e) e = w.u8("source_addr_npi", sNpi);
  if (!e) e = w.cstring("source_addr", 21, status::kInvSrcAdr);
  if (!e) e = w.u8("dest_addr_ton", dTon);
  if (!e) e = w.u8("dest_addr_npi", dNpi);
  if (!e) e = w.cstring("destination_addr", 21, status::kInvDstAdr);
  for (const char* f : {"esm_class", "protocol_id", "priority_flag"})
    if (!e) e = w.u8(f, v);
  // deliver_sm carries these two empty (libsmpp34 allows nothing else there).
  if (!e) e = w.cstring("schedule_delivery_time", deliver ? 1 : 17, status::kInvSched);
  if (!e) e = w.cstring("validity_period", deliver ? 1 : 17, status::kInvExpiry);
  for (const char* f : {"registered_delivery", "replace_if_present_flag", "data_coding", "sm_default_msg_id"})
    if (!e) e = w.u8(f, v);
  if (!e) e = w.u8("sm_length", smLength);
  if (!e && smLength > kMaxShortMessage)
    e = WalkError{status::kInvMsgLen, false, "sm_length " + std::to_string(smLength) + " above 254"};
  if (!e) e = w.bytes("short_message", smLength);
  if (!e) e = w.tlvs(d.commandId);
  if (!e && !validTon(sTon)) e = WalkError{status::kInvSrcTon, false, "source_addr_ton " + std::to_string(sTon)};
  if (!e && !validNpi(sNpi)) e = WalkError{status::kInvSrcNpi, false, "source_addr_npi " + std::to_string(sNpi)};
  if (!e && !validTon(dTon)) e = WalkError{status::kInvDstTon, false, "dest_addr_ton " + std::to_string(dTon)};
  if (!e && !validNpi(dNpi)) e = WalkError{status::kInvDstNpi, false, "dest_addr_npi " + std::to_string(dNpi)};
  if (e) {
    d.errorStatus = e->status;
    d.genericNack = e->nack;
    d.error = e->what;
    return;
  }
  T t{};
  if (!unpack(d.commandId, t, bytes, d.error)) {
    destroy_tlv(t.tlv);
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    return;
  }
  Pdu p;
  fromHeader(p, t);
  SmBody s;
  s.serviceType = str(t.service_type);
  s.sourceTon = t.source_addr_ton;
  s.sourceNpi = t.source_addr_npi;
  s.source = str(t.source_addr);
  s.destTon = t.dest_addr_ton;
  s.destNpi = t.dest_addr_npi;
  s.dest = str(t.destination_addr);
  s.esmClass = t.esm_class;
  s.protocolId = t.protocol_id;
  s.priority = t.priority_flag;
  s.scheduleDeliveryTime = str(t.schedule_delivery_time);
  s.validityPeriod = str(t.validity_period);
  s.registeredDelivery = t.registered_delivery;
  s.replaceIfPresent = t.replace_if_present_flag;
  s.dataCoding = t.data_coding;
  s.smDefaultMsgId = t.sm_default_msg_id;
  s.shortMessage = std::string(reinterpret_cast<const char*>(t.short_message), t.sm_length);
  s.tlvs = takeTlvs(d.commandId, t.tlv);
  p.body = std::move(s);
  d.pdu = std::move(p);
}

template <typename T>
void decodeMessageIdResp(std::string_view bytes, Decoded& d) {
  Pdu p;
  p.commandId = d.commandId;
  p.status = d.status;
  p.sequence = d.sequence;
  if (d.status != status::kOk || bytes.size() == kHeaderSize) {
    // An error carries no usable message_id (and libsmpp34 knows only the standard statuses); deliver_sm_resp is
    // often sent without a body at all.
    p.body = MessageIdBody{};
    d.pdu = std::move(p);
    return;
  }
  Walker w(bytes, kHeaderSize);
  std::size_t start = 0, length = 0;
  if (auto e = w.cstring("message_id", 65, status::kInvCmdLen, &start, &length)) {
    d.errorStatus = e->status;
    d.genericNack = true;
    d.error = e->what;
    return;
  }
  // SMPP 5.0 SMSCs may add TLVs after message_id; the 3.4 frame has none, so libsmpp34 gets the mandatory part.
  // libsmpp34's deliver_sm_resp frame allows only an empty message_id, yet some ESMEs return their id there: it is
  // taken from the walk and libsmpp34 checks the rest.
  const bool deliverResp = d.commandId == cmd::resp(cmd::kDeliverSm);
  std::string messageId(bytes.substr(start, length));
  std::string copy(bytes.substr(0, deliverResp ? kHeaderSize : w.pos()));
  if (deliverResp) copy.push_back('\0');
  auto len = htonl(static_cast<std::uint32_t>(copy.size()));
  std::memcpy(copy.data(), &len, 4);
  T t{};
  if (!unpack(d.commandId, t, copy, d.error)) {
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    return;
  }
  fromHeader(p, t);
  p.body = MessageIdBody{deliverResp ? messageId : str(t.message_id)};
  d.pdu = std::move(p);
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------------

std::string commandName(std::uint32_t c) {
  switch (c) {
    case 0x80000000:
      return "generic_nack";
    case 0x00000001:
      return "bind_receiver";
    case 0x80000001:
      return "bind_receiver_resp";
    case 0x00000002:
      return "bind_transmitter";
    case 0x80000002:
      return "bind_transmitter_resp";
    case 0x00000003:
      return "query_sm";
    case 0x80000003:
      return "query_sm_resp";
    case 0x00000004:
      return "submit_sm";
    case 0x80000004:
      return "submit_sm_resp";
    case 0x00000005:
      return "deliver_sm";
    case 0x80000005:
      return "deliver_sm_resp";
    case 0x00000006:
      return "unbind";
    case 0x80000006:
      return "unbind_resp";
    case 0x00000007:
      return "replace_sm";
    case 0x80000007:
      return "replace_sm_resp";
    case 0x00000008:
      return "cancel_sm";
    case 0x80000008:
      return "cancel_sm_resp";
    case 0x00000009:
      return "bind_transceiver";
    case 0x80000009:
      return "bind_transceiver_resp";
    case 0x0000000B:
      return "outbind";
    case 0x00000015:
      return "enquire_link";
    case 0x80000015:
      return "enquire_link_resp";
    case 0x00000021:
      return "submit_multi";
    case 0x80000021:
      return "submit_multi_resp";
    case 0x00000102:
      return "alert_notification";
    case 0x00000103:
      return "data_sm";
    case 0x80000103:
      return "data_sm_resp";
  }
  return "command 0x" + Walker::hex(c);
}

std::string statusName(std::uint32_t s) {
  switch (s) {
    case 0x00:
      return "ESME_ROK";
    case 0x01:
      return "ESME_RINVMSGLEN";
    case 0x02:
      return "ESME_RINVCMDLEN";
    case 0x03:
      return "ESME_RINVCMDID";
    case 0x04:
      return "ESME_RINVBNDSTS";
    case 0x05:
      return "ESME_RALYBND";
    case 0x08:
      return "ESME_RSYSERR";
    case 0x0A:
      return "ESME_RINVSRCADR";
    case 0x0B:
      return "ESME_RINVDSTADR";
    case 0x0C:
      return "ESME_RINVMSGID";
    case 0x0D:
      return "ESME_RBINDFAIL";
    case 0x0E:
      return "ESME_RINVPASWD";
    case 0x0F:
      return "ESME_RINVSYSID";
    case 0x14:
      return "ESME_RMSGQFUL";
    case 0x15:
      return "ESME_RINVSERTYP";
    case 0x43:
      return "ESME_RINVESMCLASS";
    case 0x45:
      return "ESME_RSUBMITFAIL";
    case 0x48:
      return "ESME_RINVSRCTON";
    case 0x49:
      return "ESME_RINVSRCNPI";
    case 0x50:
      return "ESME_RINVDSTTON";
    case 0x51:
      return "ESME_RINVDSTNPI";
    case 0x53:
      return "ESME_RINVSYSTYP";
    case 0x58:
      return "ESME_RTHROTTLED";
    case 0x61:
      return "ESME_RINVSCHED";
    case 0x62:
      return "ESME_RINVEXPIRY";
    case 0x64:
      return "ESME_RX_T_APPN";
    case 0x65:
      return "ESME_RX_P_APPN";
    case 0x66:
      return "ESME_RX_R_APPN";
    case 0xC0:
      return "ESME_RINVOPTPARSTREAM";
    case 0xC2:
      return "ESME_RINVPARLEN";
    case 0xFF:
      return "ESME_RUNKNOWNERR";
  }
  return "0x" + Walker::hex(s);
}

const Tlv* SmBody::find(std::uint16_t t) const {
  for (const auto& v : tlvs)
    if (v.tag == t) return &v;
  return nullptr;
}

std::optional<std::uint8_t> SmBody::u8(std::uint16_t t) const {
  const Tlv* v = find(t);
  if (!v || v->value.size() != 1) return std::nullopt;
  return static_cast<std::uint8_t>(v->value[0]);
}

std::optional<std::uint16_t> SmBody::u16(std::uint16_t t) const {
  const Tlv* v = find(t);
  if (!v || v->value.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((std::uint8_t(v->value[0]) << 8) | std::uint8_t(v->value[1]));
}

std::optional<std::string> SmBody::cstring(std::uint16_t t) const {
  const Tlv* v = find(t);
  if (!v) return std::nullopt;
  return v->value.substr(0, v->value.find('\0'));
}

void SmBody::setU8(std::uint16_t t, std::uint8_t v) {
  setOctets(t, std::string(1, static_cast<char>(v)));
}
void SmBody::setU16(std::uint16_t t, std::uint16_t v) {
  setOctets(t, {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)});
}
void SmBody::setOctets(std::uint16_t t, std::string v) {
  for (auto& x : tlvs) {
    if (x.tag == t) {
      x.value = std::move(v);
      return;
    }
  }
  tlvs.push_back({t, std::move(v)});
}

Frame peekFrame(std::string_view buffered, std::size_t maxPdu) {
  if (buffered.size() < 4) return {};
  std::uint32_t length = be32(buffered, 0);
  if (length < kHeaderSize || length > maxPdu) return {Frame::State::Invalid, length};
  if (buffered.size() < length) return {Frame::State::NeedMore, length};
  return {Frame::State::Ready, length};
}

Decoded decodePdu(std::string_view bytes) {
  Decoded d;
  if (bytes.size() < kHeaderSize) {
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    d.error = "shorter than a header";
    return d;
  }
  d.commandId = be32(bytes, 4);
  d.status = be32(bytes, 8);
  d.sequence = be32(bytes, 12);
  if (be32(bytes, 0) != bytes.size()) {
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    d.error = "command_length does not match the PDU";
    return d;
  }
  if (d.sequence == 0 || d.sequence > 0x7FFFFFFF) {
    // 0 and values above 0x7FFFFFFF are not valid sequence numbers (and libsmpp34 refuses 0).
    d.errorStatus = status::kInvCmdLen;
    d.genericNack = true;
    d.error = "invalid sequence_number " + std::to_string(d.sequence);
    return d;
  }
  switch (d.commandId) {
    case cmd::kGenericNack:
    case cmd::kUnbind:
    case cmd::resp(cmd::kUnbind):
    case cmd::kEnquireLink:
    case cmd::resp(cmd::kEnquireLink): {
      if (!cmd::isResponse(d.commandId) && bytes.size() != kHeaderSize) {
        d.errorStatus = status::kInvCmdLen;
        d.genericNack = true;
        d.error = commandName(d.commandId) + " with a body";
        return d;
      }
      d.pdu = headerOnly(d.commandId, d.sequence, d.status);
      return d;
    }
    case cmd::kBindTransmitter:
      decodeBind<bind_transmitter_t>(bytes, d);
      return d;
    case cmd::kBindReceiver:
      decodeBind<bind_receiver_t>(bytes, d);
      return d;
    case cmd::kBindTransceiver:
      decodeBind<bind_transceiver_t>(bytes, d);
      return d;
    case cmd::resp(cmd::kBindTransmitter):
      decodeBindResp<bind_transmitter_resp_t>(bytes, d);
      return d;
    case cmd::resp(cmd::kBindReceiver):
      decodeBindResp<bind_receiver_resp_t>(bytes, d);
      return d;
    case cmd::resp(cmd::kBindTransceiver):
      decodeBindResp<bind_transceiver_resp_t>(bytes, d);
      return d;
    case cmd::kSubmitSm:
      decodeSm<submit_sm_t>(bytes, d);
      return d;
    case cmd::kDeliverSm:
      decodeSm<deliver_sm_t>(bytes, d);
      return d;
    case cmd::resp(cmd::kSubmitSm):
      decodeMessageIdResp<submit_sm_resp_t>(bytes, d);
      return d;
    case cmd::resp(cmd::kDeliverSm):
      decodeMessageIdResp<deliver_sm_resp_t>(bytes, d);
      return d;
    default:
      d.errorStatus = status::kInvCmdId;
      d.genericNack = true;
      d.error = commandName(d.commandId) + " is not supported";
      return d;
  }
}

std::string encodePdu(const Pdu& p) {
  switch (p.commandId) {
    case cmd::kGenericNack:
    case cmd::kUnbind:
    case cmd::resp(cmd::kUnbind):
    case cmd::kEnquireLink:
    case cmd::resp(cmd::kEnquireLink): {
      generic_nack_t t{};  // every header-only PDU has this layout
      setHeader(t, p);
      return pack(p.commandId, t, 64);
    }
    case cmd::kBindTransmitter:
    case cmd::kBindReceiver:
    case cmd::kBindTransceiver: {
      const auto& b = p.as<BindBody>();
      bind_transceiver_t t{};  // the three bind requests share one layout
      setHeader(t, p);
      put(t.system_id, b.systemId, "system_id");
      put(t.password, b.password, "password");
      put(t.system_type, b.systemType, "system_type");
      t.interface_version = 0x34;
      t.addr_ton = b.addrTon;
      t.addr_npi = b.addrNpi;
      put(t.address_range, b.addressRange, "address_range");
      return pack(p.commandId, t, 256);
    }
    case cmd::resp(cmd::kBindTransmitter):
    case cmd::resp(cmd::kBindReceiver):
    case cmd::resp(cmd::kBindTransceiver): {
      const auto* b = std::get_if<BindRespBody>(&p.body);
      bind_transceiver_resp_t t{};
      setHeader(t, p);
      put(t.system_id, b ? b->systemId : std::string(), "system_id");
      t.tlv = b ? makeTlvs(p.commandId, b->tlvs) : nullptr;
      try {
        auto out = pack(p.commandId, t, 256 + (b ? b->tlvs.size() * (MAX_TLV_SIZE + 4) : 0));
        destroy_tlv(t.tlv);
        return out;
      } catch (...) {
        destroy_tlv(t.tlv);
        throw;
      }
    }
    case cmd::kSubmitSm:
    case cmd::kDeliverSm: {
      const auto& s = p.as<SmBody>();
      if (s.shortMessage.size() >= kMaxShortMessage) throw std::invalid_argument("short_message longer than 253");
      auto fill = [&](auto& t) {
        setHeader(t, p);
        put(t.service_type, s.serviceType, "service_type");
        t.source_addr_ton = s.sourceTon;
        t.source_addr_npi = s.sourceNpi;
        put(t.source_addr, s.source, "source_addr");
        t.dest_addr_ton = s.destTon;
        t.dest_addr_npi = s.destNpi;
        put(t.destination_addr, s.dest, "destination_addr");
        t.esm_class = s.esmClass;
        t.protocol_id = s.protocolId;
        t.priority_flag = s.priority;
        put(t.schedule_delivery_time, s.scheduleDeliveryTime, "schedule_delivery_time");
        put(t.validity_period, s.validityPeriod, "validity_period");
        t.registered_delivery = s.registeredDelivery;
        t.replace_if_present_flag = s.replaceIfPresent;
        t.data_coding = s.dataCoding;
        t.sm_default_msg_id = s.smDefaultMsgId;
        t.sm_length = static_cast<std::uint8_t>(s.shortMessage.size());
        std::memcpy(t.short_message, s.shortMessage.data(), s.shortMessage.size());
        t.tlv = makeTlvs(p.commandId, s.tlvs);
        try {
          auto out = pack(p.commandId, t, 512 + s.tlvs.size() * (MAX_TLV_SIZE + 4));
          destroy_tlv(t.tlv);
          return out;
        } catch (...) {
          destroy_tlv(t.tlv);
          throw;
        }
      };
      if (p.commandId == cmd::kSubmitSm) {
        submit_sm_t t{};
        return fill(t);
      }
      deliver_sm_t t{};
      return fill(t);
    }
    case cmd::resp(cmd::kSubmitSm):
    case cmd::resp(cmd::kDeliverSm): {
      const auto* b = std::get_if<MessageIdBody>(&p.body);
      if (p.commandId == cmd::resp(cmd::kDeliverSm)) {
        deliver_sm_resp_t t{};  // message_id is unused in deliver_sm_resp (SMPP 3.4 4.6.2)
        setHeader(t, p);
        return pack(p.commandId, t, 64);
      }
      submit_sm_resp_t t{};
      setHeader(t, p);
      put(t.message_id, b ? b->messageId : std::string(), "message_id");
      return pack(p.commandId, t, 128);
    }
    default:
      throw std::invalid_argument("cannot encode " + commandName(p.commandId));
  }
}

Pdu headerOnly(std::uint32_t commandId, std::uint32_t sequence, std::uint32_t st) {
  Pdu p;
  p.commandId = commandId;
  p.sequence = sequence;
  p.status = st;
  return p;
}

Pdu messageIdResp(std::uint32_t commandId, std::uint32_t sequence, std::uint32_t st, std::string messageId) {
  Pdu p = headerOnly(commandId, sequence, st);
  p.body = MessageIdBody{std::move(messageId)};
  return p;
}

Pdu bindResp(std::uint32_t bindCommandId, std::uint32_t sequence, std::uint32_t st, std::string systemId) {
  Pdu p = headerOnly(cmd::resp(bindCommandId), sequence, st);
  p.body = BindRespBody{std::move(systemId), {}};
  return p;
}

}  // namespace cpmgw::smpp
