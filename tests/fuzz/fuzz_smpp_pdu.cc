// SMPP framing and PDU decoding (our structural walk, then libsmpp34) against arbitrary bytes: every input is a
// PDU or an error with the status to answer; a decoded PDU encodes again (when its fields fit) and decodes to the
// same command; nothing reads outside the buffer or leaks.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "smpp/smpp_pdu.h"

using namespace cpmgw::smpp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  // The stream as a peer would send it: frames one after the other, as SmppSession cuts them.
  while (!stream.empty()) {
    Frame f = peekFrame(stream, 65536);
    if (f.state != Frame::State::Ready) break;
    Decoded d = decodePdu(stream.substr(0, f.length));
    if (!d.pdu && d.errorStatus == 0) __builtin_trap();
    if (d.pdu) {
      std::string again;
      try {
        again = encodePdu(*d.pdu);
      } catch (const std::invalid_argument&) {
        again.clear();  // decoded fields an SMPP encoder may refuse (a 254-octet short_message)
      }
      if (!again.empty()) {
        Decoded back = decodePdu(again);
        if (!back.pdu || back.pdu->commandId != d.pdu->commandId || back.pdu->sequence != d.pdu->sequence)
          __builtin_trap();
      }
    }
    stream.remove_prefix(f.length);
  }
  return 0;
}
