// OpenSSL handles for SMPP over TLS, owned in one place.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace cpmgw::smpp {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslCtxPtr = std::shared_ptr<SSL_CTX>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// The OpenSSL error queue as one line (and cleared), for logs.
std::string opensslErrors();

// A server context with this certificate chain and key (PEM), TLS 1.2 or newer. Throws std::runtime_error.
SslCtxPtr makeServerTlsContext(const std::string& certFile, const std::string& keyFile);
// A client context: verifies the server against caFile (or the system store when empty) unless verify is false.
// Throws std::runtime_error.
SslCtxPtr makeClientTlsContext(const std::string& caFile, bool verify);

}  // namespace cpmgw::smpp
