#include "runtime/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "proto/build_info.h"
#include "runtime/curve.h"

namespace scorepipe {
namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family = Family(std::move(name), std::move(help), type);
  prometheus::ClientMetric m;
  (type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value) = value;
  family.metric.push_back(std::move(m));
  return family;
}

double CpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// /proc/self/statm: total and resident pages.
void MemoryBytes(double* virtual_bytes, double* resident_bytes) {
  std::ifstream statm("/proc/self/statm");
  double pages = 0;
  double resident = 0;
  statm >> pages >> resident;
  const auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  *virtual_bytes = pages * page;
  *resident_bytes = resident * page;
}

double OpenFds() {
  std::error_code error;
  double count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count > 0 ? count - 1 : 0;  // less the descriptor that reads the folder
}

double MaxFds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

// Field 22 of /proc/self/stat (clock ticks after boot) plus the boot time of
// /proc/stat's btime, in seconds since the epoch.
double StartTimeSeconds() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t after_name = stat.rfind(')');  // the name may hold spaces and parentheses
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  double boot = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return boot + std::stod(field.empty() ? "0" : field) / ticks;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  families.push_back(Single("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                            MetricType::Counter, CpuSeconds()));
  double virtual_bytes = 0;
  double resident_bytes = 0;
  MemoryBytes(&virtual_bytes, &resident_bytes);
  families.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                            MetricType::Gauge, resident_bytes));
  families.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                            MetricType::Gauge, virtual_bytes));
  families.push_back(
      Single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, OpenFds()));
  families.push_back(
      Single("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, MaxFds()));
  static const double start_time = StartTimeSeconds();
  families.push_back(Single("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                            start_time));

  prometheus::MetricFamily build =
      Family("scorepipe_build_info", "Always 1; the labels say which build of scorepipe this node runs.",
             MetricType::Gauge);
  prometheus::ClientMetric info;
  const BuildInfo& b = ThisBuild();
  info.label = {{"build_type", std::string(b.build_type)},
                {"commit", std::string(b.commit)},
                {"version", std::string(b.version)}};
  info.gauge.value = 1;
  build.metric.push_back(std::move(info));
  families.push_back(std::move(build));

  prometheus::MetricFamily refused = Family(
      "scorepipe_curve_refused_total",
      "CURVE connections refused, by side (server: this node refused a client; client: a server refused this "
      "node) and reason.",
      MetricType::Counter);
  for (size_t i = 0; i < kCurveRefusalKinds; ++i) {
    const auto kind = static_cast<CurveRefusal>(i);
    const CurveRefusalLabels labels = LabelsOf(kind);
    prometheus::ClientMetric m;
    m.label = {{"reason", std::string(labels.reason)}, {"side", std::string(labels.side)}};
    m.counter.value = static_cast<double>(CurveRefusals(kind));
    refused.metric.push_back(std::move(m));
  }
  families.push_back(std::move(refused));
  return families;
}

}  // namespace scorepipe
