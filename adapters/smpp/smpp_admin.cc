#include "smpp/smpp_admin.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <set>

#include "admin/json_response.h"
#include "smpp/smpp_adapter.h"

namespace cpmgw::smpp {
namespace {

using admin::HttpError;
using Poco::Net::HTTPResponse;

Poco::JSON::Object::Ptr accountJson(const Account& a) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("system_id", a.systemId);
  Poco::JSON::Array::Ptr ips = new Poco::JSON::Array;
  for (const auto& ip : a.allowedIps) ips->add(ip);
  o->set("allowed_ips", ips);
  o->set("max_binds", a.maxBinds);
  o->set("tps", a.tps);
  Poco::JSON::Array::Ptr prefixes = new Poco::JSON::Array;
  for (const auto& p : a.numberPrefixes) prefixes->add(p);
  o->set("number_prefixes", prefixes);
  o->set("enabled", a.enabled);
  o->set("created_at", admin::isoTime(a.createdAt));
  o->set("updated_at", admin::isoTime(a.updatedAt));
  return o;
}

HttpError bad(const std::string& detail) {
  return HttpError{HTTPResponse::HTTP_BAD_REQUEST, detail};
}

std::vector<std::string> stringList(const Poco::JSON::Object::Ptr& body, const std::string& key) {
  if (!body->isArray(key)) throw bad(key + " must be an array of strings");
  std::vector<std::string> out;
  auto array = body->getArray(key);
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto v = array->get(i);
    if (!v.isString()) throw bad(key + " must be an array of strings");
    out.push_back(v.convert<std::string>());
  }
  return out;
}

int integer(const Poco::JSON::Object::Ptr& body, const std::string& key, int min, int max) {
  auto v = body->get(key);
  if (v.isBoolean() || !v.isInteger()) throw bad(key + " must be an integer");  // Poco counts true as one
  const std::string range = key + " must be " + std::to_string(min) + ".." + std::to_string(max);
  // Poco's parser keeps an integer as unsigned only beyond the signed 64-bit range (and wraps those just
  // beyond 2^64 to small values): out of range either way.
  if (!v.isSigned()) throw bad(range);
  auto n = v.convert<Poco::Int64>();
  if (n < min || n > max) throw bad(range);
  return static_cast<int>(n);
}

std::string text(const Poco::JSON::Object::Ptr& body, const std::string& key) {
  auto v = body->get(key);
  if (!v.isString()) throw bad(key + " must be a string");
  return v.convert<std::string>();
}

}  // namespace

void applyAccountFields(Account& a, const Poco::JSON::Object::Ptr& body, bool creating, int iterations) {
  static const std::set<std::string> kKnown = {"system_id",       "password", "allowed_ips", "max_binds",
                                               "number_prefixes", "tps",      "enabled"};
  for (const auto& name : body->getNames())
    if (!kKnown.count(name)) throw bad("unknown field '" + name + "'");
  if (body->has("allowed_ips")) {
    auto ips = stringList(body, "allowed_ips");
    for (const auto& ip : ips)
      if (!validAllowEntry(ip)) throw bad("allowed_ips: '" + ip + "' is not an IP address or CIDR block");
    a.allowedIps = ips;
  }
  if (body->has("max_binds")) a.maxBinds = integer(body, "max_binds", 1, 1000);
  if (body->has("tps")) a.tps = integer(body, "tps", 0, 1000000);
  if (body->has("number_prefixes")) {
    std::vector<std::string> prefixes;
    for (const auto& p : stringList(body, "number_prefixes")) {
      if (auto why = checkNumberPrefix(p); !why.empty()) throw bad("number_prefixes: '" + p + "': " + why);
      prefixes.push_back(normaliseNumberPrefix(p));
    }
    a.numberPrefixes = prefixes;
  }
  if (body->has("enabled")) {
    auto v = body->get("enabled");
    if (!v.isBoolean()) throw bad("enabled must be true or false");
    a.enabled = v.convert<bool>();
  }
  if (body->has("password")) {
    std::string pw = text(body, "password");
    if (auto why = checkPassword(pw); !why.empty()) throw bad(why);
    setPassword(a, pw, iterations);
  } else if (creating) {
    throw bad("password is required");
  }
}

void SmppStatusHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  admin::sendJson(response, HTTPResponse::HTTP_OK, adapter_.status());
}

void SmppAccountsHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  if (request.getMethod() == "GET") {
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (const auto& a : adapter_.accounts().all()) list->add(accountJson(a));
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("accounts", list);
    admin::sendJson(response, HTTPResponse::HTTP_OK, o);
    return;
  }
  auto body = readJsonObject(request);
  if (!body->has("system_id")) throw bad("system_id is required");
  Account a;
  a.systemId = text(body, "system_id");
  if (auto why = checkSystemId(a.systemId); !why.empty()) throw bad(why);
  applyAccountFields(a, body, true, adapter_.passwordIterations());
  a.createdAt = a.updatedAt = nowMs();
  {
    std::lock_guard lock(adapter_.accountWrites());
    if (adapter_.accounts().find(a.systemId))
      throw HttpError{HTTPResponse::HTTP_CONFLICT, "account " + a.systemId + " exists"};
    adapter_.store().putAccount(a);
    adapter_.accounts().put(a);
  }
  Poco::Logger::get("cpmgw.smpp")
      .notice("SMPP account %s created from %s", a.systemId, request.clientAddress().toString());
  response.set("Location", "/v1/smpp/accounts/" + a.systemId);
  admin::sendJson(response, HTTPResponse::HTTP_CREATED, accountJson(a));
}

void SmppAccountHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  const std::string& id = param(0);
  const std::string& method = request.getMethod();
  if (method == "GET") {
    auto a = adapter_.accounts().find(id);
    if (!a) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no account " + id};
    admin::sendJson(response, HTTPResponse::HTTP_OK, accountJson(*a));
    return;
  }
  if (method == "DELETE") {
    {
      std::lock_guard lock(adapter_.accountWrites());
      if (!adapter_.accounts().find(id)) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no account " + id};
      adapter_.store().deleteAccount(id);
      adapter_.accounts().erase(id);
    }
    adapter_.accountChanged(id);
    Poco::Logger::get("cpmgw.smpp").notice("SMPP account %s deleted from %s", id, request.clientAddress().toString());
    response.setStatusAndReason(HTTPResponse::HTTP_NO_CONTENT);
    response.setContentLength(0);
    response.send();
    return;
  }
  auto body = readJsonObject(request);
  if (body->has("system_id") && text(body, "system_id") != id) throw bad("system_id cannot be changed");
  Account a;
  {
    std::lock_guard lock(adapter_.accountWrites());
    auto current = adapter_.accounts().find(id);
    if (!current) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no account " + id};
    a = *current;
    applyAccountFields(a, body, false, adapter_.passwordIterations());
    a.updatedAt = nowMs();
    adapter_.store().putAccount(a);
    adapter_.accounts().put(a);
  }
  adapter_.accountChanged(id);
  Poco::Logger::get("cpmgw.smpp").notice("SMPP account %s updated from %s", id, request.clientAddress().toString());
  admin::sendJson(response, HTTPResponse::HTTP_OK, accountJson(a));
}

}  // namespace cpmgw::smpp
