// The benchmark's figures and how they are shown: one row per run in a
// table (throughput, ratio to the Redis ceiling, latency percentiles, CPU
// seconds per million transactions, peak memory), a per-node breakdown, and
// one machine-readable JSON line per run.
//
// Plain data and free functions; any thread.
#ifndef SCOREPIPE_BENCH_REPORT_H_
#define SCOREPIPE_BENCH_REPORT_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/latency.h"
#include "bench/redis_stats.h"

namespace scorepipe {

// One process (or thread, for in-process ceilings) of a run.
struct NodeFigures {
  std::string name;            // "bridge", "worker-1", "redis-server", "bench (this process)"
  double cpu_seconds = 0;      // spent during the run
  int64_t peak_rss_bytes = 0;  // highest resident memory of its life so far
  int64_t rss_bytes = 0;       // resident at the end of the run
  int64_t warm_rss_bytes = 0;  // resident after the warm-up (memory run only, else 0)
};

struct RunFigures {
  std::string name;      // "redis-move", "zmq-raw", "score-only", "pipeline drain", ...
  std::string detail;    // how it ran: "redis-list, 2 workers, batches of 512"
  bool ceiling = false;  // a reference ceiling, not the pipeline
  size_t transactions = 0;
  double seconds = 0;
  std::optional<LatencySummary> latency;
  std::vector<NodeFigures> nodes;
  // What Redis spent by command during the run (empty when not measured).
  std::vector<RedisCommandStat> redis_commands;

  double TransactionsPerSecond() const;
  // CPU seconds of every node together per million transactions.
  double CpuSecondsPerMillion() const;
  int64_t PeakRssBytes() const;  // of the largest node
};

// The summary table; `reference_tps` (redis-move's throughput, 0 if not
// measured) gives the "vs redis-move" column.
std::string FormatTable(const std::vector<RunFigures>& runs, double reference_tps);
// The per-node breakdown of one run, and Redis' time by command (the
// costliest few) when measured.
std::string FormatNodes(const RunFigures& run);
// Whether every scorepipe node's memory (not redis-server's, which holds
// the backlog) stayed flat after the warm-up: it grew by at
// most `tolerance` (a fraction) or 2 MiB, whichever is more; `why` names
// the nodes that grew.
bool MemoryFlat(const RunFigures& run, double tolerance, std::string* why);
// How the benchmark ran, carried by each of its JSON lines.
struct JsonLineContext {
  bool quick = false;     // --quick: the CI-sized runs
  size_t batch_size = 0;  // bridge.batch_size
  int workers = 0;
  int64_t unix_time = 0;  // when the lines were written, Unix seconds
};

// One JSON object on one line, with the ratio to `reference_tps` (when > 0)
// and the `context` (when given) merged in.
std::string JsonLine(const RunFigures& run, double reference_tps,
                     const std::optional<JsonLineContext>& context);

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_REPORT_H_
