#include "smpp/smpp_accounts.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace cpmgw::smpp {
namespace {

constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kSaltBytes = 16;

std::string pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  return out;
}

// An address as 16 bytes (IPv4 mapped into IPv6), so both families compare the same way.
bool parseIp(const std::string& text, unsigned char (&out)[16], int& bits) {
  in_addr a4;
  in6_addr a6;
  std::memset(out, 0, sizeof out);
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    out[10] = out[11] = 0xFF;
    std::memcpy(out + 12, &a4, 4);
    bits = 32;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    std::memcpy(out, &a6, 16);
    bits = 128;
    return true;
  }
  return false;
}

// entry -> (address, prefix bits in the 128-bit form)
bool parseEntry(const std::string& entry, unsigned char (&addr)[16], int& prefix) {
  auto slash = entry.find('/');
  int bits = 0;
  if (!parseIp(entry.substr(0, slash), addr, bits)) return false;
  prefix = 128;
  if (slash == std::string::npos) return true;
  std::string n = entry.substr(slash + 1);
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos) return false;
  int len = std::stoi(n);
  if (len > bits) return false;
  prefix = 128 - bits + len;
  return true;
}

}  // namespace

void setPassword(Account& account, const std::string& password, int iterations) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  account.salt = salt;
  account.iterations = iterations;
  account.hash = pbkdf2(password, salt, iterations);
}

bool verifyPassword(const Account& account, const std::string& password) {
  if (account.iterations <= 0 || account.hash.size() != kHashBytes) return false;
  std::string given = pbkdf2(password, account.salt, account.iterations);
  return CRYPTO_memcmp(given.data(), account.hash.data(), kHashBytes) == 0;
}

void burnPasswordCheck(const std::string& password, int iterations) {
  static const std::string kSalt(kSaltBytes, 'x');
  (void)pbkdf2(password, kSalt, iterations);
}

bool validAllowEntry(const std::string& entry) {
  unsigned char addr[16];
  int prefix = 0;
  return parseEntry(entry, addr, prefix);
}

bool ipAllowed(const std::vector<std::string>& allowList, const std::string& ip) {
  if (allowList.empty()) return true;
  unsigned char peer[16];
  int bits = 0;
  if (!parseIp(ip, peer, bits)) return false;
  for (const auto& entry : allowList) {
    unsigned char net[16];
    int prefix = 0;
    if (!parseEntry(entry, net, prefix)) continue;
    bool match = true;
    for (int i = 0; i < 16 && match; ++i) {
      int keep = std::clamp(prefix - i * 8, 0, 8);
      auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xFF << (8 - keep));
      match = (peer[i] & mask) == (net[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string checkSystemId(const std::string& id) {
  if (id.empty() || id.size() > 15) return "system_id must be 1 to 15 characters";
  for (char c : id)
    if (c < 0x21 || c > 0x7E || c == '/' || c == '%' || c == '?' || c == '#')
      return "system_id must be printable ASCII without blanks, '/', '%', '?' or '#'";
  return {};
}

std::string checkPassword(const std::string& password) {
  if (password.empty() || password.size() > 8) return "password must be 1 to 8 characters (SMPP 3.4)";
  for (char c : password)
    if (c < 0x20 || c > 0x7E) return "password must be printable ASCII";
  return {};
}

std::string normaliseNumberPrefix(const std::string& prefix) {
  return prefix.rfind("tel:", 0) == 0 ? prefix : "tel:" + prefix;
}

std::string checkNumberPrefix(const std::string& prefix) {
  std::string p = normaliseNumberPrefix(prefix);
  if (p.size() < 6 || p.compare(0, 5, "tel:+") != 0 || p.find_first_not_of("0123456789", 5) != std::string::npos ||
      p.size() > 5 + 15)
    return "number prefixes look like +4477 (E.164 digits)";
  return {};
}

void Lockout::prune(std::int64_t now) {
  if (now - lastPrune_ < windowMs_) return;
  lastPrune_ = now;
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool stale = it->second.lockedUntil <= now && now - it->second.firstAt > windowMs_;
    it = stale ? entries_.erase(it) : std::next(it);
  }
}

bool Lockout::locked(const std::string& ip, std::int64_t now) {
  prune(now);
  auto it = entries_.find(ip);
  return it != entries_.end() && it->second.lockedUntil > now;
}

bool Lockout::failure(const std::string& ip, std::int64_t now) {
  auto& e = entries_[ip];
  if (e.failures == 0 || now - e.firstAt > windowMs_) {
    e.failures = 0;
    e.firstAt = now;
  }
  if (++e.failures >= threshold_ && e.lockedUntil <= now) {
    e.lockedUntil = now + windowMs_;
    e.failures = 0;
    e.firstAt = now;
    return true;
  }
  return false;
}

void Lockout::success(const std::string& ip) {
  entries_.erase(ip);
}

void TokenBucket::refill(std::int64_t nowMs) {
  if (last_ == 0) last_ = nowMs;
  if (nowMs > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(nowMs - last_) / 1000.0);
    last_ = nowMs;
  }
}

bool TokenBucket::take(std::int64_t nowMs) {
  if (unlimited()) return true;
  refill(nowMs);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool TokenBucket::available(std::int64_t nowMs) {
  if (unlimited()) return true;
  refill(nowMs);
  return tokens_ >= 1.0;
}

std::int64_t TokenBucket::waitMs(std::int64_t nowMs) {
  if (unlimited()) return 0;
  refill(nowMs);
  if (tokens_ >= 1.0) return 0;
  return static_cast<std::int64_t>((1.0 - tokens_) * 1000.0 / rate_) + 1;
}

void TokenBucket::reconfigure(double rate, double burst) {
  bool wasUnlimited = unlimited();
  rate_ = rate;
  burst_ = burst;
  // A bucket that was unlimited had no tokens to keep: it starts full.
  tokens_ = wasUnlimited ? burst_ : std::min(tokens_, burst_);
}

}  // namespace cpmgw::smpp
