#include "bridge/bridge_metrics.h"

#include "runtime/metrics_endpoint.h"

namespace scorepipe {
BridgeMetrics::BridgeMetrics(prometheus::Registry& registry)
    : taken_(AddCounter(registry, "scorepipe_bridge_messages_taken_total",
                        "Messages taken from the input queue")),
      sent_(AddCounter(registry, "scorepipe_bridge_transactions_sent_total",
                       "Valid transactions sent to the ventilator")),
      batches_(AddCounter(registry, "scorepipe_bridge_batches_sent_total", "Batches sent to the ventilator")),
      reclaimed_(AddCounter(registry, "scorepipe_bridge_reclaimed_messages_total",
                            "Messages of stale leases (lost with a node) taken over and sent again")),
      released_(AddCounter(registry, "scorepipe_bridge_released_messages_total",
                           "Messages handed back to the queue at a stop")),
      poisoned_(
          AddCounter(registry, "scorepipe_bridge_poison_messages_total",
                     "Messages of leases handed out more than queue.max_deliveries times, dead-lettered")),
      queue_errors_(AddCounter(registry, "scorepipe_bridge_queue_errors_total",
                               "Failed calls to the queue (each is retried with back-off)")),
      waiting_(AddGauge(registry, "scorepipe_queue_waiting_messages", "Messages waiting in the input queue")),
      in_flight_(AddGauge(registry, "scorepipe_queue_in_flight_messages",
                          "Messages taken and held by leases, not yet settled")) {
  auto& rejected = prometheus::BuildCounter()
                       .Name("scorepipe_bridge_rejected_total")
                       .Help("Messages dead-lettered by the bridge, by reason")
                       .Register(registry);
  for (size_t i = 0; i < kRejectReasons; ++i) {
    rejected_[i] = &rejected.Add({{"reason", RejectReasonName(static_cast<RejectReason>(i))}});
  }
}

void BridgeMetrics::Update(const BridgeStats& stats) {
  FollowCount(taken_, stats.messages_taken);
  FollowCount(sent_, stats.transactions_sent);
  FollowCount(batches_, stats.batches_sent);
  for (size_t i = 0; i < kRejectReasons; ++i) FollowCount(*rejected_[i], stats.rejected_by_reason[i]);
  FollowCount(reclaimed_, stats.reclaimed);
  FollowCount(released_, stats.released);
  FollowCount(poisoned_, stats.poisoned);
  FollowCount(queue_errors_, stats.queue_errors);
}

void BridgeMetrics::SetDepth(const QueueDepth& depth) {
  waiting_.Set(static_cast<double>(depth.waiting));
  in_flight_.Set(static_cast<double>(depth.in_flight));
}

}  // namespace scorepipe
