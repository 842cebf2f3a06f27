// CPM users served by this gateway: their credentials (SIP digest, also used by FT-over-HTTP) and
// whether they are enabled. Managed through REST (/v1/users/{uri}); kept in the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cpmgw/message.h"

namespace cpmgw {

struct UserRecord {
  std::string uri;       // normalised address: sip:alice@example.com or tel:+15550100
  std::string authName;  // digest username (the user part of the URI by default)
  std::string realm;     // digest realm the HA1 was computed for
  std::string ha1;       // hex MD5(authName:realm:password); the password itself is never kept
  bool enabled = true;
  TimeMs updatedAt = 0;
};

// Thread-safe.
class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual std::optional<UserRecord> findByUri(const std::string& uri) = 0;
  virtual std::optional<UserRecord> findByAuthName(const std::string& authName, const std::string& realm) = 0;
  virtual void put(const UserRecord& user) = 0;  // insert or replace, durably
  virtual bool remove(const std::string& uri) = 0;
  virtual std::vector<UserRecord> list(std::size_t limit, const std::string& afterUri) = 0;
};

}  // namespace cpmgw
