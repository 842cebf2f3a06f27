// The XML bodies of GSMA RCS file transfer over HTTP: the file-info document (the upload answer, and the
// body of the MESSAGE that offers the file, application/vnd.gsma.rcs-ft-http+xml) and file-resume-info
// (where an interrupted upload stands). The decoders take hostile input: no DTD, no entities beyond the
// predefined ones, bounded sizes, counts and depth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cpmgw/message.h"

namespace cpmgw::fthttp {

inline constexpr const char* kFtHttpContentType = "application/vnd.gsma.rcs-ft-http+xml";
inline constexpr const char* kFtHttpNamespace = "urn:gsma:params:xml:ns:rcs:rcs:fthttp";

// Bounds of what the decoders accept.
inline constexpr std::size_t kMaxXmlDocument = 64 * 1024;
inline constexpr std::size_t kMaxXmlField = 8 * 1024;  // one attribute value or element text
inline constexpr std::size_t kMaxXmlElements = 64;
inline constexpr std::size_t kMaxXmlDepth = 8;

struct FileInfo {
  std::uint64_t size = 0;
  std::string name;  // the file's name (type="file" only)
  std::string contentType;
  std::string url;          // where it is fetched
  TimeMs until = 0;         // when the link expires
  std::string disposition;  // file-disposition of the file: "render", "attachment" or empty
  bool operator==(const FileInfo&) const = default;
};

struct FtDocument {
  FileInfo file;
  std::optional<FileInfo> thumbnail;
  bool operator==(const FtDocument&) const = default;
};

struct ResumeInfo {
  std::uint64_t start = 0;  // the byte range already stored, inclusive
  std::uint64_t end = 0;
  std::string url;  // where the rest is sent (PUT)
  bool operator==(const ResumeInfo&) const = default;
};

std::string encodeFtDocument(const FtDocument& doc);
std::string encodeResumeInfo(const ResumeInfo& info);

// nullopt, with the reason in `error`, for anything that is not a well-formed document of its kind within
// the bounds above: any DOCTYPE, a missing or repeated required field, a size that is not a number.
std::optional<FtDocument> decodeFtDocument(std::string_view xml, std::string* error = nullptr);
std::optional<ResumeInfo> decodeResumeInfo(std::string_view xml, std::string* error = nullptr);

// ISO 8601 UTC with milliseconds, "2011-08-06T19:29:19.000Z", as the until attribute carries it.
std::string formatUntil(TimeMs t);
std::optional<TimeMs> parseUntil(std::string_view text);

}  // namespace cpmgw::fthttp
