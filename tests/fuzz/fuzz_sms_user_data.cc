// SMS user data: UDH parsing, GSM 7 / UCS-2 / Latin-1 decoding, re-encoding the text, splitting it again, and
// delivery-receipt text, against arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "smpp/dlr_text.h"
#include "smpp/sms_charset.h"
#include "smpp/sms_mapping.h"
#include "smpp/sms_segment.h"

using namespace cpmgw::smpp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t dcs = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto ud = parseUserData(bytes, (dcs & 1) != 0);
  if (ud) {
    if (ud->header.size() + ud->payload.size() != bytes.size()) __builtin_trap();
    if (ud->concat && (ud->concat->seq == 0 || ud->concat->seq > ud->concat->total)) __builtin_trap();
    auto content = decodeUserData(dcs, ud->payload, (dcs & 2) != 0);
    if (content.text) {
      // Decoded text is valid UTF-8 that splits again without losing a character.
      std::u32string cps = utf8ToCodePoints(content.body);
      if (codePointsToUtf8(cps) != content.body) __builtin_trap();
      if (auto split = splitText(cps, {(dcs & 4) != 0, 255})) {
        std::string joined;
        for (const auto& p : split->parts) joined += p;
        std::u32string back = split->coding == Coding::Gsm7 ? decodeGsm7(joined) : decodeUcs2(joined);
        if (back != cps) __builtin_trap();
      }
    }
  }
  if (auto r = parseDlrText(bytes)) {
    if (r->id.empty()) __builtin_trap();
    (void)outcomeOfStat(r->stat);
  }
  return 0;
}
