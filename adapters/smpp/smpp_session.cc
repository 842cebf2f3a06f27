#include "smpp/smpp_session.h"
#include "cpmgw/callback_round.h"
#include "cpmgw/log.h"

#include <Poco/Logger.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace cpmgw::smpp {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpmgw.smpp");
}

constexpr std::int64_t kTickMs = 100;
constexpr std::uint32_t kIn = EPOLLIN;
constexpr std::uint32_t kOut = EPOLLOUT;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxReadPerEvent = 512 * 1024;  // then let other links have their turn

bool isIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

std::shared_ptr<SmppSession> SmppSession::create(EventLoop& loop, UniqueFd fd, Role role, const SslCtxPtr& tls,
                                                 std::string peer, Options options, const std::string& sniHost) {
  std::shared_ptr<SmppSession> s(new SmppSession(loop, std::move(fd), role, std::move(peer), options));
  if (tls) {
    s->ssl_.reset(SSL_new(tls.get()));
    if (!s->ssl_) throw std::runtime_error("SSL_new: " + opensslErrors());
    SSL_set_fd(s->ssl_.get(), s->fd_.get());
    if (role == Role::Server) {
      SSL_set_accept_state(s->ssl_.get());
    } else {
      SSL_set_connect_state(s->ssl_.get());
      if (!sniHost.empty() && !isIpLiteral(sniHost)) SSL_set_tlsext_host_name(s->ssl_.get(), sniHost.c_str());
      // Only checked when the context verifies peers; for an IP literal the certificate must name the address.
      if (!sniHost.empty()) {
        if (isIpLiteral(sniHost))
          X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_.get()), sniHost.c_str());
        else
          SSL_set1_host(s->ssl_.get(), sniHost.c_str());
      }
    }
  }
  return s;
}

SmppSession::SmppSession(EventLoop& loop, UniqueFd fd, Role role, std::string peer, Options options)
    : loop_(loop), fd_(std::move(fd)), role_(role), peer_(std::move(peer)), label_(peer_), options_(options) {
  state_ = role_ == Role::Client ? State::Connecting : State::Handshaking;
}

SmppSession::~SmppSession() {
  if (fd_) {
    loop_.unwatch(fd_.get());
    fd_.reset();
  }
  if (tickTimer_) loop_.cancel(tickTimer_);
}

void SmppSession::start() {
  openedAt_ = lastReceived_ = steadyMs();
  std::weak_ptr<SmppSession> weak = shared_from_this();
  loop_.watch(fd_.get(), EPOLLIN | EPOLLOUT, [weak](std::uint32_t events) {
    if (auto self = weak.lock()) self->onEvents(events);
  });
  wantWrite_ = true;
  armTick();
  if (role_ == Role::Server) {
    if (ssl_)
      handshake();
    else
      becomeOpen();
  }
}

void SmppSession::armTick() {
  std::weak_ptr<SmppSession> weak = shared_from_this();
  tickTimer_ = loop_.after(kTickMs, [weak] {
    if (auto self = weak.lock()) {
      self->tickTimer_ = 0;
      self->tick();
    }
  });
}

void SmppSession::onEvents(std::uint32_t events) {
  auto self = shared_from_this();
  switch (state_) {
    case State::Connecting:
      finishConnect();
      return;
    case State::Handshaking:
      handshake();
      return;
    case State::Open:
      if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readAvailable();
      if (state_ == State::Open && (events & EPOLLOUT)) flush();
      return;
    case State::Closed:
      return;
  }
}

void SmppSession::finishConnect() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    close(std::string("connect failed: ") + std::strerror(err));
    return;
  }
  if (ssl_) {
    state_ = State::Handshaking;
    handshake();
  } else {
    becomeOpen();
  }
}

void SmppSession::handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    becomeOpen();
    return;
  }
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    bool wantOut = err == SSL_ERROR_WANT_WRITE;
    if (wantOut != wantWrite_) {
      loop_.modify(fd_.get(), kIn | (wantOut ? kOut : 0u));
      wantWrite_ = wantOut;
    }
    return;
  }
  close("TLS handshake failed: " +
        (err == SSL_ERROR_SYSCALL && errno ? std::string(std::strerror(errno)) : opensslErrors()));
}

void SmppSession::becomeOpen() {
  state_ = State::Open;
  {
    std::lock_guard lock(outMutex_);
    answerNow_ = answersWithoutLoop();
  }
  openedAt_ = lastReceived_ = steadyMs();
  updateInterest();
  if (handlers_.onOpen) handlers_.onOpen();
}

void SmppSession::updateInterest() {
  if (state_ != State::Open) return;
  bool want;
  {
    std::lock_guard lock(outMutex_);
    want = !out_.empty();
  }
  if (want == wantWrite_) return;
  loop_.modify(fd_.get(), kIn | (want ? kOut : 0u));
  wantWrite_ = want;
}

long SmppSession::ioRead(char* buf, std::size_t n) {
  if (!ssl_) {
    ssize_t r = ::recv(fd_.get(), buf, n, 0);
    if (r > 0) return r;
    if (r == 0) return 0;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : -2;
  }
  ERR_clear_error();
  int r = SSL_read(ssl_.get(), buf, static_cast<int>(n));
  if (r > 0) return r;
  int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return -1;
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;  // closed without close_notify
  return -2;
}

long SmppSession::ioWrite(const char* buf, std::size_t n) {
  if (!ssl_) {
    ssize_t r = ::send(fd_.get(), buf, n, MSG_NOSIGNAL);
    if (r >= 0) return r;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : -2;
  }
  ERR_clear_error();
  int r = SSL_write(ssl_.get(), buf, static_cast<int>(n));
  if (r > 0) return r;
  int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return -1;
  return -2;
}

void SmppSession::readAvailable() {
  char buf[kReadChunk];
  std::size_t total = 0;
  bool eof = false;
  std::string failure;
  while (total < kMaxReadPerEvent) {
    long r = ioRead(buf, sizeof buf);
    if (r > 0) {
      in_.append(buf, static_cast<std::size_t>(r));
      total += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) eof = true;
    if (r == -2)
      failure = ssl_ ? "TLS read failed: " + opensslErrors() : std::string("read failed: ") + std::strerror(errno);
    break;
  }
  if (total > 0) processInput();
  if (state_ == State::Closed) return;
  if (!failure.empty()) {
    close(failure);
  } else if (eof) {
    close("peer closed the connection");
  }
}

void SmppSession::processInput() {
  while (state_ == State::Open) {
    std::string_view view(in_.data() + inPos_, in_.size() - inPos_);
    Frame f = peekFrame(view, options_.maxPdu);
    if (f.state == Frame::State::NeedMore) break;
    if (f.state == Frame::State::Invalid) {
      // The stream cannot be resynchronised: answer what we can and close.
      std::uint32_t seq = 0;
      if (view.size() >= kHeaderSize)
        seq = (std::uint32_t(std::uint8_t(view[12])) << 24) | (std::uint32_t(std::uint8_t(view[13])) << 16) |
              (std::uint32_t(std::uint8_t(view[14])) << 8) | std::uint8_t(view[15]);
      if (seq == 0 || seq > 0x7FFFFFFF) seq = 1;
      logger().warning("SMPP %s: command_length %u outside 16..%z: generic_nack and close", label_, f.length,
                       options_.maxPdu);
      Decoded d;
      d.sequence = seq;
      d.errorStatus = status::kInvCmdLen;
      d.genericNack = true;
      d.error = "command_length " + std::to_string(f.length) + " not sane";
      queue(encodePdu(headerOnly(cmd::kGenericNack, seq, status::kInvCmdLen)));
      in_.clear();
      inPos_ = 0;
      if (handlers_.onBadPdu) handlers_.onBadPdu(d);
      closeAfterFlush("command_length " + std::to_string(f.length) + " not sane");
      return;
    }
    std::string_view pdu = view.substr(0, f.length);
    inPos_ += f.length;
    handlePdu(pdu);
  }
  if (inPos_ > 0) {
    in_.erase(0, inPos_);
    inPos_ = 0;
  }
}

void SmppSession::handlePdu(std::string_view bytes) {
  lastReceived_ = steadyMs();
  Decoded d = decodePdu(bytes);
  if (cmd::isResponse(d.commandId)) {
    auto it = outstanding_.find(d.sequence);
    if (it == outstanding_.end()) {
      logInformation(logger(), "SMPP %s: %s with sequence %u matches no request of ours: ignored", label_,
                     commandName(d.commandId), d.sequence);
      return;
    }
    Outstanding o = std::move(it->second);
    outstanding_.erase(it);
    bool unbound = unbinding_ && d.commandId == cmd::resp(cmd::kUnbind);
    o.handler(d.pdu ? &*d.pdu : nullptr,
              d.pdu ? std::string() : "undecodable " + commandName(d.commandId) + ": " + d.error);
    if (unbound) {
      close("unbound");
      return;
    }
    if (state_ == State::Open && handlers_.onWindowSpace && outstanding_.size() < options_.window)
      handlers_.onWindowSpace();
    return;
  }
  if (!d.pdu) {
    logger().warning("SMPP %s: %s seq %u undecodable (%s): answered %s", label_, commandName(d.commandId), d.sequence,
                     d.error, statusName(d.errorStatus));
    if (d.genericNack) {
      respond(headerOnly(cmd::kGenericNack, d.sequence, d.errorStatus));
    } else if (d.commandId == cmd::kSubmitSm || d.commandId == cmd::kDeliverSm) {
      respond(messageIdResp(cmd::resp(d.commandId), d.sequence, d.errorStatus, {}));
    } else if (cmd::isBind(d.commandId)) {
      respond(bindResp(d.commandId, d.sequence, d.errorStatus, {}));
    } else {
      respond(headerOnly(cmd::kGenericNack, d.sequence, d.errorStatus));
    }
    if (handlers_.onBadPdu) handlers_.onBadPdu(d);
    return;
  }
  switch (d.commandId) {
    case cmd::kEnquireLink:
      respond(headerOnly(cmd::resp(cmd::kEnquireLink), d.sequence));
      return;
    case cmd::kUnbind:
      respond(headerOnly(cmd::resp(cmd::kUnbind), d.sequence));
      closeAfterFlush("peer unbound");
      return;
    default:
      if (handlers_.onRequest) handlers_.onRequest(std::move(*d.pdu));
      return;
  }
}

bool SmppSession::sendRequest(Pdu pdu, ResponseHandler handler, bool force) {
  if (state_ != State::Open || closeWhenFlushed_ || (unbinding_ && !force)) return false;
  if (!force && outstanding_.size() >= options_.window) return false;
  std::uint32_t seq = nextSequence_;
  nextSequence_ = nextSequence_ >= 0x7FFFFFFF ? 1 : nextSequence_ + 1;
  pdu.sequence = seq;
  std::string bytes = encodePdu(pdu);
  std::int64_t now = steadyMs();
  outstanding_[seq] = Outstanding{pdu.commandId, now, std::move(handler)};
  timeouts_.emplace_back(now, seq);
  queue(bytes);
  return true;
}

void SmppSession::respond(const Pdu& pdu) {
  if (state_ != State::Open) return;
  queue(encodePdu(pdu));
}

void SmppSession::unbind() {
  if (state_ != State::Open) {
    if (state_ != State::Closed) close("stopping");
    return;
  }
  if (unbinding_) return;
  unbinding_ = true;
  closeDeadline_ = steadyMs() + options_.responseTimeoutMs;
  sendRequest(
      headerOnly(cmd::kUnbind, 0), [](const Pdu*, const std::string&) {}, true);
}

void SmppSession::queue(const std::string& bytes) {
  if (state_ == State::Closed) return;
  std::size_t size;
  {
    std::lock_guard lock(outMutex_);
    out_ += bytes;
    size = out_.size();
  }
  if (size > options_.maxOutput) {
    close("peer does not read: " + std::to_string(size) + " bytes queued");
    return;
  }
  if (!flushQueued_) {
    flushQueued_ = true;
    std::weak_ptr<SmppSession> weak = shared_from_this();
    loop_.defer([weak] {
      if (auto self = weak.lock()) self->flush();
    });
  }
}

void SmppSession::flush() {
  flushQueued_ = false;
  if (state_ != State::Open) return;
  bool failed = false, empty;
  {
    std::lock_guard lock(outMutex_);
    std::size_t done = 0;
    while (done < out_.size()) {
      long r = ioWrite(out_.data() + done, out_.size() - done);
      if (r > 0) {
        done += static_cast<std::size_t>(r);
        continue;
      }
      if (r == -2) {
        out_.clear();
        failed = true;
      }
      break;
    }
    if (!failed) out_.erase(0, done);
    empty = out_.empty();
  }
  if (failed) {
    close(ssl_ ? "TLS write failed: " + opensslErrors() : std::string("write failed: ") + std::strerror(errno));
    return;
  }
  updateInterest();
  if (empty && closeWhenFlushed_) close(closeReason_);
}

bool SmppSession::answerNow(const std::string& bytes) {
  {
    std::lock_guard lock(outMutex_);
    if (!answerNow_ || !out_.empty()) return false;
    bool first = held_.empty();
    held_ += bytes;
    if (!first) return true;
  }
  // The round's first answer for this link: every answer of the round leaves in one write at its end.
  atRoundEnd([self = shared_from_this()] {
    self->writeHeld();
    self->loop_.postQuietly([self] {});  // the last reference, if it is one, goes on the loop thread
  });
  return true;
}

void SmppSession::writeHeld() {
  std::lock_guard lock(outMutex_);
  std::string held = std::exchange(held_, {});
  if (!answerNow_) return;  // closed meanwhile, as if just before the write
  std::size_t written = 0;
  if (out_.empty()) {
    long r = ioWrite(held.data(), held.size());
    if (r == static_cast<long>(held.size()) || r == -2) return;  // -2: the loop's next write fails too and closes
    if (r > 0) written = static_cast<std::size_t>(r);
  }
  out_.append(held, written);
  std::weak_ptr<SmppSession> weak = weak_from_this();
  loop_.post([weak] {
    if (auto self = weak.lock()) self->flush();
  });
}

void SmppSession::closeAfterFlush(const std::string& reason) {
  if (state_ == State::Closed || closeWhenFlushed_) return;
  closeWhenFlushed_ = true;
  closeReason_ = reason;
  closeDeadline_ = steadyMs() + options_.responseTimeoutMs;
  bool empty;
  {
    std::lock_guard lock(outMutex_);
    empty = out_.empty();
  }
  if (empty && !flushQueued_) close(reason);
}

void SmppSession::close(const std::string& reason) {
  if (state_ == State::Closed) return;
  auto self = shared_from_this();
  state_ = State::Closed;
  if (tickTimer_) {
    loop_.cancel(tickTimer_);
    tickTimer_ = 0;
  }
  {
    std::lock_guard lock(outMutex_);
    answerNow_ = false;
  }
  if (fd_) {
    loop_.unwatch(fd_.get());
    if (ssl_) {
      ERR_clear_error();
      SSL_shutdown(ssl_.get());  // best effort close_notify; the socket is non-blocking
    }
    fd_.reset();
  }
  auto pending = std::move(outstanding_);
  outstanding_.clear();
  timeouts_.clear();
  // In sending order, so a retry queue keeps the original order.
  std::vector<std::pair<std::uint32_t, Outstanding>> ordered(pending.begin(), pending.end());
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return a.second.sentAt < b.second.sentAt || (a.second.sentAt == b.second.sentAt && a.first < b.first);
  });
  for (auto& [seq, o] : ordered) o.handler(nullptr, "link closed: " + reason);
  if (handlers_.onClosed) handlers_.onClosed(reason);
}

void SmppSession::tick() {
  auto self = shared_from_this();
  if (state_ == State::Closed) return;
  std::int64_t now = steadyMs();
  if ((state_ == State::Connecting || state_ == State::Handshaking) && now - openedAt_ > options_.responseTimeoutMs) {
    close(state_ == State::Connecting ? "connect timed out" : "TLS handshake timed out");
    return;
  }
  if ((closeWhenFlushed_ || unbinding_) && closeDeadline_ > 0 && now >= closeDeadline_) {
    close(closeWhenFlushed_ ? closeReason_ : "unbind not answered");
    return;
  }
  while (!timeouts_.empty() && timeouts_.front().first + options_.responseTimeoutMs <= now) {
    auto [sentAt, seq] = timeouts_.front();
    timeouts_.pop_front();
    auto it = outstanding_.find(seq);
    if (it == outstanding_.end() || it->second.sentAt != sentAt) continue;  // answered already
    Outstanding o = std::move(it->second);
    outstanding_.erase(it);
    o.handler(nullptr, "no " + commandName(cmd::resp(o.commandId)) + " within " +
                           std::to_string(options_.responseTimeoutMs) + " ms");
    if (state_ == State::Closed) return;
  }
  if (state_ == State::Open && options_.enquireLinkMs > 0 && !enquiring_ && !unbinding_ && !closeWhenFlushed_ &&
      now - lastReceived_ >= options_.enquireLinkMs) {
    enquiring_ = true;
    std::weak_ptr<SmppSession> weak = self;
    sendRequest(
        headerOnly(cmd::kEnquireLink, 0),
        [weak](const Pdu* response, const std::string& failure) {
          auto s = weak.lock();
          if (!s) return;
          s->enquiring_ = false;
          if (!response && !s->closed()) s->close("enquire_link not answered: " + failure);
        },
        true);
  }
  if (state_ != State::Closed) armTick();
}

}  // namespace cpmgw::smpp
