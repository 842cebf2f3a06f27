// The engine's per-link and per-message state, shared by its implementation files only.
#pragma once

#include <atomic>

#include "smpp/smpp_engine.h"

namespace cpmgw::smpp {

// A bound link, whichever side started it.
struct SmppEngine::Bind {
  std::uint64_t id = 0;
  std::string token;  // random: makes the ids of messages received on it unique across restarts
  std::shared_ptr<SmppSession> session;
  bool esme = true;    // a peer bound to our server; false: our bind to an SMSC
  std::string name;    // the peer's system_id, or the SMSC bind's name
  std::string origin;  // the group receipts are correlated in: the system_id, or the SMSC bind's smsc=
  BindType type = BindType::Transceiver;
  bool tls = false;
  TokenBucket* pacing = nullptr;  // our submits on an SMSC bind (tps=)
  std::int64_t boundAt = 0;
  std::atomic<std::size_t> inboundPending{0};  // its requests we have not answered yet (the store's thread answers too)
  std::int64_t throttledUntil = 0;
  std::int64_t throttleBackoffMs = 0;
  std::uint64_t sent = 0, received = 0, throttled = 0;

  // Whether we may send messages on it: an ESME must receive, an SMSC bind must transmit.
  bool canSendMt() const { return esme ? type != BindType::Transmitter : type != BindType::Receiver; }
  bool open() const { return session && session->open(); }
  const std::string& label() const { return session->label(); }
};

// An accepted connection of the server role, before and after its bind.
struct SmppEngine::Conn {
  std::uint64_t id = 0;
  std::shared_ptr<SmppSession> session;
  std::string ip;
  std::string peer;  // ip:port
  bool tls = false;
  std::int64_t acceptedAt = 0;
  bool binding = false;  // credentials being checked
  std::shared_ptr<Bind> bind;
};

// One configured bind to an SMSC.
struct SmppEngine::Link {
  enum class State { Idle, Resolving, Connecting, Binding, Bound, Waiting, Failed };
  SmscBindSpec spec;
  State state = State::Idle;
  SslCtxPtr tls;
  std::shared_ptr<SmppSession> session;
  std::shared_ptr<Bind> bind;
  TokenBucket bucket;
  int failures = 0;
  std::uint64_t connects = 0, binds = 0;
  EventLoop::TimerId timer = 0;
  std::string lastError;
  std::int64_t since = 0;
  std::string label() const {
    return spec.systemId + "@" + spec.host + ":" + std::to_string(spec.port) + " (SMSC " + spec.name + ")";
  }
};

// An outbound message on its way: its parts, where they go, and what came back.
struct SmppEngine::MtJob {
  struct Part {
    std::uint32_t commandId = 0;  // submit_sm to an SMSC, deliver_sm to an ESME
    SmBody body;
    int attempts = 0;
    bool inFlight = false;
    bool acked = false;
    std::string smscId;
  };
  std::uint64_t id = 0;
  StoredMessage message;
  DeliveryCallback done;
  std::string esme;      // the ESME (system_id) it goes to; empty: the SMSC binds
  bool receipt = false;  // a delivery receipt towards an ESME, rendering a report message
  std::string reportOf;  // with receipt: the gateway id of the message reported on
  bool reportRequested = false;
  std::vector<Part> parts;
  std::size_t acked = 0;
  std::vector<ExternalId> externalIds;
  std::string acceptedBy;
  std::int64_t deadline = 0;  // waiting for a usable bind past this hands the message back
};

}  // namespace cpmgw::smpp
