// The cluster half of `scorepipe evaluate --cluster` (docs/models.md,
// "Evaluating on the cluster"): a labelled file's rows go through the running
// cluster as one evaluation run, and the sink gathers the figures.
//
//   1. Begin: the sink (sink.status) holds a run of the file's rows.
//   2. The rows go to the ventilator's intake (as the bridge sends, a PUSH
//      with a small high-water mark: a busy cluster holds the sender back) in
//      batches marked with the run, their first row and their labels. The
//      ventilator spreads them over the workers like any batch (a dead
//      worker's batches go to the others); the workers score them with the
//      live model and pass the marking on; the sink keeps each row's score
//      instead of writing it to the queue.
//   3. The command asks the sink how far the run is until every row is
//      answered, and then gets the figures (scoring/evaluation.h) over the
//      scored rows, in file order, as `scorepipe evaluate` computes them.
// Nothing is lost silently: rows still unanswered after resend_after without
// progress (the ventilator restarted with batches in hand) are sent again
// (the sink counts a row once); a sink that forgot the run (it restarted)
// gets it begun and sent again; with no progress at all for stall_timeout
// the run fails, saying how far it got.
//
// A plain function; it uses only the calling thread.
#ifndef SCOREPIPE_CLI_EVALUATE_CLUSTER_COMMAND_H_
#define SCOREPIPE_CLI_EVALUATE_CLUSTER_COMMAND_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/topology.h"
#include "proto/evaluation.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "scoring/evaluation.h"
#include "training/labelled_data.h"

namespace scorepipe {

struct ClusterRunOptions {
  size_t batch_rows = 512;       // transactions per batch, 1..kMaxBatchItems
  EvaluationOptions evaluation;  // threshold and calibration bins
  std::chrono::milliseconds stall_timeout{std::chrono::minutes(2)};    // no row answered this long: give up
  std::chrono::milliseconds resend_after{std::chrono::seconds(30)};    // no row answered this long: resend
  std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};  // one request to the sink
  std::chrono::milliseconds progress_every{std::chrono::seconds(2)};   // a progress line on `err`; 0: none
};

// The batches (of `batch_rows` rows; `batches` of them) that hold a row of
// `ranges` (increasing, as the sink lists its pending rows), each once, in
// increasing order; rows past the last batch are ignored.
std::vector<size_t> BatchesHolding(const std::vector<RowRange>& ranges, size_t batch_rows, size_t batches);

// The default resend_after for a topology: three times the ventilator's
// batch_timeout_ms (its own re-dispatch comes first), at least 5 s.
std::chrono::milliseconds DefaultResendAfter(const Topology& topology);

// The rows of a run, batch by batch: batch k holds rows
// [k * batch_rows, (k + 1) * batch_rows) of the file, in file order.
class RowBatches {
 public:
  virtual ~RowBatches() = default;
  // The rows of the whole run (>= 1 to run).
  virtual size_t rows() const = 0;
  // Replaces *out with batch `index`'s rows (index * batch_rows < rows()).
  // Asked for in increasing order, from 0 again after the sink lost the run,
  // and for the batches sent again.
  virtual Status Read(size_t index, size_t batch_rows, LabelledData* out) = 0;
};

// RowBatches read from a labelled file as they are sent (training/labelled_data.h's
// LabelledFileReader), so that the command holds one batch however large the
// file: Open reads the file through once to count and check its rows (the
// first bad row is an error before anything is sent); a batch asked for
// again means reading the file again up to it.
class RowsFromFile : public RowBatches {
 public:
  static Result<std::unique_ptr<RowsFromFile>> Open(const std::string& path,
                                                    const LabelledFileOptions& options);
  size_t rows() const override { return rows_; }
  Status Read(size_t index, size_t batch_rows, LabelledData* out) override;

 private:
  RowsFromFile(LabelledFileReader reader, size_t rows) : reader_(std::move(reader)), rows_(rows) {}

  LabelledFileReader reader_;
  const size_t rows_;
  size_t next_batch_ = 0;  // the batch the reader is at
  size_t batch_rows_ = 0;  // the batch size it reads in
  LabelledData skipped_;   // reused for the batches read past
};

struct ClusterRun {
  EvaluationReply reply;  // the sink's last answer: every row answered, figures or evaluation_error
  uint64_t run = 0;
  size_t batches = 0;       // batches of the file
  size_t batches_sent = 0;  // including the resent ones
  double elapsed_s = 0;     // from the begin to the last answer
};

// Runs the rows of `batches` (at least one) through the cluster of `topology`.
Result<ClusterRun> EvaluateOnCluster(const Topology& topology, RowBatches& batches,
                                     const ClusterRunOptions& options, FILE* err);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_EVALUATE_CLUSTER_COMMAND_H_
