// One handler class per REST resource. The base class does authentication and turns exceptions
// into JSON errors, so each handler only speaks for its resource.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "admin/resource_handler.h"

namespace cpmgw::admin {

// A handler of the gateway's own resources, with access to the core.
class CoreHandler : public ResourceHandler {
 public:
  CoreHandler(std::shared_ptr<AdminContext> context, std::vector<std::string> params, bool requiresAuth = true)
      : ResourceHandler(context, std::move(params), requiresAuth), context_(std::move(context)) {}

 protected:
  AdminContext& ctx() const { return *context_; }

 private:
  std::shared_ptr<AdminContext> context_;
};

class HealthHandler final : public CoreHandler {
 public:
  explicit HealthHandler(std::shared_ptr<AdminContext> c) : CoreHandler(std::move(c), {}, false) {}

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "HEAD"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

class StatusHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

class AdaptersHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages: GET lists (state, to, egress, limit, cursor), POST submits a message.
class MessagesHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages/{id}: GET with history, DELETE.
class MessageHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "DELETE"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/messages/{id}/retry: POST.
class MessageRetryHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/users: GET lists provisioned CPM users (limit, cursor).
class UsersHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/users/{uri}: GET (with registrations), PUT (create or update credentials, enabled), DELETE.
class UserHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "PUT", "DELETE"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// /v1/users/{uri}/registrations: GET every registered device with its capabilities.
class UserRegistrationsHandler final : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

// Answers the usual methods (others 405) with one error, after the token check: a path no resource
// matches (404), a request target that is not a valid URI (400).
class ErrorHandler final : public CoreHandler {
 public:
  ErrorHandler(std::shared_ptr<AdminContext> c, HttpError error)
      : CoreHandler(std::move(c), {}, true), error_(std::move(error)) {}

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}; }
  void serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&) override { throw error_; }

 private:
  HttpError error_;
};

}  // namespace cpmgw::admin
