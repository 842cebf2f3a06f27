// REST resources of the SMPP adapter:
//   GET  /v1/adapters/smpp                  state, binds, window use, rates and counters
//   GET  /v1/smpp/accounts                  ESME accounts (passwords are never returned)
//   POST /v1/smpp/accounts                  create one
//   GET|PUT|DELETE /v1/smpp/accounts/{system_id}
#pragma once

#include "admin/resource_handler.h"
#include "smpp/smpp_accounts.h"

namespace cpmgw::smpp {

// Applies the fields present in an account's request body (all but system_id) to `account`; HttpError
// 400 names the first one that is unknown or invalid. With `creating`, password is required.
// `iterations`: of the password hash.
void applyAccountFields(Account& account, const Poco::JSON::Object::Ptr& body, bool creating, int iterations);

class SmppAdapter;

class SmppStatusHandler final : public admin::ResourceHandler {
 public:
  SmppStatusHandler(std::shared_ptr<const admin::AdminAuth> auth, SmppAdapter& adapter)
      : ResourceHandler(std::move(auth), {}), adapter_(adapter) {}

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

 private:
  SmppAdapter& adapter_;
};

class SmppAccountsHandler final : public admin::ResourceHandler {
 public:
  SmppAccountsHandler(std::shared_ptr<const admin::AdminAuth> auth, SmppAdapter& adapter)
      : ResourceHandler(std::move(auth), {}), adapter_(adapter) {}

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

 private:
  SmppAdapter& adapter_;
};

class SmppAccountHandler final : public admin::ResourceHandler {
 public:
  SmppAccountHandler(std::shared_ptr<const admin::AdminAuth> auth, std::string systemId, SmppAdapter& adapter)
      : ResourceHandler(std::move(auth), {std::move(systemId)}), adapter_(adapter) {}

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "PUT", "DELETE"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

 private:
  SmppAdapter& adapter_;
};

}  // namespace cpmgw::smpp
