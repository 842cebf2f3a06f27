// A streaming multipart/form-data parser (RFC 7578 over RFC 2046): bytes go in as they arrive, part
// bodies come out in pieces, so a file part is never held whole in memory. Only a delimiter's length of
// lookahead is kept between calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cpmgw::fthttp {

class MultipartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not, 1..70 characters of
// the RFC 2046 bchars set, not ending in a space); nullopt for any other type or a missing or bad boundary.
std::optional<std::string> multipartBoundary(std::string_view contentType);

// A header value of the `type; name=value; name="quoted"` shape (Content-Disposition, Content-Type).
// Parameter names are lower-cased; `name*` values (RFC 8187 ext-value, UTF-8 or ISO-8859-1) are decoded and
// kept under the name with the star. nullopt when malformed.
struct HeaderValue {
  std::string value;  // lower-cased
  std::map<std::string, std::string> params;
};
std::optional<HeaderValue> parseHeaderValue(std::string_view text);

struct PartHeaders {
  std::string name;                     // the form field name
  std::optional<std::string> fileName;  // as sent (not sanitised); filename* preferred over filename
  std::string contentType;              // as sent; empty when absent
  std::optional<std::uint64_t> contentLength;
};

struct MultipartLimits {
  std::size_t maxHeaderBytes = 8192;  // the header block of one part
  std::size_t maxParts = 16;
};

class MultipartParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Exceptions thrown by the handler pass through feed() unchanged.
    virtual void partBegin(const PartHeaders& headers) = 0;
    virtual void partData(std::string_view bytes) = 0;
    virtual void partEnd() = 0;
  };

  MultipartParser(std::string boundary, Handler& handler, MultipartLimits limits = {});

  // Consumes the next bytes of the body. Throws MultipartError for a malformed body or a limit exceeded.
  void feed(std::string_view data);
  // The closing delimiter was seen: the body is complete (an epilogue after it is ignored).
  bool complete() const { return state_ == State::Epilogue; }
  // A part's body is being delivered (the body ended inside it when complete() is false at the end).
  bool inPart() const { return state_ == State::Body; }

 private:
  enum class State { Preamble, AfterDelimiter, Headers, Body, Epilogue };
  // Delivers body bytes of the current part (or drops preamble bytes).
  void emit(std::string_view bytes);
  // Scans for the delimiter in the preamble or a body; returns the bytes of `data` consumed.
  std::size_t scan(std::string_view data);
  std::size_t afterDelimiter(std::string_view data);
  std::size_t headers(std::string_view data);
  void beginPart();

  std::string delimiter_;  // CRLF "--" boundary
  Handler& handler_;
  MultipartLimits limits_;
  State state_ = State::Preamble;
  std::string carry_;   // a possible delimiter prefix held back from the last call
  std::string header_;  // the header block of the part being read
  std::string after_;   // bytes after a delimiter: transport padding, then CRLF or "--"
  std::size_t parts_ = 0;
};

}  // namespace cpmgw::fthttp
