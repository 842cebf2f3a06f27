#include "fthttp/ft_interwork.h"

#include "fthttp/file_store.h"
#include "fthttp/ft_text.h"

namespace cpmgw::fthttp {

namespace {

constexpr std::size_t kMaxNameInSms = 40;  // bytes; keeps a typical offer within one 160-character SMS

bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The token at the end of ".../d/<token>", or empty.
std::string_view ourToken(std::string_view url, std::string_view& prefix) {
  auto d = url.rfind("/d/");
  if (d == std::string_view::npos || d + 3 >= url.size()) return {};
  std::string_view token = url.substr(d + 3);
  for (char c : token)
    if (!isTokenChar(c)) return {};
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos || scheme > d) return {};
  prefix = url.substr(0, d);
  return token;
}

std::string cutUtf8(const std::string& s, std::size_t maxBytes) {
  if (s.size() <= maxBytes) return s;
  std::size_t n = maxBytes - 3;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

}  // namespace

bool isFtHttpMessage(const Message& message) {
  std::string type = message.contentType.substr(0, message.contentType.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == kFtHttpContentType;
}

std::string shortLinkFor(const std::string& dataUrl) {
  std::string_view prefix;
  std::string_view token = ourToken(dataUrl, prefix);
  if (token.empty()) return dataUrl;
  return std::string(prefix) + "/l/" + std::string(token);
}

std::string smsText(const std::string& from, const FileInfo& file, const std::string& link) {
  std::string sender = from;
  for (const char* scheme : {"sips:", "sip:", "tel:"}) {
    if (sender.rfind(scheme, 0) == 0) {
      sender.erase(0, std::string_view(scheme).size());
      break;
    }
  }
  std::string name = cutUtf8(sanitiseFileName(file.name), kMaxNameInSms);
  return sender + " sent you a file: " + name + " (" + humanSize(file.size) + ") " + link;
}

std::optional<Message> toSmsLink(const StoredMessage& message) {
  if (!isFtHttpMessage(message)) return std::nullopt;
  auto doc = decodeFtDocument(message.body);
  if (!doc) return std::nullopt;
  Message out = message;
  std::string link = shortLinkFor(doc->file.url);
  out.contentType = "text/plain";
  out.body = smsText(message.from, doc->file, link);
  out.attributes["ft.data_url"] = doc->file.url;
  out.attributes["ft.link"] = link;
  out.attributes["ft.file_name"] = doc->file.name;
  out.attributes["ft.file_size"] = std::to_string(doc->file.size);
  out.attributes["ft.until"] = formatUntil(doc->file.until);
  return out;
}

bool recordTransferResponse(FileStore& files, const std::string& ftXml, bool accepted, const std::string& by) {
  auto doc = decodeFtDocument(ftXml);
  if (!doc) return false;
  std::string_view prefix;
  std::string_view token = ourToken(doc->file.url, prefix);
  if (token.empty()) return false;
  auto match = files.findByToken(std::string(token));
  if (!match || match->part != TokenPart::File) return false;
  return files.recordResponse(match->record.id, accepted, by);
}

}  // namespace cpmgw::fthttp
