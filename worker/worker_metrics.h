// The worker's Prometheus metrics (scorepipe_worker_*, scorepipe_model_info):
// transactions and batches scored, frames refused, reconnects, the time to
// score one batch (features + model, a histogram), and which model it runs.
//
// Owned by the Worker; updated from its main thread, read by the metrics
// endpoint's threads.
#ifndef SCOREPIPE_WORKER_WORKER_METRICS_H_
#define SCOREPIPE_WORKER_WORKER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <string>

namespace scorepipe {

class WorkerMetrics {
 public:
  // `model_version` and `model_format` label scorepipe_model_info.
  WorkerMetrics(prometheus::Registry& registry, const std::string& model_version, const std::string& model_format);
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void Scored(size_t transactions, double seconds);
  void Refused() { refused_.Increment(); }
  void Reconnected() { reconnects_.Increment(); }

 private:
  prometheus::Counter& transactions_;
  prometheus::Counter& batches_;
  prometheus::Counter& refused_;
  prometheus::Counter& reconnects_;
  prometheus::Histogram& scoring_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_WORKER_WORKER_METRICS_H_
