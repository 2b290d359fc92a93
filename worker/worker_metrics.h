// The worker's Prometheus metrics (scorepipe_worker_*, scorepipe_model_info):
// transactions and batches scored, frames refused, reconnects, the time to
// score one batch (features + model, a histogram), which model it runs, and
// its model switches and failed loads (a registry model's roll-outs), and
// the version in shadow (scorepipe_model_shadow_info), the transactions it
// scored and the batches it failed on.
//
// Owned by the Worker; updated from its main thread (LoadFailed also from
// the model watcher's thread: prometheus-cpp counters are thread-safe), read
// by the metrics endpoint's threads.
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
  // `model_name`, `model_version` and `model_format` label scorepipe_model_info.
  WorkerMetrics(prometheus::Registry& registry, const std::string& model_name,
                const std::string& model_version, const std::string& model_format);
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void Scored(size_t transactions, double seconds);
  void Refused() { refused_.Increment(); }
  void Reconnected() { reconnects_.Increment(); }
  // The worker switched to another model version: scorepipe_model_info now
  // names only that one.
  void ModelSwitched(const std::string& model_name, const std::string& model_version,
                     const std::string& model_format);
  void LoadFailed() { load_failures_.Increment(); }
  // The version in shadow changed; an empty version: none now.
  void ShadowChanged(const std::string& model_name, const std::string& model_version);
  void ShadowScored(size_t transactions) {
    shadow_transactions_.Increment(static_cast<double>(transactions));
  }
  void ShadowFailed() { shadow_failures_.Increment(); }

 private:
  prometheus::Counter& transactions_;
  prometheus::Counter& batches_;
  prometheus::Counter& refused_;
  prometheus::Counter& reconnects_;
  prometheus::Histogram& scoring_;
  prometheus::Counter& switches_;
  prometheus::Counter& load_failures_;
  prometheus::Family<prometheus::Gauge>& model_info_;
  prometheus::Gauge* running_model_;
  prometheus::Counter& shadow_transactions_;
  prometheus::Counter& shadow_failures_;
  prometheus::Family<prometheus::Gauge>& shadow_info_;
  prometheus::Gauge* shadow_model_ = nullptr;  // none in shadow
};

}  // namespace scorepipe

#endif  // SCOREPIPE_WORKER_WORKER_METRICS_H_
