// The reference ceilings the pipeline is measured against, each run on the
// same messages and batch size as the pipeline in the same benchmark run, so
// that the pipeline's figures are ratios rather than machine-dependent
// absolutes:
// - redis-move: only moves the messages from the input list to the output
//   list with the pipeline's batching (RPOP count + one LPUSH of the batch per
//   round trip): the ceiling of any design that goes through Redis;
// - zmq-raw: PUSH -> PULL -> PUSH -> PULL of frames of a batch's byte size,
//   no parsing, no scoring (over ipc://, as the local cluster): the
//   transport's ceiling;
// - score-only: feature extraction + model scoring of the same batches in one
//   thread: the model's ceiling.
//
// Free functions, run one at a time from the benchmark's main thread (they
// start threads of their own where a ceiling needs several).
#ifndef SCOREPIPE_BENCH_CEILINGS_H_
#define SCOREPIPE_BENCH_CEILINGS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bench/report.h"
#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "queue/redis_client.h"

namespace scorepipe {

// Loads `messages` into `input` (not timed), then moves them all to `output`
// in batches of `batch_size`; `redis_pid` (0: unknown) adds the server's CPU.
Result<RunFigures> RunRedisMove(const RedisConfig& redis, pid_t redis_pid, const std::string& input,
                                const std::string& output, const std::vector<std::string>& messages,
                                size_t batch_size);

// Sends `transactions` / `batch_size` frames of `frame_bytes` through a
// relay over ipc:// endpoints in `dir`.
Result<RunFigures> RunZmqRaw(const std::string& dir, size_t frame_bytes, size_t transactions,
                             size_t batch_size);

// Scores `transactions` in batches of `batch_size` with the topology's model
// on this thread.
Result<RunFigures> RunScoreOnly(const ModelConfig& model, const std::vector<Transaction>& transactions,
                                size_t batch_size);

// Where runs load their messages before RENAMEing them into the input at
// once, so that the clock starts with a full queue.
inline constexpr const char* kPreloadKey = "scorepipe-bench:preload";

// Loads `messages` into `key` (replacing what it held) the way producers
// push to a queue of `queue`'s kind (Queue::Push: the first message is the
// first taken); for a stream, with `queue`'s consumer group on it, which
// moves with the key when it is renamed.
Status Preload(const QueueConfig& queue, const std::string& key, const std::vector<std::string>& messages);

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_CEILINGS_H_
