// Tests of scoring/evaluation.h (every figure, worked by hand) and of the
// JSON of the figures (proto/evaluation.h's EvaluationToJson), which these
// build with Evaluate().
#include "scoring/evaluation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "proto/evaluation.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

// Four rows worked by hand below: fraud at 0.35 and 0.8, none at 0.1 and 0.4.
const std::vector<double> kScores = {0.1, 0.4, 0.35, 0.8};
const std::vector<float> kLabels = {0, 0, 1, 1};

Evaluation EvaluateOk(const std::vector<double>& scores, const std::vector<float>& labels,
                      EvaluationOptions options = {}) {
  Result<Evaluation> e = Evaluate(scores, labels, options);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? *e : Evaluation{};
}

TEST(RocAucTest, PerfectReversedAndTiedRankings) {
  EXPECT_DOUBLE_EQ(*RocAuc(std::vector<float>{0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(*RocAuc(std::vector<float>{0.9f, 0.8f, 0.2f, 0.1f}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(*RocAuc(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, {0, 1, 0, 1}), 0.5);
}

TEST(RocAucTest, CountsPairsAndHalfTies) {
  // Positive pairs won: (0.35 > 0.1), (0.8 > 0.1), (0.8 > 0.4): 3 of 4.
  EXPECT_DOUBLE_EQ(*RocAuc(kScores, kLabels), 0.75);
  // A tie between the positive and one negative counts one half: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(*RocAuc(std::vector<double>{0.1, 0.4, 0.4}, {0, 0, 1}), 0.75);
}

TEST(RocAucTest, OneClassOrSizeMismatchIsError) {
  EXPECT_THAT(RocAuc(std::vector<float>{0.1f, 0.2f}, {1, 1}).status().message(),
              HasSubstr("needs both classes"));
  EXPECT_THAT(RocAuc(std::vector<float>{0.1f}, {1, 0}).status().message(),
              HasSubstr("1 scores but 2 labels"));
}

TEST(EvaluationTest, HandWorkedExample) {
  EvaluationOptions options;
  options.calibration_bins = 2;
  const Evaluation e = EvaluateOk(kScores, kLabels, options);
  EXPECT_EQ(e.rows, 4u);
  EXPECT_EQ(e.positives, 2u);
  EXPECT_EQ(e.negatives, 2u);
  // At 0.5 only 0.8 is predicted fraud.
  EXPECT_EQ(e.confusion.true_positives, 1u);
  EXPECT_EQ(e.confusion.false_positives, 0u);
  EXPECT_EQ(e.confusion.true_negatives, 2u);
  EXPECT_EQ(e.confusion.false_negatives, 1u);
  EXPECT_DOUBLE_EQ(e.precision, 1.0);
  EXPECT_DOUBLE_EQ(e.recall, 0.5);
  EXPECT_DOUBLE_EQ(e.f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(e.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(*e.roc_auc, 0.75);
  // From the top: 0.8 (recall 1/2 at precision 1), 0.4 (no new fraud),
  // 0.35 (recall 2/2 at precision 2/3): 1/2 * 1 + 1/2 * 2/3.
  EXPECT_DOUBLE_EQ(*e.average_precision, 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(e.brier, (0.01 + 0.16 + 0.4225 + 0.04) / 4);
  EXPECT_DOUBLE_EQ(e.log_loss, -(std::log(0.9) + std::log(0.6) + std::log(0.35) + std::log(0.8)) / 4);
  ASSERT_EQ(e.calibration.size(), 2u);
  EXPECT_EQ(e.calibration[0].count, 3u);
  EXPECT_DOUBLE_EQ(e.calibration[0].mean_predicted, 0.85 / 3);
  EXPECT_DOUBLE_EQ(e.calibration[0].observed_rate, 1.0 / 3);
  EXPECT_EQ(e.calibration[1].count, 1u);
  EXPECT_DOUBLE_EQ(e.calibration[1].mean_predicted, 0.8);
  EXPECT_DOUBLE_EQ(e.calibration[1].observed_rate, 1.0);
  EXPECT_DOUBLE_EQ(e.calibration[1].lower, 0.5);
  EXPECT_DOUBLE_EQ(e.calibration[1].upper, 1.0);
}

TEST(EvaluationTest, TiedScoresCountAsOnePointOfTheCurves) {
  // 0.5 holds one fraud and one not: precision 1/2 at recall 1/2, then 0.2
  // adds the second fraud: precision 2/3 at recall 1.
  const Evaluation e = EvaluateOk({0.5, 0.5, 0.2}, {1, 0, 1});
  EXPECT_DOUBLE_EQ(*e.average_precision, 0.5 * 0.5 + 0.5 * 2.0 / 3.0);
  // Pairs: (0.5 vs 0.5) a tie, (0.2 vs 0.5) lost: 0.5 / 2.
  EXPECT_DOUBLE_EQ(*e.roc_auc, 0.25);
  // The threshold is inclusive: 0.5 >= 0.5 is predicted fraud.
  EXPECT_EQ(e.confusion.true_positives, 1u);
  EXPECT_EQ(e.confusion.false_positives, 1u);
}

TEST(EvaluationTest, CalibrationBinsAsSklearnsUniformStrategy) {
  // sklearn's edges are k * (1 + 1e-8) / bins, a score in (e_k, e_k+1]: a
  // score on a nominal boundary (0.1, 0.3) falls in the bin below it, and 1
  // in the last one. Empty bins stay, with count 0.
  const Evaluation e = EvaluateOk({0, 0.1, 0.3, 0.30000001, 1}, {0, 0, 1, 1, 1});
  ASSERT_EQ(e.calibration.size(), 10u);
  std::vector<size_t> counts;
  for (const CalibrationBin& bin : e.calibration) counts.push_back(bin.count);
  EXPECT_EQ(counts, (std::vector<size_t>{2, 0, 1, 1, 0, 0, 0, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(e.calibration[0].mean_predicted, 0.05);
  EXPECT_DOUBLE_EQ(e.calibration[0].observed_rate, 0.0);
  EXPECT_EQ(e.calibration[1].mean_predicted, 0.0);
  EXPECT_DOUBLE_EQ(e.calibration[9].observed_rate, 1.0);
}

TEST(EvaluationTest, NothingPredictedFraudGivesZeroNotNan) {
  EvaluationOptions options;
  options.threshold = 1;
  const Evaluation e = EvaluateOk(kScores, kLabels, options);
  EXPECT_EQ(e.confusion.true_positives + e.confusion.false_positives, 0u);
  EXPECT_EQ(e.precision, 0.0);
  EXPECT_EQ(e.recall, 0.0);
  EXPECT_EQ(e.f1, 0.0);
}

TEST(EvaluationTest, OneClassLeavesTheCurvesUndefinedAndSaysWhy) {
  const Evaluation none = EvaluateOk({0.2, 0.7}, {0, 0});
  EXPECT_FALSE(none.roc_auc.has_value());
  EXPECT_THAT(none.roc_auc_undefined, HasSubstr("needs both classes; got 0 positives and 2 negatives"));
  EXPECT_FALSE(none.average_precision.has_value());
  EXPECT_THAT(none.average_precision_undefined, HasSubstr("needs at least one fraud"));
  EXPECT_EQ(none.recall, 0.0);  // no fraud to find
  EXPECT_EQ(none.precision, 0.0);
  const Evaluation all = EvaluateOk({0.2, 0.7}, {1, 1});
  EXPECT_FALSE(all.roc_auc.has_value());
  EXPECT_DOUBLE_EQ(*all.average_precision, 1.0);
  const std::string json = EvaluationToJson(none);
  EXPECT_THAT(json, HasSubstr("\"roc_auc\":null,\"roc_auc_undefined\":\"auc: needs both classes"));
  EXPECT_THAT(json, HasSubstr("\"count\":0,\"mean_predicted\":null,\"observed_rate\":null}"));
}

TEST(EvaluationTest, LogLossClipsCertainMistakes) {
  // A certain wrong answer costs -log(eps), not infinity.
  const Evaluation e = EvaluateOk({0.0, 1.0}, {1, 0});
  EXPECT_DOUBLE_EQ(e.log_loss, -std::log(std::numeric_limits<double>::epsilon()));
  EXPECT_DOUBLE_EQ(e.brier, 1.0);
}

TEST(EvaluationTest, BadInputIsAnError) {
  const auto error = [](const std::vector<double>& scores, const std::vector<float>& labels,
                        EvaluationOptions options = {}) {
    return Evaluate(scores, labels, options).status().message();
  };
  EXPECT_THAT(error({0.1}, {0, 1}), HasSubstr("1 scores but 2 labels"));
  EXPECT_THAT(error({}, {}), HasSubstr("no rows"));
  EXPECT_THAT(error({0.1, std::nan("")}, {0, 1}), HasSubstr("score 1 is nan, not a probability"));
  EXPECT_THAT(error({1.5}, {0}), HasSubstr("not a probability in [0, 1]"));
  EXPECT_THAT(error({0.5}, {2}), HasSubstr("label 0 is 2.000000, not 0 or 1"));
  EvaluationOptions options;
  options.threshold = 1.5;
  EXPECT_THAT(error({0.5}, {1}, options), HasSubstr("threshold: 1.500000 is out of range [0, 1]"));
  options = {};
  options.calibration_bins = 0;
  EXPECT_THAT(error({0.5}, {1}, options), HasSubstr("calibration bins: 0 is out of range"));
}

TEST(EvaluationTest, JsonHoldsEveryFigureExactly) {
  const Evaluation e = EvaluateOk(kScores, kLabels);
  const std::string json = EvaluationToJson(e);
  for (const char* key :
       {"\"rows\":4", "\"positives\":2", "\"threshold\":0.5", "\"roc_auc\":0.75", "\"precision\":1",
        "\"recall\":0.5", "\"f1\":0.6666666666666666", "\"accuracy\":0.75",
        "\"log_loss\":", "\"brier\":0.158125",
        "\"confusion\":{\"true_positives\":1,\"false_positives\":0,"
        "\"true_negatives\":2,\"false_negatives\":1}",
        "\"calibration\":[{\"lower\":0,\"upper\":0.1,\"count\":1,\"mean_predicted\":0.1,"}) {
    EXPECT_THAT(json, HasSubstr(key));
  }
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
}

}  // namespace
}  // namespace scorepipe
