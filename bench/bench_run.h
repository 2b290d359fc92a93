// `scorepipe-bench`: the whole benchmark in one run. Starts a private
// redis-server, measures the three reference ceilings (redis-move, zmq-raw,
// score-only) and the pipeline (drain on Redis lists and on Redis Streams,
// and paced for latency) on the same Redis, the same synthetic messages and
// the same batch size, prints the table with the ratios and the targets of
// issue 4, and appends one JSON line per run to a file.
//
// Run from the main thread.
#ifndef SCOREPIPE_BENCH_BENCH_RUN_H_
#define SCOREPIPE_BENCH_BENCH_RUN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

struct BenchOptions {
  std::string config_path;        // topology to start from (config/local.yaml)
  std::string bin_dir;            // where scorepipe-<role> are
  std::string json_path;          // JSON lines appended here; empty: none
  size_t transactions = 1000000;  // per drain and ceiling run
  double rate = 20000;            // paced run, transactions per second
  double paced_seconds = 10;      // paced run length
  int workers = 2;
  bool quick = false;                     // CI-sized: 50,000 transactions, 2 s paced, memory 200,000
  size_t memory_transactions = 10000000;  // the memory run
  // Which runs, by name: redis-move, zmq-raw, score-only, drain (lists,
  // CURVE links as every pipeline run), plain (the drain with CURVE and with
  // plain links, alternately, 2 rounds each: the price of CURVE),
  // paced (lists), streams (drain on Redis Streams), memory (lists, long).
  // Empty: all.
  std::vector<std::string> runs;
  bool keep_dir = false;  // keep the work directory (logs)
};

// Returns an error naming the run that failed; the figures measured so far
// are printed either way.
Status RunBench(const BenchOptions& options);

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_BENCH_RUN_H_
