#include "worker/worker_metrics.h"

#include "runtime/metrics_endpoint.h"

namespace scorepipe {
namespace {

// A family of gauges that are always 1, whose labels say something.
prometheus::Family<prometheus::Gauge>& AddInfoFamily(prometheus::Registry& registry, const std::string& name,
                                                     const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry, const std::string& model_name,
                             const std::string& model_version, const std::string& model_format)
    : transactions_(
          AddCounter(registry, "scorepipe_worker_transactions_scored_total", "Transactions scored")),
      batches_(AddCounter(registry, "scorepipe_worker_batches_scored_total", "Batches scored")),
      refused_(AddCounter(registry, "scorepipe_worker_frames_refused_total",
                          "Frames from the ventilator that did not decode and were dropped")),
      reconnects_(AddCounter(registry, "scorepipe_worker_reconnects_total",
                             "Times the ventilator went silent and the worker connected again")),
      scoring_(AddLatencyHistogram(registry, "scorepipe_worker_scoring_seconds",
                                   "Time to score one batch: features and model")),
      switches_(AddCounter(registry, "scorepipe_worker_model_switches_total",
                           "Times the worker switched to a newly live model version between batches")),
      load_failures_(
          AddCounter(registry, "scorepipe_worker_model_load_failures_total",
                     "Newly live model versions that failed to load (the worker kept its version)")),
      model_info_(AddInfoFamily(registry, "scorepipe_model_info",
                                "The model this worker scores with (always 1; the labels say which)")),
      running_model_(nullptr),
      shadow_transactions_(AddCounter(registry, "scorepipe_worker_shadow_transactions_scored_total",
                                      "Transactions also scored by the version in shadow")),
      shadow_failures_(
          AddCounter(registry, "scorepipe_worker_shadow_failures_total",
                     "Batches the version in shadow failed on (they went without shadow scores)")),
      shadow_info_(AddInfoFamily(registry, "scorepipe_model_shadow_info",
                                 "The version in shadow beside the live one (always 1; absent when none)")) {
  running_model_ =
      &model_info_.Add({{"name", model_name}, {"version", model_version}, {"format", model_format}});
  running_model_->Set(1);
}

void WorkerMetrics::ModelSwitched(const std::string& model_name, const std::string& model_version,
                                  const std::string& model_format) {
  model_info_.Remove(running_model_);
  running_model_ =
      &model_info_.Add({{"name", model_name}, {"version", model_version}, {"format", model_format}});
  running_model_->Set(1);
  switches_.Increment();
}

void WorkerMetrics::ShadowChanged(const std::string& model_name, const std::string& model_version) {
  if (shadow_model_ != nullptr) shadow_info_.Remove(shadow_model_);
  shadow_model_ = nullptr;
  if (model_version.empty()) return;
  shadow_model_ = &shadow_info_.Add({{"name", model_name}, {"version", model_version}});
  shadow_model_->Set(1);
}

void WorkerMetrics::Scored(size_t transactions, double seconds) {
  transactions_.Increment(static_cast<double>(transactions));
  batches_.Increment();
  scoring_.Observe(seconds);
}

}  // namespace scorepipe
