// The base of every REST resource handler (core and adapters alike): bearer-token authentication,
// method check, JSON errors, bounded JSON bodies. Subclasses only speak for their resource.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cpmgw::admin {

// What every handler needs to authenticate and bound a request. Thread-safe (immutable after start).
struct AdminAuth {
  std::string token;  // bearer token required on everything but public resources
  std::uint64_t maxBody = 1 << 20;
};

// Thrown by handlers for an answer other than success.
struct HttpError {
  Poco::Net::HTTPResponse::HTTPStatus status;
  std::string detail;
};

// Paging query parameters of the list resources: limit 1..1000, cursor a sequence number >= 0 (400
// otherwise).
std::size_t pageLimit(const std::string& value);
std::int64_t pageCursor(const std::string& value);

// A request body that must be one JSON object; anything else (bad syntax, nesting deeper than the parser
// allows, a number beyond a double, another JSON value) is HttpError 400.
Poco::JSON::Object::Ptr parseJsonObject(const std::string& body);

class ResourceHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ResourceHandler(std::shared_ptr<const AdminAuth> auth, std::vector<std::string> params, bool requiresAuth = true)
      : auth_(std::move(auth)), params_(std::move(params)), requiresAuth_(requiresAuth) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) final;

 protected:
  // Methods this resource answers; anything else is 405 with Allow.
  virtual std::vector<std::string> allowed() const = 0;
  virtual void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) = 0;
  // Reads a JSON object body within the size limit; throws HttpError (400/413/415).
  Poco::JSON::Object::Ptr readJsonObject(Poco::Net::HTTPServerRequest& request) const;

  const std::string& param(std::size_t i) const { return params_.at(i); }

 private:
  std::shared_ptr<const AdminAuth> auth_;
  std::vector<std::string> params_;  // path segments captured by the router ({id}, ...)
  bool requiresAuth_;
};

}  // namespace cpmgw::admin
