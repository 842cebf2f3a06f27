#include "smpp/tls.h"

#include <openssl/err.h>

#include <stdexcept>

namespace cpmgw::smpp {

std::string opensslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

namespace {

SslCtxPtr newContext(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method), SslCtxFree());
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + opensslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Writes are retried from our own buffer, which may move and may be written in parts.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

}  // namespace

SslCtxPtr makeServerTlsContext(const std::string& certFile, const std::string& keyFile) {
  auto ctx = newContext(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certFile.c_str()) != 1)
    throw std::runtime_error(certFile + ": " + opensslErrors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error(keyFile + ": " + opensslErrors());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    throw std::runtime_error(keyFile + ": does not match " + certFile + ": " + opensslErrors());
  return ctx;
}

SslCtxPtr makeClientTlsContext(const std::string& caFile, bool verify) {
  auto ctx = newContext(TLS_client_method());
  if (verify) {
    int ok = caFile.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                            : SSL_CTX_load_verify_locations(ctx.get(), caFile.c_str(), nullptr);
    if (ok != 1) throw std::runtime_error((caFile.empty() ? "system CA store" : caFile) + ": " + opensslErrors());
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

}  // namespace cpmgw::smpp
