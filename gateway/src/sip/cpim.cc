// CPIM (RFC 3862) with the IMDN headers of RFC 5438: one pass over the header lines, each rule that
// rejects with its own short reason so that a 400 tells the peer what to fix.
#include "sip/cpim.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "cpmgw/text.h"

namespace cpmgw::cpim {

namespace {

// RFC 5438 sets no bound; ours are 32 characters and RCS clients use UUIDs, so 256 is generous while
// keeping a hostile id out of every table and log line it would otherwise travel to.
constexpr std::size_t kMaxMessageIdLength = 256;
constexpr std::size_t kMaxDateTimeLength = 64;

bool isAlpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isHexDigit(char c) {
  return isDigit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}
bool isHigh(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 3862 NAMECHAR: printable ASCII except the separators ()<>@,;:\"/[]?={} and ".".
bool isNameChar(char c) {
  if (isAlpha(c) || isDigit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// A byte of an RFC 3862 Token (TOKENCHAR = NAMECHAR / "." / UCS-high). Callers have checked UTF-8.
bool isTokenByte(char c) {
  return isNameChar(c) || c == '.' || isHigh(c);
}

bool isName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isNameChar);
}

// RFC 2045 token: printable ASCII except SP and tspecials.
bool isMimeTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// RFC 3986 unreserved, gen-delims and sub-delims; '%' is checked with its two hex digits.
bool isUriChar(char c) {
  return isAlpha(c) || isDigit(c) || (c != '\0' && std::strchr("-._~:/?#[]@!$&'()*+,;=", c));
}

void appendUtf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// RFC 3862 String starting at s[i] == '"'. Returns the unescaped text and moves i past the closing
// quote. Escapes that would produce control characters or lone surrogates are refused: a display name
// with a newline in it is an injection waiting to happen in every log and SMS it is copied into.
std::optional<std::string> decodeString(std::string_view s, std::size_t& i) {
  std::string out;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    c = s[i];
    if (c == '"' || c == '\'' || c == '\\') {
      out += c;
    } else if (c == 'u') {
      if (s.size() - i < 5) return std::nullopt;
      unsigned cp = 0;
      for (std::size_t k = 1; k <= 4; ++k) {
        char h = s[i + k];
        if (!isHexDigit(h)) return std::nullopt;
        cp = cp * 16 + static_cast<unsigned>(isDigit(h) ? h - '0' : lower(h) - 'a' + 10);
      }
      if (cp < 0x20 || cp == 0x7f || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
      appendUtf8(out, cp);
      i += 4;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// RFC 3066 Language-tag, as RFC 3862 uses it in the lang parameter.
bool isLanguageTag(std::string_view s) {
  std::size_t i = 0, part = 0;
  bool first = true;
  for (; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '-') {
      if (part == 0 || part > 8) return false;
      part = 0;
      first = false;
      continue;
    }
    if (!(isAlpha(s[i]) || (!first && isDigit(s[i])))) return false;
    ++part;
  }
  return true;
}

struct ParamScan {
  std::size_t length = 0;  // bytes of the parameter list, leading ';' included
  bool ok = true;
  bool onlyLang = true;
};

// *( ";" Parameter ) at the start of s (RFC 3862 section 3.6).
ParamScan scanParams(std::string_view s) {
  ParamScan r;
  std::size_t i = 0;
  while (i < s.size() && s[i] == ';') {
    std::size_t nameStart = ++i;
    while (i < s.size() && isNameChar(s[i])) ++i;
    std::string_view name = s.substr(nameStart, i - nameStart);
    if (name.empty() || i == s.size() || s[i] != '=') return {0, false, false};
    ++i;
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      std::size_t start = i;
      auto decoded = decodeString(s, i);
      if (!decoded) return {0, false, false};
      value = s.substr(start + 1, i - start - 2);
    } else {
      std::size_t start = i;
      while (i < s.size() && isTokenByte(s[i])) ++i;
      value = s.substr(start, i - start);
      if (value.empty()) return {0, false, false};
    }
    if (name == "lang") {
      if (!isLanguageTag(value)) return {0, false, false};
    } else {
      r.onlyLang = false;
    }
  }
  r.length = i;
  return r;
}

struct Address {
  std::string display;
  std::string uri;
};

// From / To / cc value: [ Formal-name ] "<" URI ">", Formal-name = 1*( Token SP ) / String. A single
// SP after a quoted String is accepted too, because that is how most stacks write it.
std::optional<Address> parseAddress(std::string_view v) {
  Address a;
  std::size_t i = 0;
  if (!v.empty() && v[0] == '"') {
    auto display = decodeString(v, i);
    if (!display) return std::nullopt;
    a.display = std::move(*display);
    if (i < v.size() && v[i] == ' ') ++i;
  } else {
    while (i < v.size() && v[i] != '<') {
      std::size_t start = i;
      while (i < v.size() && isTokenByte(v[i])) ++i;
      if (i == start || i == v.size() || v[i] != ' ') return std::nullopt;
      ++i;
    }
    if (i > 0) a.display = std::string(v.substr(0, i - 1));
  }
  if (v.size() - i < 2 || v[i] != '<' || v.back() != '>') return std::nullopt;
  std::string_view uri = v.substr(i + 1, v.size() - i - 2);
  if (!isAbsoluteUri(uri)) return std::nullopt;
  a.uri = std::string(uri);
  return a;
}

bool isMediaType(std::string_view v) {
  std::size_t i = 0;
  auto token = [&] {
    std::size_t start = i;
    while (i < v.size() && isMimeTokenChar(v[i])) ++i;
    return i > start;
  };
  auto ows = [&] {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
  };
  if (!token() || i == v.size() || v[i] != '/') return false;
  ++i;
  if (!token()) return false;
  for (;;) {
    ows();
    if (i == v.size()) return true;
    if (v[i] != ';') return false;
    ++i;
    ows();
    if (!token() || i == v.size() || v[i] != '=') return false;
    ++i;
    if (i < v.size() && v[i] == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i)
        if (v[i] == '\\' && ++i == v.size()) return false;
      if (i == v.size()) return false;
      ++i;
    } else if (!token()) {
      return false;
    }
  }
}

std::string_view trimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kDispositions[] = {"positive-delivery", "negative-delivery", "display", "processing"};

bool isImdnUri(std::string_view uri) {
  return iequals(uri, kImdnNamespace);
}

bool isImdnTyped(std::string_view name) {
  return name == "Message-ID" || name == "Disposition-Notification";
}

bool isDefaultTyped(std::string_view name) {
  return name == "NS" || name == "From" || name == "To" || name == "cc" || name == "DateTime";
}

// The headers of m that are not written from a typed field: extensions, Require, and every Subject but
// the first (other languages).
std::vector<const Header*> otherHeaders(const Message& m) {
  std::vector<const Header*> out;
  bool firstSubject = true;
  for (const Header& h : m.headers) {
    if (h.prefix.empty()) {
      if (isDefaultTyped(h.name)) continue;
      if (h.name == "Subject" && firstSubject) {
        firstSubject = false;
        continue;
      }
    } else if (auto it = m.namespaces.find(h.prefix);
               it != m.namespaces.end() && isImdnUri(it->second) && isImdnTyped(h.name)) {
      continue;
    }
    out.push_back(&h);
  }
  return out;
}

const Header* firstSubject(const Message& m) {
  for (const Header& h : m.headers)
    if (h.prefix.empty() && h.name == "Subject") return &h;
  return nullptr;
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  std::optional<Message> run(std::string* error) {
    if (!parseAll()) {
      if (error) *error = reason_;
      return std::nullopt;
    }
    return std::move(msg_);
  }

 private:
  bool fail(const char* reason) {
    reason_ = reason;
    return false;
  }

  bool parseAll() {
    if (text_.empty()) return fail("empty CPIM body");
    std::string_view line;
    for (;;) {
      if (!nextLine(line, "missing blank line after message headers")) return false;
      if (line.empty()) break;
      if (!countHeader() || !messageHeader(line)) return false;
    }
    if (!seenFrom_) return fail("missing From");
    if (!seenTo_) return fail("missing To");
    if (!msg_.dispositionNotification.empty()) {
      // An IMDN quotes the original message-id and datetime (RFC 5438), so a request without them
      // could never be answered.
      if (msg_.imdnMessageId.empty()) return fail("Disposition-Notification without imdn.Message-ID");
      if (msg_.dateTime.empty()) return fail("Disposition-Notification without DateTime");
    }
    for (;;) {
      if (!nextLine(line, "missing blank line after content headers")) return false;
      if (line.empty()) break;
      if (!countHeader() || !contentHeader(line)) return false;
    }
    if (!seenContentType_) return fail("missing Content-Type");
    std::string_view body = text_.substr(pos_);
    if (body.size() > limits_.maxBody) return fail("content too large");
    if (seenContentLength_ && contentLength_ != body.size()) return fail("Content-Length mismatch");
    msg_.body = std::string(body);
    return true;
  }

  bool countHeader() { return ++headerCount_ <= limits_.maxHeaders || fail("too many headers"); }

  // The next CRLF-terminated line, without its CRLF. Looks no further than the line limit, so a
  // megabyte without a line break costs no more than a short line.
  bool nextLine(std::string_view& line, const char* truncated) {
    std::size_t room = text_.size() - pos_;
    if (room == 0) return fail(truncated);
    std::size_t window = limits_.maxHeaderLine < room ? std::min(room, limits_.maxHeaderLine + 2) : room;
    const char* base = text_.data() + pos_;
    const void* lf = std::memchr(base, '\n', window);
    if (lf == nullptr) return fail(window == room ? truncated : "header line too long");
    auto end = static_cast<std::size_t>(static_cast<const char*>(lf) - base);
    if (end == 0 || base[end - 1] != '\r') return fail("bare LF in headers");
    line = std::string_view(base, end - 1);
    if (line.size() > limits_.maxHeaderLine) return fail("header line too long");
    if (line.find('\r') != std::string_view::npos) return fail("bare CR in headers");
    pos_ += end + 1;
    // Seen here rather than on the next line so that the folded header is named as the problem, not
    // the half of it that happens to be malformed on its own.
    if (!line.empty() && pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      return fail("folded header line");
    return true;
  }

  bool checkCharacters(std::string_view line, bool allowTab) {
    if (line.front() == ' ' || line.front() == '\t') return fail("folded header line");
    for (std::size_t i = 0; i < line.size();) {
      auto c = static_cast<unsigned char>(line[i]);
      if (c == 0) return fail("NUL in header");
      if ((c < 0x20 && !(allowTab && c == '\t')) || c == 0x7f) return fail("control character in header");
      std::size_t n = utf8Length(line, i);
      if (n == 0) return fail("header not UTF-8");
      i += n;
    }
    return true;
  }

  bool messageHeader(std::string_view line) {
    if (!checkCharacters(line, false)) return false;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail("header without colon");
    std::string_view fullName = line.substr(0, colon);
    std::size_t dot = fullName.find('.');
    std::string_view prefix = dot == std::string_view::npos ? std::string_view() : fullName.substr(0, dot);
    std::string_view name = dot == std::string_view::npos ? fullName : fullName.substr(dot + 1);
    if ((dot != std::string_view::npos && !isName(prefix)) || !isName(name)) return fail("bad header name");
    std::string_view rest = line.substr(colon + 1);
    ParamScan params = scanParams(rest);
    if (!params.ok) return fail("bad header parameter");
    std::string_view value = rest.substr(params.length);
    // The grammar wants exactly one SP here; a missing one is tolerated since it cannot be misread.
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);

    bool imdn = false;
    if (!prefix.empty()) {
      auto it = msg_.namespaces.find(std::string(prefix));
      if (it == msg_.namespaces.end()) return fail("undeclared namespace prefix");
      imdn = isImdnUri(it->second);
    }
    bool typed =
        prefix.empty() ? isDefaultTyped(name) || name == "Subject" || name == "Require" : imdn && isImdnTyped(name);
    bool paramsAllowed = !typed || (prefix.empty() && name == "Subject" && params.onlyLang);
    if (params.length != 0 && !paramsAllowed) return fail("unexpected header parameter");

    if (prefix.empty() && !typedDefaultHeader(name, value)) return false;
    if (imdn && !typedImdnHeader(name, value)) return false;
    msg_.headers.push_back(
        Header{std::string(prefix), std::string(name), std::string(rest.substr(0, params.length)), std::string(value)});
    return true;
  }

  bool typedDefaultHeader(std::string_view name, std::string_view value) {
    if (name == "NS") return namespaceDeclaration(value);
    if (name == "From" || name == "To") {
      bool from = name == "From";
      bool& seen = from ? seenFrom_ : seenTo_;
      if (seen) return fail(from ? "duplicate From" : "more than one To");
      auto address = parseAddress(value);
      if (!address) return fail(from ? "bad From" : "bad To");
      seen = true;
      (from ? msg_.from : msg_.to) = std::move(address->uri);
      (from ? msg_.fromDisplay : msg_.toDisplay) = std::move(address->display);
      return true;
    }
    if (name == "cc") {
      auto address = parseAddress(value);
      if (!address) return fail("bad cc");
      msg_.cc.push_back(std::move(address->uri));
      return true;
    }
    if (name == "DateTime") {
      if (seenDateTime_) return fail("duplicate DateTime");
      if (!isDateTime(value)) return fail("bad DateTime");
      seenDateTime_ = true;
      msg_.dateTime = std::string(value);
      return true;
    }
    if (name == "Subject") {
      if (!seenSubject_) msg_.subject = std::string(value);
      seenSubject_ = true;
      return true;
    }
    if (name == "Require") return requireHeader(value);
    return true;
  }

  // NS: [ Name-prefix SP ] "<" URI ">"
  bool namespaceDeclaration(std::string_view value) {
    std::string_view prefix;
    std::size_t lt = 0;
    if (value.empty() || value.front() != '<') {
      lt = value.find(' ');
      if (lt == std::string_view::npos) return fail("bad NS");
      prefix = value.substr(0, lt++);
      if (!isName(prefix)) return fail("bad NS");
    }
    if (value.size() - lt < 2 || value[lt] != '<' || value.back() != '>') return fail("bad NS");
    std::string_view uri = value.substr(lt + 1, value.size() - lt - 2);
    if (!isAbsoluteUri(uri)) return fail("bad NS URI");
    bool cpimHeaders = iequals(uri, kCpimHeadersNamespace);
    // Unprefixed headers are interpreted as RFC 3862 headers; moving them to another namespace, or
    // giving RFC 3862 headers a second spelling through a prefix, would let one message be read two ways.
    if (prefix.empty() != cpimHeaders) return fail("unsupported namespace declaration");
    if (!msg_.namespaces.emplace(std::string(prefix), std::string(uri)).second) return fail("duplicate NS prefix");
    return true;
  }

  // Require: Header-name *( "," Header-name ). Everything we act on is understood; anything else must
  // be refused (RFC 3862 section 3.5).
  bool requireHeader(std::string_view value) {
    if (value.empty()) return fail("bad Require");
    for (std::size_t start = 0; start <= value.size();) {
      std::size_t comma = std::min(value.find(',', start), value.size());
      std::string_view item = value.substr(start, comma - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      std::size_t dot = item.find('.');
      std::string_view prefix = dot == std::string_view::npos ? std::string_view() : item.substr(0, dot);
      std::string_view name = dot == std::string_view::npos ? item : item.substr(dot + 1);
      if ((dot != std::string_view::npos && !isName(prefix)) || !isName(name)) return fail("bad Require");
      bool understood = false;
      if (prefix.empty()) {
        understood = isDefaultTyped(name) || name == "Subject" || name == "Require";
      } else {
        auto it = msg_.namespaces.find(std::string(prefix));
        if (it == msg_.namespaces.end()) return fail("undeclared namespace prefix");
        understood = isImdnUri(it->second) && isImdnTyped(name);
      }
      if (!understood) return fail("unsupported required header");
      start = comma + 1;
    }
    return true;
  }

  bool typedImdnHeader(std::string_view name, std::string_view value) {
    if (name == "Message-ID") {
      if (seenMessageId_) return fail("duplicate imdn.Message-ID");
      if (!isToken(value) || value.size() > kMaxMessageIdLength) return fail("bad imdn.Message-ID");
      seenMessageId_ = true;
      msg_.imdnMessageId = std::string(value);
      return true;
    }
    if (name == "Disposition-Notification") {
      if (seenDisposition_) return fail("duplicate imdn.Disposition-Notification");
      seenDisposition_ = true;
      return dispositions(value);
    }
    return true;
  }

  // notify-req *( COMMA notify-req ) (RFC 5438). An empty value asks for nothing. Parameters
  // and extension tokens are refused: we could neither honour nor forward them faithfully.
  bool dispositions(std::string_view value) {
    if (trimWhitespace(value).empty()) return true;
    for (std::size_t start = 0; start <= value.size();) {
      std::size_t comma = std::min(value.find(',', start), value.size());
      std::string_view item = trimWhitespace(value.substr(start, comma - start));
      if (item.find(';') != std::string_view::npos) return fail("unsupported Disposition-Notification parameter");
      auto known = std::find_if(std::begin(kDispositions), std::end(kDispositions),
                                [&](std::string_view d) { return iequals(d, item); });
      if (known == std::end(kDispositions)) return fail("unknown Disposition-Notification value");
      auto& list = msg_.dispositionNotification;
      if (std::find(list.begin(), list.end(), *known) != list.end())
        return fail("duplicate Disposition-Notification value");
      list.emplace_back(*known);
      start = comma + 1;
    }
    return true;
  }

  bool contentHeader(std::string_view line) {
    if (!checkCharacters(line, true)) return false;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail("header without colon");
    std::string_view name = line.substr(0, colon);
    // RFC 5322 field-name: printable ASCII except ':'; a space before the colon is not allowed.
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
      return fail("bad content header name");
    std::string_view value = trimWhitespace(line.substr(colon + 1));
    if (iequals(name, "Content-Type")) {
      if (seenContentType_) return fail("duplicate Content-Type");
      if (!isMediaType(value)) return fail("bad Content-Type");
      seenContentType_ = true;
      msg_.contentType = std::string(value);
    } else if (iequals(name, "Content-Length")) {
      if (seenContentLength_) return fail("duplicate Content-Length");
      // No leading zeros: some readers take them for octal, and two spellings of one length is one too many.
      if (value.empty() || value.size() > 18 || (value.size() > 1 && value[0] == '0') ||
          !std::all_of(value.begin(), value.end(), isDigit))
        return fail("bad Content-Length");
      seenContentLength_ = true;
      contentLength_ = 0;
      for (char c : value) contentLength_ = contentLength_ * 10 + static_cast<std::size_t>(c - '0');
    }
    msg_.contentHeaders.emplace_back(std::string(name), std::string(value));
    return true;
  }

  std::string_view text_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::size_t headerCount_ = 0;
  const char* reason_ = "";
  Message msg_;
  bool seenFrom_ = false, seenTo_ = false, seenDateTime_ = false, seenSubject_ = false;
  bool seenMessageId_ = false, seenDisposition_ = false;
  bool seenContentType_ = false, seenContentLength_ = false;
  std::size_t contentLength_ = 0;
};

std::string quotedDisplay(std::string_view display) {
  std::string out = "\"";
  for (char c : display) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\" ";
  return out;
}

std::string addressValue(std::string_view display, std::string_view uri) {
  std::string out = display.empty() ? std::string() : quotedDisplay(display);
  out += '<';
  out += uri;
  out += '>';
  return out;
}

}  // namespace

bool isToken(std::string_view s) {
  return !s.empty() && isUtf8(s) && std::all_of(s.begin(), s.end(), isTokenByte);
}

bool isAbsoluteUri(std::string_view s) {
  if (s.empty() || !isAlpha(s[0])) return false;
  std::size_t i = 1;
  while (i < s.size() && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')) ++i;
  if (i + 1 >= s.size() || s[i] != ':') return false;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (s.size() - i < 3 || !isHexDigit(s[i + 1]) || !isHexDigit(s[i + 2])) return false;
      i += 2;
    } else if (!isUriChar(s[i])) {
      return false;
    }
  }
  return true;
}

bool isDateTime(std::string_view s) {
  if (s.size() < 20 || s.size() > kMaxDateTimeLength) return false;
  auto number = [&](std::size_t at, std::size_t digits, int& out) {
    out = 0;
    for (std::size_t k = at; k < at + digits; ++k) {
      if (k >= s.size() || !isDigit(s[k])) return false;
      out = out * 10 + (s[k] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!number(0, 4, year) || s[4] != '-' || !number(5, 2, month) || s[7] != '-' || !number(8, 2, day) ||
      (s[10] != 'T' && s[10] != 't') || !number(11, 2, hour) || s[13] != ':' || !number(14, 2, minute) ||
      s[16] != ':' || !number(17, 2, second))
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return false;
  } else if (s[i] == '+' || s[i] == '-') {
    int offsetHour, offsetMinute;
    if (s.size() - i != 6 || !number(i + 1, 2, offsetHour) || s[i + 3] != ':' || !number(i + 4, 2, offsetMinute) ||
        offsetHour > 23 || offsetMinute > 59)
      return false;
  } else {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

std::optional<Message> parse(std::string_view text, std::string* error, const Limits& limits) {
  return Parser(text, limits).run(error);
}

bool equivalent(const Message& a, const Message& b) {
  if (a.from != b.from || a.to != b.to || a.fromDisplay != b.fromDisplay || a.toDisplay != b.toDisplay ||
      a.cc != b.cc || a.dateTime != b.dateTime || a.subject != b.subject || a.namespaces != b.namespaces ||
      a.imdnMessageId != b.imdnMessageId || a.dispositionNotification != b.dispositionNotification ||
      a.contentType != b.contentType || a.contentHeaders != b.contentHeaders || a.body != b.body)
    return false;
  const Header* subjectA = firstSubject(a);
  const Header* subjectB = firstSubject(b);
  if ((subjectA ? subjectA->params : "") != (subjectB ? subjectB->params : "")) return false;
  auto otherA = otherHeaders(a), otherB = otherHeaders(b);
  return std::equal(otherA.begin(), otherA.end(), otherB.begin(), otherB.end(),
                    [](const Header* x, const Header* y) { return *x == *y; });
}

std::string serialize(const Message& m) {
  // What parse() has to give back: m with the namespace we may add and the content headers we rewrite.
  Message expected = m;
  bool wantImdn = !m.imdnMessageId.empty() || !m.dispositionNotification.empty();
  std::string imdnPrefix;
  for (const auto& [prefix, uri] : m.namespaces) {
    if (!prefix.empty() && isImdnUri(uri)) {
      imdnPrefix = prefix;
      break;
    }
  }
  if (wantImdn && imdnPrefix.empty()) {
    imdnPrefix = "imdn";
    for (int n = 1; expected.namespaces.count(imdnPrefix) != 0; ++n) imdnPrefix = "imdn" + std::to_string(n);
    expected.namespaces.emplace(imdnPrefix, kImdnNamespace);
  }

  std::string out;
  auto line = [&out](std::string_view name, std::string_view params, std::string_view value) {
    out.append(name).append(":").append(params).append(" ").append(value).append("\r\n");
  };
  for (const auto& [prefix, uri] : expected.namespaces)
    line("NS", "", (prefix.empty() ? std::string() : prefix + " ") + "<" + uri + ">");
  line("From", "", addressValue(m.fromDisplay, m.from));
  line("To", "", addressValue(m.toDisplay, m.to));
  for (const std::string& cc : m.cc) line("cc", "", addressValue("", cc));
  if (!m.dateTime.empty()) line("DateTime", "", m.dateTime);
  const Header* subject = firstSubject(m);
  if (!m.subject.empty() || subject) line("Subject", subject ? subject->params : "", m.subject);
  if (!m.imdnMessageId.empty()) line(imdnPrefix + ".Message-ID", "", m.imdnMessageId);
  if (!m.dispositionNotification.empty()) {
    std::string list;
    for (const std::string& d : m.dispositionNotification) list += (list.empty() ? "" : ", ") + d;
    line(imdnPrefix + ".Disposition-Notification", "", list);
  }
  for (const Header* h : otherHeaders(m))
    line(h->prefix.empty() ? h->name : h->prefix + "." + h->name, h->params, h->value);
  out += "\r\n";

  expected.contentHeaders.clear();
  bool typeWritten = false, lengthWritten = false;
  for (const auto& [name, value] : m.contentHeaders) {
    if (iequals(name, "Content-Type")) {
      if (!typeWritten) expected.contentHeaders.emplace_back(name, m.contentType);
      typeWritten = true;
    } else if (iequals(name, "Content-Length")) {
      if (!lengthWritten) expected.contentHeaders.emplace_back(name, std::to_string(m.body.size()));
      lengthWritten = true;
    } else {
      expected.contentHeaders.emplace_back(name, value);
    }
  }
  if (!typeWritten) expected.contentHeaders.insert(expected.contentHeaders.begin(), {"Content-Type", m.contentType});
  for (const auto& [name, value] : expected.contentHeaders) out.append(name).append(": ").append(value).append("\r\n");
  out += "\r\n";
  out += m.body;

  // Reading our own output back is the one check that covers every rule (URI syntax, control
  // characters, undeclared prefixes, ...) without a second copy of the grammar; a message costs a few
  // microseconds. The receiver's limits are its business, so none apply here.
  constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
  auto back = parse(out, nullptr, Limits{kNoLimit, kNoLimit, kNoLimit});
  if (!back || !equivalent(*back, expected)) return {};
  return out;
}

}  // namespace cpmgw::cpim
