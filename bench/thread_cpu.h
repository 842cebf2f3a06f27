// CPU time per thread of a process, for the benchmarks' CPU-per-message figures: less noisy on a shared
// machine than rates, since it does not count the time a thread waits for a core.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>

namespace cpmgw::bench {

// CPU time (user + system) each thread of `pid` has used so far, in seconds, by thread name (threads of
// the same name added up).
inline std::map<std::string, double> threadCpuSeconds(pid_t pid) {
  std::map<std::string, double> cpu;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
      if (i >= 14) ticks += std::stod(f);  // fields 14 and 15: utime, stime
    cpu[stat.substr(open + 1, close - open - 1)] += ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return cpu;
}

}  // namespace cpmgw::bench
