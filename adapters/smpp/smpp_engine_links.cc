// The engine's links: the server role (accepting, authenticating binds) and the client role (binding to SMSCs and
// binding again with back-off).
#include <Poco/Logger.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "cpmgw/log.h"
#include "smpp/smpp_engine_internal.h"

namespace cpmgw::smpp {
namespace {

std::string addressText(const sockaddr_storage& ss, std::string* ipOut = nullptr) {
  char ip[INET6_ADDRSTRLEN] = {0};
  std::uint16_t port = 0;
  bool v6 = ss.ss_family == AF_INET6;
  if (v6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    port = ntohs(a->sin_port);
  }
  std::string s = ip;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; allow-lists are written with a.b.c.d.
  if (s.rfind("::ffff:", 0) == 0 && s.find('.') != std::string::npos) {
    s = s.substr(7);
    v6 = false;
  }
  if (ipOut) *ipOut = s;
  return (v6 ? "[" + s + "]" : s) + ":" + std::to_string(port);
}

SmppSession::Options sessionOptions(const SmppOptions& o, std::size_t window) {
  SmppSession::Options s;
  s.maxPdu = o.maxPdu;
  s.window = window;
  s.responseTimeoutMs = o.responseTimeoutMs;
  s.enquireLinkMs = o.enquireLinkMs;
  return s;
}

std::int64_t jittered(std::int64_t ms) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return ms + static_cast<std::int64_t>(static_cast<double>(ms) * (static_cast<double>(rng() % 41) - 20) / 100);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Server role.

int SmppEngine::listenOn(const std::string& host, std::uint16_t port, std::uint16_t& bound) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    log_.error("SMPP server cannot resolve %s: %s", host, std::string(gai_strerror(rc)));
    return -1;
  }
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  bool ok = fd && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            ::bind(fd.get(), res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd.get(), 256) == 0;
  ::freeaddrinfo(res);
  if (!ok) {
    log_.error("SMPP server cannot listen on %s:%hu: %s", host, port, std::string(std::strerror(errno)));
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  bound = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd.release();
}

void SmppEngine::startServer() {
  std::uint16_t bound = 0;
  listenFd_.reset(listenOn(opt_.host, opt_.port, bound));
  if (!listenFd_) {
    listenFailed_ = true;
  } else {
    port_ = bound;
    int fd = listenFd_.get();
    loop_->watch(fd, EPOLLIN, [this, fd](std::uint32_t) { acceptAll(fd, false); });
    log_.notice("SMPP server listening on %s:%hu", opt_.host, bound);
  }
  if (opt_.tlsCertFile.empty()) return;
  try {
    serverTls_ = makeServerTlsContext(opt_.tlsCertFile, opt_.tlsKeyFile);
  } catch (const std::exception& e) {
    log_.error("SMPP TLS server not started: %s", std::string(e.what()));
    listenFailed_ = true;
    return;
  }
  tlsListenFd_.reset(listenOn(opt_.host, opt_.tlsPort, bound));
  if (!tlsListenFd_) {
    listenFailed_ = true;
    return;
  }
  tlsPort_ = bound;
  int fd = tlsListenFd_.get();
  loop_->watch(fd, EPOLLIN, [this, fd](std::uint32_t) { acceptAll(fd, true); });
  log_.notice("SMPP TLS server listening on %s:%hu", opt_.host, bound);
}

void SmppEngine::acceptAll(int listenFd, bool tls) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        log_.warning("SMPP server accept failed: %s", std::string(std::strerror(errno)));
      return;
    }
    UniqueFd owned(fd);
    if (stopping_) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_unique<Conn>();
    conn->id = nextConnId_++;
    conn->peer = addressText(ss, &conn->ip);
    conn->tls = tls;
    conn->acceptedAt = steadyMs();
    try {
      conn->session =
          SmppSession::create(*loop_, std::move(owned), SmppSession::Role::Server, tls ? serverTls_ : SslCtxPtr(),
                              conn->peer, sessionOptions(opt_, opt_.window));
    } catch (const std::exception& e) {
      log_.error("SMPP %s: connection dropped: %s", conn->peer, std::string(e.what()));
      continue;
    }
    std::uint64_t id = conn->id;
    SmppSession::Handlers h;
    h.onRequest = [this, id](Pdu&& pdu) { onServerRequest(id, std::move(pdu)); };
    h.onBadPdu = [this](const Decoded&) { ++counters_.badPdus; };
    h.onWindowSpace = [this] { pump(); };
    h.onClosed = [this, id](const std::string& reason) { onServerClosed(id, reason); };
    conn->session->setHandlers(std::move(h));
    logDebug(log_, "SMPP %s: connection accepted%s", conn->peer, std::string(tls ? " (TLS)" : ""));
    auto session = conn->session;
    conns_.emplace(id, std::move(conn));
    session->start();
  }
}

void SmppEngine::onServerRequest(std::uint64_t connId, Pdu&& pdu) {
  auto it = conns_.find(connId);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (cmd::isBind(pdu.commandId)) {
    if (c.bind || c.binding) {
      c.session->respond(bindResp(pdu.commandId, pdu.sequence, status::kAlyBnd, {}));
      return;
    }
    handleBind(connId, std::move(pdu));
    return;
  }
  auto notBound = [&] {
    if (pdu.commandId == cmd::kSubmitSm || pdu.commandId == cmd::kDeliverSm)
      c.session->respond(messageIdResp(cmd::resp(pdu.commandId), pdu.sequence, status::kInvBndSts, {}));
    else
      c.session->respond(headerOnly(cmd::kGenericNack, pdu.sequence, status::kInvBndSts));
  };
  if (!c.bind) {
    log_.notice("SMPP %s: %s before a bind: %s", c.peer, commandName(pdu.commandId), statusName(status::kInvBndSts));
    notBound();
    return;
  }
  // A peer bound as receiver may not submit; everything else it may send is a message or a receipt.
  if (pdu.commandId == cmd::kSubmitSm && c.bind->type == BindType::Receiver) {
    notBound();
    return;
  }
  if (pdu.commandId == cmd::kSubmitSm || pdu.commandId == cmd::kDeliverSm) {
    auto bind = c.bind;
    onInboundSm(bind, std::move(pdu));
    return;
  }
  c.session->respond(headerOnly(cmd::kGenericNack, pdu.sequence, status::kInvCmdId));
}

void SmppEngine::handleBind(std::uint64_t connId, Pdu&& pdu) {
  Conn& c = *conns_.at(connId);
  const auto& b = pdu.as<BindBody>();
  const std::uint32_t commandId = pdu.commandId, sequence = pdu.sequence;
  if (stopping_) {
    refuseBind(c, commandId, sequence, b.systemId, status::kBindFail, "the gateway is stopping", false);
    return;
  }
  if (lockout_.locked(c.ip, steadyMs())) {
    refuseBind(c, commandId, sequence, b.systemId, status::kBindFail, "address locked out after failed binds", false);
    return;
  }
  auto account = accounts_.find(b.systemId);
  c.binding = true;
  // PBKDF2 takes milliseconds: off the loop. It runs for unknown accounts too, so timing tells nothing.
  auto loop = loop_;
  auto alive = alive_;
  int iterations = opt_.passwordIterations;
  std::string systemId = b.systemId, password = b.password;
  helper_->post([this, loop, alive, connId, commandId, sequence, systemId, password, account, iterations] {
    bool ok = false;
    if (account)
      ok = verifyPassword(*account, password);
    else
      burnPasswordCheck(password, iterations);
    if (!*alive) return;
    loop->post([this, connId, commandId, sequence, systemId, account, ok] {
      finishBind(connId, commandId, sequence, systemId, account, ok);
    });
  });
}

void SmppEngine::refuseBind(Conn& c, std::uint32_t commandId, std::uint32_t sequence, const std::string& systemId,
                            std::uint32_t st, const std::string& why, bool countsAsFailure) {
  ++counters_.bindFailures;
  log_.notice("SMPP %s@%s: %s refused: %s (%s)", systemId, c.peer, commandName(commandId), why, statusName(st));
  if (countsAsFailure && lockout_.failure(c.ip, steadyMs())) {
    ++counters_.lockouts;
    log_.warning("SMPP %s: locked out for %?d ms after %d failed binds", c.ip, opt_.lockoutMs, opt_.lockoutThreshold);
  }
  c.session->respond(bindResp(commandId, sequence, st, {}));
  c.session->closeAfterFlush("bind refused");
}

void SmppEngine::finishBind(std::uint64_t connId, std::uint32_t commandId, std::uint32_t sequence,
                            const std::string& systemId, std::optional<Account> account, bool passwordOk) {
  auto it = conns_.find(connId);
  if (it == conns_.end()) return;  // the peer went away meanwhile
  Conn& c = *it->second;
  c.binding = false;
  if (!c.session->open()) return;
  // The account may have changed while the password was checked.
  auto current = accounts_.find(systemId);
  if (!account || !current) {
    refuseBind(c, commandId, sequence, systemId, status::kInvSysId, "unknown system_id", true);
    return;
  }
  if (!current->enabled) {
    refuseBind(c, commandId, sequence, systemId, status::kBindFail, "account disabled", true);
    return;
  }
  if (!ipAllowed(current->allowedIps, c.ip)) {
    refuseBind(c, commandId, sequence, systemId, status::kBindFail, "address " + c.ip + " not allowed", true);
    return;
  }
  if (!passwordOk || current->hash != account->hash) {
    refuseBind(c, commandId, sequence, systemId, status::kInvPaswd, "wrong password", true);
    return;
  }
  auto& binds = esmeBinds_[systemId];
  std::erase_if(binds, [](const auto& b) { return !b->open(); });
  if (static_cast<int>(binds.size()) >= current->maxBinds) {
    refuseBind(c, commandId, sequence, systemId, status::kBindFail,
               "already " + std::to_string(binds.size()) + " binds (max_binds)", false);
    return;
  }
  lockout_.success(c.ip);
  auto bind = std::make_shared<Bind>();
  bind->id = connId;
  bind->token = newMessageId().substr(0, 16);
  bind->session = c.session;
  bind->esme = true;
  bind->name = systemId;
  bind->origin = systemId;
  bind->type = commandId == cmd::kBindTransmitter ? BindType::Transmitter
               : commandId == cmd::kBindReceiver  ? BindType::Receiver
                                                  : BindType::Transceiver;
  bind->tls = c.tls;
  bind->boundAt = steadyMs();
  c.bind = bind;
  binds.push_back(bind);
  auto& bucket = accountBuckets_[systemId];
  double tps = current->tps;
  bucket.reconfigure(tps, std::max(1.0, tps));
  c.session->setLabel(systemId + "@" + c.peer);
  c.session->respond(bindResp(commandId, sequence, status::kOk, opt_.systemId));
  ++counters_.bindsAccepted;
  log_.notice("SMPP %s: bound as %s%s", c.session->label(), toString(bind->type),
              std::string(c.tls ? " over TLS" : ""));
  pump();
}

void SmppEngine::onServerClosed(std::uint64_t connId, const std::string& reason) {
  auto it = conns_.find(connId);
  if (it == conns_.end()) return;
  auto conn = std::move(it->second);
  conns_.erase(it);
  if (conn->bind) {
    auto& binds = esmeBinds_[conn->bind->name];
    std::erase(binds, conn->bind);
    log_.notice("SMPP %s: link closed: %s", conn->session->label(), reason);
  } else {
    logDebug(log_, "SMPP %s: connection closed before a bind: %s", conn->peer, reason);
  }
  checkStop();
}

void SmppEngine::accountChanged(const std::string& systemId) {
  auto account = accounts_.find(systemId);
  if (account) {
    double tps = account->tps;
    accountBuckets_[systemId].reconfigure(tps, std::max(1.0, tps));
  } else {
    accountBuckets_.erase(systemId);
  }
  auto it = esmeBinds_.find(systemId);
  if (it == esmeBinds_.end()) return;
  for (auto& b : std::vector<std::shared_ptr<Bind>>(it->second)) {
    std::string ip = b->label().substr(b->label().find('@') + 1);
    ip = ip.substr(0, ip.rfind(':'));
    if (!ip.empty() && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
    std::string why = !account                              ? "account deleted"
                      : !account->enabled                   ? "account disabled"
                      : !ipAllowed(account->allowedIps, ip) ? "address no longer allowed"
                                                            : std::string();
    if (why.empty()) continue;
    log_.notice("SMPP %s: unbinding: %s", b->label(), why);
    b->session->unbind();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Client role.

void SmppEngine::connectLink(Link& link) {
  if (stopping_) return;
  link.state = Link::State::Resolving;
  link.since = steadyMs();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(link.spec.host.c_str(), "0", &hints, &res) == 0) {
    int family = res->ai_family;
    ::freeaddrinfo(res);
    connectResolved(link, family, link.spec.host);
    return;
  }
  // A host name: resolving may block, so it happens on the helper thread.
  auto loop = loop_;
  auto alive = alive_;
  Link* l = &link;
  std::string host = link.spec.host;
  helper_->post([this, loop, alive, l, host] {
    addrinfo h{};
    h.ai_family = AF_UNSPEC;
    h.ai_socktype = SOCK_STREAM;
    addrinfo* r = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &h, &r);
    int family = 0;
    std::string address, error;
    if (rc == 0) {
      char buf[INET6_ADDRSTRLEN] = {0};
      family = r->ai_family;
      if (family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(r->ai_addr)->sin6_addr, buf, sizeof buf);
      else
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(r->ai_addr)->sin_addr, buf, sizeof buf);
      address = buf;
      ::freeaddrinfo(r);
    } else {
      error = gai_strerror(rc);
    }
    if (!*alive) return;
    loop->post([this, l, family, address, error] {
      if (stopping_) {
        l->state = Link::State::Idle;
        return;
      }
      if (!error.empty()) {
        l->lastError = "cannot resolve " + l->spec.host + ": " + error;
        log_.warning("SMPP %s: %s", l->label(), l->lastError);
        scheduleReconnect(*l);
        return;
      }
      connectResolved(*l, family, address);
    });
  });
}

void SmppEngine::connectResolved(Link& link, int family, const std::string& address) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(link.spec.port);
    inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(link.spec.port);
    inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    link.lastError = std::string("socket: ") + std::strerror(errno);
    scheduleReconnect(link);
    return;
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    link.lastError = std::string("connect: ") + std::strerror(errno);
    log_.notice("SMPP %s: %s", link.label(), link.lastError);
    scheduleReconnect(link);
    return;
  }
  ++link.connects;
  link.state = Link::State::Connecting;
  try {
    link.session = SmppSession::create(*loop_, std::move(fd), SmppSession::Role::Client, link.tls,
                                       address + ":" + std::to_string(link.spec.port),
                                       sessionOptions(opt_, link.spec.window), link.spec.host);
  } catch (const std::exception& e) {
    link.lastError = e.what();
    scheduleReconnect(link);
    return;
  }
  link.session->setLabel(link.label());
  Link* l = &link;
  SmppSession::Handlers h;
  h.onOpen = [this, l] { onLinkOpen(*l); };
  h.onRequest = [this, l](Pdu&& pdu) {
    if (!l->bind || l->state != Link::State::Bound) {
      if (pdu.commandId == cmd::kSubmitSm || pdu.commandId == cmd::kDeliverSm)
        l->session->respond(messageIdResp(cmd::resp(pdu.commandId), pdu.sequence, status::kInvBndSts, {}));
      else
        l->session->respond(headerOnly(cmd::kGenericNack, pdu.sequence, status::kInvBndSts));
      return;
    }
    if (pdu.commandId == cmd::kDeliverSm || pdu.commandId == cmd::kSubmitSm) {
      auto bind = l->bind;
      onInboundSm(bind, std::move(pdu));
      return;
    }
    l->session->respond(headerOnly(cmd::kGenericNack, pdu.sequence, status::kInvCmdId));
  };
  h.onBadPdu = [this](const Decoded&) { ++counters_.badPdus; };
  h.onWindowSpace = [this] { pump(); };
  h.onClosed = [this, l](const std::string& reason) { onLinkClosed(*l, reason); };
  link.session->setHandlers(std::move(h));
  link.session->start();
}

void SmppEngine::onLinkOpen(Link& link) {
  link.state = Link::State::Binding;
  std::uint32_t command = link.spec.bindType == BindType::Transmitter ? cmd::kBindTransmitter
                          : link.spec.bindType == BindType::Receiver  ? cmd::kBindReceiver
                                                                      : cmd::kBindTransceiver;
  Pdu pdu;
  pdu.commandId = command;
  pdu.body = BindBody{link.spec.systemId, link.spec.password, link.spec.systemType, 0x34, 0, 0, {}};
  Link* l = &link;
  auto session = link.session;
  std::weak_ptr<SmppSession> weak = session;
  session->sendRequest(
      std::move(pdu),
      [this, l, weak](const Pdu* response, const std::string& failure) {
        auto s = weak.lock();
        if (!s || s != l->session || s->closed()) return;
        if (!response) {
          l->lastError = "bind not answered: " + failure;
          s->close(l->lastError);
          return;
        }
        if (response->status != status::kOk) {
          l->lastError = "bind refused: " + statusName(response->status);
          s->close(l->lastError);
          return;
        }
        l->state = Link::State::Bound;
        l->failures = 0;
        ++l->binds;
        l->lastError.clear();
        l->since = steadyMs();
        auto bind = std::make_shared<Bind>();
        bind->id = l->binds;
        bind->token = newMessageId().substr(0, 16);
        bind->session = s;
        bind->esme = false;
        bind->name = l->spec.name;
        bind->origin = l->spec.smsc;
        bind->type = l->spec.bindType;
        bind->tls = l->spec.tls;
        bind->pacing = &l->bucket;
        bind->boundAt = steadyMs();
        l->bind = bind;
        smscBinds_.push_back(bind);
        updateHealth();
        log_.notice("SMPP %s: bound as %s%s", l->label(), toString(l->spec.bindType),
                    std::string(l->spec.tls ? " over TLS" : ""));
        pump();
      },
      true);
}

void SmppEngine::onLinkClosed(Link& link, const std::string& reason) {
  bool wasBound = link.state == Link::State::Bound;
  if (link.bind) {
    std::erase(smscBinds_, link.bind);
    link.bind.reset();
  }
  link.session.reset();
  link.lastError = reason;
  updateHealth();
  if (stopping_) {
    link.state = Link::State::Idle;
    checkStop();
    return;
  }
  if (wasBound)
    log_.warning("SMPP %s: bind lost: %s", link.label(), reason);
  else
    log_.notice("SMPP %s: cannot bind: %s", link.label(), reason);
  scheduleReconnect(link);
}

void SmppEngine::scheduleReconnect(Link& link) {
  if (stopping_) {
    link.state = Link::State::Idle;
    return;
  }
  std::int64_t delay = opt_.reconnectMinMs;
  for (int i = 0; i < link.failures && delay < opt_.reconnectMaxMs; ++i) delay *= 2;
  delay = jittered(std::min(delay, opt_.reconnectMaxMs));
  ++link.failures;
  link.state = Link::State::Waiting;
  logInformation(log_, "SMPP %s: binding again in %?d ms", link.label(), delay);
  Link* l = &link;
  link.timer = loop_->after(delay, [this, l] {
    l->timer = 0;
    connectLink(*l);
  });
}

}  // namespace cpmgw::smpp
