#include "sip/sip_endpoint.h"

#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/String.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

// Typed magic pointers for the callbacks (sofia's convention: define before including nua.h).
namespace cpmgw::sip {
struct Branch;
}
#define NUA_MAGIC_T cpmgw::sip::SipEndpoint::Impl
#define NUA_HMAGIC_T cpmgw::sip::Branch
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "cpmgw/config.h"
#include "cpmgw/log.h"
#include "cpmgw/router.h"
#include "sip/cpim.h"
#include "sip/imdn.h"

namespace cpmgw::sip {

namespace {

Poco::Logger& sipLog() {
  static Poco::Logger& logger = Poco::Logger::get("cpmgw.sip");
  return logger;
}

// A su_home for temporary strings, freed at scope end.
class Home {
 public:
  Home() { su_home_init(home_); }
  ~Home() { su_home_deinit(home_); }
  su_home_t* get() { return home_; }

 private:
  su_home_t home_[1] = {SU_HOME_INIT(home_)};
};

std::string str(const char* s) {
  return s ? s : "";
}

std::string urlString(const url_t* url) {
  Home home;
  return str(url_as_string(home.get(), url));
}

std::string headerString(const void* header) {
  if (!header) return {};
  Home home;
  return str(sip_header_as_string(home.get(), static_cast<const sip_header_t*>(header)));
}

// A free port for both UDP and TCP on host (sofia binds both to the same number).
std::uint16_t pickFreePort(const std::string& host) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (tcp < 0 || ::bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (tcp >= 0) ::close(tcp);
      continue;
    }
    int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok = udp >= 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (udp >= 0) ::close(udp);
    ::close(tcp);
    if (ok) return ntohs(addr.sin_port);
  }
  throw std::runtime_error("no free port for SIP on " + host);
}

bool isRetryable(int status) {
  return status == 408 || status >= 500;
}

constexpr const char* kNotRegistered = "recipient not registered: deferred";
constexpr const char* kNoFtHttpDevice = "no device of the recipient takes file transfer over HTTP: deferred";

// Sofia would start with a key that does not fit its certificate and fail every handshake: refuse at start.
void checkKeyPair(const std::string& certFile, const std::string& keyFile) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), certFile.c_str()) != 1)
    throw std::runtime_error("cannot load the SIP TLS certificate " + certFile);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    throw std::runtime_error(keyFile + " does not match " + certFile);
}

std::string uriHost(const std::string& aor) {
  auto at = aor.find('@');
  return at == std::string::npos ? std::string{} : aor.substr(at + 1);
}

}  // namespace

// One outgoing MESSAGE to one device; several branches make one delivery (every registered device).
struct Delivery {
  StoredMessage message;
  DeliveryCallback done;
  int pending = 0;
  bool delivered = false;
  bool retryable = false;
  std::string failure;
};
// The magic of an outgoing request's handle: a MESSAGE branch, or an OPTIONS capability query.
struct Branch {
  std::shared_ptr<Delivery> delivery;  // null for OPTIONS
  std::string contact;
  std::string aor;
};

struct SipEndpoint::Impl {
  SipEndpoint& self;
  nua_t* nua = nullptr;
  std::promise<void> shutdownDone;
  bool shuttingDown = false;
  std::set<Branch*> branches;

  explicit Impl(SipEndpoint& s) : self(s) {}

  static void callback(nua_event_t event, int status, char const* phrase, nua_t* nua, Impl* impl, nua_handle_t* nh,
                       Branch* branch, sip_t const* sip, tagi_t tags[]) {
    (void)nua;
    (void)tags;
    impl->onEvent(event, status, phrase, nh, branch, sip);
  }

  void onEvent(nua_event_t event, int status, const char* phrase, nua_handle_t* nh, Branch* branch, const sip_t* sip) {
    switch (event) {
      case nua_i_register:
        onRegister(nh, sip);
        break;
      case nua_i_message:
        onMessage(nh, sip);
        break;
      case nua_r_message:
        onMessageResponse(status, phrase, nh, branch, sip);
        break;
      case nua_r_options:
        onOptionsResponse(status, nh, branch, sip);
        break;
      case nua_r_shutdown:
        if (status >= 200) shutdownDone.set_value();
        break;
      default:
        // Requests the stack answered itself (OPTIONS) or that have no use here: release their handles.
        if (nh && nua_event_is_incoming_request(event) && !branch) nua_handle_destroy(nh);
        break;
    }
  }

  // --- registrar -------------------------------------------------------------------------------------

  void onRegister(nua_handle_t* nh, const sip_t* sip) {
    const Options& o = self.options_;
    std::string aor = normaliseAddress(sip && sip->sip_to ? urlString(sip->sip_to->a_url) : "");
    std::string peer = sip && sip->sip_via ? str(sip->sip_via->v_host) + ":" + str(sip->sip_via->v_port) : "?";
    auto finish = [&](int status, const char* phrase) {
      nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
    };
    if (aor.empty() || std::find(o.domains.begin(), o.domains.end(), uriHost(aor)) == o.domains.end()) {
      logInformation(sipLog(), "REGISTER from %s for %s refused: not a domain served here", peer, aor);
      finish(403, "Domain Not Served");
      return;
    }
    auto user = self.users_.findByUri(aor);
    auto challenge = [&](bool stale) {
      std::string value = self.auth_.challenge(stale);
      nua_respond(nh, 401, "Unauthorized", NUTAG_WITH_THIS(nua), SIPTAG_WWW_AUTHENTICATE_STR(value.c_str()), TAG_END());
      nua_handle_destroy(nh);
    };
    std::string header = headerString(sip->sip_authorization);
    auto credentials = header.empty() ? std::nullopt : digest::parse(header);
    if (!credentials) {
      challenge(false);
      return;
    }
    if (!user || !user->enabled || user->realm != self.auth_.realm() || credentials->username != user->authName) {
      sipLog().warning("REGISTER from %s for %s refused: unknown or disabled user, or wrong username", peer, aor);
      finish(403, "Forbidden");
      return;
    }
    switch (self.auth_.verify(*credentials, "REGISTER", user->ha1, nowMs())) {
      case digest::Authenticator::Result::Ok:
        break;
      case digest::Authenticator::Result::StaleNonce:
        challenge(true);
        return;
      case digest::Authenticator::Result::BadNonce:
        challenge(false);
        return;
      default:
        sipLog().warning("REGISTER from %s for %s refused: wrong credentials", peer, aor);
        finish(403, "Forbidden");
        return;
    }

    TimeMs now = nowMs();
    std::int64_t headerExpires = sip->sip_expires ? static_cast<std::int64_t>(sip->sip_expires->ex_delta) : -1;
    bool becameReachable = false;
    std::vector<std::string> queries;
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
      if (m->m_url->url_type == url_any) {  // Contact: * with Expires: 0 removes every binding
        if (headerExpires != 0) {
          finish(400, "Wildcard Contact Needs Expires 0");
          return;
        }
        self.registrar_.removeAll(aor);
        continue;
      }
      std::string contact = urlString(m->m_url);
      std::int64_t expires = m->m_expires         ? std::atoll(m->m_expires)
                             : headerExpires >= 0 ? headerExpires
                                                  : o.defaultExpiresS;
      if (expires == 0) {
        self.registrar_.remove(aor, contact);
        logInformation(sipLog(), "%s unregistered %s", aor, contact);
        continue;
      }
      if (expires < o.minExpiresS) {
        std::string minExpires = std::to_string(o.minExpiresS);
        nua_respond(nh, 423, "Interval Too Brief", NUTAG_WITH_THIS(nua), SIPTAG_MIN_EXPIRES_STR(minExpires.c_str()),
                    TAG_END());
        nua_handle_destroy(nh);
        return;
      }
      expires = std::min(expires, o.maxExpiresS);
      std::vector<std::string> params;
      std::string instance;
      for (auto p = m->m_params; p && *p; ++p) {
        params.emplace_back(*p);
        if (std::strncmp(*p, "+sip.instance=", 14) == 0) instance = *p + 14;
      }
      Binding b;
      b.contact = contact;
      b.instance = instance;
      b.userAgent = sip->sip_user_agent ? str(sip->sip_user_agent->g_string) : "";
      b.source = peer;
      auto known = self.registrar_.find(aor, contact, now);
      b.registeredAt = known ? known->registeredAt : now;  // a refresh keeps the time the device came
      b.expiresAt = now + expires * 1000;
      b.caps = parseFeatureTags(params);
      bool ask = false;
      if (!b.caps.any()) {
        // No feature tags: keep what an earlier OPTIONS answer said while it is fresh, else ask the device.
        if (known && known->capsFromOptionsAt > 0 && now - known->capsFromOptionsAt < o.capabilityTtlMs) {
          b.caps = known->caps;
          b.capsFromOptionsAt = known->capsFromOptionsAt;
        } else {
          ask = true;
        }
      }
      becameReachable = becameReachable || b.caps.cpmMsg;
      if (ask) queries.push_back(contact);
      logInformation(sipLog(), "%s registered %s for %?ds from %s (cpm.msg %s, fthttp %s, ft %s)", aor, contact,
                     expires, peer, std::string(b.caps.cpmMsg ? "yes" : "no"),
                     std::string(b.caps.ftHttp ? "yes" : "no"), std::string(b.caps.ftMsrp ? "yes" : "no"));
      self.registrar_.update(aor, std::move(b));
    }
    std::string contacts;
    for (const auto& b : self.registrar_.bindings(aor, now)) {
      if (!contacts.empty()) contacts += ", ";
      contacts += "<" + b.contact + ">;expires=" + std::to_string((b.expiresAt - now + 999) / 1000);
    }
    if (contacts.empty()) {
      nua_respond(nh, 200, "OK", NUTAG_WITH_THIS(nua), TAG_END());
    } else {
      nua_respond(nh, 200, "OK", NUTAG_WITH_THIS(nua), SIPTAG_CONTACT_STR(contacts.c_str()), TAG_END());
    }
    nua_handle_destroy(nh);
    if (becameReachable) deliverDeferred(aor);
    for (const auto& contact : queries) queryCapabilities(aor, contact);
  }

  // SIP OPTIONS to a device that announced nothing: its answer's Contact feature tags are its capabilities.
  void queryCapabilities(const std::string& aor, const std::string& contact) {
    auto* branch = new Branch{nullptr, contact, aor};
    branches.insert(branch);
    std::string toHeader = "<" + aor + ">";
    nua_handle_t* nh = nua_handle(nua, branch, SIPTAG_TO_STR(toHeader.c_str()), TAG_END());
    nua_options(nh, NUTAG_URL(contact.c_str()), TAG_END());
    logInformation(sipLog(), "asking %s (%s) for its capabilities", contact, aor);
  }

  void onOptionsResponse(int status, nua_handle_t* nh, Branch* branch, const sip_t* sip) {
    if (!branch || status < 200) return;
    if (status < 300 && sip && sip->sip_contact) {
      std::vector<std::string> params;
      for (auto p = sip->sip_contact->m_params; p && *p; ++p) params.emplace_back(*p);
      auto caps = parseFeatureTags(params);
      bool cpm = caps.cpmMsg;
      logInformation(sipLog(), "%s (%s) answered OPTIONS: cpm.msg %s, fthttp %s, ft %s", branch->contact, branch->aor,
                     std::string(cpm ? "yes" : "no"), std::string(caps.ftHttp ? "yes" : "no"),
                     std::string(caps.ftMsrp ? "yes" : "no"));
      if (self.registrar_.setCapabilities(branch->aor, branch->contact, std::move(caps), nowMs()) && cpm)
        deliverDeferred(branch->aor);
    } else {
      logInformation(sipLog(), "%s (%s) answered OPTIONS with %d: capabilities unknown", branch->contact, branch->aor,
                     status);
    }
    branches.erase(branch);
    delete branch;
    nua_handle_destroy(nh);
  }

  // Messages waiting for this user become due now (CPM-CONV-002 defer, delivered in order: CPM-CONV-010).
  void deliverDeferred(const std::string& aor) {
    // The store writes on its own thread; the dispatcher is woken once that is committed.
    self.store_.reschedule(aor, self.name_, nowMs(), [this, aor](std::size_t n) {
      if (n == 0) return;
      logInformation(sipLog(), "%z deferred messages for %s are due now", n, aor);
      if (self.rescheduled_) self.rescheduled_();
    });
  }

  // --- inbound MESSAGE --------------------------------------------------------------------------------

  struct PendingAnswer {
    nua_handle_t* nh;
    nua_saved_event_t saved[1];
  };

  void answer(PendingAnswer* p, int status, const char* phrase, const std::string& extraHeader = {}) {
    if (extraHeader.empty()) {
      nua_respond(p->nh, status, phrase, NUTAG_WITH_SAVED(p->saved), TAG_END());
    } else {
      nua_respond(p->nh, status, phrase, NUTAG_WITH_SAVED(p->saved), SIPTAG_HEADER_STR(extraHeader.c_str()), TAG_END());
    }
    nua_destroy_event(p->saved);
    nua_handle_destroy(p->nh);
    delete p;
  }

  void onMessage(nua_handle_t* nh, const sip_t* sip) {
    auto* pending = new PendingAnswer{nh, {}};
    nua_save_event(nua, pending->saved);
    const Options& o = self.options_;
    std::string callId = sip->sip_call_id ? str(sip->sip_call_id->i_id) : "";
    std::string from = normaliseAddress(sip->sip_from ? urlString(sip->sip_from->a_url) : "");
    std::string to = normaliseAddress(sip->sip_to ? urlString(sip->sip_to->a_url) : "");
    std::string peer = sip->sip_via ? str(sip->sip_via->v_host) + ":" + str(sip->sip_via->v_port) : "?";
    auto refuse = [&](int status, const char* phrase, const std::string& why, const std::string& header = {}) {
      logInformation(sipLog(), "MESSAGE %s from %s (%s) to %s refused: %d %s", callId, from, peer, to, status, why);
      std::string warning = "Warning: 399 cpmgw \"" + why + "\"";
      answer(pending, status, phrase, header.empty() ? warning : header + "\r\n" + warning);
    };
    if (!self.accepting_) {
      refuse(503, "Service Unavailable", "shutting down", "Retry-After: 5");
      return;
    }
    if (from.empty() || to.empty()) {
      refuse(400, "Bad Request", "unusable From or To address");
      return;
    }
    std::string contentType = sip->sip_content_type ? str(sip->sip_content_type->c_type) : "";
    std::transform(contentType.begin(), contentType.end(), contentType.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::size_t size = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    if (size > o.maxMessageSize) {
      refuse(413, "Request Entity Too Large", "body larger than " + std::to_string(o.maxMessageSize) + " bytes");
      return;
    }
    if (contentType != "message/cpim" && contentType != "text/plain") {
      refuse(415, "Unsupported Media Type", "content type " + contentType, "Accept: message/cpim, text/plain");
      return;
    }
    if (o.requireKnownRecipients && std::find(o.domains.begin(), o.domains.end(), uriHost(to)) != o.domains.end() &&
        !self.users_.findByUri(to)) {
      refuse(404, "Not Found", "no such user " + to);
      return;
    }
    std::string payload = size ? std::string(sip->sip_payload->pl_data, size) : std::string{};
    Message m;
    m.from = from;
    m.to = to;
    m.ingress = self.name_;
    m.externalIds.push_back({"sip.call-id", callId});
    if (contentType == "text/plain") {
      m.contentType = "text/plain";
      m.body = std::move(payload);
    } else {
      std::string error;
      auto parsed = cpim::parse(payload, &error);
      if (!parsed) {
        refuse(400, "Bad Request", "malformed CPIM: " + error);
        return;
      }
      m.contentType = parsed->contentType;
      m.body = std::move(parsed->body);
      m.attributes["cpim.datetime"] = parsed->dateTime;
      if (!parsed->imdnMessageId.empty()) {
        m.attributes[attr::kSenderMessageId] = parsed->imdnMessageId;
        // The sender's id makes a resend after a lost 202 a duplicate, and lets reports find the message.
        m.externalIds.push_back({"imdn", from + "|" + parsed->imdnMessageId});
      }
      std::string disposition;
      for (const auto& d : parsed->dispositionNotification) disposition += (disposition.empty() ? "" : ",") + d;
      if (!disposition.empty()) m.attributes[attr::kReportRequest] = disposition;
      if (m.contentType.rfind(kContentTypeImdn, 0) == 0 && !correlateImdn(m)) {
        refuse(400, "Bad Request", "malformed IMDN");
        return;
      }
    }
    self.core_.submit(std::move(m), [this, pending, callId, from, to, peer](SubmitResult r) {
      // The store's sync thread: answer from the SIP loop.
      self.loop_.post([this, pending, r, callId, from, to, peer] {
        switch (r.status) {
          case SubmitResult::Status::Accepted:
          case SubmitResult::Status::Duplicate:
            logDebug(sipLog(), "MESSAGE %s from %s (%s) to %s stored as %s%s", callId, from, peer, to, r.id,
                     std::string(r.status == SubmitResult::Status::Duplicate ? " (duplicate)" : ""));
            answer(pending, 202, "Accepted");
            return;
          case SubmitResult::Status::Invalid:
            answer(pending, 400, "Bad Request");
            return;
          case SubmitResult::Status::NoRoute:
            answer(pending, 404, "Not Found");
            return;
          case SubmitResult::Status::Overloaded:
            answer(pending, 503, "Service Unavailable", "Retry-After: 1");
            return;
          case SubmitResult::Status::Error:
            sipLog().error("MESSAGE %s from %s to %s not stored: %s", callId, from, to, r.reason);
            answer(pending, 500, "Server Internal Error");
            return;
        }
      });
    });
  }

  // An IMDN from a CPM user: find the message it reports on and mark the report so every egress can
  // render it (an IMDN to a CPM user, a receipt to an SMPP peer). A report on an unknown message still
  // travels: its recipient may know it.
  bool correlateImdn(Message& m) {
    std::string error;
    auto n = imdn::parse(m.body, &error);
    if (!n) return false;
    m.attributes[attr::kReportStatus] = n->status;
    std::optional<std::string> original = self.store_.findByExternalId({"imdn", m.to + "|" + n->messageId});
    if (!original && n->messageId.size() == 32) {
      if (auto byId = self.store_.get(n->messageId); byId && byId->from == m.to) original = byId->id;
    }
    if (original) m.attributes[attr::kReportOf] = *original;
    return true;
  }

  // --- outbound MESSAGE -------------------------------------------------------------------------------

  void deliver(StoredMessage message, DeliveryCallback done) {
    TimeMs now = nowMs();
    // A file link goes only to devices that take FT over HTTP (CPM-CONV-XXXa); one whose devices only do
    // FT over MSRP waits for them like an offline user.
    bool fileLink = message.contentType.rfind(kContentTypeFtHttp, 0) == 0;
    std::vector<Binding> targets;
    bool cpmDevice = false;
    for (auto& b : self.registrar_.bindings(message.to, now)) {
      cpmDevice = cpmDevice || b.caps.cpmMsg;
      if (b.caps.cpmMsg && (!fileLink || b.caps.ftHttp)) targets.push_back(std::move(b));
    }
    if (targets.empty()) {
      done(DeliveryOutcome::retry(cpmDevice ? kNoFtHttpDevice : kNotRegistered, self.options_.deferredRetryMs));
      return;
    }
    cpim::Message c;
    c.from = message.from;
    c.to = message.to;
    auto sentAt = message.attributes.find("cpim.datetime");
    // The sender's own DateTime: IMDNs quote it back, so it must be the one the sender used.
    c.dateTime = sentAt != message.attributes.end() && !sentAt->second.empty()
                     ? sentAt->second
                     : formatTime(message.createdAt ? message.createdAt : now);
    auto attr = [&](const char* key) {
      auto it = message.attributes.find(key);
      return it == message.attributes.end() ? std::string{} : it->second;
    };
    bool isReport = !attr(attr::kReportOf).empty();
    c.imdnMessageId =
        isReport ? message.id : (attr(attr::kSenderMessageId).empty() ? message.id : attr(attr::kSenderMessageId));
    std::string request = attr(attr::kReportRequest);
    if (!isReport) {
      std::stringstream list(request);
      for (std::string item; std::getline(list, item, ',');)
        if (!item.empty()) c.dispositionNotification.push_back(item);
    }
    c.contentType = message.contentType.empty() ? "text/plain" : message.contentType;
    if (c.contentType == "text/plain") c.contentType = "text/plain; charset=utf-8";
    c.contentHeaders.push_back({"Content-Type", c.contentType});
    if (isReport) c.contentHeaders.push_back({"Content-Disposition", "notification"});
    c.body = message.body;
    std::string body = cpim::serialize(c);
    if (body.empty()) {  // the codec refuses what it could not write back faithfully (e.g. an unusable address)
      done(DeliveryOutcome::failed("cannot express this message in CPIM"));
      return;
    }
    // Deferred (CPM-CONV-002): it waited because the user was away, either itself or queued behind one that
    // did; a message that arrived while a device was registered is immediate, even when it is retried.
    TimeMs firstRegistered = targets.front().registeredAt;
    for (const auto& t : targets) firstRegistered = std::min(firstRegistered, t.registeredAt);
    bool deferred = message.lastError.rfind(kNotRegistered, 0) == 0 || message.createdAt < firstRegistered;
    std::string acceptContact =
        std::string("Accept-Contact: *;+g.3gpp.icsi-ref=\"") + (deferred ? kIcsiCpmDeferred : kIcsiCpmMsg) + "\"";

    auto delivery = std::make_shared<Delivery>();
    delivery->message = std::move(message);
    delivery->done = std::move(done);
    delivery->pending = static_cast<int>(targets.size());
    const StoredMessage& m = delivery->message;
    for (const auto& target : targets) {
      auto* branch = new Branch{delivery, target.contact, m.to};
      branches.insert(branch);
      Home home;
      std::string fromHeader = "<" + m.from + ">";
      std::string toHeader = "<" + m.to + ">";
      nua_handle_t* nh =
          nua_handle(nua, branch, SIPTAG_TO_STR(toHeader.c_str()), SIPTAG_FROM_STR(fromHeader.c_str()), TAG_END());
      sip_payload_t* pl = sip_payload_create(home.get(), body.data(), body.size());
      nua_message(nh, NUTAG_URL(target.contact.c_str()), SIPTAG_CONTENT_TYPE_STR("message/cpim"), SIPTAG_PAYLOAD(pl),
                  SIPTAG_HEADER_STR(acceptContact.c_str()), TAG_END());
    }
  }

  void onMessageResponse(int status, const char* phrase, nua_handle_t* nh, Branch* branch, const sip_t* sip) {
    if (!branch || !branch->delivery || status < 200) return;
    auto d = branch->delivery;
    std::string callId = sip && sip->sip_call_id ? str(sip->sip_call_id->i_id) : "";
    if (status < 300) {
      d->delivered = true;
      logDebug(sipLog(), "message %s delivered to %s at %s (%d, Call-ID %s)", d->message.id, d->message.to,
               branch->contact, status, callId);
    } else if (isRetryable(status)) {
      d->retryable = true;
      logInformation(sipLog(), "message %s to %s at %s: %d %s, will retry", d->message.id, d->message.to,
                     branch->contact, status, str(phrase));
    } else if (d->failure.empty()) {
      d->failure = std::to_string(status) + " " + str(phrase);
      logInformation(sipLog(), "message %s to %s at %s refused: %s", d->message.id, d->message.to, branch->contact,
                     d->failure);
    }
    branches.erase(branch);
    delete branch;
    nua_handle_destroy(nh);
    if (--d->pending > 0) return;
    if (d->delivered) {
      d->done(DeliveryOutcome::delivered("delivered over SIP"));
    } else if (d->retryable || d->failure.empty()) {
      d->done(DeliveryOutcome::retry("no device took it"));
    } else {
      d->done(DeliveryOutcome::failed(d->failure));
    }
  }

  // Every outstanding delivery gets its answer (stop without waiting for devices).
  void abandonAll() {
    for (Branch* b : branches) {
      auto d = b->delivery;
      if (d && d->pending > 0) {
        d->pending = 0;
        d->done(DeliveryOutcome::retry("SIP endpoint stopped"));
      }
      delete b;
    }
    branches.clear();
  }
};

void SipEndpoint::declareConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"sip", "host", Type::Host, "127.0.0.1", "Address the SIP listeners (UDP, TCP, TLS) bind to."});
  schema.add({"sip", "port", Type::Port, "5060", "UDP and TCP port (0 picks a free port)."});
  schema.add({"sip", "tls_port", Type::Port, "5061", "TLS port, used when tls_cert_file is set (0 picks a free one)."});
  schema.add({"sip", "tls_cert_file", Type::ReadableFile, "", "PEM certificate for SIP over TLS."});
  schema.add({"sip", "tls_key_file", Type::ReadableFile, "", "PEM private key of tls_cert_file."});
  schema.add({"sip", "outbound_proxy", Type::String, "",
              "SIP URI all outgoing requests go through (an S-CSCF or SIP proxy), e.g. sip:proxy.example:5060."});
  schema.add({"sip", "realm", Type::String, "cpmgw", "Digest authentication realm of the registrar."});
  schema.add({"sip", "min_expires", Type::Duration, "60s", "Shortest registration accepted (423 below).", 1000});
  schema.add({"sip", "max_expires", Type::Duration, "1h", "Longest registration granted.", 1000});
  schema.add({"sip", "default_expires", Type::Duration, "1h", "Registration time when the client names none.", 1000});
  schema.add(
      {"sip", "max_message_size", Type::Size, "64k", "Largest MESSAGE body accepted (413 beyond).", 1, 16 << 20});
  schema.add({"sip", "deferred_retry", Type::Duration, "1h",
              "A message for an unregistered user waits this long for the next attempt, unless the user registers "
              "first (then it goes at once).",
              1000});
  schema.add({"sip", "capability_ttl", Type::Duration, "1d",
              "How long capabilities a device told in an OPTIONS answer are trusted before it is asked again.", 1000});
  schema.add({"sip", "transaction_timeout", Type::Duration, "32s",
              "SIP transaction timeout (64 x T1): how long a device may take to answer a MESSAGE before it counts as "
              "a timeout (retried), and how long a MESSAGE received over UDP is kept after the answer, to absorb "
              "retransmissions. Memory grows with the receive rate x this time.",
              1000, 300'000});
  schema.add({"sip", "t4", Type::Duration, "100ms",
              "SIP T4: how long a MESSAGE the gateway sent over UDP is kept after its final response, to absorb "
              "retransmitted responses (timer K). Memory and SIP thread CPU grow with the delivery rate x this time.",
              10, 60'000});
  schema.add({"sip", "udp_buffer", Type::Size, "4M",
              "Receive and send buffer of the UDP socket: absorbs bursts while the SIP thread is busy (the kernel "
              "caps it at net.core.rmem_max / wmem_max).",
              65536, 1 << 30});
  schema.add({"sip", "network_delivery_imdn", Type::Bool, "true",
              "Send a 'delivered' IMDN to senders who asked for one when a device accepts the message."});
  schema.add({"sip", "require_known_recipients", Type::Bool, "true",
              "Refuse (404) messages to users of a local domain who are not provisioned."});
}

SipEndpoint::Options SipEndpoint::optionsFrom(const config::Config& config) {
  Options o;
  o.host = config.getString("sip.host");
  o.port = config.getPort("sip.port");
  o.tlsPort = config.getPort("sip.tls_port");
  o.tlsCertFile = config.getString("sip.tls_cert_file");
  o.tlsKeyFile = config.getString("sip.tls_key_file");
  o.outboundProxy = config.getString("sip.outbound_proxy");
  o.realm = config.getString("sip.realm");
  for (auto& d : config.getList("routing.local_domains")) o.domains.push_back(Poco::toLower(d));
  o.minExpiresS = config.getDuration("sip.min_expires").count() / 1000;
  o.maxExpiresS = config.getDuration("sip.max_expires").count() / 1000;
  o.defaultExpiresS = config.getDuration("sip.default_expires").count() / 1000;
  o.maxMessageSize = config.getSize("sip.max_message_size");
  o.deferredRetryMs = config.getDuration("sip.deferred_retry").count();
  o.networkDeliveryImdn = config.getBool("sip.network_delivery_imdn");
  o.capabilityTtlMs = config.getDuration("sip.capability_ttl").count();
  o.transactionTimeoutMs = config.getDuration("sip.transaction_timeout").count();
  o.t4Ms = config.getDuration("sip.t4").count();
  o.udpBuffer = config.getSize("sip.udp_buffer");
  o.requireKnownRecipients = config.getBool("sip.require_known_recipients");
  return o;
}

SipEndpoint::SipEndpoint(Options options, MessageCore& core, Store& store, UserDirectory& users)
    : options_(std::move(options)), core_(core), store_(store), users_(users), auth_(options_.realm) {
  impl_ = std::make_unique<Impl>(*this);
}

SipEndpoint::~SipEndpoint() {
  stop(false);
}

void SipEndpoint::start(AdapterSink&) {
  if (options_.port == 0) options_.port = pickFreePort(options_.host);
  bool tls = !options_.tlsCertFile.empty();
  if (tls) {
    if (options_.tlsPort == 0) options_.tlsPort = pickFreePort(options_.host);
    checkKeyPair(options_.tlsCertFile, options_.tlsKeyFile);
    // Sofia reads its TLS identity from a directory: agent.pem holds the key and the certificate.
    Poco::File(options_.certDir).createDirectories();
    std::ofstream agent(options_.certDir + "/agent.pem", std::ios::trunc);
    std::ifstream key(options_.tlsKeyFile), cert(options_.tlsCertFile);
    agent << key.rdbuf() << "\n" << cert.rdbuf() << "\n";
    agent.close();
    ::chmod((options_.certDir + "/agent.pem").c_str(), 0600);
  }
  std::string url = "sip:" + options_.host + ":" + std::to_string(options_.port);
  std::string sipsUrl = "sips:" + options_.host + ":" + std::to_string(options_.tlsPort);
  loop_.start([&](su_root_s* root) {
    // Without threading the nua stack shares this root's thread instead of running in a clone thread of
    // its own: every event and every request then stays on one thread, with no socket write and no
    // thread switch between the application and the stack (about half the CPU per message).
    su_root_threading(root, 0);
    impl_->nua = nua_create(
        root, &Impl::callback, impl_.get(), NUTAG_URL(url.c_str()), TAG_IF(tls, NUTAG_SIPS_URL(sipsUrl.c_str())),
        TAG_IF(tls, NUTAG_CERTIFICATE_DIR(options_.certDir.c_str())),
        TAG_IF(!options_.outboundProxy.empty(), NUTAG_PROXY(options_.outboundProxy.c_str())),
        NUTAG_APPL_METHOD("REGISTER"), NUTAG_APPL_METHOD("MESSAGE"), NUTAG_ALLOW("REGISTER"), NUTAG_ALLOW("MESSAGE"),
        NUTAG_ENABLEMESSAGE(1), NUTAG_ENABLEINVITE(0),
        NTATAG_SIP_T1X64(static_cast<unsigned>(options_.transactionTimeoutMs)),
        NTATAG_SIP_T4(static_cast<unsigned>(options_.t4Ms)), TPTAG_UDP_RMEM(static_cast<unsigned>(options_.udpBuffer)),
        TPTAG_UDP_WMEM(static_cast<unsigned>(options_.udpBuffer)), NUTAG_MEDIA_ENABLE(0),
        SIPTAG_USER_AGENT_STR(options_.userAgent.c_str()), TAG_END());
    if (!impl_->nua) throw std::runtime_error("cannot listen for SIP on " + url + (tls ? " and " + sipsUrl : ""));
  });
  listeners_ = {"udp+tcp " + options_.host + ":" + std::to_string(options_.port)};
  if (tls) listeners_.push_back("tls " + options_.host + ":" + std::to_string(options_.tlsPort));
  accepting_ = true;
  state_ = AdapterHealth::State::Up;
}

std::vector<std::string> SipEndpoint::listeners() const {
  return listeners_;
}

void SipEndpoint::submit(const StoredMessage& message, DeliveryCallback done) {
  if (!accepting_) {
    done(DeliveryOutcome::retry("SIP endpoint stopped"));
    return;
  }
  ++inFlight_;
  auto counted = [this, done = std::move(done)](DeliveryOutcome o) {
    --inFlight_;
    done(std::move(o));
  };
  loop_.post([this, message, counted = std::move(counted)]() mutable {
    impl_->deliver(std::move(message), std::move(counted));
  });
}

void SipEndpoint::stop(bool drain) {
  if (!impl_ || !impl_->nua) return;
  accepting_ = false;
  // Drain: devices get up to the transaction timeout to answer what is in flight.
  if (drain) {
    for (int i = 0; i < 320 && inFlight_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto done = impl_->shutdownDone.get_future();
  loop_.post([this] {
    impl_->abandonAll();
    nua_shutdown(impl_->nua);
  });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    sipLog().warning("SIP stack did not shut down in time");
  loop_.stop([this] {
    nua_destroy(impl_->nua);
    impl_->nua = nullptr;
  });
  impl_->nua = nullptr;
  state_ = AdapterHealth::State::Stopped;
}

AdapterHealth SipEndpoint::health() const {
  return {state_.load(), std::to_string(registrar_.users(nowMs())) + " users registered"};
}

}  // namespace cpmgw::sip
