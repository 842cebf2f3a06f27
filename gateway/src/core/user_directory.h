// The user directory over the store: every user is kept in memory (lookups happen on event loops and
// must not touch the disk), and every change is written through to the store before it is visible.
#pragma once

#include <map>
#include <mutex>

#include "cpmgw/store.h"
#include "cpmgw/users.h"

namespace cpmgw {

class CachedUserDirectory final : public UserDirectory {
 public:
  explicit CachedUserDirectory(Store& store);
  std::optional<UserRecord> findByUri(const std::string& uri) override;
  std::optional<UserRecord> findByAuthName(const std::string& authName, const std::string& realm) override;
  void put(const UserRecord& user) override;
  bool remove(const std::string& uri) override;
  std::vector<UserRecord> list(std::size_t limit, const std::string& afterUri) override;

 private:
  Store& store_;
  std::mutex mutex_;
  std::map<std::string, UserRecord> byUri_;
};

}  // namespace cpmgw
