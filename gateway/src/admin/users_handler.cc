#include <Poco/JSON/Array.h>
#include <Poco/NumberParser.h>

#include "admin/handlers.h"
#include "admin/json_response.h"
#include "cpmgw/digest.h"
#include "cpmgw/router.h"
#include "cpmgw/text.h"
#include "sip/registrar.h"

namespace cpmgw::admin {

using Poco::Net::HTTPResponse;

namespace {

Poco::JSON::Object::Ptr userJson(const UserRecord& u) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("uri", u.uri);
  o->set("auth_name", u.authName);
  o->set("realm", u.realm);
  o->set("enabled", u.enabled);
  o->set("updated_at", isoTime(u.updatedAt));
  return o;
}

Poco::JSON::Array::Ptr registrationsJson(sip::Registrar* registrar, const std::string& uri) {
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  if (!registrar) return list;
  TimeMs now = nowMs();
  for (const auto& b : registrar->bindings(uri, now)) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    // What the device sent in its REGISTER.
    o->set("contact", printable(b.contact));
    if (!b.instance.empty()) o->set("instance", printable(b.instance));
    o->set("user_agent", printable(b.userAgent));
    o->set("source", b.source);
    o->set("registered_at", isoTime(b.registeredAt));
    o->set("expires_at", isoTime(b.expiresAt));
    o->set("expires_in_s", (b.expiresAt - now) / 1000);
    Poco::JSON::Object::Ptr caps = new Poco::JSON::Object;
    caps->set("cpm_msg", b.caps.cpmMsg);
    caps->set("largemsg", b.caps.largeMsg);
    caps->set("fthttp", b.caps.ftHttp);
    caps->set("ft", b.caps.ftMsrp);
    caps->set("ftsms", b.caps.ftSms);
    Poco::JSON::Array::Ptr icsi = new Poco::JSON::Array, iari = new Poco::JSON::Array;
    for (const auto& s : b.caps.icsi) icsi->add(printable(s));
    for (const auto& s : b.caps.iari) iari->add(printable(s));
    caps->set("icsi", icsi);
    caps->set("iari", iari);
    o->set("capabilities", caps);
    o->set("capabilities_from", b.capsFromOptionsAt > 0 ? "options" : "register");
    if (b.capsFromOptionsAt > 0) o->set("capabilities_at", isoTime(b.capsFromOptionsAt));
    list->add(o);
  }
  return list;
}

std::string userUri(const std::string& raw) {
  std::string uri = normaliseAddress(raw);
  if (uri.empty()) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "not a user address: " + raw};
  return uri;
}

}  // namespace

void UsersHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  (void)request;
  std::size_t limit = 100;
  std::string after;
  for (const auto& [key, value] : queryParameters(request.getURI())) {
    int n = 0;
    if (key == "limit" && Poco::NumberParser::tryParse(value, n) && n >= 1 && n <= 1000) {
      limit = static_cast<std::size_t>(n);
    } else if (key == "cursor") {
      after = value;
    } else {
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown or invalid query parameter " + key};
    }
  }
  auto users = ctx().users->list(limit, after);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& u : users) list->add(userJson(u));
  o->set("users", list);
  if (users.size() == limit) o->set("next_cursor", users.back().uri);
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

void UserHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  std::string uri = userUri(param(0));
  auto existing = ctx().users->findByUri(uri);
  if (request.getMethod() == "GET") {
    if (!existing) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no user " + uri};
    auto o = userJson(*existing);
    o->set("registrations", registrationsJson(ctx().registrar, uri));
    sendJson(response, HTTPResponse::HTTP_OK, o);
    return;
  }
  if (request.getMethod() == "DELETE") {
    if (!ctx().users->remove(uri)) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no user " + uri};
    if (ctx().registrar) ctx().registrar->removeAll(uri);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("uri", uri);
    o->set("deleted", true);
    sendJson(response, HTTPResponse::HTTP_OK, o);
    return;
  }
  // PUT: create or update. The password is turned into a digest HA1 at once and never kept.
  auto body = readJsonObject(request);
  for (const auto& name : body->getNames()) {
    if (name != "password" && name != "enabled" && name != "auth_name")
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown field \"" + name + "\""};
  }
  UserRecord u = existing.value_or(UserRecord{});
  u.uri = uri;
  if (body->has("auth_name")) {
    if (!body->get("auth_name").isString() || body->getValue<std::string>("auth_name").empty())
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"auth_name\" must be a non-empty string"};
    u.authName = body->getValue<std::string>("auth_name");
  }
  if (u.authName.empty()) {
    // The user part of sip:user@domain, or the number of tel:+number.
    auto colon = uri.find(':'), at = uri.find('@');
    u.authName = uri.substr(colon + 1, at == std::string::npos ? std::string::npos : at - colon - 1);
  }
  if (body->has("enabled")) {
    if (!body->get("enabled").isBoolean())
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"enabled\" must be true or false"};
    u.enabled = body->getValue<bool>("enabled");
  }
  bool authNameChanged = existing && existing->authName != u.authName;
  if (body->has("password")) {
    if (!body->get("password").isString())
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"password\" must be a string"};
    std::string password = body->getValue<std::string>("password");
    if (password.size() < 8)
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "the password must have at least 8 characters"};
    u.realm = ctx().realm;
    u.ha1 = digest::ha1(u.authName, u.realm, password);
  } else if (!existing || authNameChanged) {
    throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"password\" is required for a new user or a new auth_name"};
  }
  u.updatedAt = nowMs();
  ctx().users->put(u);
  sendJson(response, existing ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_CREATED, userJson(u));
}

void UserRegistrationsHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  std::string uri = userUri(param(0));
  if (!ctx().users->findByUri(uri)) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no user " + uri};
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("uri", uri);
  o->set("registrations", registrationsJson(ctx().registrar, uri));
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

}  // namespace cpmgw::admin
