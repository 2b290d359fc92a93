// What a process (or this thread) costs: CPU seconds and resident memory,
// read from /proc and the CPU-time clocks, so that the benchmark can say how
// many CPU seconds a million transactions take on each node and how much
// memory each node holds.
//
// Free functions; any thread.
#ifndef SCOREPIPE_BENCH_PROCESS_USAGE_H_
#define SCOREPIPE_BENCH_PROCESS_USAGE_H_

#include <sys/types.h>

#include <cstdint>

#include "proto/status.h"

namespace scorepipe {

struct ProcessUsage {
  double cpu_seconds = 0;      // user + system, since the process started
  int64_t rss_bytes = 0;       // resident now (VmRSS)
  int64_t peak_rss_bytes = 0;  // highest resident so far (VmHWM)
};

// Reads /proc/<pid>/stat and /proc/<pid>/status; fails for a process that
// is gone (or not ours to read), saying which.
Result<ProcessUsage> ReadProcessUsage(pid_t pid);

// CPU seconds of the calling thread / of this whole process so far.
double ThreadCpuSeconds();
double ProcessCpuSeconds();

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_PROCESS_USAGE_H_
