#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/NumberParser.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <openssl/crypto.h>

#include <istream>
#include <limits>

#include "admin/resource_handler.h"

#include <algorithm>
#include "admin/json_response.h"
#include "cpmgw/log.h"

namespace cpmgw::admin {

std::size_t pageLimit(const std::string& value) {
  int limit = 0;
  if (!Poco::NumberParser::tryParse(value, limit) || limit < 1 || limit > 1000)
    throw HttpError{Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, "limit must be 1..1000"};
  return static_cast<std::size_t>(limit);
}

std::int64_t pageCursor(const std::string& value) {
  Poco::Int64 after = 0;
  if (!Poco::NumberParser::tryParse64(value, after) || after < 0)
    throw HttpError{Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, "invalid cursor"};
  return after;
}

using Poco::Net::HTTPResponse;

Poco::JSON::Object::Ptr parseJsonObject(const std::string& body) {
  // Refused before parsing: Poco's parser takes an array, and refuses any other value at the top with a
  // message about its own stack.
  if (auto first = body.find_first_not_of(" \t\r\n"); first != std::string::npos && body[first] != '{')
    throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "the body must be a JSON object"};
  try {
    Poco::JSON::Parser parser;
    if (auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>()) return object;
  } catch (const Poco::Exception& e) {
    // Not only JSONException: a number beyond the range of a double, or an integer beyond 64 bits, is a
    // SyntaxException. (Poco wraps integers just beyond 2^64 instead: fields that take an integer check
    // its range.)
    throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "invalid JSON: " + e.message()};
  }
  throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "invalid JSON"};
}

namespace {

bool tokenMatches(const std::string& expected, const std::string& header) {
  static const std::string kScheme = "Bearer ";
  if (expected.empty() || header.size() <= kScheme.size()) return false;
  if (Poco::icompare(header.substr(0, kScheme.size()), kScheme) != 0) return false;
  std::string given = Poco::trim(header.substr(kScheme.size()));
  // Constant time over the expected length, so the comparison does not tell how much of a guess was right.
  if (given.size() != expected.size()) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

void ResourceHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  auto& log = Poco::Logger::get("cpmgw.admin");
  const std::string peer = request.clientAddress().toString();
  try {
    if (requiresAuth_ && !tokenMatches(auth_->token, request.get("Authorization", ""))) {
      log.warning("admin request %s %s from %s refused: missing or wrong bearer token", request.getMethod(),
                  request.getURI(), peer);
      response.set("WWW-Authenticate", "Bearer realm=\"cpmgw\"");
      sendError(response, HTTPResponse::HTTP_UNAUTHORIZED, "a valid bearer token is required");
      return;
    }
    auto methods = allowed();
    if (std::find(methods.begin(), methods.end(), request.getMethod()) == methods.end()) {
      response.set("Allow", Poco::cat(std::string(", "), methods.begin(), methods.end()));
      sendError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                request.getMethod() + " is not allowed on " + request.getURI());
      return;
    }
    serve(request, response);
    logDebug(log, "admin %s %s from %s: %d", request.getMethod(), request.getURI(), peer,
             static_cast<int>(response.getStatus()));
  } catch (const HttpError& e) {
    logInformation(log, "admin %s %s from %s: %d %s", request.getMethod(), request.getURI(), peer,
                   static_cast<int>(e.status), e.detail);
    // The body may be partly unread: the connection cannot carry another request.
    if (request.getMethod() != "GET" && request.getMethod() != "HEAD") response.setKeepAlive(false);
    if (!response.sent()) sendError(response, e.status, e.detail);
  } catch (const Poco::Net::NetException& e) {
    logInformation(log, "admin %s %s from %s: connection error: %s", request.getMethod(), request.getURI(), peer,
                   e.displayText());
  } catch (const std::exception& e) {
    log.error("admin %s %s from %s failed: %s", request.getMethod(), request.getURI(), peer, std::string(e.what()));
    if (!response.sent()) sendError(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal error");
  }
}

Poco::JSON::Object::Ptr ResourceHandler::readJsonObject(Poco::Net::HTTPServerRequest& request) const {
  std::string type = request.getContentType();
  auto semi = type.find(';');
  if (Poco::icompare(Poco::trim(type.substr(0, semi)), "application/json") != 0) {
    throw HttpError{HTTPResponse::HTTP_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json"};
  }
  // The size limit is checked before reading when the length is declared, and while reading otherwise.
  if (request.hasContentLength() && static_cast<std::uint64_t>(request.getContentLength64()) > auth_->maxBody) {
    // A modest excess is read and dropped so the client sees the 413 rather than a connection reset;
    // anything larger is not read at all and the connection closes after the answer.
    constexpr std::uint64_t kDiscardLimit = 1 << 20;
    if (static_cast<std::uint64_t>(request.getContentLength64()) <= kDiscardLimit) {
      request.stream().ignore(std::numeric_limits<std::streamsize>::max());
    }
    throw HttpError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                    "body larger than " + std::to_string(auth_->maxBody) + " bytes"};
  }
  std::string body;
  std::istream& in = request.stream();
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    body.append(buf, static_cast<std::size_t>(in.gcount()));
    if (body.size() > auth_->maxBody) {
      throw HttpError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                      "body larger than " + std::to_string(auth_->maxBody) + " bytes"};
    }
  }
  return parseJsonObject(body);
}

}  // namespace cpmgw::admin
