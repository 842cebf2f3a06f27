// The routing policy: a pure function from a message (and what is known about its recipient) to a
// decision. Small steps, each separately testable; no I/O.
#pragma once

#include <string>
#include <vector>

#include "cpmgw/message.h"

namespace cpmgw {

namespace config {
class Schema;
class Config;
}  // namespace config

struct RoutingDecision {
  enum class Action {
    Deliver,    // to a CPM user through the SIP endpoint (deferred by the queue while not reachable)
    Interwork,  // through a non-CPM adapter
    Reject,     // no route: the sender gets an error, nothing is stored
  };
  Action action = Action::Reject;
  std::string egress;  // the dispatcher egress name (adapter name, or "sip")
  std::string reason;  // for Reject, and for the history
  std::string name() const;
};

struct RoutingPolicy {
  std::vector<std::string> localDomains;       // sip:user@<domain> recipients are CPM users served here
  std::vector<std::string> interworkPrefixes;  // recipient address prefixes that go to interworkEgress
  std::string interworkEgress;                 // adapter name for non-CPM recipients
  std::string defaultEgress;                   // everything else; empty: reject

  static void declareConfig(config::Schema& schema);
  static RoutingPolicy from(const config::Config& config);
};

// The egress name of CPM delivery over SIP.
inline constexpr const char* kSipEgress = "sip";

// Lower-cases the scheme and host of sip:/sips: URIs, strips visual separators from tel: numbers
// ("tel:+1 (555) 010-0100" -> "tel:+15550100100"); returns empty for an address it cannot accept.
std::string normaliseAddress(const std::string& address);

class Router {
 public:
  explicit Router(RoutingPolicy policy) : policy_(std::move(policy)) {}
  RoutingDecision decide(const Message& message) const;
  const RoutingPolicy& policy() const { return policy_; }

 private:
  RoutingPolicy policy_;
};

}  // namespace cpmgw
