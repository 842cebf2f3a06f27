// Small helpers shared by the admin handlers: JSON answers and errors in one shape.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cpmgw/message.h"

namespace cpmgw::admin {

void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::Dynamic::Var& body);
// {"error": <reason phrase>, "detail": detail}
void sendError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& detail);
// The query parameters of a request URI, percent-decoded. A '+' stays a '+' (RFC 3986: tel:+1555... works
// unencoded), unlike HTML form decoding. A '%' without two hexadecimal digits after it is HttpError 400.
std::vector<std::pair<std::string, std::string>> queryParameters(const std::string& uri);
// ISO 8601 UTC with milliseconds, or null for 0.
Poco::Dynamic::Var isoTime(TimeMs t);
Poco::JSON::Object::Ptr messageJson(const StoredMessage& m);

}  // namespace cpmgw::admin
