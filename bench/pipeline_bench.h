// PipelineBench: the whole scorepipe pipeline as users run it (bridge,
// ventilator, sink and workers as separate processes, on a private Redis),
// measured two ways:
// - Drain: N messages already waiting in the input queue (loaded under
//   another key, then RENAMEd into place at once, so the clock starts with a
//   full queue); the time until all N results are in the output queue.
// - Paced: a producer pushes at a fixed rate, recording when it pushed each
//   transaction; a reader takes the results out of the output queue as they
//   arrive (blocking pops, no busy polling). Latency = arrival of the result
//   in Redis minus enqueue, per transaction, from the results themselves (by
//   their transaction_id).
// Each run reports the CPU seconds and memory of every node and of
// redis-server, from /proc.
//
// Owned and used by one thread (the paced run starts two threads of its own).
#ifndef SCOREPIPE_BENCH_PIPELINE_BENCH_H_
#define SCOREPIPE_BENCH_PIPELINE_BENCH_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/report.h"
#include "config/topology.h"
#include "local_cluster/child_process.h"
#include "proto/status.h"
#include "queue/redis_client.h"

namespace scorepipe {

// Called about once a second while a run waits: results so far, of `total`.
using BenchProgress = std::function<void(size_t done, size_t total, double seconds)>;

class PipelineBench {
 public:
  // Writes `topology` (already private to this machine: its Redis at
  // `redis_pid`, ipc:// endpoints) to `dir`/topology-<kind>.yaml, starts
  // every node from `bin_dir` with logs in `dir`/logs, and waits until one
  // transaction has come through.
  static Result<std::unique_ptr<PipelineBench>> Start(const Topology& topology, pid_t redis_pid,
                                                      const std::string& bin_dir, const std::string& dir);
  ~PipelineBench();  // stops the nodes still running
  PipelineBench(const PipelineBench&) = delete;
  PipelineBench& operator=(const PipelineBench&) = delete;

  Result<RunFigures> Drain(const std::vector<std::string>& messages, const BenchProgress& progress);
  // `messages` pushed at `rate` per second (their ids must be 1..N in order);
  // latencies of the first `warmup` transactions are left out.
  Result<RunFigures> Paced(const std::vector<std::string>& messages, double rate, size_t warmup,
                           const BenchProgress& progress);
  // A long run for memory: `total` transactions (`messages` over and over,
  // the input backlog kept below a bound, the results taken out of Redis as
  // they come), the resident memory of every node read after the first tenth
  // (warm-up) and at the end.
  Result<RunFigures> Memory(const std::vector<std::string>& messages, size_t total,
                            const BenchProgress& progress);
  // Stops every node (SIGTERM, in pipeline order); fails if one does not exit 0.
  Status Stop();

 private:
  struct Node {
    std::string name;
    ChildProcess process;
  };
  PipelineBench(Topology topology, pid_t redis_pid, std::string dir);

  // Output + dead-letter entries so far.
  Result<long long> Outputs();
  Status ClearOutputs();
  // CPU and memory of every node and redis-server now.
  Result<std::vector<NodeFigures>> Usage();
  // `after` minus `before`'s CPU, `after`'s memory.
  static std::vector<NodeFigures> Spent(const std::vector<NodeFigures>& before,
                                        const std::vector<NodeFigures>& after);
  std::string Describe() const;

  const Topology topology_;
  const pid_t redis_pid_;
  const std::string dir_;
  RedisClient redis_;
  std::vector<Node> nodes_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_PIPELINE_BENCH_H_
