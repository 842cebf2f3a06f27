#include "cpmgw/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace cpmgw::digest {
namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0f];
  }
  return out;
}

std::string md5hex(const std::string& text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), out, &len, EVP_md5(), nullptr) != 1) throw std::runtime_error("MD5 failed");
  return hex(out, len);
}

std::string hmacHex(const std::string& key, const std::string& text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), out, &len);
  return hex(out, 16);  // 128 bits are plenty for a nonce tag
}

bool equalConstantTime(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string ha1(const std::string& user, const std::string& realm, const std::string& password) {
  return md5hex(user + ":" + realm + ":" + password);
}

std::optional<Credentials> parse(const std::string& header) {
  std::size_t i = 0;
  auto skipSpace = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skipSpace();
  static const std::string kScheme = "digest";
  if (header.size() < i + kScheme.size()) return std::nullopt;
  for (std::size_t k = 0; k < kScheme.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(header[i + k])) != kScheme[k]) return std::nullopt;
  i += kScheme.size();
  if (i >= header.size() || (header[i] != ' ' && header[i] != '\t')) return std::nullopt;
  Credentials c;
  std::map<std::string, std::string*> fields = {
      {"username", &c.username}, {"realm", &c.realm},         {"nonce", &c.nonce}, {"uri", &c.uri},
      {"response", &c.response}, {"algorithm", &c.algorithm}, {"qop", &c.qop},     {"nc", &c.nc},
      {"cnonce", &c.cnonce},     {"opaque", &c.opaque}};
  std::map<std::string, bool> seen;
  for (;;) {
    skipSpace();
    if (i >= header.size()) break;
    std::size_t start = i;
    while (i < header.size() &&
           (std::isalnum(static_cast<unsigned char>(header[i])) || header[i] == '-' || header[i] == '_'))
      ++i;
    std::string name = header.substr(start, i - start);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    skipSpace();
    if (name.empty() || i >= header.size() || header[i] != '=') return std::nullopt;
    ++i;
    skipSpace();
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      bool closed = false;
      while (i < header.size()) {
        char ch = header[i++];
        if (ch == '\\' && i < header.size()) {
          value += header[i++];
        } else if (ch == '"') {
          closed = true;
          break;
        } else if (ch == '\r' || ch == '\n') {
          return std::nullopt;
        } else {
          value += ch;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      start = i;
      while (i < header.size() && header[i] != ',' && header[i] != ' ' && header[i] != '\t') ++i;
      value = header.substr(start, i - start);
    }
    if (value.size() > 1024) return std::nullopt;
    if (auto it = fields.find(name); it != fields.end()) {
      if (seen[name]) return std::nullopt;  // a repeated parameter is ambiguous
      seen[name] = true;
      *it->second = value;
    }
    skipSpace();
    if (i < header.size()) {
      if (header[i] != ',') return std::nullopt;
      ++i;
    }
  }
  if (c.username.empty() || c.nonce.empty() || c.response.empty() || c.uri.empty()) return std::nullopt;
  return c;
}

Authenticator::Authenticator(std::string realm, std::int64_t nonceLifetimeMs)
    : realm_(std::move(realm)), lifetimeMs_(nonceLifetimeMs) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  secret_.assign(reinterpret_cast<const char*>(raw), sizeof raw);
}

std::string Authenticator::makeNonce(TimeMs now) const {
  std::string stamp = std::to_string(now);
  return stamp + "." + hmacHex(secret_, stamp + ":" + realm_);
}

std::string Authenticator::challenge(bool stale) const {
  return "Digest realm=\"" + realm_ + "\", nonce=\"" + makeNonce(nowMs()) + "\", algorithm=MD5, qop=\"auth\"" +
         (stale ? ", stale=true" : "");
}

Authenticator::Result Authenticator::verify(const Credentials& c, const std::string& method,
                                            const std::string& storedHa1, TimeMs now) const {
  if (!c.algorithm.empty() && c.algorithm != "MD5" && c.algorithm != "md5") return Result::Malformed;
  if (c.realm != realm_) return Result::Malformed;
  auto dot = c.nonce.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 19) return Result::BadNonce;
  std::string stamp = c.nonce.substr(0, dot);
  if (stamp.find_first_not_of("0123456789") != std::string::npos) return Result::BadNonce;
  if (!equalConstantTime(c.nonce.substr(dot + 1), hmacHex(secret_, stamp + ":" + realm_))) return Result::BadNonce;
  std::string ha2 = md5hex(method + ":" + c.uri);
  std::string expected;
  if (c.qop.empty()) {
    expected = md5hex(storedHa1 + ":" + c.nonce + ":" + ha2);  // RFC 2069 compatibility
  } else if (c.qop == "auth") {
    if (c.nc.empty() || c.cnonce.empty()) return Result::Malformed;
    expected = md5hex(storedHa1 + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":auth:" + ha2);
  } else {
    return Result::Malformed;
  }
  if (!equalConstantTime(c.response, expected)) return Result::WrongResponse;
  // The response is right; only now does the nonce's age matter (stale=true lets the client retry silently).
  if (now - std::stoll(stamp) > lifetimeMs_ || std::stoll(stamp) > now + 60'000) return Result::StaleNonce;
  return Result::Ok;
}

}  // namespace cpmgw::digest
