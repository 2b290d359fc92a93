// The sink's Prometheus metrics (scorepipe_sink_*): results written, dead
// letters by the stage that gave up on the message (bridge: bad input;
// worker: the model failed; ventilator: a poison batch), duplicate outcomes
// dropped, batches settled, frames refused, queue errors, the time of one
// settle call, shadow entries appended and lost, the rows of evaluation runs
// answered (scored, failed, or a second copy), results the output refused
// (dead-lettered instead), and the end-to-end latency of each batch from the moment
// the bridge sealed it to its results being in the queue.
//
// Owned by the Sink; updated from its thread, read by the metrics
// endpoint's threads.
#ifndef SCOREPIPE_SINK_SINK_METRICS_H_
#define SCOREPIPE_SINK_SINK_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string_view>

namespace scorepipe {

class SinkMetrics {
 public:
  explicit SinkMetrics(prometheus::Registry& registry);
  SinkMetrics(const SinkMetrics&) = delete;
  SinkMetrics& operator=(const SinkMetrics&) = delete;

  // A settled batch: its results and dead letters as published, and how
  // long since the bridge sealed it (`created_at_us`; 0: unknown).
  void Settled(uint64_t results, uint64_t bridge_dead_letters, uint64_t worker_dead_letters,
               std::string_view worker_id, int64_t created_at_us, int64_t now_us);
  void Duplicates(uint64_t n) { duplicates_.Increment(static_cast<double>(n)); }
  void Refused() { refused_.Increment(); }
  void QueueError() { queue_errors_.Increment(); }
  void SettleCall(double seconds) { settle_.Observe(seconds); }
  // Shadow entries appended to queue.shadow, and those dropped because the
  // append failed.
  void ShadowAppended(size_t n) { shadow_appended_.Increment(static_cast<double>(n)); }
  void ShadowLost(size_t n) { shadow_lost_.Increment(static_cast<double>(n)); }
  // A result the output refused (http-mq's 400), dead-lettered instead.
  void OutputRefused() { output_refused_.Increment(); }
  // Rows of an evaluation run answered by a batch: scored, failed, and
  // answered already (a re-dispatched batch's second copy).
  void EvaluationRows(uint64_t scored, uint64_t failed, uint64_t duplicates);

 private:
  prometheus::Counter& results_;
  prometheus::Counter& dead_bridge_;
  prometheus::Counter& dead_worker_;
  prometheus::Counter& dead_ventilator_;
  prometheus::Counter& duplicates_;
  prometheus::Counter& batches_;
  prometheus::Counter& refused_;
  prometheus::Counter& queue_errors_;
  prometheus::Histogram& settle_;
  prometheus::Histogram& end_to_end_;
  prometheus::Counter& shadow_appended_;
  prometheus::Counter& shadow_lost_;
  prometheus::Counter& output_refused_;
  prometheus::Counter& evaluation_scored_;
  prometheus::Counter& evaluation_failed_;
  prometheus::Counter& evaluation_duplicates_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SINK_SINK_METRICS_H_
