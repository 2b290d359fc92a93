#include "worker/worker_metrics.h"

#include "proto/metrics.h"

namespace scorepipe {

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry, const std::string& model_version,
                             const std::string& model_format)
    : transactions_(AddCounter(registry, "scorepipe_worker_transactions_scored_total", "Transactions scored")),
      batches_(AddCounter(registry, "scorepipe_worker_batches_scored_total", "Batches scored")),
      refused_(AddCounter(registry, "scorepipe_worker_frames_refused_total",
                          "Frames from the ventilator that did not decode and were dropped")),
      reconnects_(AddCounter(registry, "scorepipe_worker_reconnects_total",
                             "Times the ventilator went silent and the worker connected again")),
      scoring_(AddLatencyHistogram(registry, "scorepipe_worker_scoring_seconds",
                                   "Time to score one batch: features and model")) {
  prometheus::BuildGauge()
      .Name("scorepipe_model_info")
      .Help("The model this worker scores with (always 1; the labels say which)")
      .Register(registry)
      .Add({{"version", model_version}, {"format", model_format}})
      .Set(1);
}

void WorkerMetrics::Scored(size_t transactions, double seconds) {
  transactions_.Increment(static_cast<double>(transactions));
  batches_.Increment();
  scoring_.Observe(seconds);
}

}  // namespace scorepipe
