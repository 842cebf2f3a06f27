// Address normalisation and routing against arbitrary addresses: a normalised address is stable
// (normalising it again changes nothing) and carries no control characters.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cpmgw/router.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string address(reinterpret_cast<const char*>(data), size);
  std::string n = cpmgw::normaliseAddress(address);
  if (n.empty()) return 0;
  if (cpmgw::normaliseAddress(n) != n) __builtin_trap();
  for (char c : n)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
  static const cpmgw::Router router([] {
    cpmgw::RoutingPolicy p;
    p.localDomains = {"localhost"};
    p.interworkPrefixes = {"tel:+1999"};
    p.interworkEgress = "loopback";
    return p;
  }());
  cpmgw::Message m;
  m.from = "sip:fuzz@localhost";
  m.to = n;
  (void)router.decide(m);
  return 0;
}
