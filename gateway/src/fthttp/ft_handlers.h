// What the FT-HTTP request handlers share, and the router that picks one per request. Internal to the
// content server (ft_server.cc builds it).
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <memory>
#include <string>

#include "cpmgw/digest.h"
#include "fthttp/file_store.h"
#include "fthttp/ft_server.h"
#include "fthttp/ft_xml.h"

namespace cpmgw::fthttp {

// Immutable after start except through the thread-safe FileStore.
struct FtContext {
  FtHttpServer::Options options;
  FileStore* files = nullptr;
  UserDirectory* users = nullptr;
  std::unique_ptr<digest::Authenticator> authenticator;  // when auth is Digest
  std::string baseUrl;                                   // no trailing '/'

  std::string downloadUrl(const std::string& id, TokenPart part) const {
    return baseUrl + "/d/" + files->token(id, part);
  }
  std::string uploadUrl(const std::string& id) const { return baseUrl + "/u/" + files->token(id, TokenPart::Upload); }
  // The file-info document of a complete file.
  FtDocument document(const FileRecord& record) const;
};

Poco::Net::HTTPRequestHandlerFactory* newFtRouter(std::shared_ptr<FtContext> context);

}  // namespace cpmgw::fthttp
