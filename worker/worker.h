// Worker: scores transaction batches.
//
// PULLs TransactionBatches from the ventilator (connects; any number of
// workers on any host), turns each batch into the model's feature rows and
// scores it in one model call (Scorer), and PUSHes the ResultBatch to the
// sink. A frame that does not decode is counted and logged at a limited rate,
// never fatal.
//
// Run() is called once, on the thread that built the Worker; the Worker owns
// its sockets and its Scorer.
#ifndef SCOREPIPE_WORKER_WORKER_H_
#define SCOREPIPE_WORKER_WORKER_H_

#include <cstdint>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/node.h"
#include "proto/status.h"
#include "worker/model.h"

namespace scorepipe {

struct WorkerStats {
  uint64_t batches_scored = 0;
  uint64_t transactions_scored = 0;
  uint64_t frames_refused = 0;
};

class Worker {
 public:
  Worker(const Topology& topology, zmq::context_t& context, Scorer scorer, std::string id);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects to the ventilator and the sink (ZeroMQ reconnects by itself
  // when they are not up yet or restart).
  Status Connect();
  // Runs until a stop is requested, then scores what already reached it.
  Status Run();

  const WorkerStats& stats() const { return stats_; }
  const std::string& id() const { return id_; }

 private:
  // Scores one frame and sends the result; false if the result could not be
  // sent before the deadline (or the stop, without one).
  bool Handle(const zmq::message_t& frame, std::optional<std::chrono::steady_clock::time_point> deadline);

  const Topology topology_;
  Scorer scorer_;
  const std::string id_;
  zmq::socket_t from_ventilator_;
  zmq::socket_t to_sink_;
  ResultBatch result_;
  WorkerStats stats_;
  RateLimitedLog refused_log_;
};

// "<host>-<pid>": unique per worker process in a cluster.
std::string DefaultWorkerId();

}  // namespace scorepipe

#endif  // SCOREPIPE_WORKER_WORKER_H_
