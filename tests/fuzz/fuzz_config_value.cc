// Every configuration value type against arbitrary text: validate() must answer, never crash, and a
// value it accepts must be readable through the matching getter.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cpmgw/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpmgw::config;
  if (size < 1) return 0;
  static constexpr Type kTypes[] = {Type::String, Type::Int,  Type::Bool,         Type::Duration,
                                    Type::Size,   Type::Port, Type::Host,         Type::Path,
                                    Type::List,   Type::LogLevel};
  Type type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  std::string value(reinterpret_cast<const char*>(data + 1), size - 1);
  KeyDecl decl{"fuzz", "key", type, "", "fuzzed"};
  if (type == Type::Int) decl.defaultValue = "0";
  if (type == Type::Bool) decl.defaultValue = "false";
  if (type == Type::Duration) decl.defaultValue = "1s";
  if (type == Type::Size) decl.defaultValue = "1";
  if (type == Type::Port) decl.defaultValue = "0";
  if (type == Type::Host) decl.defaultValue = "localhost";
  if (type == Type::LogLevel) decl.defaultValue = "information";
  if (!validate(decl, value).empty()) return 0;
  Schema schema;
  schema.add(decl);
  auto config = Config::defaults(schema);
  try {
    config.set("fuzz.key", value);
  } catch (const ConfigError&) {
    __builtin_trap();  // validate() said yes, set() must agree
  }
  switch (type) {
    case Type::Int: (void)config.getInt("fuzz.key"); break;
    case Type::Bool: (void)config.getBool("fuzz.key"); break;
    case Type::Duration: (void)config.getDuration("fuzz.key"); break;
    case Type::Size: (void)config.getSize("fuzz.key"); break;
    case Type::Port: (void)config.getPort("fuzz.key"); break;
    case Type::List: (void)config.getList("fuzz.key"); break;
    default: (void)config.getString("fuzz.key"); break;
  }
  return 0;
}
