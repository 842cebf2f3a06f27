#include "cpmgw/router.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "cpmgw/config.h"

namespace cpmgw {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string normaliseTel(const std::string& number) {
  std::string out = "tel:";
  for (std::size_t i = 0; i < number.size(); ++i) {
    char c = number[i];
    if (c == '+' && i == 0) {
      out += c;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      out += c;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      continue;  // visual separators (RFC 3966)
    } else if (c == ';') {
      break;  // parameters are not part of the identity
    } else {
      return {};
    }
  }
  return out.size() > 4 && out != "tel:+" ? out : std::string{};
}

std::string normaliseSip(const std::string& scheme, const std::string& rest) {
  // user@host[:port][;params]: the user part is case-sensitive, the host is not.
  auto end = rest.find_first_of(";?>");
  std::string core = rest.substr(0, end);
  auto at = core.rfind('@');
  std::string user = at == std::string::npos ? std::string{} : core.substr(0, at);
  std::string host = lower(at == std::string::npos ? core : core.substr(at + 1));
  if (host.empty()) return {};
  // RFC 3261 characters only (parameters and headers were cut off above); anything else is not routable.
  auto allowed = [](const std::string& part, std::string_view extra) {
    return std::all_of(part.begin(), part.end(), [extra](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
    });
  };
  if (!allowed(user, "-_.!~*'()%&=+$,/") || !allowed(host, "-.[]:")) return {};
  return scheme + ":" + (user.empty() ? host : user + "@" + host);
}

}  // namespace

std::string RoutingDecision::name() const {
  switch (action) {
    case Action::Deliver:
      return "deliver";
    case Action::Interwork:
      return "interwork";
    case Action::Reject:
      return "reject";
  }
  return "reject";
}

std::string normaliseAddress(const std::string& address) {
  auto colon = address.find(':');
  if (colon == std::string::npos) {
    // A bare number is taken as a telephone number.
    return address.empty() ? std::string{} : normaliseTel(address);
  }
  std::string scheme = lower(address.substr(0, colon));
  std::string rest = address.substr(colon + 1);
  if (scheme == "tel") return normaliseTel(rest);
  if (scheme == "sip" || scheme == "sips") return normaliseSip(scheme, rest);
  return {};
}

void RoutingPolicy::declareConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"routing", "local_domains", Type::List, "localhost",
              "SIP domains whose users are CPM users served by this gateway (sip:user@domain)."});
  schema.add({"routing", "interwork_prefixes", Type::List, "",
              "Recipient address prefixes (after normalisation, e.g. tel:+1999) that are not CPM users and go to "
              "interwork_egress."});
  schema.add({"routing", "interwork_egress", Type::String, "loopback",
              "Adapter name that carries messages to non-CPM recipients."});
  schema.add({"routing", "default_egress", Type::String, "",
              "Egress for recipients that match nothing above; empty rejects them (404)."});
}

RoutingPolicy RoutingPolicy::from(const config::Config& config) {
  RoutingPolicy p;
  for (auto& d : config.getList("routing.local_domains")) p.localDomains.push_back(lower(d));
  p.interworkPrefixes = config.getList("routing.interwork_prefixes");
  p.interworkEgress = config.getString("routing.interwork_egress");
  p.defaultEgress = config.getString("routing.default_egress");
  return p;
}

RoutingDecision Router::decide(const Message& message) const {
  const std::string& to = message.to;
  for (const auto& prefix : policy_.interworkPrefixes) {
    if (startsWith(to, prefix)) {
      return {RoutingDecision::Action::Interwork, policy_.interworkEgress, "recipient matches " + prefix};
    }
  }
  if (startsWith(to, "sip:") || startsWith(to, "sips:")) {
    auto host = to.substr(to.find('@') == std::string::npos ? to.find(':') + 1 : to.find('@') + 1);
    if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
      host.erase(colon);  // the port does not change whose user it is
    if (std::find(policy_.localDomains.begin(), policy_.localDomains.end(), host) != policy_.localDomains.end()) {
      return {RoutingDecision::Action::Deliver, kSipEgress, "local CPM user"};
    }
  }
  if (!policy_.defaultEgress.empty()) {
    return {RoutingDecision::Action::Interwork, policy_.defaultEgress, "default route"};
  }
  return {RoutingDecision::Action::Reject, {}, "no route to " + to};
}

}  // namespace cpmgw
