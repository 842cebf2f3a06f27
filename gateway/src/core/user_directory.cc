#include "core/user_directory.h"

namespace cpmgw {

CachedUserDirectory::CachedUserDirectory(Store& store) : store_(store) {
  for (auto& u : store_.loadUsers()) byUri_[u.uri] = u;
}

std::optional<UserRecord> CachedUserDirectory::findByUri(const std::string& uri) {
  std::lock_guard lock(mutex_);
  auto it = byUri_.find(uri);
  if (it == byUri_.end()) return std::nullopt;
  return it->second;
}

std::optional<UserRecord> CachedUserDirectory::findByAuthName(const std::string& authName, const std::string& realm) {
  std::lock_guard lock(mutex_);
  for (const auto& [uri, u] : byUri_)
    if (u.authName == authName && u.realm == realm) return u;
  return std::nullopt;
}

void CachedUserDirectory::put(const UserRecord& user) {
  store_.putUser(user);  // durable first, then visible
  std::lock_guard lock(mutex_);
  byUri_[user.uri] = user;
}

bool CachedUserDirectory::remove(const std::string& uri) {
  bool removed = store_.removeUser(uri);
  std::lock_guard lock(mutex_);
  byUri_.erase(uri);
  return removed;
}

std::vector<UserRecord> CachedUserDirectory::list(std::size_t limit, const std::string& afterUri) {
  std::lock_guard lock(mutex_);
  std::vector<UserRecord> out;
  for (auto it = byUri_.upper_bound(afterUri); it != byUri_.end() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

}  // namespace cpmgw
