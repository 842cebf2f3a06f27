// The SIP side of the gateway on Sofia-SIP's nua: a registrar for the configured domains (digest
// authentication against the user directory), pager-mode MESSAGE in (CPIM, IMDN) stored durably before
// the 202, and the "sip" egress that delivers queued messages to every registered device.
//
// nua rather than nta: the registrar and MESSAGE server both need only dialog-less, non-INVITE
// transactions, which nua serves through NUTAG_APPL_METHOD with delayed responses (nua_save_event), and it
// builds outgoing requests (Via, Call-ID, CSeq, From tag) and runs their timers for us.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "cpmgw/adapter.h"
#include "cpmgw/digest.h"
#include "cpmgw/message_core.h"
#include "cpmgw/users.h"
#include "sip/registrar.h"
#include "sip/sofia_loop.h"

namespace cpmgw::sip {

inline constexpr const char* kIcsiCpmMsg = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg";
inline constexpr const char* kIcsiCpmDeferred = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.deferred";
inline constexpr const char* kContentTypeImdn = "message/imdn+xml";
inline constexpr const char* kContentTypeFtHttp = "application/vnd.gsma.rcs-ft-http+xml";

class SipEndpoint final : public Adapter {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5060;     // UDP and TCP; 0 picks a free port
    std::uint16_t tlsPort = 5061;  // with tlsCertFile
    std::string tlsCertFile, tlsKeyFile;
    std::string certDir;  // where the sofia TLS files are assembled (under the data dir)
    std::string outboundProxy;
    std::vector<std::string> domains;
    std::string realm = "cpmgw";
    std::int64_t minExpiresS = 60, maxExpiresS = 3600, defaultExpiresS = 3600;
    std::size_t maxMessageSize = 64 * 1024;
    std::int64_t deferredRetryMs = 3'600'000;    // offline recipient: next attempt unless they register first
    bool networkDeliveryImdn = true;             // send "delivered" IMDNs on a device's 2xx
    bool requireKnownRecipients = true;          // local-domain recipients must be provisioned users (else 404)
    std::int64_t capabilityTtlMs = 86'400'000;   // how long capabilities learned by OPTIONS are trusted
    std::size_t udpBuffer = 4 << 20;             // SO_RCVBUF / SO_SNDBUF of the UDP socket
    std::int64_t transactionTimeoutMs = 32'000;  // 64 x T1: timer B/F, and timer J for completed UDP transactions
    std::int64_t t4Ms = 1'000;                   // T4: timer K for our completed UDP transactions
    std::string userAgent = "cpmgw";
  };

  static void declareConfig(config::Schema& schema);
  static Options optionsFrom(const config::Config& config);

  SipEndpoint(Options options, MessageCore& core, Store& store, UserDirectory& users);
  ~SipEndpoint() override;

  // Adapter (egress "sip"). start() opens the listeners; throws std::runtime_error when it cannot.
  const std::string& name() const override { return name_; }
  void start(AdapterSink& sink) override;
  void submit(const StoredMessage& message, DeliveryCallback done) override;
  void stop(bool drain) override;
  std::size_t queued() const override { return inFlight_.load(); }
  AdapterHealth health() const override;

  // "udp+tcp 127.0.0.1:5060" etc., once started.
  std::vector<std::string> listeners() const;
  Registrar& registrar() { return registrar_; }

  // Hooks the dispatcher and core use: called when a message to a CPM user became due again.
  void setRescheduled(std::function<void()> wake) { rescheduled_ = std::move(wake); }

  struct Impl;

 private:
  std::string name_ = "sip";
  Options options_;
  MessageCore& core_;
  Store& store_;
  UserDirectory& users_;
  Registrar registrar_;
  digest::Authenticator auth_;
  SofiaLoop loop_;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::size_t> inFlight_{0};
  std::atomic<AdapterHealth::State> state_{AdapterHealth::State::Starting};
  std::function<void()> rescheduled_;
  std::vector<std::string> listeners_;
  std::atomic<bool> accepting_{false};
};

}  // namespace cpmgw::sip
