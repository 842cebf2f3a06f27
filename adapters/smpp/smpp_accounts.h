// ESME accounts of the SMPP server and the checks around a bind: salted password hashes compared in constant time,
// source address allow-lists, lockout after repeated failures, and the token bucket that limits throughput.
// Pure logic (no I/O); the store keeps accounts in smpp.db.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cpmgw::smpp {

struct Account {
  std::string systemId;
  std::string salt;  // random bytes
  std::string hash;  // PBKDF2-HMAC-SHA256(password, salt, iterations), 32 bytes
  int iterations = 0;
  std::vector<std::string> allowedIps;  // IPs or CIDR blocks; empty: any address
  int maxBinds = 1;
  int tps = 0;                              // submits per second; 0 unlimited
  std::vector<std::string> numberPrefixes;  // tel:+... recipients this ESME serves (MT goes to it by deliver_sm)
  bool enabled = true;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;
};

// A fresh salt and the hash of `password`. Throws std::runtime_error when OpenSSL fails.
void setPassword(Account& account, const std::string& password, int iterations);
// Recomputes the hash and compares it in constant time.
bool verifyPassword(const Account& account, const std::string& password);
// Spends the same work as verifyPassword for an account that does not exist, so timing does not tell.
void burnPasswordCheck(const std::string& password, int iterations);

// "10.0.0.1", "192.168.0.0/16", "::1", "2001:db8::/32".
bool validAllowEntry(const std::string& entry);
bool ipAllowed(const std::vector<std::string>& allowList, const std::string& ip);

// SMPP limits and our own on account fields; empty string when valid, else what is wrong.
std::string checkSystemId(const std::string& id);
std::string checkPassword(const std::string& password);
std::string checkNumberPrefix(const std::string& prefix);  // "tel:+<digits>" or "+<digits>"
// "+4477..." -> "tel:+4477...", "tel:+4477" unchanged.
std::string normaliseNumberPrefix(const std::string& prefix);

// Failed binds per source address; at `threshold` failures within `windowMs` the address is locked for `windowMs`.
class Lockout {
 public:
  Lockout(int threshold, std::int64_t windowMs) : threshold_(threshold), windowMs_(windowMs) {}
  bool locked(const std::string& ip, std::int64_t now);
  // Returns true when this failure locked the address.
  bool failure(const std::string& ip, std::int64_t now);
  void success(const std::string& ip);

 private:
  struct Entry {
    int failures = 0;
    std::int64_t firstAt = 0;
    std::int64_t lockedUntil = 0;
  };
  void prune(std::int64_t now);
  int threshold_;
  std::int64_t windowMs_;
  std::map<std::string, Entry> entries_;
  std::int64_t lastPrune_ = 0;
};

// rate tokens per second, at most `burst` saved up. rate 0: unlimited.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  bool unlimited() const { return rate_ <= 0; }
  bool take(std::int64_t nowMs);
  bool available(std::int64_t nowMs);
  // Milliseconds until the next token (0 when one is there).
  std::int64_t waitMs(std::int64_t nowMs);
  void reconfigure(double rate, double burst);

 private:
  void refill(std::int64_t nowMs);
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  std::int64_t last_ = 0;
};

}  // namespace cpmgw::smpp
