// Configuration: schema declarations, INI loading through Poco::Util and per-type validation.
//
// Case handling: section and key names are matched case-insensitively ("[Admin] Port" sets admin.port). Poco's
// IniFileConfiguration already keeps its keys in a case-insensitive map, so rejecting other spellings would fight the
// library; declarations must be lowercase so that lowercasing a name read from the file is the whole match. Two
// spellings of one key in a file are reported as a duplicate rather than silently collapsed. Values keep their case,
// except that log levels are stored lowercase; Bool words and Size suffixes are case-insensitive, Duration units are
// lowercase only ("5M" could be read as months).
#include "cpmgw/config.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>
#include <system_error>

namespace cpmgw::config {
namespace {

// The blanks Poco::Ascii::isSpace knows, which IniFileConfiguration trims from keys and values.
constexpr char kBlanks[] = " \t\n\v\f\r";
constexpr std::size_t kHelpWidth = 100;

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(kBlanks);
  if (first == std::string::npos) return {};
  auto last = s.find_last_not_of(kBlanks);
  return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quote(const std::string& s) {
  return "\"" + s + "\"";
}

std::string errnoText(int err) {
  return std::generic_category().message(err);
}

// A path or a value set from the command line may hold a line break; escape control characters so that every
// message stays on one line (log lines, systemd status, admin API answers).
std::string oneLine(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

[[noreturn]] void fail(const std::string& message) {
  throw ConfigError(oneLine(message));
}

const char* typeName(Type t) {
  switch (t) {
    case Type::String:
      return "string";
    case Type::Int:
      return "integer";
    case Type::Bool:
      return "boolean";
    case Type::Duration:
      return "duration";
    case Type::Size:
      return "size";
    case Type::Port:
      return "port";
    case Type::Host:
      return "host";
    case Type::Path:
      return "path";
    case Type::ReadableFile:
      return "readable file";
    case Type::LogLevel:
      return "log level";
    case Type::List:
      return "list";
  }
  return "unknown";
}

// --- Number parsing. Each parser returns what is wrong, or "" and sets `out`. ---

enum class IntParse { Ok, Invalid, Overflow };

// Decimal with an optional leading '-'; from_chars takes no '+', blanks or trailing text, and reports overflow.
IntParse parseInt64(const std::string& s, std::int64_t& out) {
  const char* end = s.data() + s.size();
  const auto result = std::from_chars(s.data(), end, out);
  if (result.ec == std::errc::result_out_of_range) return IntParse::Overflow;
  if (result.ec != std::errc() || result.ptr != end) return IntParse::Invalid;
  return IntParse::Ok;
}

std::string parseInt(const std::string& s, std::int64_t& out) {
  if (s.empty()) return "empty value, expected an integer";
  switch (parseInt64(s, out)) {
    case IntParse::Ok:
      return {};
    case IntParse::Overflow:
      return s + " does not fit in a 64-bit integer";
    case IntParse::Invalid:
      break;
  }
  return quote(s) + " is not an integer";
}

struct Unit {
  const char* suffix;
  std::int64_t factor;
};

constexpr Unit kDurationUnits[] = {{"ms", 1},     {"s", 1000},      {"", 1000},
                                   {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
constexpr Unit kSizeUnits[] = {{"", 1},
                               {"k", std::int64_t{1} << 10},
                               {"m", std::int64_t{1} << 20},
                               {"g", std::int64_t{1} << 30},
                               {"t", std::int64_t{1} << 40}};

// "<digits><unit>": no sign (durations and sizes are never negative), no fraction, no blank between.
template <std::size_t N>
std::string parseScaled(const std::string& s, const Unit (&units)[N], bool foldCase, const char* what,
                        const char* examples, std::int64_t& out) {
  if (s.empty()) return std::string("empty value, expected a ") + what + " (e.g. " + examples + ")";
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  std::string suffix = s.substr(digits);
  if (foldCase) suffix = lower(suffix);
  const Unit* unit = nullptr;
  for (const auto& u : units) {
    if (suffix == u.suffix) unit = &u;
  }
  if (digits == 0 || unit == nullptr) return quote(s) + " is not a " + what + " (use e.g. " + examples + ")";
  std::uint64_t n = 0;
  const auto result = std::from_chars(s.data(), s.data() + digits, n);
  if (result.ec != std::errc() || n > static_cast<std::uint64_t>(INT64_MAX / unit->factor)) return s + " is too large";
  out = static_cast<std::int64_t>(n) * unit->factor;
  return {};
}

std::string parseDuration(const std::string& s, std::int64_t& ms) {
  return parseScaled(s, kDurationUnits, false, "duration", "250ms, 30s, 5m, 2h, 1d", ms);
}

std::string parseSize(const std::string& s, std::int64_t& bytes) {
  return parseScaled(s, kSizeUnits, true, "size", "512, 64k, 10M, 2G", bytes);
}

std::string parseBool(const std::string& s, bool& out) {
  const std::string v = lower(s);
  if (v == "true" || v == "yes" || v == "on" || v == "1") {
    out = true;
    return {};
  }
  if (v == "false" || v == "no" || v == "off" || v == "0") {
    out = false;
    return {};
  }
  const char* expected = "expected true/false, yes/no, on/off or 1/0";
  return s.empty() ? std::string("empty value, ") + expected : quote(s) + " is not a boolean (" + expected + ")";
}

// Port bounds are 0..65535 narrowed by the declaration's min/max.
std::int64_t portMin(const KeyDecl& d) {
  return std::max<std::int64_t>(0, d.min);
}
std::int64_t portMax(const KeyDecl& d) {
  return std::min<std::int64_t>(65535, d.max);
}

std::string parsePort(const KeyDecl& d, const std::string& s, std::int64_t& port) {
  if (s.empty()) return "empty value, expected a port number";
  const std::string range = std::to_string(portMin(d)) + ".." + std::to_string(portMax(d));
  switch (parseInt64(s, port)) {
    case IntParse::Ok:
      break;
    case IntParse::Overflow:
      return s + " is out of range " + range;  // as out of range as 70000
    case IntParse::Invalid:
      return quote(s) + " is not a port number";
  }
  if (port < portMin(d) || port > portMax(d)) return s + " is out of range " + range;
  return {};
}

// --- Formatting of bounds and defaults (error messages and dumpDefault). ---

std::string formatDuration(std::int64_t ms) {
  if (ms == 0) return "0s";
  static constexpr Unit kShown[] = {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  for (const auto& u : kShown) {
    if (ms % u.factor == 0) return std::to_string(ms / u.factor) + u.suffix;
  }
  return std::to_string(ms) + "ms";
}

std::string formatSize(std::int64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr Unit kShown[] = {{"T", std::int64_t{1} << 40},
                                    {"G", std::int64_t{1} << 30},
                                    {"M", std::int64_t{1} << 20},
                                    {"k", std::int64_t{1} << 10}};
  for (const auto& u : kShown) {
    if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + u.suffix;
  }
  return std::to_string(bytes);
}

std::string formatBound(Type t, std::int64_t v) {
  if (t == Type::Duration) return formatDuration(v);
  if (t == Type::Size) return formatSize(v);
  return std::to_string(v);
}

// Range text for dumpDefault; empty when the declaration does not narrow the type.
std::string rangeText(const KeyDecl& d) {
  if (d.type == Type::Port) {
    if (portMin(d) == 0 && portMax(d) == 65535) return {};
    return std::to_string(portMin(d)) + ".." + std::to_string(portMax(d));
  }
  if (d.type != Type::Int && d.type != Type::Duration && d.type != Type::Size) return {};
  const bool lo = d.min != INT64_MIN;
  const bool hi = d.max != INT64_MAX;
  if (lo && hi) return formatBound(d.type, d.min) + ".." + formatBound(d.type, d.max);
  if (lo) return ">= " + formatBound(d.type, d.min);
  if (hi) return "<= " + formatBound(d.type, d.max);
  return {};
}

std::string checkRange(const KeyDecl& d, const std::string& raw, std::int64_t v) {
  if (v >= d.min && v <= d.max) return {};
  if (d.min != INT64_MIN && d.max != INT64_MAX)
    return raw + " is out of range " + formatBound(d.type, d.min) + ".." + formatBound(d.type, d.max);
  if (v < d.min) return raw + " is below the minimum " + formatBound(d.type, d.min);
  return raw + " is above the maximum " + formatBound(d.type, d.max);
}

// --- Other types. ---

bool isHostLabel(const std::string& label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

std::string checkHost(const std::string& s) {
  if (s.empty()) return "empty value, expected a host name or IP address";
  if (s == "*") return {};
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1 || inet_pton(AF_INET6, s.c_str(), &v6) == 1) return {};
  if (s.front() == '[') return quote(s) + " is not a valid IP address (write an IPv6 address without brackets)";
  if (s.find(':') != std::string::npos && s.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos)
    return quote(s) + " is not a valid IPv6 address";
  // All digits and dots cannot be a host name (no top-level domain is numeric): a mistyped IPv4 address.
  if (s.find_first_not_of("0123456789.") == std::string::npos) return quote(s) + " is not a valid IPv4 address";
  bool ok = s.size() <= 253;
  std::size_t start = 0;
  while (ok) {
    auto dot = s.find('.', start);
    ok = isHostLabel(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return ok ? std::string() : quote(s) + " is not a valid host name or IP address";
}

std::string checkReadableFile(const std::string& path) {
  if (path.empty()) return {};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "cannot read " + path + ": " + errnoText(errno);
  if (S_ISDIR(st.st_mode)) return "cannot read " + path + ": " + errnoText(EISDIR);
  // A FIFO or device would block or never end when the consumer reads it.
  if (!S_ISREG(st.st_mode)) return "cannot read " + path + ": not a regular file";
  // open() rather than access(): access() checks the real uid, not the one this process reads with.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot read " + path + ": " + errnoText(errno);
  ::close(fd);
  return {};
}

constexpr const char* kLogLevels[] = {"fatal",  "critical",    "error", "warning",
                                      "notice", "information", "debug", "trace"};

std::string checkLogLevel(const std::string& s) {
  const std::string v = lower(s);
  for (const char* level : kLogLevels) {
    if (v == level) return {};
  }
  return (s.empty() ? std::string("empty value") : quote(s) + " is not a log level") +
         ", expected fatal, critical, error, warning, notice, information, debug or trace";
}

// The stored form of a validated value: trimmed; log levels lowercase so consumers can compare them directly.
std::string normalize(const KeyDecl& d, const std::string& value) {
  std::string v = trim(value);
  return d.type == Type::LogLevel ? lower(v) : v;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = trim(s.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

// Declared names are lowercase (see the case handling note at the top) and hold no '.', which separates section
// and name in "section.name".
bool isDeclName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// --- INI structure. ---

std::string readFile(const std::string& path) {
  // Read the file ourselves (once) to report errno exactly, and so that the structure scan and Poco see the same
  // bytes even if the file changes meanwhile or is a pipe (cpmgw -c <(...)). A directory fails read() with EISDIR.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path + ": cannot read: " + errnoText(errno));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail(path + ": cannot read: " + errnoText(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  // Editors on some systems start a UTF-8 file with a byte order mark, which Poco would take as part of a key.
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

struct IniLine {
  bool isSection = false;
  std::string section;  // for a key: the section it sits in ("" before the first [section])
  std::string key;
};

// Mirrors IniFileConfiguration::parseLine (Poco 1.11) token for token, so it sees exactly the sections and keys Poco
// stores, plus what Poco's flat map loses: keys before the first [section] (indistinguishable from section keys once
// their name holds a '.'), sections without keys, and a key given twice (Poco keeps the last silently).
std::vector<IniLine> scanIni(const std::string& text) {
  std::vector<IniLine> lines;
  std::string section;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    while (i < n && isBlank(text[i])) ++i;
    if (i == n) break;
    if (text[i] == ';') {
      while (i < n && text[i] != '\n') ++i;
    } else if (text[i] == '[') {
      const std::size_t start = ++i;
      while (i < n && text[i] != ']' && text[i] != '\n') ++i;
      section = trim(text.substr(start, i - start));
      lines.push_back({true, section, {}});
      if (i < n) ++i;  // Poco consumes the ']'; the rest of the line is read as a new line.
    } else {
      const std::size_t start = i;
      while (i < n && text[i] != '=' && text[i] != '\n') ++i;
      lines.push_back({false, section, trim(text.substr(start, i - start))});
      while (i < n && text[i] != '\n') ++i;  // the value
      if (i < n) ++i;
    }
  }
  return lines;
}

bool hasSection(const Schema& schema, const std::string& section) {
  const auto& keys = schema.keys();
  return std::any_of(keys.begin(), keys.end(), [&](const KeyDecl& d) { return d.section == section; });
}

void checkStructure(const Schema& schema, const std::string& path, const std::string& text) {
  std::set<std::string> seen;
  for (const auto& line : scanIni(text)) {
    const std::string where = path + ": [" + line.section + "]";
    if (line.isSection) {
      if (line.section.empty()) fail(path + ": []: empty section name");
      if (!hasSection(schema, lower(line.section))) fail(where + ": unknown section");
      continue;
    }
    if (line.key.empty()) fail((line.section.empty() ? path : where) + ": line without a key name");
    // Poco reads "# note" as a key named "# note"; say why instead of calling it an unknown key.
    if (line.key.front() == '#') {
      fail((line.section.empty() ? path + ":" : where) + " " + line.key +
           ": '#' does not start a comment here, use ';'");
    }
    if (line.section.empty()) fail(path + ": " + line.key + ": key outside any [section]");
    const KeyDecl* d = schema.find(lower(line.section), lower(line.key));
    if (d == nullptr) fail(where + " " + line.key + ": unknown key");
    if (!seen.insert(d->key()).second) fail(where + " " + line.key + ": duplicate key (each key may be set once)");
  }
}

// Every property Poco stored, as "section.key". keys() lists one level; a name may be both a value and a prefix.
void collectKeys(const Poco::Util::AbstractConfiguration& ini, const std::string& prefix,
                 std::vector<std::string>& out) {
  Poco::Util::AbstractConfiguration::Keys names;
  ini.keys(prefix, names);
  for (const auto& name : names) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (ini.hasProperty(full)) out.push_back(full);
    // keys("") lists "" for a property with an empty name; descending into it would repeat this level forever.
    if (!name.empty()) collectKeys(ini, full, out);
  }
}

}  // namespace

// --- Schema ---

void Schema::add(KeyDecl decl) {
  const std::string where = "config declaration " + decl.key() + ": ";
  if (!isDeclName(decl.section) || !isDeclName(decl.name))
    throw std::logic_error(where + "section and name must be non-empty [a-z0-9_-]");
  if (find(decl.section, decl.name) != nullptr) throw std::logic_error(where + "declared twice");
  if (decl.min > decl.max) throw std::logic_error(where + "min is greater than max");
  // An INI value is trimmed and ends at the line, so such a default could never be written back in a file.
  if (decl.defaultValue != trim(decl.defaultValue) || decl.defaultValue.find_first_of("\r\n") != std::string::npos)
    throw std::logic_error(where + "default has surrounding blanks or a line break");
  const std::string what = validate(decl, decl.defaultValue);
  if (!what.empty()) throw std::logic_error(where + "default does not validate: " + what);
  keys_.push_back(std::move(decl));
}

const KeyDecl* Schema::find(const std::string& section, const std::string& name) const {
  for (const auto& d : keys_) {
    if (d.section == section && d.name == name) return &d;
  }
  return nullptr;
}

namespace {

void appendWrapped(std::string& out, const std::string& text) {
  std::istringstream paragraphs(text);
  std::string paragraph;
  while (std::getline(paragraphs, paragraph)) {
    std::istringstream words(paragraph);
    std::string word;
    std::string line = ";";
    while (words >> word) {
      if (line.size() > 1 && line.size() + 1 + word.size() > kHelpWidth) {
        out += line + "\n";
        line = ";";
      }
      line += " " + word;
    }
    out += line + "\n";
  }
}

}  // namespace

std::string Schema::dumpDefault() const {
  std::string out =
      "; cpmgw configuration: every key at its default value, with what it does above it.\n"
      "; Lines starting with ';' are comments (a ';' after a value is part of the value).\n"
      "; Section and key names are case-insensitive; each key may be set once.\n"
      "; Durations: 250ms, 30s, 5m, 2h, 1d (a bare number is seconds). Sizes: 512, 64k, 10M, 2G, 1T.\n";
  std::vector<std::string> sections;
  for (const auto& d : keys_) {
    if (std::find(sections.begin(), sections.end(), d.section) == sections.end()) sections.push_back(d.section);
  }
  for (const auto& section : sections) {
    out += "\n[" + section + "]\n";
    bool first = true;
    for (const auto& d : keys_) {
      if (d.section != section) continue;
      if (!first) out += "\n";
      first = false;
      if (!d.help.empty()) appendWrapped(out, d.help);
      out += std::string("; type: ") + typeName(d.type);
      if (auto range = rangeText(d); !range.empty()) out += ", range: " + range;
      out += ", default: " + (d.defaultValue.empty() ? std::string("(empty)") : d.defaultValue) + "\n";
      out += d.name + " =" + (d.defaultValue.empty() ? "" : " " + d.defaultValue) + "\n";
    }
  }
  return out;
}

// --- validate ---

std::string validate(const KeyDecl& decl, const std::string& raw) {
  const std::string value = trim(raw);
  std::string what;
  std::int64_t n = 0;
  switch (decl.type) {
    case Type::String:
    case Type::Path:
    case Type::List:
      break;
    case Type::Int:
      what = parseInt(value, n);
      if (what.empty()) what = checkRange(decl, value, n);
      break;
    case Type::Bool: {
      bool b = false;
      what = parseBool(value, b);
      break;
    }
    case Type::Duration:
      what = parseDuration(value, n);
      if (what.empty()) what = checkRange(decl, value, n);
      break;
    case Type::Size:
      what = parseSize(value, n);
      if (what.empty()) what = checkRange(decl, value, n);
      break;
    case Type::Port:
      what = parsePort(decl, value, n);
      break;
    case Type::Host:
      what = checkHost(value);
      break;
    case Type::ReadableFile:
      what = checkReadableFile(value);
      break;
    case Type::LogLevel:
      what = checkLogLevel(value);
      break;
  }
  return oneLine(what);
}

// --- Config ---

Config Config::defaults(const Schema& schema) {
  Config c;
  for (const auto& d : schema.keys()) {
    c.decls_.emplace(d.key(), d);
    c.values_[d.key()] = normalize(d, d.defaultValue);
  }
  return c;
}

Config Config::load(const Schema& schema, const std::string& path) {
  Config c = defaults(schema);
  c.source_ = path;
  const std::string text = readFile(path);
  checkStructure(schema, path, text);

  Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
  try {
    std::istringstream in(text);
    ini = new Poco::Util::IniFileConfiguration(in);
  } catch (const Poco::Exception& e) {
    fail(path + ": " + e.displayText());
  }
  std::vector<std::string> names;
  collectKeys(*ini, "", names);
  for (const auto& full : names) {
    // checkStructure has vetted every name already; these checks hold if Poco's parser and the scan ever diverge.
    const auto dot = full.find('.');
    if (dot == std::string::npos) fail(path + ": " + full + ": key outside any [section]");
    const std::string section = full.substr(0, dot);
    const std::string name = full.substr(dot + 1);
    const KeyDecl* d = schema.find(lower(section), lower(name));
    if (d == nullptr && !hasSection(schema, lower(section))) fail(path + ": [" + section + "]: unknown section");
    if (d == nullptr) fail(path + ": [" + section + "] " + name + ": unknown key");
    // getRawString: getString would expand ${...} references, which are not part of our file format.
    const std::string value = trim(ini->getRawString(full));
    const std::string what = validate(*d, value);
    if (!what.empty()) fail(path + ": [" + d->section + "] " + d->name + ": " + what);
    c.values_[d->key()] = normalize(*d, value);
  }
  return c;
}

void Config::set(const std::string& key, const std::string& value) {
  auto it = decls_.find(lower(trim(key)));
  if (it == decls_.end()) fail(key + ": unknown key");
  const std::string what = validate(it->second, value);
  if (!what.empty()) fail(key + ": " + what);
  values_[it->first] = normalize(it->second, value);
}

const KeyDecl& Config::decl(const std::string& key) const {
  auto it = decls_.find(key);
  if (it == decls_.end()) throw std::logic_error("config key " + key + " is not declared");
  return it->second;
}

namespace {

void requireType(const KeyDecl& d, std::initializer_list<Type> allowed, const char* getter) {
  if (std::find(allowed.begin(), allowed.end(), d.type) == allowed.end())
    throw std::logic_error(std::string(getter) + "(\"" + d.key() + "\") on a key of type " + typeName(d.type));
}

// Stored values were validated on the way in; failing to parse one again is a bug here, not an operator error.
void requireParsed(const KeyDecl& d, const std::string& what) {
  if (!what.empty()) throw std::logic_error("config key " + d.key() + " holds an invalid value: " + what);
}

}  // namespace

std::string Config::getString(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::String, Type::Host, Type::Path, Type::ReadableFile, Type::LogLevel}, "getString");
  return values_.at(key);
}

std::int64_t Config::getInt(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::Int}, "getInt");
  std::int64_t v = 0;
  requireParsed(d, parseInt(values_.at(key), v));
  return v;
}

bool Config::getBool(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::Bool}, "getBool");
  bool v = false;
  requireParsed(d, parseBool(values_.at(key), v));
  return v;
}

std::chrono::milliseconds Config::getDuration(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::Duration}, "getDuration");
  std::int64_t ms = 0;
  requireParsed(d, parseDuration(values_.at(key), ms));
  return std::chrono::milliseconds(ms);
}

std::uint64_t Config::getSize(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::Size}, "getSize");
  std::int64_t bytes = 0;
  requireParsed(d, parseSize(values_.at(key), bytes));
  return static_cast<std::uint64_t>(bytes);
}

std::uint16_t Config::getPort(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::Port}, "getPort");
  std::int64_t port = 0;
  requireParsed(d, parsePort(d, values_.at(key), port));
  return static_cast<std::uint16_t>(port);
}

std::vector<std::string> Config::getList(const std::string& key) const {
  const auto& d = decl(key);
  requireType(d, {Type::List}, "getList");
  return splitList(values_.at(key));
}

}  // namespace cpmgw::config
