// Text that crosses a trust boundary in file transfer: file names and media types from uploaders, and
// their renderings in HTTP headers, HTML and SMS. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cpmgw::fthttp {

// A file name as an uploader gave it, made safe to keep and show: the last path component only (clients
// used to send "C:\dir\x.jpg"), valid UTF-8 (invalid bytes become '_'), no control characters, no leading
// or trailing blanks or dots, at most kMaxFileNameBytes bytes. Never empty: "file" stands in. The result
// is never used as a path: files are stored under random ids.
inline constexpr std::size_t kMaxFileNameBytes = 255;
std::string sanitiseFileName(std::string_view raw);

// A media type "type/subtype" (parameters dropped) in lower case when it is well formed, otherwise
// application/octet-stream. Downloads are served with the normalised type only.
std::string normaliseMediaType(std::string_view raw);

// Content-Disposition value (RFC 6266): `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<pct>`.
std::string contentDisposition(std::string_view fileName);

// Escapes & < > " ' for HTML text and attribute values.
std::string htmlEscape(std::string_view text);

// 1536 -> "1.5 KB", 1048576 -> "1.0 MB" (powers of 1024, one decimal; bytes below 1 KiB as "N B").
std::string humanSize(std::uint64_t bytes);

// Base64url without padding (RFC 4648 section 5).
std::string base64Url(std::string_view bytes);

// Lower-case hex of bytes.
std::string hexOf(std::string_view bytes);

}  // namespace cpmgw::fthttp
