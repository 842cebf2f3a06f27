// The body of a crash-test message is a function of its id alone, so that the test can check every
// acknowledged message byte for byte without the child telling it the bodies: 1..4096 bytes expanded
// from SHA-256(id).
#pragma once

#include <openssl/sha.h>

#include <cstddef>
#include <string>

namespace cpmgw {

inline std::string crashBodyFor(const std::string& id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  std::size_t length = 1 + ((static_cast<std::size_t>(digest[0]) << 8 | digest[1]) % 4096);
  std::string body(length, '\0');
  for (std::size_t i = 0; i < length; ++i)
    body[i] =
        static_cast<char>(digest[i % SHA256_DIGEST_LENGTH] ^ static_cast<unsigned char>(i / SHA256_DIGEST_LENGTH));
  return body;
}

}  // namespace cpmgw
