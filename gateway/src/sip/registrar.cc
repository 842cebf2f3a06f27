#include "sip/registrar.h"

#include <algorithm>
#include <cctype>

namespace cpmgw::sip {
namespace {

std::string percentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> splitUrns(std::string value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    std::string item =
        percentDecode(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Capabilities parseFeatureTags(const std::vector<std::string>& contactParams) {
  Capabilities caps;
  for (const auto& p : contactParams) {
    auto eq = p.find('=');
    std::string name = p.substr(0, eq);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = eq == std::string::npos ? std::string{} : p.substr(eq + 1);
    if (name == "+g.3gpp.icsi-ref") {
      for (auto& urn : splitUrns(value)) caps.icsi.push_back(urn);
    } else if (name == "+g.3gpp.iari-ref") {
      for (auto& urn : splitUrns(value)) caps.iari.push_back(urn);
    } else if (name == "+g.oma.sip-im") {
      caps.cpmMsg = true;  // RCS chat-capable clients take stand-alone messages too
    }
  }
  for (const auto& icsi : caps.icsi) {
    if (endsWith(icsi, "oma.cpm.msg")) caps.cpmMsg = true;
    if (endsWith(icsi, "oma.cpm.largemsg")) caps.largeMsg = true;
  }
  for (const auto& iari : caps.iari) {
    if (endsWith(iari, "rcs.fthttp")) caps.ftHttp = true;
    if (endsWith(iari, "rcs.ft")) caps.ftMsrp = true;
    if (endsWith(iari, "rcs.ftsms")) caps.ftSms = true;
  }
  return caps;
}

void Registrar::update(const std::string& aor, Binding binding) {
  std::lock_guard lock(mutex_);
  auto& list = byAor_[aor];
  auto same = [&](const Binding& b) {
    return b.contact == binding.contact || (!binding.instance.empty() && b.instance == binding.instance);
  };
  list.erase(std::remove_if(list.begin(), list.end(), same), list.end());
  list.push_back(std::move(binding));
}

void Registrar::remove(const std::string& aor, const std::string& contact) {
  std::lock_guard lock(mutex_);
  auto it = byAor_.find(aor);
  if (it == byAor_.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(), [&](const Binding& b) { return b.contact == contact; }),
             list.end());
  if (list.empty()) byAor_.erase(it);
}

bool Registrar::setCapabilities(const std::string& aor, const std::string& contact, Capabilities caps, TimeMs at) {
  std::lock_guard lock(mutex_);
  auto it = byAor_.find(aor);
  if (it == byAor_.end()) return false;
  for (auto& b : it->second) {
    if (b.contact != contact) continue;
    b.caps = std::move(caps);
    b.capsFromOptionsAt = at;
    return true;
  }
  return false;
}

std::optional<Binding> Registrar::find(const std::string& aor, const std::string& contact, TimeMs now) const {
  std::lock_guard lock(mutex_);
  auto it = byAor_.find(aor);
  if (it == byAor_.end()) return std::nullopt;
  for (const auto& b : it->second)
    if (b.contact == contact && b.expiresAt > now) return b;
  return std::nullopt;
}

void Registrar::removeAll(const std::string& aor) {
  std::lock_guard lock(mutex_);
  byAor_.erase(aor);
}

std::vector<Binding> Registrar::bindings(const std::string& aor, TimeMs now) {
  std::lock_guard lock(mutex_);
  auto it = byAor_.find(aor);
  if (it == byAor_.end()) return {};
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(), [&](const Binding& b) { return b.expiresAt <= now; }),
             list.end());
  std::vector<Binding> live = list;
  if (list.empty()) byAor_.erase(it);
  return live;
}

std::size_t Registrar::purgeExpired(TimeMs now) {
  std::lock_guard lock(mutex_);
  std::size_t removed = 0;
  for (auto it = byAor_.begin(); it != byAor_.end();) {
    auto& list = it->second;
    auto before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(), [&](const Binding& b) { return b.expiresAt <= now; }),
               list.end());
    removed += before - list.size();
    it = list.empty() ? byAor_.erase(it) : std::next(it);
  }
  return removed;
}

std::size_t Registrar::users(TimeMs now) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(byAor_.begin(), byAor_.end(), [now](const auto& entry) {
    return std::any_of(entry.second.begin(), entry.second.end(), [now](const Binding& b) { return b.expiresAt > now; });
  }));
}

}  // namespace cpmgw::sip
