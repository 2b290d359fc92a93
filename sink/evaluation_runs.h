// EvaluationRuns: the evaluation runs of `scorepipe evaluate --cluster` that
// the sink holds, and the answers to the command's requests about them.
//
// A run is begun with its number of rows; the workers' ResultBatches marked
// with the run (ResultBatch::evaluation) answer its rows; once every row is
// answered, a query computes the figures (scoring/evaluation.h) over the rows
// that were scored, in row order, which is what `scorepipe evaluate`
// computes locally on the same file.
//
// Per row it keeps the score (double), the label (float) and a state byte:
// 13 bytes. The rows of all runs held at once are bounded (kMaxHeldRows by
// default, about 650 MB): Begin first drops the runs that nobody added to or
// asked about for kIdleTimeout, then refuses a run that still does not fit.
//
// Pure logic, no sockets. Owned by the Sink and used from its thread only.
#ifndef SCOREPIPE_SINK_EVALUATION_RUNS_H_
#define SCOREPIPE_SINK_EVALUATION_RUNS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/evaluation.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "scoring/evaluation.h"

namespace scorepipe {

// The reply to a request that cannot be answered (it did not decode, or it
// is not valid): only the run and why.
EvaluationReply EvaluationRefusal(uint64_t run, std::string error);

// What one batch did to its run's rows (Add).
struct EvaluationAdded {
  uint64_t scored = 0;
  uint64_t failed = 0;
  uint64_t duplicates = 0;  // rows answered already: a re-dispatched batch's second copy
};

class EvaluationRuns {
 public:
  using Clock = std::chrono::steady_clock;

  // The rows of all held runs together, at most (13 bytes each: ~650 MB).
  static constexpr uint64_t kMaxHeldRows = 50'000'000;
  // A run nobody added to or asked about for this long may be dropped by a
  // Begin that needs its room.
  static constexpr Clock::duration kIdleTimeout = std::chrono::hours(1);
  // Failed rows whose reason a reply carries, at most (the first ones).
  static constexpr size_t kMaxFailures = 5;
  // Ranges of pending rows a reply lists, at most (the first ones).
  static constexpr size_t kMaxPendingRanges = 1000;

  // `max_held_rows`: the bound on the rows of all runs (tests pass less).
  explicit EvaluationRuns(uint64_t max_held_rows = kMaxHeldRows);
  EvaluationRuns(const EvaluationRuns&) = delete;
  EvaluationRuns& operator=(const EvaluationRuns&) = delete;

  // Answers a request of the command: Begin, Query (its threshold and
  // calibration_bins as the options) or End.
  EvaluationReply Answer(const EvaluationRequest& request, Clock::time_point now);

  // Holds run `run` (not 0) of `rows` rows (>= 1), all pending; a run held
  // already starts again from scratch. A refusal (reply.error) when the
  // arguments are bad or the rows do not fit beside the other runs.
  EvaluationReply Begin(uint64_t run, uint64_t rows, Clock::time_point now);

  // Takes the results of `batch` (evaluation.run != 0): result i answers row
  // evaluation.first_row + i, labelled evaluation.labels[i]. A result with an
  // error, or whose fraud_probability is not a finite number in [0, 1],
  // fails its row; a row answered already is skipped. An error, and nothing
  // taken, when the run is not held (it was ended, or the sink restarted),
  // the labels do not pair up with the results, or the rows pass the run's
  // end.
  Result<EvaluationAdded> Add(const ResultBatch& batch, Clock::time_point now);

  // How far run `run` is: counts, failures, models (most rows first), the
  // pending rows when `list_pending` (merged ranges, the first
  // kMaxPendingRanges), and once every row is answered the figures over the
  // scored rows in row order (or evaluation_error). Computing the figures
  // takes about 1 s per few million rows.
  EvaluationReply Query(uint64_t run, const EvaluationOptions& options, bool list_pending,
                        Clock::time_point now);

  // Forgets run `run`; nothing when it is not held.
  void End(uint64_t run);

  // The rows of all held runs.
  uint64_t held_rows() const { return held_rows_; }

 private:
  enum class RowState : uint8_t { kPending = 0, kScored = 1, kFailed = 2 };

  struct Run {
    std::vector<double> scores;
    std::vector<float> labels;
    std::vector<RowState> states;
    uint64_t scored = 0;
    uint64_t failed = 0;
    std::vector<std::string> failures;
    std::vector<ModelRows> models;
    Clock::time_point touched;
  };

  // Drops the runs untouched since `now - kIdleTimeout`.
  void DropIdle(Clock::time_point now);
  // Counts a scored row for the batch's model.
  static void CountModel(const ResultBatch& batch, Run* run);
  // The figures of a run whose every row is answered.
  static void Figures(const Run& run, const EvaluationOptions& options, EvaluationReply* reply);

  const uint64_t max_held_rows_;
  uint64_t held_rows_ = 0;
  std::unordered_map<uint64_t, Run> runs_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SINK_EVALUATION_RUNS_H_
