// SMPP PDU framing and the codec over libsmpp34: round trips, and a table of hostile PDUs with the answer each gets.
#include "smpp/smpp_pdu.h"

#include <gtest/gtest.h>

#include <random>

namespace cpmgw::smpp {
namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string pdu(std::uint32_t commandId, std::uint32_t seq, const std::string& body, std::uint32_t status = 0) {
  return be32(static_cast<std::uint32_t>(16 + body.size())) + be32(commandId) + be32(status) + be32(seq) + body;
}

std::string cstr(const std::string& s) {
  return s + std::string(1, '\0');
}

// A submit_sm body from its fields (TLVs appended raw).
std::string smBody(std::uint8_t srcTon, const std::string& src, std::uint8_t dstNpi, const std::string& dst,
                   const std::string& sm, const std::string& tlvs = "", const std::string& sched = "") {
  std::string b = cstr("") + char(srcTon) + char(1) + cstr(src) + char(1) + char(dstNpi) + cstr(dst);
  b += std::string("\x00\x00\x00", 3) + cstr(sched) + cstr("") + std::string("\x00\x00\x00\x00", 4);
  b += static_cast<char>(sm.size());
  return b + sm + tlvs;
}

std::string tlv(std::uint16_t tag, const std::string& value) {
  return std::string{static_cast<char>(tag >> 8), static_cast<char>(tag & 0xFF), static_cast<char>(value.size() >> 8),
                     static_cast<char>(value.size() & 0xFF)} +
         value;
}

TEST(SmppFrame, NeedsAWholeSaneFrame) {
  std::size_t max = 4096;
  EXPECT_EQ(peekFrame("", max).state, Frame::State::NeedMore);
  EXPECT_EQ(peekFrame(std::string("\x00\x00", 2), max).state, Frame::State::NeedMore);
  EXPECT_EQ(peekFrame(be32(8), max).state, Frame::State::Invalid);
  EXPECT_EQ(peekFrame(be32(5000), max).state, Frame::State::Invalid);
  EXPECT_EQ(peekFrame(be32(0xFFFFFFFF), max).state, Frame::State::Invalid);
  std::string enquire = pdu(cmd::kEnquireLink, 1, "");
  EXPECT_EQ(peekFrame(enquire.substr(0, 10), max).state, Frame::State::NeedMore);
  auto f = peekFrame(enquire + "tail", max);
  EXPECT_EQ(f.state, Frame::State::Ready);
  EXPECT_EQ(f.length, 16u);
}

TEST(SmppCodec, SubmitSmRoundTripsWithTlvsInOrder) {
  Pdu p;
  p.commandId = cmd::kSubmitSm;
  p.sequence = 77;
  SmBody b;
  b.serviceType = "CMT";
  b.sourceTon = 5;
  b.source = "MyBank";
  b.destTon = 1;
  b.destNpi = 1;
  b.dest = "447700900123";
  b.esmClass = 0x40;
  b.registeredDelivery = 1;
  b.dataCoding = 8;
  b.validityPeriod = "000001000000000R";
  b.shortMessage = std::string("\x05\x00\x03\x01\x02\x01\x00\x41", 8);
  b.setU16(tag::kSarMsgRefNum, 0x0102);
  b.setU8(tag::kSarTotalSegments, 2);
  b.setU8(tag::kSarSegmentSeqnum, 1);
  b.setOctets(tag::kMessagePayload, std::string(1024, 'p'));
  b.setOctets(0x1400, "vendor");
  p.body = b;
  std::string bytes = encodePdu(p);
  auto d = decodePdu(bytes);
  ASSERT_TRUE(d.pdu) << d.error;
  const auto& s = d.pdu->as<SmBody>();
  EXPECT_EQ(d.pdu->sequence, 77u);
  EXPECT_EQ(s.serviceType, "CMT");
  EXPECT_EQ(s.sourceTon, 5);
  EXPECT_EQ(s.source, "MyBank");
  EXPECT_EQ(s.dest, "447700900123");
  EXPECT_EQ(s.validityPeriod, "000001000000000R");
  EXPECT_EQ(s.shortMessage, b.shortMessage);
  EXPECT_EQ(s.tlvs, b.tlvs);
  EXPECT_EQ(*s.u16(tag::kSarMsgRefNum), 0x0102);
  EXPECT_EQ(*s.u8(tag::kSarSegmentSeqnum), 1);
}

TEST(SmppCodec, DeliverSmReceiptRoundTrips) {
  Pdu p;
  p.commandId = cmd::kDeliverSm;
  p.sequence = 3;
  SmBody b;
  b.esmClass = 0x04;
  b.shortMessage = "id:42 stat:DELIVRD";
  b.setOctets(tag::kReceiptedMessageId, std::string("42\0", 3));
  b.setU8(tag::kMessageState, 2);
  b.setOctets(tag::kNetworkErrorCode, std::string("\x03\x00\x00", 3));
  p.body = b;
  auto d = decodePdu(encodePdu(p));
  ASSERT_TRUE(d.pdu) << d.error;
  EXPECT_EQ(*d.pdu->as<SmBody>().cstring(tag::kReceiptedMessageId), "42");
  EXPECT_EQ(*d.pdu->as<SmBody>().u8(tag::kMessageState), 2);
}

TEST(SmppCodec, BindsAndResponsesRoundTrip) {
  for (std::uint32_t c : {cmd::kBindTransmitter, cmd::kBindReceiver, cmd::kBindTransceiver}) {
    Pdu p;
    p.commandId = c;
    p.sequence = 1;
    p.body = BindBody{"system_id_15chr", "pw123456", "VMS", 0x34, 1, 1, "^44"};
    auto d = decodePdu(encodePdu(p));
    ASSERT_TRUE(d.pdu) << d.error;
    EXPECT_EQ(d.pdu->commandId, c);
    EXPECT_EQ(d.pdu->as<BindBody>().systemId, "system_id_15chr");
    EXPECT_EQ(d.pdu->as<BindBody>().password, "pw123456");
    EXPECT_EQ(d.pdu->as<BindBody>().addressRange, "^44");
    auto r = decodePdu(encodePdu(bindResp(c, 1, status::kOk, "cpmgw")));
    ASSERT_TRUE(r.pdu) << r.error;
    EXPECT_EQ(r.pdu->as<BindRespBody>().systemId, "cpmgw");
    auto refused = decodePdu(encodePdu(bindResp(c, 1, status::kInvPaswd, {})));
    ASSERT_TRUE(refused.pdu);
    EXPECT_EQ(refused.pdu->status, status::kInvPaswd);
  }
  auto r = decodePdu(encodePdu(messageIdResp(cmd::resp(cmd::kSubmitSm), 9, 0, std::string(64, 'i'))));
  ASSERT_TRUE(r.pdu);
  EXPECT_EQ(r.pdu->as<MessageIdBody>().messageId, std::string(64, 'i'));
  for (std::uint32_t c : {cmd::kEnquireLink, cmd::resp(cmd::kEnquireLink), cmd::kUnbind, cmd::resp(cmd::kUnbind)}) {
    auto h = decodePdu(encodePdu(headerOnly(c, 5)));
    ASSERT_TRUE(h.pdu) << commandName(c);
    EXPECT_EQ(h.pdu->commandId, c);
  }
  auto n = decodePdu(encodePdu(headerOnly(cmd::kGenericNack, 5, status::kInvCmdId)));
  ASSERT_TRUE(n.pdu);
  EXPECT_EQ(n.pdu->status, status::kInvCmdId);
}

TEST(SmppCodec, LenientWhereRealPeersDiffer) {
  // SMPP 5.0 ESMEs (the npm package) bind with interface_version 0x50.
  std::string bind = cstr("esme") + cstr("pw") + cstr("") + char(0x50) + char(9) + char(2) + cstr("");
  auto d = decodePdu(pdu(cmd::kBindTransceiver, 1, bind));
  ASSERT_TRUE(d.pdu) << d.error;
  EXPECT_EQ(d.pdu->as<BindBody>().interfaceVersion, 0x50);
  // An error response with a body, and a vendor status libsmpp34 does not know.
  auto e = decodePdu(pdu(cmd::resp(cmd::kSubmitSm), 2, cstr("x"), 0x400));
  ASSERT_TRUE(e.pdu);
  EXPECT_EQ(e.pdu->status, 0x400u);
  // SMPP 5.0 TLVs after message_id.
  auto t = decodePdu(pdu(cmd::resp(cmd::kSubmitSm), 3, cstr("abc") + tlv(0x0425, "\x01")));
  ASSERT_TRUE(t.pdu) << t.error;
  EXPECT_EQ(t.pdu->as<MessageIdBody>().messageId, "abc");
  // deliver_sm_resp with an id, and without any body.
  auto i = decodePdu(pdu(cmd::resp(cmd::kDeliverSm), 4, cstr("id-7")));
  ASSERT_TRUE(i.pdu) << i.error;
  EXPECT_EQ(i.pdu->as<MessageIdBody>().messageId, "id-7");
  auto empty = decodePdu(pdu(cmd::resp(cmd::kDeliverSm), 5, ""));
  ASSERT_TRUE(empty.pdu);
  // An unknown TLV in submit_sm is kept.
  auto u = decodePdu(pdu(cmd::kSubmitSm, 6, smBody(1, "1", 1, "2", "hi", tlv(0x0999, "xyz"))));
  ASSERT_TRUE(u.pdu) << u.error;
  EXPECT_EQ(u.pdu->as<SmBody>().find(0x0999)->value, "xyz");
}

struct Hostile {
  const char* name;
  std::string bytes;
  std::uint32_t status;
  bool genericNack;
};

TEST(SmppCodec, HostilePdusGetTheRightAnswer) {
  std::string manyTlvs;
  for (int i = 0; i < 17; ++i) manyTlvs += tlv(0x1400, "v");
  const Hostile cases[] = {
      {"unknown command", pdu(0x00000099, 1, ""), status::kInvCmdId, true},
      {"unsupported query_sm", pdu(0x00000003, 1, cstr("1") + char(0) + char(0) + cstr("")), status::kInvCmdId, true},
      {"data_sm", pdu(0x00000103, 1, "x"), status::kInvCmdId, true},
      {"sequence 0", pdu(cmd::kEnquireLink, 0, ""), status::kInvCmdLen, true},
      {"sequence above 2^31", pdu(cmd::kEnquireLink, 0x80000001, ""), status::kInvCmdLen, true},
      {"enquire_link with a body", pdu(cmd::kEnquireLink, 1, "junk"), status::kInvCmdLen, true},
      {"length field lies", be32(40) + be32(cmd::kEnquireLink) + be32(0) + be32(1), status::kInvCmdLen, true},
      {"unterminated service_type", pdu(cmd::kSubmitSm, 1, "CMT"), status::kInvCmdLen, true},
      {"cut before sm_length", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "").substr(0, 12)), status::kInvCmdLen,
       true},
      {"sm_length past the end", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "hello").substr(0, 21)),
       status::kInvCmdLen, true},
      {"sm_length 255", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", std::string(255, 'x'))), status::kInvMsgLen,
       false},
      {"source too long", pdu(cmd::kSubmitSm, 1, smBody(1, std::string(25, '1'), 1, "2", "x")), status::kInvSrcAdr,
       false},
      {"destination too long", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, std::string(21, '2'), "x")), status::kInvDstAdr,
       false},
      {"source TON 9", pdu(cmd::kSubmitSm, 1, smBody(9, "1", 1, "2", "x")), status::kInvSrcTon, false},
      {"destination NPI 2", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 2, "2", "x")), status::kInvDstNpi, false},
      {"truncated TLV header", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "x", "\x02")), status::kInvOptParStream,
       false},
      {"TLV past the end", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "x", tlv(0x0424, "abc").substr(0, 6))),
       status::kInvOptParStream, false},
      {"sar_total_segments of two octets", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "x", tlv(0x020E, "ab"))),
       status::kInvParLen, false},
      {"sar_msg_ref_num of one octet", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "x", tlv(0x020C, "a"))),
       status::kInvParLen, false},
      {"message_payload above 1024",
       pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "", tlv(0x0424, std::string(1025, 'p')))), status::kInvMsgLen,
       false},
      {"17 TLVs", pdu(cmd::kSubmitSm, 1, smBody(1, "1", 1, "2", "x", manyTlvs)), status::kInvOptParStream, false},
      {"deliver_sm with a schedule", pdu(cmd::kDeliverSm, 1, smBody(1, "1", 1, "2", "x", "", "240101120000000+")),
       status::kInvSched, false},
      {"receipted_message_id of 66 octets",
       pdu(cmd::kDeliverSm, 1, smBody(1, "1", 1, "2", "x", tlv(0x001E, std::string(66, 'i')))), status::kInvParLen,
       false},
      {"bind system_id of 16",
       pdu(cmd::kBindTransceiver, 1,
           cstr(std::string(16, 's')) + cstr("pw") + cstr("") + std::string("\x34\x00\x00", 3) + cstr("")),
       status::kInvSysId, false},
      {"bind password of 9",
       pdu(cmd::kBindTransmitter, 1,
           cstr("s") + cstr("123456789") + cstr("") + std::string("\x34\x00\x00", 3) + cstr("")),
       status::kInvPaswd, false},
      {"bind without address_range",
       pdu(cmd::kBindReceiver, 1, cstr("s") + cstr("p") + cstr("") + std::string("\x34\x00\x00", 3)),
       status::kInvCmdLen, true},
      {"bind with trailing bytes",
       pdu(cmd::kBindReceiver, 1, cstr("s") + cstr("p") + cstr("") + std::string("\x34\x00\x00", 3) + cstr("") + "zz"),
       status::kInvCmdLen, true},
      {"submit_sm_resp without a terminator", pdu(cmd::resp(cmd::kSubmitSm), 1, "abc"), status::kInvCmdLen, true},
      {"submit_sm_resp id of 65", pdu(cmd::resp(cmd::kSubmitSm), 1, cstr(std::string(65, 'i'))), status::kInvCmdLen,
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto d = decodePdu(c.bytes);
    EXPECT_FALSE(d.pdu);
    EXPECT_EQ(d.errorStatus, c.status) << statusName(d.errorStatus) << ": " << d.error;
    EXPECT_EQ(d.genericNack, c.genericNack) << d.error;
    EXPECT_FALSE(d.error.empty());
  }
}

TEST(SmppCodec, RefusesToEncodeFieldsThatDoNotFit) {
  Pdu p;
  p.commandId = cmd::kSubmitSm;
  p.sequence = 1;
  SmBody b;
  b.dest = std::string(21, '1');
  p.body = b;
  EXPECT_THROW(encodePdu(p), std::invalid_argument);
  b.dest = "1";
  b.shortMessage = std::string(254, 'x');
  p.body = b;
  EXPECT_THROW(encodePdu(p), std::invalid_argument);
  b.shortMessage = "x";
  b.setU8(tag::kSarTotalSegments, 1);
  b.tlvs.back().value = "ab";
  p.body = b;
  EXPECT_THROW(encodePdu(p), std::invalid_argument);
  Pdu bind;
  bind.commandId = cmd::kBindTransceiver;
  bind.sequence = 1;
  bind.body = BindBody{"s", "123456789", "", 0x34, 0, 0, ""};
  EXPECT_THROW(encodePdu(bind), std::invalid_argument);
}

TEST(SmppCodec, SurvivesMutationsOfValidPdus) {
  // Deterministic mutations of valid PDUs: every result is either a PDU or an error with an answer.
  Pdu p;
  p.commandId = cmd::kDeliverSm;
  p.sequence = 9;
  SmBody b;
  b.source = "15550100";
  b.dest = "15550199";
  b.esmClass = 0x44;
  b.shortMessage = std::string("\x05\x00\x03\x01\x02\x01hello", 11);
  b.setOctets(tag::kReceiptedMessageId, std::string("abc\0", 4));
  b.setU8(tag::kMessageState, 2);
  p.body = b;
  std::vector<std::string> seeds = {encodePdu(p)};
  Pdu bind;
  bind.commandId = cmd::kBindTransceiver;
  bind.sequence = 1;
  bind.body = BindBody{"sys", "pw", "", 0x34, 0, 0, ""};
  seeds.push_back(encodePdu(bind));
  seeds.push_back(encodePdu(messageIdResp(cmd::resp(cmd::kSubmitSm), 2, 0, "id")));
  std::mt19937 rng(12345);
  for (const auto& seed : seeds) {
    for (int i = 0; i < 3000; ++i) {
      std::string m = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && m.size() > 17; ++e) {
        std::size_t at = 16 + rng() % (m.size() - 16);
        switch (rng() % 3) {
          case 0:
            m[at] = static_cast<char>(rng());
            break;
          case 1:
            m.erase(at, 1);
            break;
          default:
            m.insert(at, 1, static_cast<char>(rng()));
            break;
        }
      }
      std::string framed = be32(static_cast<std::uint32_t>(m.size())) + m.substr(4);
      auto d = decodePdu(framed);
      EXPECT_TRUE(d.pdu || d.errorStatus != 0);
    }
  }
}

TEST(SmppNames, CommandsAndStatuses) {
  EXPECT_EQ(commandName(cmd::kSubmitSm), "submit_sm");
  EXPECT_EQ(commandName(cmd::resp(cmd::kBindTransceiver)), "bind_transceiver_resp");
  EXPECT_EQ(commandName(0x99), "command 0x0099");
  EXPECT_EQ(statusName(status::kThrottled), "ESME_RTHROTTLED");
  EXPECT_EQ(statusName(0x400), "0x0400");
}

}  // namespace
}  // namespace cpmgw::smpp
