#include "fthttp/ft_server.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>

#include "cpmgw/config.h"
#include "cpmgw/log.h"
#include "cpmgw/users.h"
#include "fthttp/ft_handlers.h"

namespace cpmgw::fthttp {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpmgw.fthttp");
}

std::string hostForUrl(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// A wildcard address cannot be put in a link: the machine's name stands in until public_base_url is set.
std::string reachableHost(const std::string& host) {
  Poco::Net::IPAddress ip;
  if (Poco::Net::IPAddress::tryParse(host, ip) && ip.isWildcard()) {
    try {
      return Poco::Net::DNS::hostName();
    } catch (const Poco::Exception&) {
      return "localhost";
    }
  }
  return host;
}

}  // namespace

void FtHttpServer::declareConfig(config::Schema& schema) {
  using config::Type;
  const char* s = "fthttp";
  schema.add({s, "enabled", Type::Bool, "false",
              "Run the FT-over-HTTP content server (GSMA RCS file transfer over HTTP: upload, resume, download, "
              "thumbnails, link pages for SMS recipients)."});
  schema.add({s, "host", Type::Host, "127.0.0.1", "Address the content server listens on."});
  schema.add({s, "plain_http", Type::Bool, "true",
              "Serve plain HTTP on `port`. Set to false to serve HTTPS (tls_port) only."});
  schema.add({s, "port", Type::Port, "8090", "Port of the plain HTTP listener (0 picks a free port)."});
  schema.add({s, "tls_port", Type::Port, "8453",
              "Port of the HTTPS listener, served when tls_cert_file is set (0 picks a free port)."});
  schema.add({s, "tls_cert_file", Type::ReadableFile, "", "PEM certificate (chain) of the HTTPS listener."});
  schema.add({s, "tls_key_file", Type::ReadableFile, "", "PEM private key of tls_cert_file."});
  schema.add({s, "public_base_url", Type::String, "",
              "Prefix of every link handed out (data urls, upload urls, SMS links), e.g. https://ft.example.net. "
              "Empty: derived from the first listener (HTTPS preferred), which suits tests only."});
  schema.add({s, "max_file_size", Type::Size, "100M",
              "Largest file accepted (CPM-CONV-052). Checked from Content-Length and part headers before the "
              "body is read (413), and while the body streams when no length is given.",
              1});
  schema.add({s, "max_thumbnail_size", Type::Size, "256k", "Largest thumbnail accepted (413 beyond).", 1});
  schema.add({s, "user_quota", Type::Size, "2G",
              "Storage one uploader may hold at once, files and thumbnails together (413 beyond); 0: no quota.", 0});
  schema.add({s, "low_water_mark", Type::Size, "1G",
              "Free disk space kept: an upload that would go below it is refused with 507 and leaves nothing "
              "behind.",
              0});
  schema.add({s, "link_validity", Type::Duration, "7d",
              "How long links work after the upload (the until of the file-info). Later: 410 Gone.", 500});
  schema.add({s, "grace", Type::Duration, "1d",
              "How long file and metadata stay after links expire before the sweeper removes them (expired "
              "links answer 410 instead of 404 meanwhile; interrupted uploads can be resumed until then).",
              0});
  schema.add({s, "sweep_interval", Type::Duration, "1m", "How often expired files are looked for.", 100});
  schema.add({s, "header_timeout", Type::Duration, "10s",
              "Longest wait for the next byte of a request head (slow clients are cut).", 100});
  schema.add({s, "idle_timeout", Type::Duration, "15s", "How long an idle keep-alive connection stays open.", 100});
  schema.add({s, "io_timeout", Type::Duration, "60s",
              "Longest pause of an upload or download body before the transfer is cut (uploads stay resumable).", 100});
  schema.add({s, "threads", Type::Int, "128",
              "Connections served at once (one thread each, ~100 KiB of memory when transferring); more wait.", 2,
              4096});
  schema.add({s, "auth", Type::String, "none",
              "none, or digest: uploads need the uploader's SIP credentials (HTTP digest in the [sip] realm). "
              "Downloads are authorised by the unguessable link itself."});
}

void FtHttpServer::checkConfig(const config::Config& config) {
  if (!config.getBool("fthttp.enabled")) return;
  const std::string& file = config.sourcePath();
  auto fail = [&](const std::string& where, const std::string& what) {
    throw config::ConfigError(file + ": " + where + ": " + what);
  };
  auto auth = config.getString("fthttp.auth");
  if (auth != "none" && auth != "digest") fail("[fthttp] auth", "must be none or digest, not '" + auth + "'");
  bool cert = !config.getString("fthttp.tls_cert_file").empty();
  bool key = !config.getString("fthttp.tls_key_file").empty();
  if (cert != key) fail(cert ? "[fthttp] tls_key_file" : "[fthttp] tls_cert_file", "required with the other TLS file");
  if (!cert && !config.getBool("fthttp.plain_http"))
    fail("[fthttp] plain_http", "false needs tls_cert_file and tls_key_file (no listener would be left)");
  auto base = config.getString("fthttp.public_base_url");
  if (!base.empty() && base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0)
    fail("[fthttp] public_base_url", "must start with http:// or https://");
  if (config.getSize("fthttp.max_thumbnail_size") > config.getSize("fthttp.max_file_size"))
    fail("[fthttp] max_thumbnail_size", "larger than max_file_size");
}

FtHttpServer::Options FtHttpServer::optionsFrom(const config::Config& config, const std::string& dataDir) {
  Options o;
  o.dataDir = dataDir;
  o.host = config.getString("fthttp.host");
  o.plainHttp = config.getBool("fthttp.plain_http");
  o.port = config.getPort("fthttp.port");
  o.tlsPort = config.getPort("fthttp.tls_port");
  o.certFile = config.getString("fthttp.tls_cert_file");
  o.keyFile = config.getString("fthttp.tls_key_file");
  o.publicBaseUrl = config.getString("fthttp.public_base_url");
  while (!o.publicBaseUrl.empty() && o.publicBaseUrl.back() == '/') o.publicBaseUrl.pop_back();
  o.maxFileSize = config.getSize("fthttp.max_file_size");
  o.maxThumbnailSize = config.getSize("fthttp.max_thumbnail_size");
  o.userQuota = config.getSize("fthttp.user_quota");
  o.lowWaterMark = config.getSize("fthttp.low_water_mark");
  o.linkValidityMs = config.getDuration("fthttp.link_validity").count();
  o.graceMs = config.getDuration("fthttp.grace").count();
  o.sweepIntervalMs = config.getDuration("fthttp.sweep_interval").count();
  o.headerTimeoutMs = config.getDuration("fthttp.header_timeout").count();
  o.idleTimeoutMs = config.getDuration("fthttp.idle_timeout").count();
  o.ioTimeoutMs = config.getDuration("fthttp.io_timeout").count();
  o.threads = static_cast<int>(config.getInt("fthttp.threads"));
  o.auth = config.getString("fthttp.auth") == "digest" ? Auth::Digest : Auth::None;
  return o;
}

FtHttpServer::FtHttpServer(Options options, UserDirectory* users) : options_(std::move(options)) {
  if (options_.auth == Auth::Digest && (!users || options_.realm.empty()))
    throw std::invalid_argument("FT-HTTP digest authentication needs the user directory and a realm");
  files_ = FileStore::open({options_.dataDir, options_.userQuota, options_.lowWaterMark});
  context_ = std::make_shared<FtContext>();
  context_->options = options_;
  context_->files = files_.get();
  context_->users = users;
  if (options_.auth == Auth::Digest) context_->authenticator = std::make_unique<digest::Authenticator>(options_.realm);
}

FtHttpServer::~FtHttpServer() {
  stop(std::chrono::milliseconds(0));
}

void FtHttpServer::start() {
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(options_.threads * 2);
  params->setTimeout(Poco::Timespan(options_.headerTimeoutMs * 1000));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(options_.idleTimeoutMs * 1000));
  params->setServerName("cpmgw");
  pool_ = std::make_unique<Poco::ThreadPool>("fthttp", 2, options_.threads);

  auto listen = [this](Poco::Net::ServerSocket socket, std::uint16_t port) {
    // SO_REUSEADDR for quick restarts, never SO_REUSEPORT: a second instance on the same port must fail.
    socket.bind(Poco::Net::SocketAddress(options_.host, port), true, false);
    socket.listen(256);
    return socket;
  };
  Poco::Net::ServerSocket plain, secure;
  if (options_.plainHttp) plain = listen(Poco::Net::ServerSocket(), options_.port);
  if (!options_.certFile.empty()) {
    Poco::Net::Context::Ptr tls = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options_.keyFile,
                                                         options_.certFile, "", Poco::Net::Context::VERIFY_NONE);
    tls->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                          Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    tls->enableExtendedCertificateVerification(false);
    secure = listen(Poco::Net::SecureServerSocket(tls), options_.tlsPort);
  }
  auto base = [this](bool tls, std::uint16_t port) {
    return std::string(tls ? "https://" : "http://") + hostForUrl(reachableHost(options_.host)) + ":" +
           std::to_string(port);
  };
  context_->baseUrl = !options_.publicBaseUrl.empty() ? options_.publicBaseUrl
                      : !options_.certFile.empty()    ? base(true, secure.address().port())
                                                      : base(false, plain.address().port());
  files_->setLinkBase(context_->baseUrl);
  // One factory per server: stopping one server notifies only its own connections.
  if (options_.plainHttp) {
    http_ = std::make_unique<Poco::Net::HTTPServer>(newFtRouter(context_), *pool_, plain, params);
    http_->start();
  }
  if (!options_.certFile.empty()) {
    https_ = std::make_unique<Poco::Net::HTTPServer>(newFtRouter(context_), *pool_, secure, params);
    https_->start();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  sweeper_ = std::thread([this] { sweepLoop(); });
}

void FtHttpServer::stop(std::chrono::milliseconds grace) {
  if (!http_ && !https_ && !sweeper_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  // Stop accepting, give transfers in progress until the deadline, then cut them.
  for (auto* server : {http_.get(), https_.get()}) {
    if (server) server->stop();
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  auto busy = [this] {
    return (http_ && http_->currentConnections() > 0) || (https_ && https_->currentConnections() > 0);
  };
  while (busy() && std::chrono::steady_clock::now() < deadline) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  if (busy()) logger().notice("FT-HTTP: cutting transfers still running at shutdown (uploads stay resumable)");
  for (auto* server : {http_.get(), https_.get()}) {
    if (server) server->stopAll(true);
  }
  if (pool_) pool_->joinAll();
  http_.reset();
  https_.reset();
  pool_.reset();
}

std::vector<std::string> FtHttpServer::urls() const {
  std::vector<std::string> out;
  std::string host = hostForUrl(options_.host);
  if (http_) out.push_back("http://" + host + ":" + std::to_string(http_->port()));
  if (https_) out.push_back("https://" + host + ":" + std::to_string(https_->port()));
  return out;
}

const std::string& FtHttpServer::publicBaseUrl() const {
  return context_->baseUrl;
}

void FtHttpServer::sweepLoop() {
  for (;;) {
    try {
      if (auto n = files_->sweep(nowMs())) logInformation(logger(), "FT-HTTP: %z expired files removed", n);
    } catch (const std::exception& e) {
      logger().error("FT-HTTP: sweeping expired files failed: %s", std::string(e.what()));
    }
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(options_.sweepIntervalMs), [this] { return stopping_; })) return;
  }
}

}  // namespace cpmgw::fthttp
