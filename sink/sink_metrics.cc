#include "sink/sink_metrics.h"

#include "proto/messages.h"
#include "runtime/metrics_endpoint.h"

namespace scorepipe {
namespace {

// One family: the registry hands back the same one to each call.
prometheus::Family<prometheus::Counter>& DeadLetters(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("scorepipe_sink_dead_letters_total")
      .Help("Dead-letter entries written, by the stage that gave up on the message")
      .Register(registry);
}

prometheus::Family<prometheus::Counter>& EvaluationRowFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("scorepipe_sink_evaluation_rows_total")
      .Help(
          "Rows of evaluation runs (scorepipe evaluate --cluster) answered, by outcome: scored, failed "
          "(an error or no probability), duplicate (answered already)")
      .Register(registry);
}

}  // namespace

SinkMetrics::SinkMetrics(prometheus::Registry& registry)
    : results_(AddCounter(registry, "scorepipe_sink_results_total", "Results written to the output queue")),
      dead_bridge_(DeadLetters(registry).Add({{"stage", "bridge"}})),
      dead_worker_(DeadLetters(registry).Add({{"stage", "worker"}})),
      dead_ventilator_(DeadLetters(registry).Add({{"stage", "ventilator"}})),
      duplicates_(AddCounter(registry, "scorepipe_sink_duplicates_total",
                             "Outcomes dropped because their lease was settled already (work done twice)")),
      batches_(AddCounter(registry, "scorepipe_sink_batches_total", "Result batches settled")),
      refused_(AddCounter(registry, "scorepipe_sink_frames_refused_total",
                          "Result frames that did not decode or did not fit their lease")),
      queue_errors_(AddCounter(registry, "scorepipe_sink_queue_errors_total",
                               "Failed settle calls to the queue (each is retried with back-off)")),
      settle_(AddLatencyHistogram(registry, "scorepipe_sink_settle_seconds",
                                  "Time of one settle call to the queue (up to 8 batches)")),
      end_to_end_(
          AddLatencyHistogram(registry, "scorepipe_sink_end_to_end_seconds",
                              "From the bridge sealing a batch to its results being in the output queue")),
      shadow_appended_(
          AddCounter(registry, "scorepipe_sink_shadow_entries_total",
                     "Shadow scores (a version in shadow beside the live one) appended to queue.shadow")),
      shadow_lost_(
          AddCounter(registry, "scorepipe_sink_shadow_entries_lost_total",
                     "Shadow scores dropped because appending them to queue.shadow failed (never retried)")),
      output_refused_(
          AddCounter(registry, "scorepipe_sink_outputs_refused_total",
                     "Results the output queue refused (http-mq: 400), dead-lettered with its reason")),
      evaluation_scored_(EvaluationRowFamily(registry).Add({{"outcome", "scored"}})),
      evaluation_failed_(EvaluationRowFamily(registry).Add({{"outcome", "failed"}})),
      evaluation_duplicates_(EvaluationRowFamily(registry).Add({{"outcome", "duplicate"}})) {}

void SinkMetrics::Settled(uint64_t results, uint64_t bridge_dead_letters, uint64_t worker_dead_letters,
                          std::string_view worker_id, int64_t created_at_us, int64_t now_us) {
  batches_.Increment();
  results_.Increment(static_cast<double>(results));
  dead_bridge_.Increment(static_cast<double>(bridge_dead_letters));
  (worker_id == kVentilatorSender ? dead_ventilator_ : dead_worker_)
      .Increment(static_cast<double>(worker_dead_letters));
  if (created_at_us > 0 && now_us >= created_at_us)
    end_to_end_.Observe(static_cast<double>(now_us - created_at_us) / 1e6);
}

void SinkMetrics::EvaluationRows(uint64_t scored, uint64_t failed, uint64_t duplicates) {
  evaluation_scored_.Increment(static_cast<double>(scored));
  evaluation_failed_.Increment(static_cast<double>(failed));
  evaluation_duplicates_.Increment(static_cast<double>(duplicates));
}

}  // namespace scorepipe
