// Sink: gathers results from every worker and publishes them.
//
// PULLs ResultBatches (workers connect and PUSH) and settles each batch's
// lease in the queue atomically (queue/queue.h): results in
// the upstream's result format to the output, the bridge's rejects and the
// transactions a worker could not score to the dead-letter queue with their
// reasons, all in lease order. A batch whose lease no longer holds its
// messages (it was re-dispatched and another worker's copy won, or the lease
// was reclaimed) publishes nothing: the duplicate is counted, not written.
// Each batch that published is also re-sent as is on a PUB socket for live
// subscribers (slow subscribers lose messages there, never the queue). While
// the queue is unreachable the sink retries with back-off and reads nothing
// more: back-pressure to the workers. The batches that are waiting when it
// turns to the queue (up to kMaxGroup) are settled together
// (Queue::SettleMany: one transaction for lists), so a busy sink pays one
// round trip per group, not per batch.
// A batch that also carries the scores of a version in shadow (docs/models.md)
// has them appended to queue.shadow after its lease settled in full, with
// one try: shadow entries are at-most-once and never hold up the results.
//
// Evaluation runs (`scorepipe evaluate --cluster`, docs/models.md): a
// ResultBatch marked with a run (ResultBatch::evaluation) has no lease and
// never reaches the queue, the live feed or queue.shadow; its scores and
// labels go to the run's rows (sink/evaluation_runs.h). One that fits no
// held run is refused like a frame that does not decode (counted, logged at
// a limited rate). The command begins, queries and ends its run with
// EvaluationRequests on a REP socket (sink.status), which the sink answers
// between result batches (not while the queue is down); every request is
// answered, one that does not decode with an error. A query that finds a
// run complete computes its figures on the sink's thread, holding results
// back for that long: about 1 s per few million rows.
//
// Run() is called once, on the thread that built the Sink.
#ifndef SCOREPIPE_SINK_SINK_H_
#define SCOREPIPE_SINK_SINK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "queue/queue.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "sink/evaluation_runs.h"
#include "sink/lease_parts.h"
#include "sink/sink_metrics.h"

namespace scorepipe {

struct SinkStats {
  uint64_t batches = 0;
  uint64_t results = 0;
  uint64_t dead_lettered = 0;
  uint64_t duplicates = 0;  // outcomes dropped because their lease had moved on
  uint64_t frames_refused = 0;
  uint64_t evaluation_rows = 0;  // rows of evaluation runs answered (scored or failed)
  uint64_t outputs_refused = 0;  // results the output refused, dead-lettered instead
};

// Turns a ResultBatch into the outcomes of its lease, in lease order: the
// rejects at their positions, the results (upstream result JSON, or a
// dead-letter entry for an unscored transaction) in the positions between.
// With ModelFields::kInclude each result also names the batch's model.
// Fails when the rejects' positions do not fit the batch.
Status FormatOutcomes(const ResultBatch& batch, ModelFields model_fields, std::vector<Outcome>* outcomes);

// Appends to `entries` one queue.shadow entry per transaction of `batch` that
// both the live and the shadow version scored (AppendShadowJson), in batch
// order; nothing when the batch has no shadow results, or when they do not
// pair up with its results one for one (same count, same transaction ids).
// Returns how many it appended.
size_t FormatShadowEntries(const ResultBatch& batch, std::vector<std::string>* entries);

class Sink {
 public:
  Sink(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue);
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Binds the results, status and publish endpoints, as CURVE servers with a ZAP
  // handler when security.mode is curve (subscribers then need an authorized
  // key too). Fails on a bad key file or an endpoint it cannot bind.
  Status Bind();
  // Runs until a stop is requested, then writes what is still arriving.
  Status Run();

  const SinkStats& stats() const { return stats_; }
  // Its metrics, for the node's /metrics endpoint (runtime/node_setup.h).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  // Batches settled together at most.
  static constexpr size_t kMaxGroup = 8;
  // Split leases assembled at once at most (sink/lease_parts.h).
  static constexpr size_t kMaxSplitLeases = 4096;

  // Appends shadow_entries_ to queue.shadow once; a failure is logged and
  // counted, and the entries are dropped (at-most-once: results first).
  void AppendShadowEntries();
  // Writes the results of `frames`; false if it gave up (stop during an outage).
  bool Handle(std::vector<zmq::message_t>& frames,
              std::optional<std::chrono::steady_clock::time_point> deadline);
  // `first` and what else is waiting, up to kMaxGroup frames.
  std::vector<zmq::message_t> Group(zmq::message_t first);
  // After the output refused one outcome of `request` (settlement's
  // refused_index): dead-letters that outcome with the output's reason and
  // settles again, until the lease settles or the output refuses something
  // else than a result; `settlement` becomes the last answer.
  void SettleWithoutRefused(SettleRequest& request, Settlement* settlement);
  // Counts a refused frame and logs `what` at a limited rate.
  void Refuse(const std::string& what);
  // Gives an evaluation run's batch to its run; a refusal is counted and logged.
  void AddEvaluation(const ResultBatch& batch);
  // Answers the status request waiting, if any.
  void AnswerStatus();
  // Waits up to kReceiveSliceMs for a result batch or a status request and
  // serves what came.
  void Step();

  const SinkConfig config_;
  const SecurityConfig security_config_;
  zmq::context_t& context_;
  std::unique_ptr<ZapAuthenticator> zap_;  // CURVE: lets only authorized workers in
  std::unique_ptr<Queue> queue_;
  zmq::socket_t results_;
  zmq::socket_t status_;  // REP: the evaluation runs' requests
  std::optional<zmq::socket_t> publish_;
  std::vector<SettleRequest> requests_;
  SinkStats stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  SinkMetrics metrics_;
  EvaluationRuns evaluation_runs_;
  RateLimitedLog refused_log_;
  RateLimitedLog queue_error_log_;
  RateLimitedLog shadow_log_;
  RateLimitedLog output_refused_log_;
  const std::string shadow_queue_;
  std::vector<std::string> shadow_entries_;  // of the batches settled last
  const size_t max_frame_bytes_;             // of a result batch: MaxBatchFrameBytes(bridge.batch_size)
  LeaseParts lease_parts_;
  // Per request of the group being settled: the live-feed frames of a split
  // lease's parts (empty for a whole batch, whose own frame is sent).
  std::vector<std::vector<std::string>> split_frames_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SINK_SINK_H_
