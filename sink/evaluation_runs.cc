#include "sink/evaluation_runs.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <utility>

#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

std::string NotHeld(uint64_t run) {
  return "run " + std::to_string(run) +
         " is not held by this sink: begin it again (the sink may have restarted)";
}

// Why `result` cannot count as a score; empty when it can.
std::string FailureReason(const ScoreResult& result) {
  if (!result.error.empty()) return result.error;
  const double p = result.fraud_probability;
  if (!std::isfinite(p) || p < 0 || p > 1) {
    return "fraud_probability " + std::to_string(p) + " is not a finite number in [0, 1]";
  }
  return "";
}

}  // namespace

EvaluationReply EvaluationRefusal(uint64_t run, std::string error) {
  EvaluationReply reply;
  reply.run = run;
  reply.error = std::move(error);
  return reply;
}

EvaluationRuns::EvaluationRuns(uint64_t max_held_rows) : max_held_rows_(max_held_rows) {}

EvaluationReply EvaluationRuns::Answer(const EvaluationRequest& request, Clock::time_point now) {
  if (request.run == 0) return EvaluationRefusal(0, "run 0 is not a run: runs are numbered from 1");
  switch (request.kind) {
    case EvaluationRequest::Kind::kBegin:
      return Begin(request.run, request.rows, now);
    case EvaluationRequest::Kind::kQuery: {
      EvaluationOptions options;
      options.threshold = request.threshold;
      options.calibration_bins = request.calibration_bins;
      return Query(request.run, options, request.list_pending, now);
    }
    case EvaluationRequest::Kind::kEnd: {
      End(request.run);
      EvaluationReply reply;
      reply.run = request.run;
      return reply;
    }
  }
  return EvaluationRefusal(request.run,
                           "unknown request kind " + std::to_string(static_cast<int>(request.kind)));
}

void EvaluationRuns::DropIdle(Clock::time_point now) {
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (now - it->second.touched > kIdleTimeout) {
      held_rows_ -= it->second.states.size();
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

EvaluationReply EvaluationRuns::Begin(uint64_t run, uint64_t rows, Clock::time_point now) {
  if (run == 0) return EvaluationRefusal(run, "run 0 is not a run: runs are numbered from 1");
  if (rows == 0) return EvaluationRefusal(run, "a run needs at least 1 row");
  End(run);  // again from scratch
  DropIdle(now);
  if (rows > max_held_rows_ - held_rows_) {
    return EvaluationRefusal(run, "cannot hold run " + std::to_string(run) + " of " + std::to_string(rows) +
                                      " rows: this sink holds " + std::to_string(held_rows_) +
                                      " rows of other runs; at most " + std::to_string(max_held_rows_) +
                                      " at once: end them or wait");
  }
  Run held;
  try {
    held.scores.resize(rows);
    held.labels.resize(rows);
    held.states.resize(rows, RowState::kPending);
  } catch (const std::bad_alloc&) {
    return EvaluationRefusal(run, "cannot hold run " + std::to_string(run) + " of " + std::to_string(rows) +
                                      " rows: out of memory");
  }
  held.touched = now;
  runs_.emplace(run, std::move(held));
  held_rows_ += rows;
  EvaluationReply reply;
  reply.run = run;
  reply.rows = rows;
  return reply;
}

void EvaluationRuns::CountModel(const ResultBatch& batch, Run* run) {
  for (ModelRows& model : run->models) {
    if (model.name == batch.model_name && model.version == batch.model_version) {
      ++model.rows;
      return;
    }
  }
  run->models.push_back({batch.model_name, batch.model_version, 1});
}

Result<EvaluationAdded> EvaluationRuns::Add(const ResultBatch& batch, Clock::time_point now) {
  const EvaluationRows& rows = batch.evaluation;
  const std::string context =
      "batch " + std::to_string(batch.batch_id) + " of run " + std::to_string(rows.run);
  auto found = runs_.find(rows.run);
  if (found == runs_.end()) {
    return Status::Error(context +
                         ": the run is not held (it was ended, or the sink restarted and the command "
                         "will begin it again)");
  }
  Run& run = found->second;
  if (rows.labels.size() != batch.results.size()) {
    return Status::Error(context + ": " + std::to_string(rows.labels.size()) + " labels for " +
                         std::to_string(batch.results.size()) + " results");
  }
  const uint64_t total = run.states.size();
  if (rows.first_row > total || batch.results.size() > total - rows.first_row) {
    return Status::Error(context + ": rows " + std::to_string(rows.first_row + 1) + ".." +
                         std::to_string(rows.first_row + batch.results.size()) + " pass the run's end (" +
                         std::to_string(total) + " rows)");
  }
  run.touched = now;
  EvaluationAdded added;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    const uint64_t row = rows.first_row + i;
    if (run.states[row] != RowState::kPending) {
      ++added.duplicates;
      continue;
    }
    const ScoreResult& result = batch.results[i];
    if (std::string reason = FailureReason(result); !reason.empty()) {
      run.states[row] = RowState::kFailed;
      ++run.failed;
      ++added.failed;
      if (run.failures.size() < kMaxFailures) {
        std::string failure = "row " + std::to_string(row + 1) + " (id ";
        AppendTransactionId(result.transaction_id, result.transaction_id_text, &failure);
        run.failures.push_back(failure + "): " + reason);
      }
      continue;
    }
    run.states[row] = RowState::kScored;
    run.scores[row] = result.fraud_probability;
    run.labels[row] = rows.labels[i];
    ++run.scored;
    ++added.scored;
    CountModel(batch, &run);
  }
  return added;
}

void EvaluationRuns::Figures(const Run& run, const EvaluationOptions& options, EvaluationReply* reply) {
  if (run.scored == 0) {
    reply->evaluation_error = "none of the " + std::to_string(run.states.size()) + " rows was scored";
    return;
  }
  std::vector<double> scores;
  std::vector<float> labels;
  scores.reserve(run.scored);
  labels.reserve(run.scored);
  for (size_t row = 0; row < run.states.size(); ++row) {
    if (run.states[row] != RowState::kScored) continue;
    scores.push_back(run.scores[row]);
    labels.push_back(run.labels[row]);
  }
  Result<Evaluation> evaluation = Evaluate(scores, labels, options);
  if (evaluation.ok()) {
    reply->evaluation = std::move(evaluation.value());
  } else {
    reply->evaluation_error = evaluation.status().message();
  }
}

EvaluationReply EvaluationRuns::Query(uint64_t run_id, const EvaluationOptions& options, bool list_pending,
                                      Clock::time_point now) {
  auto found = runs_.find(run_id);
  if (found == runs_.end()) return EvaluationRefusal(run_id, NotHeld(run_id));
  if (Status valid = options.Validate(); !valid.ok()) return EvaluationRefusal(run_id, valid.message());
  Run& run = found->second;
  run.touched = now;
  EvaluationReply reply;
  reply.run = run_id;
  reply.rows = run.states.size();
  reply.scored = run.scored;
  reply.failed = run.failed;
  reply.failures = run.failures;
  reply.models = run.models;
  std::stable_sort(reply.models.begin(), reply.models.end(),
                   [](const ModelRows& a, const ModelRows& b) { return a.rows > b.rows; });
  if (list_pending) {
    for (uint64_t row = 0; row < reply.rows; ++row) {
      if (run.states[row] != RowState::kPending) continue;
      if (!reply.pending_rows.empty() && reply.pending_rows.back().end == row) {
        reply.pending_rows.back().end = row + 1;
        continue;
      }
      if (reply.pending_rows.size() == kMaxPendingRanges) break;
      reply.pending_rows.push_back({row, row + 1});
    }
  }
  if (run.scored + run.failed == reply.rows) Figures(run, options, &reply);
  return reply;
}

void EvaluationRuns::End(uint64_t run) {
  auto found = runs_.find(run);
  if (found == runs_.end()) return;
  held_rows_ -= found->second.states.size();
  runs_.erase(found);
}

}  // namespace scorepipe
