// How CPM messages and SMS fields map onto each other: addresses (tel:/sip: <-> TON/NPI + digits or alphanumeric),
// the text of a CPM message, and the user data of an SMS (by data_coding) as text. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cpmgw/message.h"

namespace cpmgw::smpp {

inline constexpr std::uint8_t kTonUnknown = 0;
inline constexpr std::uint8_t kTonInternational = 1;
inline constexpr std::uint8_t kTonAlphanumeric = 5;
inline constexpr std::uint8_t kNpiUnknown = 0;
inline constexpr std::uint8_t kNpiE164 = 1;

struct SmeAddress {
  std::uint8_t ton = kTonUnknown;
  std::uint8_t npi = kNpiUnknown;
  std::string addr;
  bool operator==(const SmeAddress&) const = default;
};

// A normalised address as SMPP source/destination: tel:+<digits> and sip:+<digits>@... are international numbers;
// tel:<digits> and sip:<digits>@... numbers of unknown type; with allowAlphanumeric a sip: user of at most 11 GSM
// characters becomes an alphanumeric sender. nullopt when none applies (or more than 20 digits).
std::optional<SmeAddress> smeAddressOf(const std::string& address, bool allowAlphanumeric);

// An SMS source as a normalised gateway address: numbers become tel: (international with '+' for TON international
// or unknown), alphanumeric senders sip:<name>@<alnumDomain>. Empty when the address is unusable.
std::string addressFromSme(const std::string& addr, std::uint8_t ton, const std::string& alnumDomain);

// The CPM recipient of an SMS sent to `dest`: the template with {number} replaced by the digits. Empty when dest is not
// a number.
std::string moRecipient(const std::string& recipientTemplate, const std::string& dest);

// The text an SMS carries for this message: text/* bodies, and the text/* content inside message/cpim. nullopt for
// content an SMS cannot carry; `why` says what it was.
std::optional<std::string> smsTextOf(const Message& message, std::string* why = nullptr);

// SMS user data (UDH removed) by data_coding: 0 (GSM 7, or Latin-1 when latin1Default), 1 (ASCII), 3 (Latin-1),
// 8 (UCS-2), 0xF0-0xFF (GSM 7 or 8-bit by bit 2). Text as UTF-8; other codings (binary) are not text.
struct SmsContent {
  bool text = true;
  std::string body;  // UTF-8 text, or the octets for binary
};
SmsContent decodeUserData(std::uint8_t dataCoding, std::string_view userData, bool latin1Default);
// True when the coding's characters are septets one per octet (where an escape pair must stay together).
bool isGsm7Coding(std::uint8_t dataCoding, bool latin1Default);

}  // namespace cpmgw::smpp
