#include "admin/json_response.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <sstream>

#include "admin/resource_handler.h"
#include "cpmgw/text.h"

namespace cpmgw::admin {

std::vector<std::pair<std::string, std::string>> queryParameters(const std::string& uri) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = uri.find('?');
  if (q == std::string::npos) return out;
  std::string query =
      uri.substr(q + 1, uri.find('#', q) == std::string::npos ? std::string::npos : uri.find('#', q) - q - 1);
  std::size_t start = 0;
  while (start <= query.size()) {
    auto amp = query.find('&', start);
    std::string part = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string key, value;
      try {
        Poco::URI::decode(part.substr(0, eq), key, false);
        if (eq != std::string::npos) Poco::URI::decode(part.substr(eq + 1), value, false);
      } catch (const Poco::SyntaxException&) {  // '%' not followed by two hexadecimal digits
        throw HttpError{Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, "malformed query string"};
      }
      out.emplace_back(std::move(key), std::move(value));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::Dynamic::Var& body) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(body, out);
  out << '\n';
  std::string text = out.str();
  response.setStatusAndReason(status);
  response.setContentType("application/json");
  response.set("Cache-Control", "no-store");
  response.setContentLength(static_cast<std::streamsize>(text.size()));
  response.send() << text;
}

void sendError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& detail) {
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
  body->set("error", Poco::Net::HTTPResponse::getReasonForStatus(status));
  body->set("detail", printable(detail));  // the detail may quote what a client sent
  sendJson(response, status, body);
}

Poco::Dynamic::Var isoTime(TimeMs t) {
  if (t == 0) return Poco::Dynamic::Var();
  return formatTime(t);
}

Poco::JSON::Object::Ptr messageJson(const StoredMessage& m) {
  // JSON text must be UTF-8; what peers sent (addresses, ids, errors) is shown with printable().
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", m.id);
  o->set("from", printable(m.from));
  o->set("to", printable(m.to));
  o->set("content_type", printable(m.contentType));
  o->set("body_size", static_cast<Poco::UInt64>(m.body.size()));
  // Other payloads (binary SMS, media) are given in base64.
  if (isUtf8(m.body)) {
    o->set("body", m.body);
  } else {
    std::ostringstream b64;
    Poco::Base64Encoder enc(b64);
    enc.rdbuf()->setLineLength(0);
    enc << m.body;
    enc.close();
    o->set("body_base64", b64.str());
  }
  if (!m.fileRef.empty()) o->set("file_ref", m.fileRef);
  o->set("ingress", m.ingress);
  o->set("egress", m.egress);
  o->set("decision", m.decision);
  o->set("state", std::string(toString(m.state)));
  o->set("attempts", m.attempts);
  o->set("created_at", isoTime(m.createdAt));
  o->set("updated_at", isoTime(m.updatedAt));
  o->set("next_attempt_at", m.state == MessageState::Queued ? isoTime(m.nextAttemptAt) : Poco::Dynamic::Var());
  if (!m.lastError.empty()) o->set("last_error", printable(m.lastError));
  Poco::JSON::Array::Ptr ext = new Poco::JSON::Array;
  for (const auto& e : m.externalIds) {
    Poco::JSON::Object::Ptr x = new Poco::JSON::Object;
    x->set("kind", printable(e.kind));
    x->set("value", printable(e.value));
    ext->add(x);
  }
  o->set("external_ids", ext);
  Poco::JSON::Object::Ptr attrs = new Poco::JSON::Object;
  for (const auto& [k, v] : m.attributes) attrs->set(printable(k), printable(v));
  o->set("attributes", attrs);
  return o;
}

}  // namespace cpmgw::admin
