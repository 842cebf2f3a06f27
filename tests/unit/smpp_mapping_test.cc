// Mapping between CPM messages and SMS fields: addresses, text of a message, user data by data_coding.
#include "smpp/sms_mapping.h"

#include <gtest/gtest.h>

namespace cpmgw::smpp {
namespace {

TEST(SmsAddress, GatewayAddressesBecomeSmppAddresses) {
  EXPECT_EQ(*smeAddressOf("tel:+15550100", false), (SmeAddress{1, 1, "15550100"}));
  EXPECT_EQ(*smeAddressOf("tel:5550100", false), (SmeAddress{0, 1, "5550100"}));
  EXPECT_EQ(*smeAddressOf("sip:+447700900123@ims.example", false), (SmeAddress{1, 1, "447700900123"}));
  EXPECT_EQ(*smeAddressOf("sip:+4477;phone-context=x@ims.example", false), (SmeAddress{1, 1, "4477"}));
  EXPECT_EQ(*smeAddressOf("sip:alice@localhost", true), (SmeAddress{5, 0, "alice"}));
  EXPECT_FALSE(smeAddressOf("sip:alice@localhost", false));
  EXPECT_FALSE(smeAddressOf("sip:twelve_chars@localhost", true)) << "alphanumeric senders have 11 characters";
  EXPECT_FALSE(smeAddressOf("sip:a%20b@localhost", true));
  EXPECT_FALSE(smeAddressOf("tel:+" + std::string(21, '1'), false));
  EXPECT_FALSE(smeAddressOf("mailto:x@y", true));
  EXPECT_FALSE(smeAddressOf("sip:localhost", true));
}

TEST(SmsAddress, SmppAddressesBecomeGatewayAddresses) {
  EXPECT_EQ(addressFromSme("15550100", 1, "sms.invalid"), "tel:+15550100");
  EXPECT_EQ(addressFromSme("15550100", 0, "sms.invalid"), "tel:+15550100");
  EXPECT_EQ(addressFromSme("+15550100", 0, "sms.invalid"), "tel:+15550100");
  EXPECT_EQ(addressFromSme("0612345678", 2, "sms.invalid"), "tel:0612345678") << "national numbers stay as they are";
  EXPECT_EQ(addressFromSme("MyBank", 5, "sms.invalid"), "sip:MyBank@sms.invalid");
  EXPECT_EQ(addressFromSme("My Bank", 5, "sms.invalid"), "sip:My%20Bank@sms.invalid");
  EXPECT_EQ(addressFromSme("INFO", 0, "sms.invalid"), "sip:INFO@sms.invalid") << "letters whatever the TON";
  EXPECT_EQ(addressFromSme("", 1, "sms.invalid"), "");
}

TEST(SmsAddress, MoRecipientFromTheTemplate) {
  EXPECT_EQ(moRecipient("sip:+{number}@ims.example", "15550199"), "sip:+15550199@ims.example");
  EXPECT_EQ(moRecipient("tel:+{number}", "+15550199"), "tel:+15550199");
  EXPECT_EQ(moRecipient("sip:{number}@a;x={number}", "12"), "sip:12@a;x=12");
  EXPECT_EQ(moRecipient("sip:+{number}@ims.example", "shortcode"), "");
  EXPECT_EQ(moRecipient("sip:+{number}@ims.example", ""), "");
}

TEST(SmsText, TextAndCpimWithTextCanBeSent) {
  Message m;
  m.contentType = "text/plain; charset=utf-8";
  m.body = "hi";
  EXPECT_EQ(*smsTextOf(m), "hi");
  m.contentType = "";
  EXPECT_EQ(*smsTextOf(m), "hi");
  m.contentType = "message/cpim";
  m.body =
      "From: <sip:a@x>\r\nTo: <tel:+1>\r\nNS: imdn <urn:ietf:params:imdn>\r\n\r\nContent-Type: text/plain\r\n\r\nHello";
  EXPECT_EQ(*smsTextOf(m), "Hello");
  m.body = "From: <sip:a@x>\n\nContent-Type: image/jpeg\n\n\xFF\xD8";
  std::string why;
  EXPECT_FALSE(smsTextOf(m, &why));
  EXPECT_NE(why.find("image/jpeg"), std::string::npos);
  m.body = "From: <sip:a@x>\nno blank line";
  EXPECT_FALSE(smsTextOf(m, &why));
  m.contentType = "application/vnd.gsma.rcs-ft-http+xml";
  EXPECT_FALSE(smsTextOf(m, &why));
  EXPECT_NE(why.find("has no SMS form"), std::string::npos);
}

TEST(SmsUserData, DecodedByDataCoding) {
  EXPECT_EQ(decodeUserData(0, std::string("\x00\x02\x1B\x65", 4), false).body, "@$\xE2\x82\xAC");
  EXPECT_EQ(decodeUserData(0, "\xE9", true).body, "\xC3\xA9") << "data_coding 0 as Latin-1 when configured";
  EXPECT_EQ(decodeUserData(1, "abc", false).body, "abc");
  EXPECT_EQ(decodeUserData(3, "\xE9", false).body, "\xC3\xA9");
  EXPECT_EQ(decodeUserData(8, std::string("\x00\x41\xD8\x3D\xDE\x00", 6), false).body, "A\xF0\x9F\x98\x80");
  EXPECT_EQ(decodeUserData(0xF0, "A", false).body, "A");
  auto binary = decodeUserData(0xF4, std::string("\x01\x02", 2), false);
  EXPECT_FALSE(binary.text);
  EXPECT_EQ(binary.body, std::string("\x01\x02", 2));
  EXPECT_FALSE(decodeUserData(4, "x", false).text);
  EXPECT_FALSE(decodeUserData(2, "x", false).text);
  EXPECT_TRUE(isGsm7Coding(0, false));
  EXPECT_FALSE(isGsm7Coding(0, true));
  EXPECT_FALSE(isGsm7Coding(8, false));
}

}  // namespace
}  // namespace cpmgw::smpp
