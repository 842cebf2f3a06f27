#include "admin/admin_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>
#include <openssl/ssl.h>

#include "admin/handlers.h"
#include "cpmgw/config.h"

namespace cpmgw {

namespace {

bool isMessageId(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Routes a request to its resource handler; it does nothing else.
class AdminRouter final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit AdminRouter(std::shared_ptr<AdminContext> context) : context_(std::move(context)) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
    using namespace admin;
    std::string decoded;
    try {
      decoded = Poco::URI(request.getURI()).getPath();
    } catch (const Poco::SyntaxException&) {  // a bad percent-escape
      return new ErrorHandler(context_, {Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, "malformed request URI"});
    }
    std::vector<std::string> seg;
    Poco::StringTokenizer parts(decoded, "/",
                                Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    seg.assign(parts.begin(), parts.end());
    if (seg.size() >= 2 && seg[0] == "v1") {
      const std::string& r = seg[1];
      if (seg.size() == 2 && r == "health") return new HealthHandler(context_);
      if (seg.size() == 2 && r == "status") return new StatusHandler(context_, {});
      if (seg.size() == 2 && r == "adapters") return new AdaptersHandler(context_, {});
      if (seg.size() == 2 && r == "messages") return new MessagesHandler(context_, {});
      if (seg.size() == 3 && r == "messages" && isMessageId(seg[2])) return new MessageHandler(context_, {seg[2]});
      if (seg.size() == 4 && r == "messages" && isMessageId(seg[2]) && seg[3] == "retry")
        return new MessageRetryHandler(context_, {seg[2]});
      if (r == "files") {
        if (auto* handler = createFilesHandler(seg, context_)) return handler;
      }
      if (r == "users" && context_->users) {
        if (seg.size() == 2) return new UsersHandler(context_, {});
        if (seg.size() == 3) return new UserHandler(context_, {seg[2]});
        if (seg.size() == 4 && seg[3] == "registrations") return new UserRegistrationsHandler(context_, {seg[2]});
      }
    }
    if (seg.size() >= 2 && seg[0] == "v1") {
      std::vector<std::string> path(seg.begin() + 1, seg.end());
      for (Adapter* adapter : context_->adapters) {
        if (auto* handler = adapter->createAdminHandler(path, context_)) return handler;
      }
    }
    return new ErrorHandler(context_, {Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "no resource at " + request.getURI()});
  }

 private:
  std::shared_ptr<AdminContext> context_;
};

}  // namespace

void AdminServer::declareConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"admin", "host", Type::Host, "127.0.0.1", "Address the REST admin API listens on."});
  schema.add({"admin", "port", Type::Port, "8080", "Port of the REST admin API (0 picks a free port)."});
  schema.add({"admin", "token_file", Type::ReadableFile, "",
              "File holding the bearer token admins must send. Required unless the API listens on a loopback "
              "address, where a random token is generated at start and written to <data_dir>/admin.token."});
  schema.add({"admin", "tls_cert_file", Type::ReadableFile, "", "PEM certificate: serve HTTPS instead of HTTP."});
  schema.add({"admin", "tls_key_file", Type::ReadableFile, "", "PEM private key of tls_cert_file."});
  schema.add({"admin", "tls_client_ca_file", Type::ReadableFile, "",
              "PEM CA bundle: when set, clients must also present a certificate it signed (mTLS)."});
  schema.add({"admin", "threads", Type::Int, "8", "Request handler threads.", 1, 256});
  schema.add(
      {"admin", "timeout", Type::Duration, "10s", "Read/write timeout of a request (slow clients are cut).", 100});
  schema.add({"admin", "max_body", Type::Size, "1M", "Largest request body accepted (413 beyond).", 1, 1 << 30});
}

AdminServer::Options AdminServer::optionsFrom(const config::Config& config) {
  Options o;
  o.host = config.getString("admin.host");
  if (o.host == "*") o.host = "0.0.0.0";
  o.port = config.getPort("admin.port");
  o.certFile = config.getString("admin.tls_cert_file");
  o.keyFile = config.getString("admin.tls_key_file");
  o.clientCaFile = config.getString("admin.tls_client_ca_file");
  o.threads = static_cast<int>(config.getInt("admin.threads"));
  o.timeoutMs = config.getDuration("admin.timeout").count();
  return o;
}

AdminServer::AdminServer(Options options, std::shared_ptr<AdminContext> context)
    : options_(std::move(options)), context_(std::move(context)) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::start() {
  Poco::Net::SocketAddress address(options_.host, options_.port);
  Poco::Net::ServerSocket socket;
  if (!options_.certFile.empty()) {
    auto verify = options_.clientCaFile.empty() ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
    Poco::Net::Context::Ptr tls = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options_.keyFile,
                                                         options_.certFile, options_.clientCaFile, verify);
    tls->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                          Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    // Client certificates are checked against the CA, not against the client's IP address.
    tls->enableExtendedCertificateVerification(false);
    if (SSL_CTX_check_private_key(tls->sslContext()) != 1) {
      throw Poco::Net::SSLContextException(options_.keyFile + " does not match " + options_.certFile);
    }
    socket = Poco::Net::SecureServerSocket(tls);
  }
  // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT: a second instance on the same port must fail.
  socket.bind(address, true, false);
  socket.listen(64);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.threads);
  params->setMaxQueued(256);
  params->setTimeout(Poco::Timespan(options_.timeoutMs * 1000));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(options_.timeoutMs * 1000));
  params->setServerName("cpmgw");
  pool_ = std::make_unique<Poco::ThreadPool>("admin", 1, options_.threads);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new AdminRouter(context_), *pool_, socket, params);
  server_->start();
}

void AdminServer::stop() {
  if (server_) {
    server_->stopAll(false);
    pool_->joinAll();
    server_.reset();
    pool_.reset();
  }
}

std::uint16_t AdminServer::port() const {
  return server_ ? server_->port() : 0;
}

std::string AdminServer::url() const {
  std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
  return (options_.certFile.empty() ? "http://" : "https://") + host + ":" + std::to_string(port());
}

}  // namespace cpmgw
