// Bridge: drains the external queue into the cluster.
//
// Takes input messages in batches (one round trip for many; a blocking wait
// only while the queue is empty), parses and validates each against the
// upstream transaction schema, sends valid ones as TransactionBatches to the
// ventilator's intake (PUSH; a full pipe stops the taking: back-pressure up
// to Redis) and routes invalid ones to the dead-letter queue with the reason
// and the original text. One bad message never stops it.
//
// Run() is called once, on the thread that built the Bridge; it owns its
// sockets and its queue connection.
#ifndef SCOREPIPE_BRIDGE_BRIDGE_H_
#define SCOREPIPE_BRIDGE_BRIDGE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "bridge/queue.h"
#include "config/topology.h"
#include "proto/messages.h"
#include "proto/node.h"
#include "proto/upstream_json.h"

namespace scorepipe {

struct BridgeStats {
  uint64_t messages_taken = 0;
  uint64_t transactions_sent = 0;
  uint64_t batches_sent = 0;
  uint64_t dead_lettered = 0;
  uint64_t given_back = 0;  // handed back to the queue at stop
};

class Bridge {
 public:
  Bridge(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue);
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Connects to the ventilator's intake (ZeroMQ reconnects by itself when the
  // ventilator is not up yet or restarts).
  Status Connect();
  // Runs until a stop is requested; then sends or gives back what it holds.
  Status Run();

  const BridgeStats& stats() const { return stats_; }

 private:
  void Ingest(std::vector<std::string>& messages);
  Status FlushDeadLetters();
  bool SendBatch(std::optional<std::chrono::steady_clock::time_point> deadline);
  Status Drain();

  const BridgeConfig config_;
  std::unique_ptr<Queue> queue_;
  zmq::socket_t intake_;
  const std::string intake_endpoint_;
  TransactionParser parser_;
  const uint64_t batch_id_base_;
  uint64_t next_batch_ = 0;

  // The batch being filled, with the original messages for a give-back.
  TransactionBatch pending_;
  std::vector<std::string> pending_raw_;
  std::chrono::steady_clock::time_point pending_since_;
  std::vector<std::string> dead_letters_;

  BridgeStats stats_;
  RateLimitedLog bad_input_log_;
  RateLimitedLog queue_error_log_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_BRIDGE_BRIDGE_H_
