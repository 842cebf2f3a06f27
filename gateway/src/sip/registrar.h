// Registrations of CPM users: every contact (device) of an address of record, with expiry and the
// capabilities its Contact feature tags announce. Thread-safe: the SIP loop writes, REST reads.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cpmgw/message.h"

namespace cpmgw::sip {

struct Capabilities {
  bool cpmMsg = false;                  // stand-alone messaging (ICSI oma.cpm.msg, or +g.oma.sip-im)
  bool largeMsg = false;                // ICSI oma.cpm.largemsg
  bool ftHttp = false;                  // IARI rcs.fthttp: file transfer over HTTP
  bool ftMsrp = false;                  // IARI rcs.ft: file transfer over MSRP
  bool ftSms = false;                   // IARI rcs.ftsms
  std::vector<std::string> icsi, iari;  // decoded values as announced
  bool any() const { return !icsi.empty() || !iari.empty() || cpmMsg; }
};

// Reads the feature tags among Contact parameters ("name" or "name=value", value possibly quoted and
// percent-encoded, several URNs comma-separated).
Capabilities parseFeatureTags(const std::vector<std::string>& contactParams);

struct Binding {
  std::string contact;   // the Contact URI requests are sent to
  std::string instance;  // +sip.instance, when given
  std::string userAgent;
  std::string source;  // transport address it registered from
  TimeMs expiresAt = 0;
  TimeMs registeredAt = 0;
  Capabilities caps;
  TimeMs capsFromOptionsAt = 0;  // when an OPTIONS answer set caps (0: they came with the REGISTER)
};

class Registrar {
 public:
  // Adds or refreshes a binding (same contact or same +sip.instance replaces).
  void update(const std::string& aor, Binding binding);
  void remove(const std::string& aor, const std::string& contact);
  // Capabilities learned later (an OPTIONS answer) for a live binding; false when it is gone.
  bool setCapabilities(const std::string& aor, const std::string& contact, Capabilities caps, TimeMs at);
  // The live binding of this contact, if any.
  std::optional<Binding> find(const std::string& aor, const std::string& contact, TimeMs now) const;
  void removeAll(const std::string& aor);
  // Live bindings (expired ones are dropped on the way).
  std::vector<Binding> bindings(const std::string& aor, TimeMs now);
  std::size_t purgeExpired(TimeMs now);
  // Users with at least one live binding.
  std::size_t users(TimeMs now) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<Binding>> byAor_;
};

}  // namespace cpmgw::sip
