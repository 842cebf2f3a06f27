// One handler class per REST resource. The base class does authentication and turns exceptions
// into JSON errors, so each handler only speaks for its resource.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPResponse.h>

#include <memory>
#include <string>
#include <vector>

#include "admin/admin_server.h"

namespace cpmgw::admin {

class ResourceHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ResourceHandler(std::shared_ptr<AdminContext> context, std::vector<std::string> params, bool requiresAuth = true)
      : context_(std::move(context)), params_(std::move(params)), requiresAuth_(requiresAuth) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) final;

 protected:
  // Methods this resource answers; anything else is 405 with Allow.
  virtual std::vector<std::string> allowed() const = 0;
  virtual void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) = 0;
  // Reads a JSON object body within the size limit; throws HttpError (400/413/415).
  Poco::JSON::Object::Ptr readJsonObject(Poco::Net::HTTPServerRequest& request) const;

  AdminContext& ctx() const { return *context_; }
  const std::string& param(std::size_t i) const { return params_.at(i); }

 private:
  std::shared_ptr<AdminContext> context_;
  std::vector<std::string> params_;  // path segments captured by the router ({id}, ...)
  bool requiresAuth_;
};

// Thrown by handlers for an answer other than success.
struct HttpError {
  Poco::Net::HTTPResponse::HTTPStatus status;
  std::string detail;
};

class HealthHandler final : public ResourceHandler {
 public:
  explicit HealthHandler(std::shared_ptr<AdminContext> c) : ResourceHandler(std::move(c), {}, false) {}
 protected:
  std::vector<std::string> allowed() const override { return {"GET", "HEAD"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

class StatusHandler final : public ResourceHandler {
 public:
  using ResourceHandler::ResourceHandler;
 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

class AdaptersHandler final : public ResourceHandler {
 public:
  using ResourceHandler::ResourceHandler;
 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages: GET lists (state, to, egress, limit, cursor), POST submits a message.
class MessagesHandler final : public ResourceHandler {
 public:
  using ResourceHandler::ResourceHandler;
 protected:
  std::vector<std::string> allowed() const override { return {"GET", "POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages/{id}: GET with history, DELETE.
class MessageHandler final : public ResourceHandler {
 public:
  using ResourceHandler::ResourceHandler;
 protected:
  std::vector<std::string> allowed() const override { return {"GET", "DELETE"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages/{id}/retry: POST.
class MessageRetryHandler final : public ResourceHandler {
 public:
  using ResourceHandler::ResourceHandler;
 protected:
  std::vector<std::string> allowed() const override { return {"POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// Any path no resource matches.
class NotFoundHandler final : public ResourceHandler {
 public:
  explicit NotFoundHandler(std::shared_ptr<AdminContext> c) : ResourceHandler(std::move(c), {}, true) {}
 protected:
  std::vector<std::string> allowed() const override { return {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

}  // namespace cpmgw::admin
