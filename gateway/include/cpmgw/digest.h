// HTTP/SIP digest authentication (RFC 7616 with MD5, qop=auth; RFC 3261 section 22), shared by the SIP
// registrar and the FT-over-HTTP content server. Nonces are stateless: a time stamp and an HMAC of it
// under a per-process secret, so a stale or forged nonce is recognised without a table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cpmgw/message.h"

namespace cpmgw::digest {

// hex MD5(user:realm:password)
std::string ha1(const std::string& user, const std::string& realm, const std::string& password);

struct Credentials {  // a parsed Authorization / Proxy-Authorization header
  std::string username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque;
};
// Parses `Digest k=v, k="v", ...`; nullopt when it is not a well-formed Digest header.
std::optional<Credentials> parse(const std::string& header);

class Authenticator {
 public:
  // `nonceLifetimeMs`: how long a nonce is accepted before the client is asked again (stale=true).
  explicit Authenticator(std::string realm, std::int64_t nonceLifetimeMs = 300'000);
  const std::string& realm() const { return realm_; }
  // The WWW-Authenticate / Proxy-Authenticate value of a challenge.
  std::string challenge(bool stale = false) const;

  enum class Result { Ok, BadNonce, StaleNonce, WrongResponse, Malformed };
  // Checks credentials for `method` against the stored HA1. Constant-time comparison of the response.
  Result verify(const Credentials& c, const std::string& method, const std::string& storedHa1, TimeMs now) const;

 private:
  std::string makeNonce(TimeMs now) const;
  std::string realm_;
  std::int64_t lifetimeMs_;
  std::string secret_;
};

}  // namespace cpmgw::digest
