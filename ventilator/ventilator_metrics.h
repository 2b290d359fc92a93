// The ventilator's Prometheus metrics (scorepipe_ventilator_*,
// scorepipe_worker_*): batches received, dispatched, done, re-dispatched
// (of which overdue), poisoned; workers joined and lost; live workers,
// queued and in-flight batches; and per live worker the age of its last
// heartbeat and its batches in flight. Follows the Dispatcher's view.
//
// Owned by the Ventilator; updated from its thread, read by the metrics
// endpoint's threads.
#ifndef SCOREPIPE_VENTILATOR_VENTILATOR_METRICS_H_
#define SCOREPIPE_VENTILATOR_VENTILATOR_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <string>

#include "ventilator/dispatcher.h"

namespace scorepipe {

struct VentilatorStats {
  uint64_t frames_refused = 0;
  uint64_t heartbeats = 0;
};

class VentilatorMetrics {
 public:
  explicit VentilatorMetrics(prometheus::Registry& registry);
  VentilatorMetrics(const VentilatorMetrics&) = delete;
  VentilatorMetrics& operator=(const VentilatorMetrics&) = delete;

  void Update(const Dispatcher& dispatcher, const VentilatorStats& stats, SteadyClock::time_point now);

 private:
  struct PerWorker {
    prometheus::Gauge* heartbeat_age;
    prometheus::Gauge* in_flight;
  };

  prometheus::Counter& received_;
  prometheus::Counter& dispatched_;
  prometheus::Counter& done_;
  prometheus::Counter& redispatched_;
  prometheus::Counter& overdue_;
  prometheus::Counter& poisoned_;
  prometheus::Counter& joined_;
  prometheus::Counter& lost_;
  prometheus::Counter& refused_;
  prometheus::Counter& heartbeats_;
  prometheus::Gauge& live_workers_;
  prometheus::Gauge& queued_;
  prometheus::Gauge& in_flight_;
  prometheus::Family<prometheus::Gauge>& heartbeat_age_;
  prometheus::Family<prometheus::Gauge>& worker_in_flight_;
  std::map<std::string, PerWorker> workers_;  // by worker id
};

}  // namespace scorepipe

#endif  // SCOREPIPE_VENTILATOR_VENTILATOR_METRICS_H_
