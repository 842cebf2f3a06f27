#include "cpmgw/message.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace cpmgw {

TimeMs nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatTime(TimeMs t) {
  // Floor division: a time before 1970 with a fraction of a second is in the second before it.
  TimeMs seconds = t / 1000;
  auto millis = static_cast<int>(t % 1000);
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  auto time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  // Four digits of year, as RFC 3339 has them (strftime's %Y writes fewer before the year 1000).
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return buf;
}

std::string newMessageId() {
  // 48 bits of milliseconds first: ids made one after the other sort together, so the store's id index
  // grows at its end (one page per commit) instead of on a random page per message. 80 random bits follow.
  // The random bytes come from the CSPRNG in blocks: a RAND_bytes call per id (which also asks the
  // kernel for the process id) took a fifth of the SMPP thread's time per message. The gateway does
  // not fork, so no two processes share a block.
  constexpr std::size_t kRandom = 10;
  thread_local std::array<unsigned char, 64 * kRandom> pool{};
  thread_local std::size_t used = pool.size();
  if (used == pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    used = 0;
  }
  std::array<unsigned char, 16> raw{};
  std::memcpy(raw.data() + 6, pool.data() + used, kRandom);
  used += kRandom;
  auto ms = static_cast<std::uint64_t>(nowMs());
  for (int i = 5; i >= 0; --i, ms >>= 8) raw[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms & 0xff);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < raw.size(); ++i) {
    id[2 * i] = kHex[raw[i] >> 4];
    id[2 * i + 1] = kHex[raw[i] & 0x0f];
  }
  return id;
}

std::string_view toString(MessageState s) {
  switch (s) {
    case MessageState::Queued:
      return "queued";
    case MessageState::Leased:
      return "leased";
    case MessageState::Delivered:
      return "delivered";
    case MessageState::Failed:
      return "failed";
    case MessageState::Deleted:
      return "deleted";
  }
  return "unknown";
}

bool parseMessageState(std::string_view text, MessageState& out) {
  for (auto s : {MessageState::Queued, MessageState::Leased, MessageState::Delivered, MessageState::Failed,
                 MessageState::Deleted}) {
    if (text == toString(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

}  // namespace cpmgw
