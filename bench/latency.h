// Latency percentiles from a set of measured latencies, and the elapsed
// time of a run.
//
// Free functions; any thread.
#ifndef SCOREPIPE_BENCH_LATENCY_H_
#define SCOREPIPE_BENCH_LATENCY_H_

#include <chrono>
#include <cstddef>
#include <vector>

namespace scorepipe {

struct LatencySummary {
  size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Nearest-rank percentiles of `micros` (microseconds; reordered in place).
// All zero when it is empty.
LatencySummary Summarize(std::vector<double>* micros);

// Seconds from `start` to now on the steady clock.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_LATENCY_H_
