// One SMPP connection: transport (TCP, optionally TLS), framing, the window of requests we sent and their response
// timers, enquire_link keep-alive, and the protocol-level answers (enquire_link_resp, unbind_resp, generic_nack and
// error responses for PDUs that do not decode). Everything above it (binds, messages) belongs to its owner.
// Loop thread only, like everything that touches libsmpp34, but for answerNow().
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "smpp/event_loop.h"
#include "smpp/smpp_pdu.h"
#include "smpp/tls.h"

namespace cpmgw::smpp {

class SmppSession : public std::enable_shared_from_this<SmppSession> {
 public:
  struct Options {
    std::size_t maxPdu = 4096;
    std::size_t window = 10;  // our requests awaiting a response
    std::int64_t responseTimeoutMs = 10'000;
    std::int64_t enquireLinkMs = 30'000;  // idle time before we ask the peer whether it is alive; 0: never
    std::size_t maxOutput = 1 << 20;      // bytes queued for a peer that does not read: beyond, the link closes
  };
  enum class Role { Server, Client };
  // The response to one of our requests: `response` is null when none came (timeout, link closed); `failure` says why.
  using ResponseHandler = std::function<void(const Pdu* response, const std::string& failure)>;
  struct Handlers {
    std::function<void()> onOpen;                      // connected (and TLS handshake done)
    std::function<void(Pdu&&)> onRequest;              // a decoded request other than enquire_link/unbind
    std::function<void(const Decoded&)> onBadPdu;      // a PDU that did not decode; already answered
    std::function<void()> onWindowSpace;               // a response freed a slot in the window
    std::function<void(const std::string&)> onClosed;  // once, after every outstanding handler was called
  };

  // `fd` is connected (Server) or connecting (Client). With `tls` the session runs a TLS handshake first.
  static std::shared_ptr<SmppSession> create(EventLoop& loop, UniqueFd fd, Role role, const SslCtxPtr& tls,
                                             std::string peer, Options options, const std::string& sniHost = {});
  ~SmppSession();

  void setHandlers(Handlers handlers) { handlers_ = std::move(handlers); }
  void start();

  // Sends a request with the next sequence number. `force` ignores the window (enquire_link, unbind).
  // Returns false when the link is closed (the handler is not called then).
  bool sendRequest(Pdu pdu, ResponseHandler handler, bool force = false);
  // Sends a response (or generic_nack).
  void respond(const Pdu& pdu);
  // Any thread: writes an encoded response without the loop thread, when the link is open, plain TCP and has
  // nothing else queued; false otherwise (TLS, closed, output waiting), and the caller sends it with respond() on
  // the loop thread. Within a callback round (the store's completions of one sync) the answers wait for its end and
  // leave in one write. What the socket does not take at once is queued for the loop thread.
  bool answerNow(const std::string& bytes);
  // Loop thread: whether answerNow() can ever take an answer on this link (plain TCP).
  bool answersWithoutLoop() const { return !ssl_; }
  // Sends unbind and closes when unbind_resp arrives or after the response timeout.
  void unbind();
  // Closes at once: outstanding handlers get a null response.
  void close(const std::string& reason);
  // Closes once what is queued is written (bounded by the response timeout).
  void closeAfterFlush(const std::string& reason);

  bool open() const { return state_ == State::Open; }
  bool closed() const { return state_ == State::Closed; }
  std::size_t outstanding() const { return outstanding_.size(); }
  std::size_t window() const { return options_.window; }
  // Room for one more request: open, not closing, and below the window.
  bool windowFree() const {
    return open() && !closeWhenFlushed_ && !unbinding_ && outstanding_.size() < options_.window;
  }
  const std::string& peer() const { return peer_; }
  // What log lines name the link by: "system_id@ip:port" once bound, the address before.
  const std::string& label() const { return label_; }
  void setLabel(std::string label) { label_ = std::move(label); }
  std::int64_t openedAt() const { return openedAt_; }

 private:
  enum class State { Connecting, Handshaking, Open, Closed };
  struct Outstanding {
    std::uint32_t commandId;
    std::int64_t sentAt;
    ResponseHandler handler;
  };

  SmppSession(EventLoop& loop, UniqueFd fd, Role role, std::string peer, Options options);
  void onEvents(std::uint32_t events);
  void finishConnect();
  void handshake();
  void becomeOpen();
  void readAvailable();
  void processInput();
  void handlePdu(std::string_view bytes);
  void queue(const std::string& bytes);
  void flush();
  void updateInterest();
  void tick();
  void armTick();

  // Transport: >0 bytes moved, 0 end of stream (read), -1 would block, -2 failed.
  long ioRead(char* buf, std::size_t n);
  long ioWrite(const char* buf, std::size_t n);
  void writeHeld();

  EventLoop& loop_;
  UniqueFd fd_;
  Role role_;
  SslPtr ssl_;
  std::string peer_;
  std::string label_;
  Options options_;
  Handlers handlers_;
  State state_ = State::Connecting;
  std::string in_;
  std::size_t inPos_ = 0;
  std::mutex outMutex_;     // out_, held_, answerNow_ and socket writes: answerNow() runs on other threads
  bool answerNow_ = false;  // open and answersWithoutLoop()
  std::string out_;
  std::string held_;  // answers waiting for the end of the callback round
  bool flushQueued_ = false;
  bool wantWrite_ = false;  // EPOLLOUT interest registered
  bool closeWhenFlushed_ = false;
  std::string closeReason_;
  std::int64_t closeDeadline_ = 0;
  std::unordered_map<std::uint32_t, Outstanding> outstanding_;
  std::deque<std::pair<std::int64_t, std::uint32_t>> timeouts_;  // (sentAt, sequence), in sending order
  std::uint32_t nextSequence_ = 1;
  std::int64_t lastReceived_ = 0;
  std::int64_t openedAt_ = 0;
  bool enquiring_ = false;
  bool unbinding_ = false;
  EventLoop::TimerId tickTimer_ = 0;
};

}  // namespace cpmgw::smpp
