// Bridge: drains the external queue into the cluster.
//
// Takes input messages into a lease (queue/queue.h: taken and recorded in
// flight in one atomic step; one round trip for many messages, a blocking
// wait only while the queue is empty), parses and validates each against the
// upstream transaction schema, and sends the lease as one TransactionBatch to
// the ventilator's intake (PUSH; a full pipe stops the taking: back-pressure
// up to the queue). Messages that fail validation travel in the same batch
// as rejects with their reason, so the sink settles the whole lease at once.
// A batch is sealed when it is full or `linger_ms` after its first message.
//
// The bridge also reclaims leases that stayed in flight longer than
// `queue.inflight_timeout_ms` (their batch was lost with a node that died),
// at start and then periodically, and sends them again as new batches. On a
// stop it sends its open batch or, if the cluster does not take it in time,
// releases the lease so the messages are taken again first.
//
// Run() is called once, on the thread that built the Bridge; it owns its
// sockets and its queue connection.
#ifndef SCOREPIPE_BRIDGE_BRIDGE_H_
#define SCOREPIPE_BRIDGE_BRIDGE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "bridge/bridge_metrics.h"
#include "config/topology.h"
#include "proto/messages.h"
#include "proto/upstream_json.h"
#include "queue/queue.h"
#include "runtime/client_link.h"
#include "runtime/node.h"

namespace scorepipe {

class Bridge {
 public:
  Bridge(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue);
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Connects to the ventilator's intake, as a CURVE client when
  // security.mode is curve (ZeroMQ reconnects by itself when the ventilator
  // is not up yet or restarts). Fails on a bad key file.
  Status Connect();
  // Runs until a stop is requested; then sends or releases what it holds.
  Status Run();

  const BridgeStats& stats() const { return stats_; }
  // Its metrics, for the node's /metrics endpoint (runtime/node_setup.h).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  // Parses the lease's messages from `parsed_` on into the open batch.
  void Ingest();
  // Seals the open batch and sends it; false when it could not be sent
  // before the deadline (or a stop, without one).
  bool SendBatch(std::optional<std::chrono::steady_clock::time_point> deadline);
  // Reclaims one stale lease, if any, and sends it (or gives up on it, past
  // queue.max_deliveries); an error on a queue error.
  Status ReclaimStale();
  // Dead-letters every message of `stale`, a lease handed out more than
  // queue.max_deliveries times, and settles it.
  Status GiveUp(const Lease& stale);
  void StartBatch();
  Status Drain();
  // Brings the metrics up to date (and the queue's depth, every few seconds).
  void UpdateMetrics();

  const QueueConfig queue_config_;
  const BridgeConfig config_;
  std::unique_ptr<Queue> queue_;
  zmq::context_t& context_;
  const std::string intake_endpoint_;
  const SecurityConfig security_config_;
  LinkSecurity security_;             // set by Connect()
  std::optional<ClientLink> intake_;  // made by Connect()
  // Tends the intake link after the queue answered: reports ready once the
  // link is up too, and a refused link in the service status.
  void TendIntake();
  std::string service_status_;  // the last STATUS= line sent
  TransactionParser parser_;
  const uint64_t batch_id_base_;
  uint64_t next_batch_ = 0;

  // The open batch and its lease.
  Lease lease_;
  size_t parsed_ = 0;  // messages of lease_ already in batch_
  TransactionBatch batch_;
  std::chrono::steady_clock::time_point batch_since_;
  std::chrono::steady_clock::time_point next_reclaim_;

  BridgeStats stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  BridgeMetrics metrics_;
  std::chrono::steady_clock::time_point next_metrics_;
  uint64_t metrics_updates_ = 0;
  RateLimitedLog bad_input_log_;
  RateLimitedLog queue_error_log_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_BRIDGE_BRIDGE_H_
