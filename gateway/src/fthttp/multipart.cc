#include "fthttp/multipart.h"

#include <string.h>

#include <algorithm>
#include <vector>

namespace cpmgw::fthttp {

namespace {

char lowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lowerAscii(c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lowerAscii(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 8187 ext-value: charset "'" [language] "'" value-chars. nullopt for a charset other than UTF-8 and
// ISO-8859-1 or a bad percent escape.
std::optional<std::string> decodeExtValue(std::string_view v) {
  auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  std::string charset = lowered(v.substr(0, q1));
  if (charset != "utf-8" && charset != "iso-8859-1") return std::nullopt;
  std::string bytes;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%') {
      if (i + 2 >= v.size()) return std::nullopt;
      int hi = hexValue(v[i + 1]), lo = hexValue(v[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      bytes += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      bytes += v[i];
    }
  }
  if (charset == "utf-8") return bytes;
  std::string utf8;  // ISO-8859-1 maps one to one onto U+0000..U+00FF
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      utf8 += ch;
    } else {
      utf8 += static_cast<char>(0xc0 | (c >> 6));
      utf8 += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return utf8;
}

// HTML form submission (and curl since 7.81) percent-encodes '"', CR and LF in file names; nothing else.
std::string decodeFormFileName(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      std::string code = lowered(v.substr(i + 1, 2));
      if (code == "22" || code == "0d" || code == "0a") {
        out += static_cast<char>(hexValue(code[0]) * 16 + hexValue(code[1]));
        i += 2;
        continue;
      }
    }
    out += v[i];
  }
  return out;
}

}  // namespace

std::optional<HeaderValue> parseHeaderValue(std::string_view text) {
  HeaderValue out;
  std::size_t i = text.find(';');
  out.value = lowered(trimmed(text.substr(0, i)));
  if (out.value.empty()) return std::nullopt;
  while (i != std::string_view::npos && i < text.size()) {
    ++i;  // past ';'
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;  // a trailing ';' is tolerated
    std::size_t start = i;
    while (i < text.size() && isTokenChar(text[i])) ++i;
    std::string name = lowered(text.substr(start, i - start));
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (name.empty() || i >= text.size() || text[i] != '=') return std::nullopt;
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        // A backslash escapes only '"' and '\': Windows paths in old browsers' file names keep theirs.
        if (c == '\\' && i < text.size() && (text[i] == '"' || text[i] == '\\')) {
          value += text[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      start = i;
      while (i < text.size() && text[i] != ';' && text[i] != ' ' && text[i] != '\t') ++i;
      value = std::string(text.substr(start, i - start));
    }
    if (name.back() == '*') {
      auto decoded = decodeExtValue(value);
      if (!decoded) return std::nullopt;
      value = *decoded;
    }
    if (out.params.count(name)) return std::nullopt;  // a repeated parameter is ambiguous
    out.params[name] = value;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] != ';') return std::nullopt;
  }
  return out;
}

std::optional<std::string> multipartBoundary(std::string_view contentType) {
  auto v = parseHeaderValue(contentType);
  if (!v || v->value != "multipart/form-data") return std::nullopt;
  auto it = v->params.find("boundary");
  if (it == v->params.end()) return std::nullopt;
  const std::string& b = it->second;
  if (b.empty() || b.size() > 70 || b.back() == ' ') return std::nullopt;
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
    if (!ok) return std::nullopt;
  }
  return b;
}

MultipartParser::MultipartParser(std::string boundary, Handler& handler, MultipartLimits limits)
    : delimiter_("\r\n--" + boundary), handler_(handler), limits_(limits) {
  // The first delimiter may open the body without the CRLF before it: pretend the body starts after one.
  carry_ = "\r\n";
}

void MultipartParser::emit(std::string_view bytes) {
  if (state_ == State::Body && !bytes.empty()) handler_.partData(bytes);
}

void MultipartParser::feed(std::string_view data) {
  while (!data.empty()) {
    std::size_t used = 0;
    switch (state_) {
      case State::Preamble:
      case State::Body:
        used = scan(data);
        break;
      case State::AfterDelimiter:
        used = afterDelimiter(data);
        break;
      case State::Headers:
        used = headers(data);
        break;
      case State::Epilogue:
        return;
    }
    data.remove_prefix(used);
  }
}

std::size_t MultipartParser::scan(std::string_view data) {
  const std::size_t d = delimiter_.size();
  auto foundDelimiter = [this] {
    if (state_ == State::Body) handler_.partEnd();
    state_ = State::AfterDelimiter;
    after_.clear();
  };
  // The longest tail of `s` that could be the start of a delimiter.
  auto partialTail = [this, d](std::string_view s) -> std::size_t {
    std::size_t from = s.size() > d - 1 ? s.size() - (d - 1) : 0;
    for (std::size_t j = from; j < s.size(); ++j) {
      if (s[j] != '\r') continue;
      std::size_t k = s.size() - j;
      if (s.substr(j) == std::string_view(delimiter_).substr(0, k)) return k;
    }
    return 0;
  };
  if (!carry_.empty()) {
    const std::size_t c = carry_.size();
    std::string joined = carry_;
    joined.append(data.substr(0, std::min(data.size(), d - 1)));
    auto pos = joined.find(delimiter_);
    if (pos != std::string::npos && pos < c) {
      std::string held = std::move(carry_);
      carry_.clear();
      emit(std::string_view(held).substr(0, pos));
      foundDelimiter();
      return pos + d - c;
    }
    if (data.size() < d - 1) {
      // Too few bytes to decide: hold back whatever may still begin a delimiter.
      std::size_t keep = partialTail(joined);
      carry_.clear();
      emit(std::string_view(joined).substr(0, joined.size() - keep));
      carry_ = joined.substr(joined.size() - keep);
      return data.size();
    }
    // No delimiter starts inside the held bytes: they are body.
    std::string held = std::move(carry_);
    carry_.clear();
    emit(held);
  }
  const void* hit = memmem(data.data(), data.size(), delimiter_.data(), d);
  if (hit) {
    auto pos = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
    emit(data.substr(0, pos));
    foundDelimiter();
    return pos + d;
  }
  std::size_t keep = partialTail(data);
  emit(data.substr(0, data.size() - keep));
  carry_.assign(data.substr(data.size() - keep));
  return data.size();
}

std::size_t MultipartParser::afterDelimiter(std::string_view data) {
  std::size_t used = 0;
  while (used < data.size()) {
    char c = data[used++];
    after_ += c;
    if (after_[0] == '-') {
      if (after_.size() == 1) continue;
      if (after_ != "--") throw MultipartError("malformed delimiter line");
      state_ = State::Epilogue;
      return used;
    }
    if (c == '\n') {
      if (after_.size() < 2 || after_[after_.size() - 2] != '\r') throw MultipartError("malformed delimiter line");
      state_ = State::Headers;
      header_.clear();
      if (++parts_ > limits_.maxParts) throw MultipartError("too many parts");
      return used;
    }
    // Transport padding (blanks) may precede the CRLF; nothing may follow the CR but the LF.
    bool padding = c == ' ' || c == '\t';
    if (!padding && c != '\r') throw MultipartError("malformed delimiter line");
    if (after_.size() > 1 && after_[after_.size() - 2] == '\r') throw MultipartError("malformed delimiter line");
    if (after_.size() > 64) throw MultipartError("malformed delimiter line");
  }
  return used;
}

std::size_t MultipartParser::headers(std::string_view data) {
  std::size_t used = 0;
  while (used < data.size()) {
    header_ += data[used++];
    if (header_.size() > limits_.maxHeaderBytes) throw MultipartError("part headers too large");
    bool end = header_ == "\r\n" || (header_.size() >= 4 && header_.compare(header_.size() - 4, 4, "\r\n\r\n") == 0);
    if (end) {
      beginPart();
      return used;
    }
  }
  return used;
}

void MultipartParser::beginPart() {
  PartHeaders part;
  bool disposition = false;
  std::string_view block(header_);
  block.remove_suffix(2);  // the empty line
  while (!block.empty()) {
    auto eol = block.find("\r\n");
    if (eol == std::string_view::npos) throw MultipartError("malformed part header");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.empty() || line[0] == ' ' || line[0] == '\t') throw MultipartError("malformed part header");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) throw MultipartError("malformed part header");
    std::string name = lowered(line.substr(0, colon));
    for (char c : name)
      if (!isTokenChar(c)) throw MultipartError("malformed part header");
    std::string_view value = trimmed(line.substr(colon + 1));
    for (char c : value)
      if (c == '\r' || c == '\n' || c == '\0') throw MultipartError("malformed part header");
    if (name == "content-disposition") {
      auto v = parseHeaderValue(value);
      if (disposition || !v || v->value != "form-data" || !v->params.count("name"))
        throw MultipartError("a part needs Content-Disposition: form-data with a name");
      disposition = true;
      part.name = v->params["name"];
      if (auto it = v->params.find("filename*"); it != v->params.end()) {
        part.fileName = it->second;
      } else if (auto plain = v->params.find("filename"); plain != v->params.end()) {
        part.fileName = decodeFormFileName(plain->second);
      }
    } else if (name == "content-type") {
      part.contentType = std::string(value);
    } else if (name == "content-length") {
      if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos)
        throw MultipartError("malformed part Content-Length");
      part.contentLength = std::stoull(std::string(value));
    }
  }
  if (!disposition) throw MultipartError("a part needs Content-Disposition: form-data with a name");
  header_.clear();
  state_ = State::Body;
  handler_.partBegin(part);
}

}  // namespace cpmgw::fthttp
