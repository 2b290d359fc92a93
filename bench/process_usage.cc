#include "bench/process_usage.h"

#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace scorepipe {
namespace {

double ClockSeconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

Result<ProcessUsage> ReadProcessUsage(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(base + "/stat");
  std::string stat;
  if (!stat_file || !std::getline(stat_file, stat)) {
    return Status::Error("cannot read " + base + "/stat (process gone?)");
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // fields are counted from after the last ')'. utime and stime are fields
  // 14 and 15 of the whole line, i.e. the 12th and 13th after the comm.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Error("unexpected format of " + base + "/stat");
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12) utime = std::stoull(field);
    if (i == 13) stime = std::stoull(field);
  }
  ProcessUsage usage;
  usage.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));

  std::ifstream status_file(base + "/status");
  if (!status_file) return Status::Error("cannot read " + base + "/status (process gone?)");
  std::string line;
  while (std::getline(status_file, line)) {
    // "VmRSS:     12345 kB"
    auto kilobytes = [&](const char* key) -> int64_t {
      return std::stoll(line.substr(std::char_traits<char>::length(key))) * 1024;
    };
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_bytes = kilobytes("VmRSS:");
    if (line.rfind("VmHWM:", 0) == 0) usage.peak_rss_bytes = kilobytes("VmHWM:");
  }
  return usage;
}

double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }
double ProcessCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace scorepipe
