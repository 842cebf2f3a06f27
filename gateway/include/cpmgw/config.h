// Configuration: a schema of declared keys, and a validated view of one INI file.
//
// Every key is declared once, beside the module that reads it, with its type, default and help text
// (see declare*Config functions). Loading rejects unknown keys, wrong types, out-of-range values and
// unreadable files with one line naming the file, the key and what is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpmgw::config {

enum class Type {
  String,        // any text
  Int,           // integer within [min, max]
  Bool,          // true/false, yes/no, on/off, 1/0
  Duration,      // 250ms, 30s, 5m, 2h, 1d; a bare integer means seconds
  Size,          // 512, 64k, 10M, 2G (powers of 1024); a bare integer means bytes
  Port,          // 0..65535 (0 = pick a free port)
  Host,          // an IP address or host name to bind/connect
  Path,          // a file system path (not checked for existence)
  ReadableFile,  // empty, or a path to a file this process can read (certificates, keys, token files)
  LogLevel,      // fatal, critical, error, warning, notice, information, debug, trace
  List,          // comma-separated values, blanks trimmed, empty entries dropped
};

struct KeyDecl {
  std::string section;
  std::string name;
  Type type = Type::String;
  std::string defaultValue;
  std::string help;
  std::int64_t min = INT64_MIN;  // Int (and Size/Duration in their base unit) bounds
  std::int64_t max = INT64_MAX;
  std::string key() const { return section + "." + name; }
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Schema {
 public:
  // Throws std::logic_error on a duplicate declaration or a default that does not validate.
  void add(KeyDecl decl);
  const KeyDecl* find(const std::string& section, const std::string& name) const;
  const std::vector<KeyDecl>& keys() const { return keys_; }
  // A commented INI file with every section and key at its default, help text above each key.
  std::string dumpDefault() const;

 private:
  std::vector<KeyDecl> keys_;
};

// Validated configuration values. Getters take "section.name" and throw std::logic_error for an
// undeclared key or the wrong getter for its type (a programming error, not an operator error).
class Config {
 public:
  // Reads and validates an INI file (Poco::Util::IniFileConfiguration). Throws ConfigError with a
  // single-line message "FILE: [section] key: what is wrong".
  static Config load(const Schema& schema, const std::string& path);
  // Every key at its default; values may be overridden (tests, command line).
  static Config defaults(const Schema& schema);
  // Set one value as if read from a file (validated the same way; throws ConfigError).
  void set(const std::string& key, const std::string& value);

  std::string getString(const std::string& key) const;  // String, Host, Path, ReadableFile, LogLevel
  std::int64_t getInt(const std::string& key) const;
  bool getBool(const std::string& key) const;
  std::chrono::milliseconds getDuration(const std::string& key) const;
  std::uint64_t getSize(const std::string& key) const;
  std::uint16_t getPort(const std::string& key) const;
  std::vector<std::string> getList(const std::string& key) const;

  const std::string& sourcePath() const { return source_; }

 private:
  const KeyDecl& decl(const std::string& key) const;
  std::map<std::string, KeyDecl> decls_;  // copied from the schema: a Config outlives it safely
  std::string source_;
  std::map<std::string, std::string> values_;  // "section.name" -> raw validated text
};

// Validates one raw value against its declaration; returns an empty string when valid, otherwise what is wrong
// (e.g. "70000 is out of range 0..65535").
std::string validate(const KeyDecl& decl, const std::string& value);

}  // namespace cpmgw::config
