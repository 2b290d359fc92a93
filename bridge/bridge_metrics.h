// The bridge's Prometheus metrics (scorepipe_bridge_*, scorepipe_queue_*):
// what it took, sent, rejected by reason, reclaimed, released and given up
// as poison (past queue.max_deliveries), queue
// errors, and the queue's backlog (messages waiting, messages in flight).
// The counters follow the bridge's own BridgeStats; the backlog gauges are
// set from Queue::Depth().
//
// Owned by the Bridge; updated from its thread, read by the metrics
// endpoint's threads (prometheus metrics are thread-safe).
#ifndef SCOREPIPE_BRIDGE_BRIDGE_METRICS_H_
#define SCOREPIPE_BRIDGE_BRIDGE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>

#include "proto/upstream_json.h"
#include "queue/queue.h"

namespace scorepipe {

struct BridgeStats {
  uint64_t messages_taken = 0;
  uint64_t transactions_sent = 0;
  uint64_t batches_sent = 0;
  uint64_t rejected = 0;  // messages sent as rejects (to be dead-lettered)
  std::array<uint64_t, kRejectReasons> rejected_by_reason{};  // by RejectReason
  uint64_t reclaimed = 0;                                     // messages of stale leases sent again
  uint64_t released = 0;                                      // messages handed back to the queue at stop
  uint64_t poisoned = 0;      // messages dead-lettered after queue.max_deliveries
  uint64_t queue_errors = 0;  // failed queue calls (each retried)
};

class BridgeMetrics {
 public:
  explicit BridgeMetrics(prometheus::Registry& registry);
  BridgeMetrics(const BridgeMetrics&) = delete;
  BridgeMetrics& operator=(const BridgeMetrics&) = delete;

  void Update(const BridgeStats& stats);
  void SetDepth(const QueueDepth& depth);

 private:
  prometheus::Counter& taken_;
  prometheus::Counter& sent_;
  prometheus::Counter& batches_;
  std::array<prometheus::Counter*, kRejectReasons> rejected_{};
  prometheus::Counter& reclaimed_;
  prometheus::Counter& released_;
  prometheus::Counter& poisoned_;
  prometheus::Counter& queue_errors_;
  prometheus::Gauge& waiting_;
  prometheus::Gauge& in_flight_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_BRIDGE_BRIDGE_METRICS_H_
