#include "fthttp/ft_handlers.h"

#include <Poco/Buffer.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>

#include "cpmgw/log.h"
#include "cpmgw/users.h"
#include "fthttp/ft_text.h"
#include "fthttp/http_range.h"
#include "fthttp/multipart.h"

namespace cpmgw::fthttp {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

constexpr std::size_t kIoBlock = 256 * 1024;           // socket <-> disk copies
constexpr std::size_t kTlsBlock = 64 * 1024;           // TLS writes: four 16 KiB records per SSL_write
constexpr std::uint64_t kFormSlack = 64 * 1024;        // multipart framing and small fields
constexpr std::uint64_t kDiskCheckEvery = 8ull << 20;  // free-space checks while writing
constexpr std::size_t kMaxSmallField = 1024;           // tid, hash
constexpr std::uint64_t kMaxIgnoredBytes = 64 * 1024;  // parts we do not use
constexpr std::uint64_t kDrainLimit = 1 << 20;         // unread body read and dropped so an error gets through

Poco::Logger& logger() {
  return Poco::Logger::get("cpmgw.fthttp");
}

// An answer other than success, thrown by handlers.
struct FtError {
  HTTPResponse::HTTPStatus status;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// The connection broke (or timed out) while the body moved: there is nobody to answer.
struct ConnectionLost {
  std::string detail;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string httpDate(TimeMs t) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(t * 1000), Poco::DateTimeFormat::HTTP_FORMAT);
}

void sendText(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const std::string& text,
              const std::string& type = "text/plain; charset=utf-8") {
  response.setStatusAndReason(status);
  response.setContentType(type);
  response.set("Cache-Control", "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.setContentLength(static_cast<std::streamsize>(text.size()));
  response.send() << text;
}

void sendXml(HTTPServerResponse& response, const std::string& xml) {
  sendText(response, HTTPResponse::HTTP_OK, xml, kFtHttpContentType);
}

// Writes all of `data` to a file; a full disk is the client's 507, anything else our 500.
void writeAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == ENOSPC || errno == EDQUOT))
      throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "no space left for " + what};
    if (n <= 0) throw std::runtime_error("writing " + what + " failed: " + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Starts writing back what was written since `from`, without waiting: the disk works while the network
// does, and the fsync before the answer finds little left to do.
void startWriteback(int fd, std::uint64_t& from, std::uint64_t to) {
  if (to >= from + kDiskCheckEvery) {
    ::sync_file_range(fd, static_cast<off64_t>(from), static_cast<off64_t>(to - from), SYNC_FILE_RANGE_WRITE);
    from = to;
  }
}

void syncOrThrow(int fd, const std::string& what) {
  if (::fsync(fd) != 0) {
    if (errno == ENOSPC || errno == EDQUOT)
      throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "no space left for " + what};
    throw std::runtime_error("fsync of " + what + " failed: " + std::strerror(errno));
  }
}

void syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("fsync of " + dir + " failed: " + std::strerror(errno));
}

std::string sha256FileHex(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::unique_ptr<char[]> buf(new char[kIoBlock]);
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kIoBlock);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw std::runtime_error("reading " + path + " failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.get(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), out, &len);
  return hexOf(std::string_view(reinterpret_cast<const char*>(out), len));
}

// "sha-256:<64 hex>" (also "sha256:"), normalised to lower case; nullopt otherwise.
std::optional<std::string> parseHashField(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string algo(v.substr(0, colon));
  for (auto& c : algo) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string hex(v.substr(colon + 1));
  for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if ((algo != "sha-256" && algo != "sha256") || hex.size() != 64 ||
      hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    return std::nullopt;
  return "sha-256:" + hex;
}

// RFC 9530 Repr-Digest: `sha-256=:<base64>:` among possibly several algorithms.
std::optional<std::string> parseReprDigest(const std::string& header) {
  auto at = header.find("sha-256=:");
  if (at == std::string::npos) return std::nullopt;
  auto start = at + 9;
  auto end = header.find(':', start);
  if (end == std::string::npos || end - start != 44) return std::nullopt;
  unsigned char raw[48];
  int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(header.data() + start), 44);
  if (n != 33) return std::nullopt;  // 32 bytes and the padding's zero
  return "sha-256:" + hexOf(std::string_view(reinterpret_cast<const char*>(raw), 32));
}

bool validTid(const std::string& tid) {
  if (tid.empty() || tid.size() > 256) return false;
  for (char c : tid)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

// The request body, read straight from the socket in large blocks when its length is known (Poco's
// stream reads it 4 KiB at a time); through Poco's stream for chunked bodies.
class BodyReader {
 public:
  explicit BodyReader(HTTPServerRequest& request) : request_(request) {
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (impl && request.hasContentLength() && !request.getChunkedTransferEncoding()) {
      socket_ = &impl->socket();
      remaining_ = static_cast<std::uint64_t>(request.getContentLength64());
      impl->session().drainBuffer(pending_);  // what Poco already read past the request head
      if (pending_.size() > remaining_) pipelined_ = true;
    }
  }
  // Up to n bytes; 0 at the end of the body. Throws ConnectionLost when the connection ends first.
  std::size_t read(char* buf, std::size_t n) {
    if (!socket_) {
      std::istream& in = request_.stream();
      in.read(buf, static_cast<std::streamsize>(n));
      auto got = static_cast<std::size_t>(in.gcount());
      if (got == 0 && in.bad()) throw ConnectionLost{"connection lost while reading the body"};
      return got;
    }
    if (remaining_ == 0) return 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
    if (pendingAt_ < pending_.size()) {
      std::size_t k = std::min(want, pending_.size() - pendingAt_);
      std::memcpy(buf, pending_.begin() + pendingAt_, k);
      pendingAt_ += k;
      remaining_ -= k;
      return k;
    }
    int got = 0;
    try {
      got = socket_->receiveBytes(buf, static_cast<int>(want));
    } catch (const Poco::TimeoutException&) {
      throw ConnectionLost{"timed out waiting for the body"};
    } catch (const Poco::Exception& e) {
      throw ConnectionLost{"connection lost while reading the body: " + e.displayText()};
    }
    if (got <= 0) throw ConnectionLost{"connection closed before the end of the body"};
    remaining_ -= static_cast<std::uint64_t>(got);
    return static_cast<std::size_t>(got);
  }
  // Bytes of a pipelined next request were read with this body: the connection cannot be reused.
  bool pipelined() const { return pipelined_; }
  // Bytes of the body not read yet, when its length is known.
  std::optional<std::uint64_t> remaining() const {
    return socket_ ? std::optional<std::uint64_t>(remaining_) : std::nullopt;
  }

 private:
  HTTPServerRequest& request_;
  Poco::Net::StreamSocket* socket_ = nullptr;
  std::uint64_t remaining_ = 0;
  Poco::Buffer<char> pending_{0};
  std::size_t pendingAt_ = 0;
  bool pipelined_ = false;
};

// Writes `length` bytes of `fd` from `offset` to the client after Poco sent the headers: sendfile(2) on
// plain connections, blocks through SSL_write on TLS ones.
void sendBody(HTTPServerRequest& request, int fd, std::uint64_t offset, std::uint64_t length) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  if (!impl) throw std::logic_error("not a Poco server request");
  Poco::Net::StreamSocket& socket = impl->socket();
  if (request.secure()) {
    std::unique_ptr<char[]> buf(new char[kTlsBlock]);
    while (length > 0) {
      ssize_t n = ::pread(fd, buf.get(), static_cast<std::size_t>(std::min<std::uint64_t>(length, kTlsBlock)),
                          static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("reading the file failed or it is shorter than recorded");
      for (ssize_t sent = 0; sent < n;) {
        int k = 0;
        try {
          k = socket.sendBytes(buf.get() + sent, static_cast<int>(n - sent));
        } catch (const Poco::Exception& e) {
          throw ConnectionLost{"connection lost while sending: " + e.displayText()};
        }
        if (k <= 0) throw ConnectionLost{"connection lost while sending"};
        sent += k;
      }
      offset += static_cast<std::uint64_t>(n);
      length -= static_cast<std::uint64_t>(n);
    }
    return;
  }
  int sock = socket.impl()->sockfd();
  auto off = static_cast<off_t>(offset);
  while (length > 0) {
    ssize_t n = ::sendfile(sock, fd, &off, static_cast<std::size_t>(std::min<std::uint64_t>(length, 1u << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      throw ConnectionLost{"timed out: the client stopped reading"};
    if (n < 0) throw ConnectionLost{std::string("connection lost while sending: ") + std::strerror(errno)};
    if (n == 0) throw std::runtime_error("the file is shorter than recorded");
    length -= static_cast<std::uint64_t>(n);
  }
}

// The base of every FT handler: body timeouts, errors as HTTP answers, one log line per outcome.
class FtHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FtHandler(std::shared_ptr<FtContext> context) : context_(std::move(context)) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) final {
    peer_ = request.clientAddress().toString();
    bodyPending_ =
        request.getChunkedTransferEncoding() || (request.hasContentLength() && request.getContentLength64() > 0);
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    const auto& o = ctx().options;
    // Bodies may pause up to io_timeout; the head of the next request on this connection gets header_timeout.
    if (impl) {
      impl->socket().setReceiveTimeout(Poco::Timespan(o.ioTimeoutMs * 1000));
      impl->socket().setSendTimeout(Poco::Timespan(o.ioTimeoutMs * 1000));
    }
    try {
      serve(request, response);
    } catch (const FtError& e) {
      logInformation(logger(), "%s %s from %s%s: %d %s", request.getMethod(), logUri(request), peer_, subject(),
                     static_cast<int>(e.status), e.detail);
      answerError(request, response, e);
    } catch (const ConnectionLost& e) {
      logInformation(logger(), "%s %s from %s%s: %s", request.getMethod(), logUri(request), peer_, subject(), e.detail);
      response.setKeepAlive(false);
    } catch (const Poco::Exception& e) {
      logInformation(logger(), "%s %s from %s%s: connection error: %s", request.getMethod(), logUri(request), peer_,
                     subject(), e.displayText());
      response.setKeepAlive(false);
    } catch (const std::exception& e) {
      logger().error("%s %s from %s%s failed: %s", request.getMethod(), logUri(request), peer_, subject(),
                     std::string(e.what()));
      answerError(request, response, {HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal error"});
    }
    if (impl) {
      try {
        impl->socket().setReceiveTimeout(Poco::Timespan(o.headerTimeoutMs * 1000));
      } catch (const Poco::Exception&) {
        // The socket is already gone: nothing more will be read from it.
      }
    }
  }

 protected:
  virtual void serve(HTTPServerRequest& request, HTTPServerResponse& response) = 0;

  FtContext& ctx() const { return *context_; }
  const std::string& peer() const { return peer_; }
  // Names the transfer in log lines (" tid X id Y").
  void setSubject(const std::string& tid, const std::string& id) {
    subject_ = (tid.empty() ? "" : " tid " + tid) + (id.empty() ? "" : " id " + id);
  }
  void bodyConsumed() { bodyPending_ = false; }
  // The one reader of this request's body: whatever reads it, and the error path that drains it, must
  // share its position.
  BodyReader& body(HTTPServerRequest& request) {
    if (!body_) body_ = std::make_unique<BodyReader>(request);
    return *body_;
  }

  // The authenticated user's address ("" when auth is off). Throws 401 with a digest challenge.
  std::string authenticate(HTTPServerRequest& request) {
    if (ctx().options.auth == FtHttpServer::Auth::None) return {};
    auto challenge = [this](const std::string& why, bool stale) {
      return FtError{
          HTTPResponse::HTTP_UNAUTHORIZED, why, {{"WWW-Authenticate", ctx().authenticator->challenge(stale)}}};
    };
    std::string header = request.get("Authorization", "");
    if (header.empty()) throw challenge("authentication required", false);
    auto credentials = digest::parse(header);
    if (!credentials) throw challenge("malformed Authorization header", false);
    // The digest covers the URI it names: it must be this request's, or a response could be replayed elsewhere.
    if (credentials->uri != request.getURI())
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "digest uri does not match the request"};
    auto user =
        ctx().users ? ctx().users->findByAuthName(credentials->username, ctx().authenticator->realm()) : std::nullopt;
    if (!user || !user->enabled) throw challenge("unknown or disabled user " + credentials->username, false);
    switch (ctx().authenticator->verify(*credentials, request.getMethod(), user->ha1, nowMs())) {
      case digest::Authenticator::Result::Ok:
        return user->uri;
      case digest::Authenticator::Result::StaleNonce:
        throw challenge("stale nonce", true);
      default:
        throw challenge("wrong credentials for " + credentials->username, false);
    }
  }

  // Poco sends no "100 Continue" on its own (the router stops it): a handler does once it wants the body.
  static void continueIfExpected(HTTPServerRequest& request, HTTPServerResponse& response) {
    if (request.getExpectContinue()) {
      response.setStatus(HTTPResponse::HTTP_OK);
      response.sendContinue();
    }
  }

 private:
  std::string subject() const { return subject_; }
  // Tokens stay out of logs: the path of a link is shortened to its kind.
  static std::string logUri(const HTTPServerRequest& request) {
    const std::string& uri = request.getURI();
    if (uri.size() > 3 && uri[0] == '/' && uri[2] == '/' && (uri[1] == 'd' || uri[1] == 'l' || uri[1] == 'u'))
      return uri.substr(0, 3) + "...";
    return uri.size() > 200 ? uri.substr(0, 200) + "..." : uri;
  }

  void answerError(HTTPServerRequest& request, HTTPServerResponse& response, const FtError& e) {
    if (response.sent()) {
      response.setKeepAlive(false);
      return;
    }
    if (bodyPending_) {
      // A client that asked for "100 Continue" and did not get it sends no body. Otherwise a small body is
      // read and dropped so the client sees this answer; a large one is not, and the connection closes.
      bool expectsContinue = request.getExpectContinue() && response.getStatus() != HTTPResponse::HTTP_OK;
      if (expectsContinue || !drain(request)) response.setKeepAlive(false);
    }
    for (const auto& [k, v] : e.headers) response.set(k, v);
    try {
      sendText(response, e.status,
               std::to_string(static_cast<int>(e.status)) + " " + HTTPResponse::getReasonForStatus(e.status) + ": " +
                   e.detail + "\n");
    } catch (const Poco::Exception&) {
      // The connection is gone: the log line above is all that remains.
    }
  }

  // Reads and drops what is left of the body when that is little; false when the connection cannot be reused.
  bool drain(HTTPServerRequest& request) {
    try {
      BodyReader& reader = body(request);
      if (auto left = reader.remaining(); left && *left > kDrainLimit) return false;
      char buf[16384];
      for (std::uint64_t dropped = 0; dropped <= kDrainLimit;) {
        std::size_t n = reader.read(buf, sizeof buf);
        if (n == 0) return !reader.pipelined();
        dropped += n;
      }
    } catch (const ConnectionLost&) {
      return false;
    } catch (const std::exception&) {
      return false;
    }
    return false;
  }

  std::shared_ptr<FtContext> context_;
  std::string peer_;
  std::string subject_;
  bool bodyPending_ = false;
  std::unique_ptr<BodyReader> body_;
};

class ErrorHandler final : public FtHandler {
 public:
  ErrorHandler(std::shared_ptr<FtContext> c, HTTPResponse::HTTPStatus status, std::string detail,
               std::string allow = {})
      : FtHandler(std::move(c)), status_(status), detail_(std::move(detail)), allow_(std::move(allow)) {}

 protected:
  void serve(HTTPServerRequest&, HTTPServerResponse&) override {
    FtError e{status_, detail_};
    if (!allow_.empty()) e.headers.emplace_back("Allow", allow_);
    throw e;
  }

 private:
  HTTPResponse::HTTPStatus status_;
  std::string detail_, allow_;
};

// ---------------------------------------------------------------------------------------------------
// Upload: the multipart form of tid, optional Thumbnail, File (and an optional hash field).

// An upload already complete under the same tid: the client lost our answer and sent the form again.
struct AlreadyComplete {
  FileRecord record;
};

class UploadSession final : public MultipartParser::Handler {
 public:
  UploadSession(FtContext& ctx, std::string owner, std::string peer)
      : ctx_(ctx), owner_(std::move(owner)), peer_(std::move(peer)), reservation_(*ctx.files, owner_) {}
  UploadSession(const UploadSession&) = delete;
  UploadSession& operator=(const UploadSession&) = delete;

  // Whatever was not kept (complete, or resumable) is removed: no partial file is left behind.
  ~UploadSession() override {
    closeFiles();
    if (kept_ || id_.empty()) return;
    try {
      if (rowCreated_) {
        ctx_.files->remove(id_, "upload from " + peer_ + " abandoned");
      } else {
        ::unlink(ctx_.files->filePath(id_).c_str());
        ::unlink(ctx_.files->thumbnailPath(id_).c_str());
      }
    } catch (const std::exception& e) {
      logger().error("cleaning up upload %s failed: %s", id_, std::string(e.what()));
    }
  }

  void partBegin(const PartHeaders& h) override {
    const auto& o = ctx_.options;
    if (h.name == "tid") {
      if (!tid_.empty()) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "repeated tid part"};
      field_ = Field::Tid;
      small_.clear();
    } else if (h.name == "hash") {
      field_ = Field::Hash;
      small_.clear();
    } else if (iequals(h.name, "Thumbnail")) {
      if (thumbStarted_) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "repeated Thumbnail part"};
      if (h.contentLength && *h.contentLength > o.maxThumbnailSize) throw thumbnailTooLarge();
      thumbStarted_ = true;
      thumbType_ = normaliseMediaType(h.contentType);
      openFile(thumbFd_, ctx_.files->thumbnailPath(ensureId()));
      field_ = Field::Thumbnail;
    } else if (iequals(h.name, "File")) {
      if (fileStarted_) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "repeated File part"};
      if (tid_.empty()) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "the tid part must come before File"};
      if (h.contentLength && *h.contentLength > o.maxFileSize) throw fileTooLarge();
      if (auto existing = ctx_.files->findByTid(owner_, tid_)) {
        if (existing->state == FileState::Complete) throw AlreadyComplete{*existing};
        // Sent again from the start instead of resumed: the new upload replaces the old one.
        ctx_.files->remove(existing->id, "replaced by a new upload of tid " + tid_ + " from " + peer_);
      }
      fileStarted_ = true;
      fileExpected_ = h.contentLength;
      FileRecord r;
      r.id = ensureId();
      r.owner = owner_;
      r.tid = tid_;
      r.fileName = sanitiseFileName(h.fileName.value_or("file"));
      r.contentType = normaliseMediaType(h.contentType);
      r.expectedSize = h.contentLength;
      r.expectedHash = hash_;
      r.hasThumbnail = thumbDone_;
      r.thumbType = thumbType_;
      r.thumbSize = thumbBytes_;
      r.peer = peer_;
      r.createdAt = nowMs();
      r.until = r.createdAt + o.linkValidityMs;
      r.deleteAfter = r.until + o.graceMs;
      openFile(fileFd_, ctx_.files->filePath(r.id));
      ctx_.files->create(r);
      rowCreated_ = true;
      field_ = Field::File;
    } else {
      field_ = Field::Ignored;
    }
  }

  void partData(std::string_view bytes) override {
    const auto& o = ctx_.options;
    switch (field_) {
      case Field::Tid:
      case Field::Hash:
        small_.append(bytes);
        if (small_.size() > kMaxSmallField) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "form field too long"};
        return;
      case Field::Ignored:
        ignored_ += bytes.size();
        if (ignored_ > kMaxIgnoredBytes)
          throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "unknown parts too large"};
        return;
      case Field::Thumbnail:
        thumbBytes_ += bytes.size();
        if (thumbBytes_ > o.maxThumbnailSize) throw thumbnailTooLarge();
        reserve(bytes.size());
        writeAll(thumbFd_, bytes, "the thumbnail");
        return;
      case Field::File:
        fileBytes_ += bytes.size();
        if (fileBytes_ > o.maxFileSize) throw fileTooLarge();
        reserve(bytes.size());
        writeAll(fileFd_, bytes, "the file");
        startWriteback(fileFd_, writtenBack_, fileBytes_);
        return;
      case Field::None:
        return;
    }
  }

  void partEnd() override {
    switch (field_) {
      case Field::Tid: {
        std::string_view v(small_);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
        tid_ = std::string(v);
        if (!validTid(tid_))
          throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "tid must be 1..256 visible ASCII characters"};
        break;
      }
      case Field::Hash: {
        auto h = parseHashField(small_);
        if (!h) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "hash must be sha-256:<64 hex digits>"};
        hash_ = *h;
        if (rowCreated_) ctx_.files->setExpected(id_, std::nullopt, hash_);
        break;
      }
      case Field::Thumbnail:
        thumbDone_ = true;
        if (rowCreated_) ctx_.files->setThumbnail(id_, thumbType_, thumbBytes_);
        break;
      case Field::File:
        fileDone_ = true;
        break;
      default:
        break;
    }
    field_ = Field::None;
  }

  const std::string& tid() const { return tid_; }
  const std::string& id() const { return id_; }
  bool fileDone() const { return fileDone_; }
  std::uint64_t fileBytes() const { return fileBytes_; }

  // The form is complete: sync everything, check what the client declared, and record the file Complete.
  FileRecord finish() {
    if (!fileDone_) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "no File part"};
    if (fileExpected_ && *fileExpected_ != fileBytes_)
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "File part declared " + std::to_string(*fileExpected_) +
                                                        " bytes but carried " + std::to_string(fileBytes_)};
    syncOrThrow(fileFd_, "the file");
    if (thumbFd_ >= 0) syncOrThrow(thumbFd_, "the thumbnail");
    closeFiles();
    syncDirectory(ctx_.files->directory());
    if (!hash_.empty() && "sha-256:" + sha256FileHex(ctx_.files->filePath(id_)) != hash_)
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "the file does not match its declared hash"};
    if (!ctx_.files->complete(id_, fileBytes_))
      throw FtError{HTTPResponse::HTTP_CONFLICT, "the upload was replaced while it ran"};
    kept_ = true;
    return *ctx_.files->get(id_);
  }

  // The body ended before the form did: keep what arrived of the file for a resume (CPM-CONV-053).
  bool keepForResume(const std::string& why) {
    if (!rowCreated_ || fileBytes_ == 0) return false;
    try {
      if (::fsync(fileFd_) != 0) return false;
      closeFiles();
      if (!hash_.empty()) ctx_.files->setExpected(id_, std::nullopt, hash_);
      ctx_.files->recordProgress(id_, fileBytes_, "interrupted",
                                 why + " after " + std::to_string(fileBytes_) + " bytes");
      kept_ = true;
    } catch (const std::exception& e) {
      logger().error("keeping upload %s for resume failed: %s", id_, std::string(e.what()));
      return false;
    }
    return true;
  }

 private:
  enum class Field { None, Tid, Hash, Thumbnail, File, Ignored };

  const std::string& ensureId() {
    if (id_.empty()) id_ = newMessageId();
    return id_;
  }
  static void openFile(int& fd, const std::string& path) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
  void closeFiles() {
    for (int* fd : {&fileFd_, &thumbFd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
  void reserve(std::size_t n) {
    if (!reservation_.grow(n))
      throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "storage quota of " + owner() + " exceeded"};
    written_ += n;
    if (written_ >= nextDiskCheck_) {
      nextDiskCheck_ = written_ + kDiskCheckEvery;
      if (!ctx_.files->diskHasRoom(0))
        throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "disk space below the low-water mark"};
    }
  }
  std::string owner() const { return owner_.empty() ? "anonymous uploads" : owner_; }
  FtError fileTooLarge() const {
    return {HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
            "file larger than the maximum of " + std::to_string(ctx_.options.maxFileSize) + " bytes"};
  }
  FtError thumbnailTooLarge() const {
    return {HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
            "thumbnail larger than the maximum of " + std::to_string(ctx_.options.maxThumbnailSize) + " bytes"};
  }

  FtContext& ctx_;
  std::string owner_, peer_;
  FileStore::Reservation reservation_;
  Field field_ = Field::None;
  std::string small_, tid_, hash_, id_, thumbType_;
  bool thumbStarted_ = false, thumbDone_ = false, fileStarted_ = false, fileDone_ = false;
  bool rowCreated_ = false, kept_ = false;
  int fileFd_ = -1, thumbFd_ = -1;
  std::uint64_t fileBytes_ = 0, thumbBytes_ = 0, ignored_ = 0, written_ = 0, nextDiskCheck_ = 0, writtenBack_ = 0;
  std::optional<std::uint64_t> fileExpected_;
};

class UploadHandler final : public FtHandler {
 public:
  using FtHandler::FtHandler;

 protected:
  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const auto& o = ctx().options;
    // Authentication first: clients start with an empty POST to get the challenge.
    std::string owner = authenticate(request);
    bool hasBody =
        request.getChunkedTransferEncoding() || (request.hasContentLength() && request.getContentLength64() > 0);
    if (!hasBody) {
      response.setStatusAndReason(HTTPResponse::HTTP_NO_CONTENT);
      response.setContentLength(0);
      response.send();
      return;
    }
    auto boundary = multipartBoundary(request.getContentType());
    if (!boundary)
      throw FtError{HTTPResponse::HTTP_UNSUPPORTED_MEDIA_TYPE,
                    "the upload must be multipart/form-data with a boundary"};
    // Limits from the declared length, before a byte of the body is read (CPM-CONV-052).
    if (request.hasContentLength()) {
      auto length = static_cast<std::uint64_t>(request.getContentLength64());
      if (length > o.maxFileSize + o.maxThumbnailSize + kFormSlack)
        throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "request of " + std::to_string(length) +
                                                                       " bytes exceeds the maximum file size of " +
                                                                       std::to_string(o.maxFileSize)};
      if (!ctx().files->diskHasRoom(length))
        throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "not enough disk space above the low-water mark"};
      if (o.userQuota > 0 && ctx().files->usage(owner).bytes + length > o.userQuota + kFormSlack)
        throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                      "storage quota of " + (owner.empty() ? std::string("anonymous uploads") : owner) + " exceeded"};
    } else if (!ctx().files->diskHasRoom(0)) {
      throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "disk space below the low-water mark"};
    }
    continueIfExpected(request, response);

    UploadSession session(ctx(), owner, peer());
    MultipartParser parser(*boundary, session);
    BodyReader& reader = body(request);
    std::unique_ptr<char[]> buf(new char[kIoBlock]);
    try {
      for (;;) {
        std::size_t n = reader.read(buf.get(), kIoBlock);
        if (n == 0) break;
        parser.feed(std::string_view(buf.get(), n));
        setSubject(session.tid(), session.id());
        if (parser.complete()) break;
      }
    } catch (const AlreadyComplete& done) {
      setSubject(done.record.tid, done.record.id);
      logInformation(logger(), "upload of tid %s from %s: already complete as %s, answered again", done.record.tid,
                     peer(), done.record.id);
      response.setKeepAlive(false);  // the rest of the repeated body is not read
      sendXml(response, encodeFtDocument(ctx().document(done.record)));
      return;
    } catch (const MultipartError& e) {
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, std::string("malformed multipart body: ") + e.what()};
    } catch (const ConnectionLost& lost) {
      if (session.keepForResume(lost.detail))
        logger().notice("upload of tid %s id %s from %s interrupted after %?d bytes (%s): kept for resume",
                        session.tid(), session.id(), peer(), session.fileBytes(), lost.detail);
      throw;
    }
    setSubject(session.tid(), session.id());
    if (!parser.complete()) {
      bool kept = session.keepForResume("the body ended before the closing boundary");
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST,
                    std::string("incomplete multipart body") + (kept ? "; resume with get_upload_info" : "")};
    }
    // Read the epilogue too, so the connection is ready for another request.
    while (reader.read(buf.get(), kIoBlock) > 0) {
    }
    bodyConsumed();
    if (reader.pipelined()) response.setKeepAlive(false);
    FileRecord record = session.finish();
    logInformation(logger(), "upload of tid %s id %s from %s%s complete: %s, %?d bytes, %s%s", record.tid, record.id,
                   peer(), owner.empty() ? std::string() : " (" + owner + ")", record.fileName, record.size,
                   record.contentType, std::string(record.hasThumbnail ? ", with thumbnail" : ""));
    sendXml(response, encodeFtDocument(ctx().document(record)));
  }
};

// ---------------------------------------------------------------------------------------------------
// Resume: PUT <upload url> with Content-Range appends the rest of an interrupted upload (CPM-CONV-053).

class ResumeHandler final : public FtHandler {
 public:
  ResumeHandler(std::shared_ptr<FtContext> c, std::string token) : FtHandler(std::move(c)), token_(std::move(token)) {}

 protected:
  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const auto& o = ctx().options;
    std::string owner = authenticate(request);
    auto match = ctx().files->findByToken(token_);
    if (!match || match->part != TokenPart::Upload) throw FtError{HTTPResponse::HTTP_NOT_FOUND, "no such upload"};
    FileRecord rec = match->record;
    setSubject(rec.tid, rec.id);
    if (o.auth != FtHttpServer::Auth::None && owner != rec.owner)
      throw FtError{HTTPResponse::HTTP_FORBIDDEN, "the upload belongs to another user"};
    if (rec.state == FileState::Complete) {
      response.setKeepAlive(false);
      sendXml(response, encodeFtDocument(ctx().document(rec)));
      return;
    }
    auto storedRange = [&rec] {
      return FtError{HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE,
                     "the upload holds bytes 0-" + std::to_string(rec.size == 0 ? 0 : rec.size - 1) + " (" +
                         std::to_string(rec.size) + " bytes); send from byte " + std::to_string(rec.size),
                     {{"Range", "bytes=0-" + std::to_string(rec.size == 0 ? 0 : rec.size - 1)}}};
    };
    std::optional<ContentRange> range;
    if (request.has("Content-Range")) {
      range = parseContentRange(request.get("Content-Range"));
      if (!range) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "Content-Range must be bytes first-last/total"};
    } else if (request.hasContentLength() && request.getContentLength64() > 0) {
      // Without Content-Range the body is the whole file, which fits only an upload holding nothing yet.
      auto n = static_cast<std::uint64_t>(request.getContentLength64());
      range = ContentRange{ByteRange{0, n - 1}, n};
    } else {
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "a Content-Range: bytes first-last/total is required"};
    }
    if (!range->complete) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "Content-Range must give the total size"};
    std::uint64_t total = *range->complete;
    if (total > o.maxFileSize)
      throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                    "file larger than the maximum of " + std::to_string(o.maxFileSize) + " bytes"};
    if (rec.expectedSize && *rec.expectedSize != total) throw storedRange();
    std::string hash = rec.expectedHash;
    if (request.has("Repr-Digest")) {
      auto given = parseReprDigest(request.get("Repr-Digest"));
      if (!given) throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "Repr-Digest needs sha-256=:<base64>:"};
      hash = *given;
    }
    std::uint64_t length = range->range ? range->range->length() : 0;
    if (!range->range) {
      // "bytes */total": nothing more to send, only to finish what is stored.
      if (rec.size != total) throw storedRange();
    } else {
      if (range->range->first != rec.size) throw storedRange();
      if (request.hasContentLength() && static_cast<std::uint64_t>(request.getContentLength64()) != length)
        throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "Content-Length does not match Content-Range"};
      if (!ctx().files->diskHasRoom(length))
        throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "not enough disk space above the low-water mark"};
    }
    ctx().files->setExpected(rec.id, total, hash);
    FileStore::Reservation reservation(*ctx().files, rec.owner);
    if (!reservation.grow(length)) throw FtError{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "storage quota exceeded"};

    int fd = ::open(ctx().files->filePath(rec.id).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open the partial file: " + std::string(std::strerror(errno)));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    // Whatever is on disk beyond the recorded size was never acknowledged (a crash): it is sent again.
    if (::ftruncate(fd, static_cast<off_t>(rec.size)) != 0 || ::lseek(fd, 0, SEEK_END) < 0)
      throw std::runtime_error("cannot prepare the partial file: " + std::string(std::strerror(errno)));
    continueIfExpected(request, response);

    std::uint64_t got = 0;
    if (length > 0) {
      BodyReader& reader = body(request);
      std::unique_ptr<char[]> buf(new char[kIoBlock]);
      std::uint64_t nextDiskCheck = kDiskCheckEvery;
      std::uint64_t writtenBack = rec.size;
      try {
        while (got < length) {
          std::size_t n =
              reader.read(buf.get(), static_cast<std::size_t>(std::min<std::uint64_t>(kIoBlock, length - got)));
          if (n == 0) break;
          writeAll(fd, std::string_view(buf.get(), n), "the file");
          got += n;
          startWriteback(fd, writtenBack, rec.size + got);
          if (got >= nextDiskCheck) {
            nextDiskCheck = got + kDiskCheckEvery;
            if (!ctx().files->diskHasRoom(0)) {
              ::ftruncate(fd, static_cast<off_t>(rec.size));
              throw FtError{HTTPResponse::HTTP_INSUFFICIENT_STORAGE, "disk space below the low-water mark"};
            }
          }
        }
      } catch (const ConnectionLost& lost) {
        if (got > 0 && ::fsync(fd) == 0) {
          ctx().files->recordProgress(rec.id, rec.size + got, "interrupted",
                                      lost.detail + " after " + std::to_string(rec.size + got) + " bytes");
          logger().notice("resumed upload of tid %s id %s from %s interrupted again at %?d bytes: kept for resume",
                          rec.tid, rec.id, peer(), rec.size + got);
        }
        throw;
      } catch (const FtError&) {
        ::ftruncate(fd, static_cast<off_t>(rec.size));  // a refused range leaves the resume point where it was
        throw;
      }
      if (got < length) {
        if (got > 0 && ::fsync(fd) == 0)
          ctx().files->recordProgress(rec.id, rec.size + got, "interrupted", "short body");
        throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "the body is shorter than its Content-Range"};
      }
      if (reader.pipelined()) response.setKeepAlive(false);
    }
    bodyConsumed();
    syncOrThrow(fd, "the file");
    std::uint64_t size = rec.size + got;
    if (size < total) {
      ctx().files->recordProgress(rec.id, size, "progress",
                                  std::to_string(size) + " of " + std::to_string(total) + " bytes from " + peer());
      response.setStatusAndReason(HTTPResponse::HTTP_NO_CONTENT);
      response.set("Range", "bytes=0-" + std::to_string(size - 1));
      response.setContentLength(0);
      response.send();
      return;
    }
    syncDirectory(ctx().files->directory());
    if (!hash.empty() && "sha-256:" + sha256FileHex(ctx().files->filePath(rec.id)) != hash) {
      ctx().files->remove(rec.id, "hash mismatch after resume from " + peer());
      throw FtError{HTTPResponse::HTTP_BAD_REQUEST, "the file does not match its declared hash; upload it again"};
    }
    if (!ctx().files->complete(rec.id, size)) throw FtError{HTTPResponse::HTTP_CONFLICT, "the upload was removed"};
    auto done = ctx().files->get(rec.id);
    if (!done) throw FtError{HTTPResponse::HTTP_CONFLICT, "the upload was removed"};
    logInformation(logger(), "upload of tid %s id %s from %s completed by resume: %?d bytes", rec.tid, rec.id, peer(),
                   size);
    sendXml(response, encodeFtDocument(ctx().document(*done)));
  }

 private:
  std::string token_;
};

// ---------------------------------------------------------------------------------------------------
// GET <server>?tid=..&get_upload_info | get_download_info: where a transfer stands.

class InfoHandler final : public FtHandler {
 public:
  InfoHandler(std::shared_ptr<FtContext> c, std::string tid, bool upload)
      : FtHandler(std::move(c)), tid_(std::move(tid)), upload_(upload) {}

 protected:
  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    std::string owner = authenticate(request);
    auto rec = ctx().files->findByTid(owner, tid_);
    // Only a partial file with bytes in it can be resumed; anything else starts again.
    if (!rec || (rec->state == FileState::Uploading && (!upload_ || rec->size == 0)))
      throw FtError{HTTPResponse::HTTP_NOT_FOUND, "no " + std::string(upload_ ? "upload" : "file") + " with this tid"};
    setSubject(rec->tid, rec->id);
    if (rec->state == FileState::Complete) {
      if (nowMs() > rec->until) throw FtError{HTTPResponse::HTTP_GONE, "the file has expired"};
      sendXml(response, encodeFtDocument(ctx().document(*rec)));
      return;
    }
    sendXml(response, encodeResumeInfo({0, rec->size - 1, ctx().uploadUrl(rec->id)}));
  }

 private:
  std::string tid_;
  bool upload_;
};

// ---------------------------------------------------------------------------------------------------
// Download: GET/HEAD <data url>, with a single range, If-Range, and ?get_download_info.

class DownloadHandler final : public FtHandler {
 public:
  DownloadHandler(std::shared_ptr<FtContext> c, std::string token, bool info)
      : FtHandler(std::move(c)), token_(std::move(token)), info_(info) {}

 protected:
  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    auto match = ctx().files->findByToken(token_);
    // Unknown token, an upload token, or a file still uploading: all the same 404.
    if (!match || match->part == TokenPart::Upload || match->record.state != FileState::Complete ||
        (match->part == TokenPart::Thumbnail && !match->record.hasThumbnail))
      throw FtError{HTTPResponse::HTTP_NOT_FOUND, "no file at this link"};
    const FileRecord& rec = match->record;
    bool thumb = match->part == TokenPart::Thumbnail;
    setSubject(rec.tid, rec.id);
    if (nowMs() > rec.until) throw FtError{HTTPResponse::HTTP_GONE, "the link has expired"};
    if (info_) {
      sendXml(response, encodeFtDocument(ctx().document(rec)));
      return;
    }
    std::string path = thumb ? ctx().files->thumbnailPath(rec.id) : ctx().files->filePath(rec.id);
    std::uint64_t size = thumb ? rec.thumbSize : rec.size;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("file of " + rec.id + " missing: " + std::strerror(errno));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != size)
      throw std::runtime_error("file of " + rec.id + " is not " + std::to_string(size) + " bytes as recorded");
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    const std::string etag = "\"" + rec.id + (thumb ? "-t" : "") + "\"";
    RangeDecision decision;
    if (request.has("Range")) {
      // If-Range with another validator: the file changed for the client, so it gets all of it.
      if (!request.has("If-Range") || request.get("If-Range") == etag)
        decision = evaluateRange(request.get("Range"), size);
    }
    response.set("Accept-Ranges", "bytes");
    response.set("ETag", etag);
    response.set("Last-Modified", httpDate(rec.completedAt));
    response.set("Cache-Control", "private, no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    // Uploaded content is never rendered as a page of ours.
    response.set("Content-Security-Policy", "sandbox; default-src 'none'");
    response.set("Content-Disposition", contentDisposition(thumb ? "thumbnail-" + rec.fileName : rec.fileName));
    response.setContentType(thumb ? rec.thumbType : rec.contentType);
    std::uint64_t offset = 0, length = size;
    switch (decision.kind) {
      case RangeDecision::Kind::Unsatisfiable:
        response.set("Content-Range", formatUnsatisfiedRange(size));
        response.setContentType("text/plain; charset=utf-8");
        sendText(response, HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable\n");
        return;
      case RangeDecision::Kind::Partial:
        offset = decision.range.first;
        length = decision.range.length();
        response.setStatusAndReason(HTTPResponse::HTTP_PARTIAL_CONTENT);
        response.set("Content-Range", formatContentRange(decision.range, size));
        break;
      case RangeDecision::Kind::Full:
        response.setStatusAndReason(HTTPResponse::HTTP_OK);
        break;
    }
    response.setContentLength64(static_cast<Poco::Int64>(length));
    // Poco writes the head; the body bypasses its stream layer (a quarter of the speed).
    response.send().flush();
    if (request.getMethod() == "HEAD") return;
    sendBody(request, fd, offset, length);
    if (!thumb && offset + length == size && rec.downloadedAt == 0) ctx().files->markDownloaded(rec.id, "by " + peer());
    logDebug(logger(), "download of tid %s id %s%s by %s: %?d bytes from %?d", rec.tid, rec.id,
             std::string(thumb ? " (thumbnail)" : ""), peer(), length, offset);
  }

 private:
  std::string token_;
  bool info_;
};

// ---------------------------------------------------------------------------------------------------
// The link page: what a plain browser sees behind the short link of the SMS (ftsms).

class LinkPageHandler final : public FtHandler {
 public:
  LinkPageHandler(std::shared_ptr<FtContext> c, std::string token)
      : FtHandler(std::move(c)), token_(std::move(token)) {}

 protected:
  void serve(HTTPServerRequest&, HTTPServerResponse& response) override {
    auto match = ctx().files->findByToken(token_);
    if (!match || match->part != TokenPart::File || match->record.state != FileState::Complete) {
      page(response, HTTPResponse::HTTP_NOT_FOUND, "File not found", "<p>There is no file at this link.</p>");
      return;
    }
    const FileRecord& rec = match->record;
    setSubject(rec.tid, rec.id);
    if (nowMs() > rec.until) {
      page(response, HTTPResponse::HTTP_GONE, "Link expired",
           "<p>This link expired on " + htmlEscape(formatUntil(rec.until)) + ".</p>");
      return;
    }
    std::string body = "<h1>" + htmlEscape(rec.fileName) + "</h1>\n<p>" + htmlEscape(humanSize(rec.size)) +
                       " &middot; " + htmlEscape(rec.contentType) + "</p>\n";
    if (rec.hasThumbnail)
      body +=
          "<p><img src=\"" + htmlEscape(ctx().downloadUrl(rec.id, TokenPart::Thumbnail)) + "\" alt=\"preview\"></p>\n";
    body += "<p><a href=\"" + htmlEscape(ctx().downloadUrl(rec.id, TokenPart::File)) + "\" download=\"" +
            htmlEscape(rec.fileName) + "\">Download</a></p>\n<p>Available until " + htmlEscape(formatUntil(rec.until)) +
            ".</p>\n";
    page(response, HTTPResponse::HTTP_OK, rec.fileName, body);
  }

 private:
  static void page(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const std::string& title,
                   const std::string& body) {
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n<title>" +
        htmlEscape(title) + "</title>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    // No script, no foreign content, and the token in the address never leaves as a Referer.
    response.set("Content-Security-Policy", "default-src 'none'; img-src *; style-src 'unsafe-inline'");
    response.set("Referrer-Policy", "no-referrer");
    response.set("X-Frame-Options", "DENY");
    sendText(response, status, html, "text/html; charset=utf-8");
  }

  std::string token_;
};

// Routes a request to its handler; it does nothing else.
class FtRouter final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit FtRouter(std::shared_ptr<FtContext> context) : context_(std::move(context)) {}

  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& request) override {
    // Poco would answer "Expect: 100-continue" before the handler runs; the handler decides after its
    // checks, so a refused upload is refused before its body is sent (any status but 200 stops Poco).
    request.response().setStatus(HTTPResponse::HTTP_EXPECTATION_FAILED);
    std::string path;
    Poco::URI::QueryParameters query;
    try {
      Poco::URI uri(request.getURI());
      path = uri.getPath();
      query = uri.getQueryParameters();
    } catch (const Poco::Exception&) {
      return new ErrorHandler(context_, HTTPResponse::HTTP_BAD_REQUEST, "malformed request URI");
    }
    auto has = [&query](const char* key) {
      for (const auto& [k, v] : query)
        if (k == key) return true;
      return false;
    };
    auto value = [&query](const char* key) {
      for (const auto& [k, v] : query)
        if (k == key) return v;
      return std::string();
    };
    const std::string& method = request.getMethod();
    bool get = method == "GET" || method == "HEAD";
    if (path == "/" || path == "/upload") {
      if (method == "POST") return new UploadHandler(context_);
      if (get && has("tid") && (has("get_upload_info") || has("get_download_info")))
        return new InfoHandler(context_, value("tid"), has("get_upload_info"));
      if (get)
        return new ErrorHandler(context_, HTTPResponse::HTTP_BAD_REQUEST,
                                "GET needs tid and get_upload_info or get_download_info");
      return new ErrorHandler(context_, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, method + " is not allowed here",
                              "POST, GET, HEAD");
    }
    Poco::StringTokenizer parts(path, "/", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    if (parts.count() == 2 && parts[1].size() <= 512) {
      const std::string& kind = parts[0];
      const std::string& token = parts[1];
      if (kind == "d") {
        if (get) return new DownloadHandler(context_, token, has("get_download_info"));
        return new ErrorHandler(context_, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, method + " is not allowed here",
                                "GET, HEAD");
      }
      if (kind == "l") {
        if (get) return new LinkPageHandler(context_, token);
        return new ErrorHandler(context_, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, method + " is not allowed here",
                                "GET, HEAD");
      }
      if (kind == "u") {
        if (method == "PUT") return new ResumeHandler(context_, token);
        return new ErrorHandler(context_, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, method + " is not allowed here",
                                "PUT");
      }
    }
    return new ErrorHandler(context_, HTTPResponse::HTTP_NOT_FOUND, "no resource here");
  }

 private:
  std::shared_ptr<FtContext> context_;
};

}  // namespace

FtDocument FtContext::document(const FileRecord& r) const {
  FtDocument doc;
  doc.file.size = r.size;
  doc.file.name = r.fileName;
  doc.file.contentType = r.contentType;
  doc.file.url = downloadUrl(r.id, TokenPart::File);
  doc.file.until = r.until;
  doc.file.disposition = r.disposition;
  if (r.hasThumbnail) {
    FileInfo t;
    t.size = r.thumbSize;
    t.contentType = r.thumbType;
    t.url = downloadUrl(r.id, TokenPart::Thumbnail);
    t.until = r.until;
    doc.thumbnail = t;
  }
  return doc;
}

Poco::Net::HTTPRequestHandlerFactory* newFtRouter(std::shared_ptr<FtContext> context) {
  return new FtRouter(std::move(context));
}

}  // namespace cpmgw::fthttp
