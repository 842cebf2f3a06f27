// Whole configuration files against the full schema: load() accepts or throws ConfigError with one line.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cpmgw/config.h"
#include "runtime/application.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const cpmgw::config::Schema schema = cpmgw::fullSchema();
  static const std::string path = "/tmp/cpmgw-fuzz-config-" + std::to_string(getpid()) + ".ini";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    auto config = cpmgw::config::Config::load(schema, path);
    (void)config.getPort("admin.port");
  } catch (const cpmgw::config::ConfigError& e) {
    std::string message = e.what();
    if (message.find('\n') != std::string::npos) __builtin_trap();  // errors are one line
  }
  return 0;
}
