// The metrics every node process exports beside its role's own, read when
// Prometheus scrapes: the standard process_* ones (CPU seconds, resident and
// virtual memory, open and maximum file descriptors, start time, as the
// Prometheus client libraries name them), scorepipe_build_info{version,
// commit,build_type} (always 1) and scorepipe_curve_refused_total{side,
// reason} (runtime/curve.h), with every reason present from the start.
//
// Collect() reads /proc/self; it is called on the endpoint's HTTP threads.
#ifndef SCOREPIPE_RUNTIME_PROCESS_METRICS_H_
#define SCOREPIPE_RUNTIME_PROCESS_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace scorepipe {

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_PROCESS_METRICS_H_
