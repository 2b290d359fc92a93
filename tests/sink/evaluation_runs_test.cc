// EvaluationRuns: the sink's bookkeeping of `scorepipe evaluate --cluster`
// runs: rows answered by result batches in any order, their figures once
// complete, and the bound on the rows held.
#include "sink/evaluation_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "scoring/evaluation.h"

namespace scorepipe {
namespace {

using Clock = EvaluationRuns::Clock;
const Clock::time_point kT0 = Clock::time_point() + std::chrono::hours(100);

// The rows of the test file: scores and labels, row i at index i.
const std::vector<double> kScores = {0.9, 0.2, 0.7, 0.1, 0.4, 0.8, 0.3, 0.6};
const std::vector<float> kLabels = {1, 0, 1, 0, 1, 1, 0, 0};

// A batch of run `run` answering rows [first, first + count) with kScores.
ResultBatch Rows(uint64_t run, uint64_t first, size_t count, std::string version = "v1") {
  ResultBatch batch;
  batch.batch_id = 100 + first;
  batch.model_name = "fraud";
  batch.model_version = std::move(version);
  batch.evaluation.run = run;
  batch.evaluation.first_row = first;
  for (size_t i = 0; i < count; ++i) {
    const size_t row = first + i;
    const double p = row < kScores.size() ? kScores[row] : 0.5;
    batch.results.push_back({static_cast<int64_t>(row + 1000), p, p >= 0.5, std::max(p, 1 - p), "", ""});
    batch.evaluation.labels.push_back(row < kLabels.size() ? kLabels[row] : 0);
  }
  return batch;
}

EvaluationAdded Add(EvaluationRuns& runs, const ResultBatch& batch) {
  Result<EvaluationAdded> added = runs.Add(batch, kT0);
  EXPECT_TRUE(added.ok()) << added.status().message();
  return added.ok() ? added.value() : EvaluationAdded{};
}

EvaluationReply Query(EvaluationRuns& runs, uint64_t run, bool list_pending = false) {
  return runs.Query(run, EvaluationOptions{}, list_pending, kT0);
}

// A reply about a run whose rows are not all answered: no error, its counts
// and pending rows, and no figures yet.
void ExpectUnfinished(const EvaluationReply& reply, uint64_t scored, uint64_t failed,
                      const std::vector<RowRange>& pending) {
  EXPECT_EQ(reply.error, "");
  EXPECT_EQ(reply.scored, scored);
  EXPECT_EQ(reply.failed, failed);
  EXPECT_EQ(reply.pending_rows, pending);
  EXPECT_FALSE(reply.evaluation.has_value()) << "no figures before every row is answered";
  EXPECT_EQ(reply.evaluation_error, "");
}

TEST(EvaluationRunsTest, BeginHoldsEveryRowPending) {
  EvaluationRuns runs;
  EvaluationReply begun = runs.Begin(7, 8, kT0);
  EXPECT_EQ(begun.error, "");
  EXPECT_EQ(begun.run, 7u);
  EXPECT_EQ(begun.rows, 8u);
  EXPECT_EQ(begun.scored + begun.failed, 0u);
  EvaluationReply reply = Query(runs, 7, true);
  EXPECT_EQ(reply.rows, 8u);
  ExpectUnfinished(reply, 0, 0, {{0, 8}});
  EXPECT_EQ(runs.held_rows(), 8u);
}

TEST(EvaluationRunsTest, BeginRefusesRunZeroAndAnEmptyRun) {
  EvaluationRuns runs;
  EXPECT_NE(runs.Begin(0, 8, kT0).error, "");
  EXPECT_NE(runs.Begin(7, 0, kT0).error, "");
  EXPECT_EQ(runs.held_rows(), 0u);
}

TEST(EvaluationRunsTest, AddCountsScoredRows) {
  EvaluationRuns runs;
  runs.Begin(7, 8, kT0);
  EvaluationAdded added = Add(runs, Rows(7, 0, 3));
  EXPECT_EQ(added.scored, 3u);
  EXPECT_EQ(added.failed + added.duplicates, 0u);
  ExpectUnfinished(Query(runs, 7, true), 3, 0, {{3, 8}});
}

TEST(EvaluationRunsTest, FiguresAreThoseOfTheRowsInRowOrderWhateverTheArrivalOrder) {
  EvaluationRuns runs;
  runs.Begin(7, 8, kT0);
  Add(runs, Rows(7, 5, 3));
  Add(runs, Rows(7, 0, 2));
  Add(runs, Rows(7, 2, 3));
  const EvaluationOptions options{0.35, 4};
  EvaluationReply reply = runs.Query(7, options, true, kT0);
  EXPECT_EQ(reply.error, "");
  EXPECT_EQ(reply.scored, 8u);
  EXPECT_TRUE(reply.pending_rows.empty());
  Result<Evaluation> expected = Evaluate(kScores, kLabels, options);
  ASSERT_TRUE(expected.ok());
  ASSERT_TRUE(reply.evaluation.has_value()) << reply.evaluation_error;
  EXPECT_EQ(*reply.evaluation, expected.value());
}

TEST(EvaluationRunsTest, ASecondCopyOfARowIsSkipped) {
  EvaluationRuns runs;
  runs.Begin(7, 8, kT0);
  Add(runs, Rows(7, 0, 4));
  ResultBatch again = Rows(7, 2, 4);
  again.results[0].fraud_probability = 0.99;  // row 2's second copy must not count
  EvaluationAdded added = Add(runs, again);
  EXPECT_EQ(added.duplicates, 2u);
  EXPECT_EQ(added.scored, 2u);
  Add(runs, Rows(7, 6, 2));
  EvaluationReply reply = Query(runs, 7);
  EXPECT_EQ(reply.scored, 8u);
  ASSERT_TRUE(reply.evaluation.has_value());
  EXPECT_EQ(*reply.evaluation, Evaluate(kScores, kLabels).value());
}

TEST(EvaluationRunsTest, AFailureNamesAnIdThatIsNotAPlainIntegerAsWritten) {
  EvaluationRuns runs;
  runs.Begin(7, 1, kT0);
  ResultBatch batch = Rows(7, 0, 1);
  batch.results[0].transaction_id = 0;
  batch.results[0].transaction_id_text = "5005.5";
  batch.results[0].error = "model failed";
  Add(runs, batch);
  EvaluationReply reply = Query(runs, 7);
  ASSERT_EQ(reply.failures.size(), 1u);
  EXPECT_EQ(reply.failures[0], "row 1 (id 5005.5): model failed");
}

TEST(EvaluationRunsTest, ErrorsAndNonProbabilitiesFailTheirRows) {
  EvaluationRuns runs;
  runs.Begin(7, 4, kT0);
  ResultBatch batch = Rows(7, 0, 4);
  batch.results[1].error = "model failed";
  batch.results[2].fraud_probability = std::numeric_limits<double>::quiet_NaN();
  batch.results[3].fraud_probability = 1.5;
  EvaluationAdded added = Add(runs, batch);
  EXPECT_EQ(added.scored, 1u);
  EXPECT_EQ(added.failed, 3u);
  EvaluationReply reply = Query(runs, 7);
  EXPECT_EQ(reply.failed, 3u);
  ASSERT_EQ(reply.failures.size(), 3u);
  EXPECT_EQ(reply.failures[0], "row 2 (id 1001): model failed");
  EXPECT_EQ(reply.failures[1].rfind("row 3 (id 1002): fraud_probability nan", 0), 0u) << reply.failures[1];
  EXPECT_EQ(reply.failures[2].rfind("row 4 (id 1003): fraud_probability 1.5", 0), 0u) << reply.failures[2];
  // Complete: the figures are those of the one scored row.
  EXPECT_EQ(reply.evaluation, Evaluate({kScores[0]}, {kLabels[0]}).value());
}

TEST(EvaluationRunsTest, OnlyTheFirstFailuresAreKept) {
  EvaluationRuns runs;
  runs.Begin(7, 8, kT0);
  ResultBatch batch = Rows(7, 0, 8);
  for (ScoreResult& result : batch.results) result.error = "broken";
  EXPECT_EQ(Add(runs, batch).failed, 8u);
  EvaluationReply reply = Query(runs, 7);
  EXPECT_EQ(reply.failed, 8u);
  ASSERT_EQ(reply.failures.size(), EvaluationRuns::kMaxFailures);
  EXPECT_EQ(reply.failures.back(), "row 5 (id 1004): broken");
}

TEST(EvaluationRunsTest, NoFiguresWhenNoRowWasScored) {
  EvaluationRuns runs;
  runs.Begin(7, 2, kT0);
  ResultBatch batch = Rows(7, 0, 2);
  for (ScoreResult& result : batch.results) result.error = "broken";
  Add(runs, batch);
  EvaluationReply reply = Query(runs, 7);
  EXPECT_FALSE(reply.evaluation.has_value());
  EXPECT_EQ(reply.evaluation_error, "none of the 2 rows was scored");
}

TEST(EvaluationRunsTest, AFailingEvaluationSaysWhy) {
  EvaluationRuns runs;
  runs.Begin(7, 2, kT0);
  ResultBatch batch = Rows(7, 0, 2);
  batch.evaluation.labels[1] = 2;  // not a label
  Add(runs, batch);
  EvaluationReply reply = Query(runs, 7);
  EXPECT_EQ(reply.error, "");
  EXPECT_FALSE(reply.evaluation.has_value());
  EXPECT_EQ(reply.evaluation_error, Evaluate({kScores[0], kScores[1]}, {kLabels[0], 2}).status().message());
}

TEST(EvaluationRunsTest, RowsPastTheEndAreRefusedAndNothingIsTaken) {
  EvaluationRuns runs;
  runs.Begin(7, 4, kT0);
  Result<EvaluationAdded> added = runs.Add(Rows(7, 2, 3), kT0);
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.status().message().find("pass the run's end (4 rows)"), std::string::npos)
      << added.status().message();
  EXPECT_FALSE(runs.Add(Rows(7, 5, 0), kT0).ok());
  EXPECT_EQ(Query(runs, 7).scored, 0u);
}

TEST(EvaluationRunsTest, LabelsThatDoNotPairUpWithTheResultsAreRefused) {
  EvaluationRuns runs;
  runs.Begin(7, 4, kT0);
  ResultBatch batch = Rows(7, 0, 3);
  batch.evaluation.labels.pop_back();
  EXPECT_FALSE(runs.Add(batch, kT0).ok());
  EXPECT_EQ(Query(runs, 7).scored, 0u);
}

TEST(EvaluationRunsTest, AnUnknownRunIsAnError) {
  EvaluationRuns runs;
  Result<EvaluationAdded> added = runs.Add(Rows(7, 0, 1), kT0);
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.status().message().find("run 7"), std::string::npos) << added.status().message();
  EXPECT_EQ(Query(runs, 7).error,
            "run 7 is not held by this sink: begin it again (the sink may have restarted)");
}

TEST(EvaluationRunsTest, InvalidOptionsAreRefused) {
  EvaluationRuns runs;
  runs.Begin(7, 1, kT0);
  const EvaluationOptions options{1.5, 10};
  EvaluationReply reply = runs.Query(7, options, false, kT0);
  EXPECT_EQ(reply.error, options.Validate().message());
  EXPECT_NE(reply.error, "");
}

TEST(EvaluationRunsTest, ModelsAreCountedMostRowsFirst) {
  EvaluationRuns runs;
  runs.Begin(7, 8, kT0);
  Add(runs, Rows(7, 0, 2, "v1"));
  Add(runs, Rows(7, 2, 5, "v2"));
  Add(runs, Rows(7, 7, 1, "v1"));
  EvaluationReply reply = Query(runs, 7);
  EXPECT_EQ(reply.models, (std::vector<ModelRows>{{"fraud", "v2", 5}, {"fraud", "v1", 3}}));
}

TEST(EvaluationRunsTest, PendingRowsAreMergedRanges) {
  EvaluationRuns runs;
  runs.Begin(7, 10, kT0);
  Add(runs, Rows(7, 2, 2));
  Add(runs, Rows(7, 5, 1));
  Add(runs, Rows(7, 9, 1));
  EXPECT_EQ(Query(runs, 7, true).pending_rows, (std::vector<RowRange>{{0, 2}, {4, 5}, {6, 9}}));
  EXPECT_TRUE(Query(runs, 7, false).pending_rows.empty()) << "listed only when asked";
}

TEST(EvaluationRunsTest, PendingRangesAreCapped) {
  EvaluationRuns runs;
  const uint64_t rows = 2 * EvaluationRuns::kMaxPendingRanges + 10;
  runs.Begin(7, rows, kT0);
  for (uint64_t row = 1; row < rows; row += 2) Add(runs, Rows(7, row, 1));  // every other row pending
  std::vector<RowRange> pending = Query(runs, 7, true).pending_rows;
  ASSERT_EQ(pending.size(), EvaluationRuns::kMaxPendingRanges);
  EXPECT_EQ(pending.front(), (RowRange{0, 1}));
  EXPECT_EQ(pending.back(), (RowRange{1998, 1999}));
}

TEST(EvaluationRunsTest, BeginRefusesRowsBeyondTheBound) {
  EvaluationRuns runs(10);
  EXPECT_EQ(runs.Begin(1, 6, kT0).error, "");
  EvaluationReply refused = runs.Begin(2, 5, kT0);
  EXPECT_EQ(refused.run, 2u);
  EXPECT_NE(refused.error.find("holds 6 rows of other runs; at most 10 at once: end them or wait"),
            std::string::npos)
      << refused.error;
  EXPECT_EQ(runs.held_rows(), 6u);
  EXPECT_EQ(runs.Begin(2, 4, kT0).error, "");
  EXPECT_NE(runs.Begin(3, 11, kT0).error, "");
}

TEST(EvaluationRunsTest, IdleRunsMakeRoom) {
  EvaluationRuns runs(10);
  runs.Begin(1, 6, kT0);
  runs.Begin(2, 2, kT0);
  const auto later = kT0 + EvaluationRuns::kIdleTimeout;
  runs.Query(2, EvaluationOptions{}, false, later);  // run 2 was asked about: not idle
  EXPECT_NE(runs.Begin(3, 5, later).error, "") << "run 1 is not idle for longer than the timeout yet";
  const auto idle = later + std::chrono::seconds(1);
  EXPECT_EQ(runs.Begin(3, 5, idle).error, "");
  EXPECT_NE(runs.Query(1, EvaluationOptions{}, false, idle).error, "") << "run 1 was dropped";
  EXPECT_EQ(runs.Query(2, EvaluationOptions{}, false, idle).error, "");
  EXPECT_EQ(runs.held_rows(), 7u);
}

TEST(EvaluationRunsTest, AnAddKeepsARunFromBeingIdle) {
  EvaluationRuns runs(10);
  runs.Begin(1, 8, kT0);
  const auto later = kT0 + EvaluationRuns::kIdleTimeout;
  ASSERT_TRUE(runs.Add(Rows(1, 0, 1), later).ok());
  EXPECT_NE(runs.Begin(2, 5, later + std::chrono::seconds(1)).error, "");
}

TEST(EvaluationRunsTest, BeginAgainStartsFromScratch) {
  EvaluationRuns runs(10);
  runs.Begin(7, 8, kT0);
  Add(runs, Rows(7, 0, 8));
  EXPECT_EQ(runs.Begin(7, 10, kT0).error, "") << "its own old rows make room";
  EvaluationReply reply = Query(runs, 7, true);
  EXPECT_EQ(reply.rows, 10u);
  ExpectUnfinished(reply, 0, 0, {{0, 10}});
  EXPECT_TRUE(reply.models.empty());
  EXPECT_EQ(runs.held_rows(), 10u);
}

TEST(EvaluationRunsTest, EndForgetsTheRun) {
  EvaluationRuns runs(10);
  runs.Begin(7, 8, kT0);
  runs.End(7);
  runs.End(8);  // not held: nothing
  EXPECT_EQ(runs.held_rows(), 0u);
  EXPECT_NE(Query(runs, 7).error, "");
  EXPECT_FALSE(runs.Add(Rows(7, 0, 1), kT0).ok());
  EXPECT_EQ(runs.Begin(9, 10, kT0).error, "");
}

TEST(EvaluationRunsTest, AnswerServesEachKindOfRequest) {
  EvaluationRuns runs;
  EvaluationRequest begin{EvaluationRequest::Kind::kBegin, 7, 2};
  EXPECT_EQ(runs.Answer(begin, kT0).rows, 2u);
  Add(runs, Rows(7, 0, 2));
  EvaluationRequest query{EvaluationRequest::Kind::kQuery, 7, 0, 0.85, 3, true};
  EvaluationReply reply = runs.Answer(query, kT0);
  EXPECT_EQ(reply.scored, 2u);
  ASSERT_TRUE(reply.evaluation.has_value());
  EXPECT_EQ(*reply.evaluation,
            Evaluate({kScores[0], kScores[1]}, {kLabels[0], kLabels[1]}, {0.85, 3}).value());
  EvaluationRequest end{EvaluationRequest::Kind::kEnd, 7};
  EvaluationReply ended = runs.Answer(end, kT0);
  EvaluationReply just_the_run;
  just_the_run.run = 7;
  EXPECT_EQ(ended, just_the_run);
  EXPECT_NE(runs.Answer(query, kT0).error, "");
  EXPECT_NE(runs.Answer(EvaluationRequest{EvaluationRequest::Kind::kQuery, 0}, kT0).error, "");
}

TEST(EvaluationRunsTest, ARefusalCarriesOnlyTheRunAndWhy) {
  EvaluationReply expected;
  expected.run = 3;
  expected.error = "bad";
  EXPECT_EQ(EvaluationRefusal(3, "bad"), expected);
}

}  // namespace
}  // namespace scorepipe
