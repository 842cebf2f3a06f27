// REST request bodies against arbitrary bytes: the body is one JSON object or a 400 (never another
// exception, which the admin API would answer with 500), and an object's fields applied to an SMPP account
// (the resource with the most typed fields) are accepted or a 400 that names the field.
#include <Poco/JSON/Object.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "admin/resource_handler.h"
#include "smpp/smpp_admin.h"

using cpmgw::admin::HttpError;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  Poco::JSON::Object::Ptr object;
  try {
    object = cpmgw::admin::parseJsonObject(body);
  } catch (const HttpError& e) {
    if (e.status != Poco::Net::HTTPResponse::HTTP_BAD_REQUEST || e.detail.empty()) __builtin_trap();
    return 0;
  }
  if (!object) __builtin_trap();
  for (bool creating : {true, false}) {
    cpmgw::smpp::Account account;
    try {
      cpmgw::smpp::applyAccountFields(account, object, creating, 1);
    } catch (const HttpError& e) {
      if (e.status != Poco::Net::HTTPResponse::HTTP_BAD_REQUEST || e.detail.empty()) __builtin_trap();
    }
  }
  return 0;
}
