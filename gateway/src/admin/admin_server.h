// The REST admin API (/v1): Poco HTTPServer (or HTTPS), one handler class per resource, a factory that
// only routes. Handlers reach the core through thread-safe interfaces only.
#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "admin/resource_handler.h"
#include "cpmgw/adapter.h"
#include "cpmgw/message_core.h"
#include "cpmgw/store.h"

namespace cpmgw {

namespace config {
class Schema;
class Config;
}  // namespace config

class Dispatcher;
class UserDirectory;
namespace fthttp {
class FileStore;
}  // namespace fthttp
namespace sip {
class Registrar;
}  // namespace sip

// What the handlers may use. Everything here is thread-safe.
struct AdminContext : admin::AdminAuth {
  Store* store = nullptr;
  MessageCore* core = nullptr;
  const Dispatcher* dispatcher = nullptr;
  std::vector<Adapter*> adapters;
  TimeMs startedAt = 0;
  std::function<bool()> ready;  // /v1/health answers 503 until this is true
  UserDirectory* users = nullptr;
  sip::Registrar* registrar = nullptr;  // null when SIP is not running
  std::string realm;                    // digest realm user passwords are hashed for
  fthttp::FileStore* files = nullptr;   // files of FT over HTTP; null when the content server is off
};

namespace admin {
// /v1/files resources (files_handler.cc); nullptr for a path that is not one of them.
Poco::Net::HTTPRequestHandler* createFilesHandler(const std::vector<std::string>& path,
                                                  const std::shared_ptr<AdminContext>& context);
}  // namespace admin

class AdminServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string certFile, keyFile, clientCaFile;  // HTTPS when certFile is set; mTLS when clientCaFile is set
    int threads = 8;
    std::int64_t timeoutMs = 10'000;
  };

  static void declareConfig(config::Schema& schema);
  static Options optionsFrom(const config::Config& config);

  AdminServer(Options options, std::shared_ptr<AdminContext> context);
  ~AdminServer();
  void start();
  void stop();  // stops accepting and waits for running requests
  std::uint16_t port() const;
  std::string url() const;

 private:
  Options options_;
  std::shared_ptr<AdminContext> context_;
  std::unique_ptr<Poco::ThreadPool> pool_;  // outlives server_: running requests finish on it
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace cpmgw
