// The FT-over-HTTP content server (GSMA RCS file transfer over HTTP): uploads (with resume), downloads
// (with ranges), thumbnails, a link page for plain browsers, and the expiry sweeper. Poco HTTPServer /
// HTTPS for connections, headers and routing on its own thread pool; file bodies go between the socket
// and the disk in our own loops (sendfile(2) for plain HTTP), since Poco's streams are the bottleneck.
#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fthttp/file_store.h"

namespace cpmgw {

class UserDirectory;

namespace config {
class Schema;
class Config;
}  // namespace config

namespace fthttp {

struct FtContext;

class FtHttpServer {
 public:
  enum class Auth { None, Digest };

  struct Options {
    std::string dataDir;
    std::string host = "127.0.0.1";
    bool plainHttp = true;
    std::uint16_t port = 8090;     // plain HTTP
    std::uint16_t tlsPort = 8453;  // HTTPS, when certFile is set
    std::string certFile, keyFile;
    std::string publicBaseUrl;  // prefix of every link; empty: derived from the first listener
    std::uint64_t maxFileSize = 100ull << 20;
    std::uint64_t maxThumbnailSize = 256 << 10;
    std::uint64_t userQuota = 2ull << 30;     // 0: none
    std::uint64_t lowWaterMark = 1ull << 30;  // free disk kept
    std::int64_t linkValidityMs = 7 * 86'400'000LL;
    std::int64_t graceMs = 86'400'000;
    std::int64_t sweepIntervalMs = 60'000;
    std::int64_t headerTimeoutMs = 10'000;
    std::int64_t idleTimeoutMs = 15'000;
    std::int64_t ioTimeoutMs = 60'000;
    int threads = 128;
    Auth auth = Auth::None;
    std::string realm;  // digest realm (the SIP realm: CPM users use their SIP credentials)
  };

  static void declareConfig(config::Schema& schema);
  // Semantic checks across keys (throws config::ConfigError naming the key).
  static void checkConfig(const config::Config& config);
  static Options optionsFrom(const config::Config& config, const std::string& dataDir);

  // Opens the file store (throws FileStoreError); `users` is needed when auth is Digest.
  FtHttpServer(Options options, UserDirectory* users);
  ~FtHttpServer();
  FtHttpServer(const FtHttpServer&) = delete;
  FtHttpServer& operator=(const FtHttpServer&) = delete;

  // Binds the listeners and starts serving and sweeping. Throws Poco::Exception when a listener cannot bind.
  void start();
  // Stops accepting, lets transfers in progress finish until `grace` has passed, then cuts the rest
  // (interrupted uploads stay resumable) and stops the sweeper.
  void stop(std::chrono::milliseconds grace);

  std::vector<std::string> urls() const;  // of the listeners, e.g. http://127.0.0.1:8090
  const std::string& publicBaseUrl() const;
  FileStore& files() { return *files_; }

 private:
  void sweepLoop();

  Options options_;
  std::unique_ptr<FileStore> files_;
  std::shared_ptr<FtContext> context_;
  std::unique_ptr<Poco::ThreadPool> pool_;  // outlives the servers: running requests finish on it
  std::unique_ptr<Poco::Net::HTTPServer> http_, https_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace fthttp
}  // namespace cpmgw
