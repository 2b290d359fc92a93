#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "scoring/model.h"
#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

// A model that answers with fixed probabilities, or fails on request.
class FixedModel final : public Model {
 public:
  explicit FixedModel(std::vector<double> answers) : answers_(std::move(answers)) {}

  size_t num_features() const override { return 4; }
  const std::string& version() const override { return version_; }
  Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p) override {
    last_rows_.assign(rows, rows + n_rows * 4);
    if (fail_) return Status::Error("model exploded");
    p->assign(answers_.begin(), answers_.begin() + static_cast<std::ptrdiff_t>(n_rows));
    return Status::Ok();
  }

  bool fail_ = false;
  std::vector<float> last_rows_;

 private:
  std::vector<double> answers_;
  std::string version_ = "fixed-1";
};

std::vector<Transaction> Transactions(size_t n) {
  std::vector<Transaction> txs(n);
  for (size_t i = 0; i < n; ++i) {
    txs[i].id = 100 + static_cast<int64_t>(i);
    txs[i].customer_id = 1;
    txs[i].vendor_id = 5 + static_cast<int64_t>(i);
    txs[i].amount = 10.0 * static_cast<double>(i);
    txs[i].timestamp_unix_s = 1767225600;
    txs[i].status = "accepted";
  }
  return txs;
}

class ScorerTest : public ::testing::Test {
 protected:
  Scorer MakeScorer(std::vector<double> answers, double threshold = 0.5) {
    auto model = std::make_unique<FixedModel>(std::move(answers));
    model_ = model.get();
    return Scorer(FeatureExtractor(UpstreamFeatureSpec()), std::move(model), threshold);
  }

  FixedModel* model_ = nullptr;
};

TEST_F(ScorerTest, ThresholdDecidesFraudAndConfidenceIsPredictedClassProbability) {
  Scorer scorer = MakeScorer({0.1, 0.5, 0.93, 0.4999}, 0.5);
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(4), &results).ok());
  ASSERT_EQ(results.size(), 4u);
  const int expected_fraud[] = {0, 1, 1, 0};
  const double expected_confidence[] = {0.9, 0.5, 0.93, 0.5001};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(results[i].transaction_id, 100 + static_cast<int64_t>(i));
    EXPECT_EQ(results[i].is_fraudulent, expected_fraud[i]) << "row " << i;
    EXPECT_NEAR(results[i].confidence, expected_confidence[i], 1e-12) << "row " << i;
    EXPECT_TRUE(results[i].error.empty());
  }
  EXPECT_DOUBLE_EQ(results[2].fraud_probability, 0.93);
}

TEST_F(ScorerTest, ProbabilityEqualToThresholdIsFraud) {
  Scorer scorer = MakeScorer({0.8, 0.79}, 0.8);
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(2), &results).ok());
  EXPECT_EQ(results[0].is_fraudulent, 1);
  EXPECT_EQ(results[1].is_fraudulent, 0);
}

TEST_F(ScorerTest, ModelSeesExtractedFeatureRows) {
  Scorer scorer = MakeScorer({0.1, 0.2});
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(2), &results).ok());
  EXPECT_THAT(model_->last_rows_, ::testing::ElementsAre(1767225600.0f, 1, 5, 0, 1767225600.0f, 1, 6, 10));
}

TEST_F(ScorerTest, NonFiniteOrOutOfRangeProbabilityMarksOnlyThatRow) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Scorer scorer = MakeScorer({0.2, nan, inf, 1.5, 0.7});
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(5), &results).ok());
  EXPECT_TRUE(results[0].error.empty());
  for (size_t i : {1u, 2u, 3u}) {
    EXPECT_THAT(results[i].error, HasSubstr("model fixed-1 gave a probability of")) << i;
    EXPECT_EQ(results[i].transaction_id, 100 + static_cast<int64_t>(i));
  }
  EXPECT_TRUE(results[4].error.empty());
  EXPECT_EQ(results[4].is_fraudulent, 1);
}

TEST_F(ScorerTest, ReusedOutputIsResizedAndCleared) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Scorer scorer = MakeScorer({nan, 0.3, 0.3, 0.3});
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(4), &results).ok());
  ASSERT_FALSE(results[0].error.empty());

  Scorer healthy = MakeScorer({0.3});
  ASSERT_TRUE(healthy.Score(Transactions(1), &results).ok());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].error.empty());
  EXPECT_DOUBLE_EQ(results[0].fraud_probability, 0.3);
}

TEST_F(ScorerTest, AModelThatFailsOnEveryRowFailsEveryRowWithItsReason) {
  Scorer scorer = MakeScorer({0.1, 0.1, 0.1});
  model_->fail_ = true;
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.Score(Transactions(3), &results).ok());
  ASSERT_EQ(results.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].error, "model failed: model exploded") << i;
    EXPECT_EQ(results[i].transaction_id, 100 + static_cast<int64_t>(i));
  }
}

// A model that fails on any call holding a row with amount 13, throws on one
// with amount 666, and otherwise answers vendor_id / 1000 per row.
class PickyModel final : public Model {
 public:
  size_t num_features() const override { return 4; }
  const std::string& version() const override { return version_; }
  Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p) override {
    ++calls_;
    p->clear();
    for (size_t r = 0; r < n_rows; ++r) {
      const float amount = rows[r * 4 + 3];
      if (amount == 13.0f) return Status::Error("cannot score amount 13");
      if (amount == 666.0f) throw std::runtime_error("the devil's amount");
      p->push_back(rows[r * 4 + 2] / 1000.0);
    }
    return Status::Ok();
  }
  int calls_ = 0;

 private:
  std::string version_ = "picky-1";
};

TEST(ScorerSplitTest, OnlyTheRowsTheModelFailsOnAreFailedInEveryBatchShape) {
  // Batches of 1..70 rows with 0..3 bad rows at random places: the bad rows
  // get the model's reason, every other row its own score.
  std::mt19937 random(16);
  for (size_t n = 1; n <= 70; ++n) {
    std::vector<Transaction> txs = Transactions(n);
    std::vector<bool> bad(n, false);
    const size_t bad_count = std::uniform_int_distribution<size_t>(0, std::min<size_t>(3, n))(random);
    for (size_t b = 0; b < bad_count; ++b) {
      const size_t at = std::uniform_int_distribution<size_t>(0, n - 1)(random);
      bad[at] = true;
      txs[at].amount = (b % 2 == 0) ? 13.0 : 666.0;
    }
    auto model = std::make_unique<PickyModel>();
    PickyModel* picky = model.get();
    Scorer scorer(FeatureExtractor(UpstreamFeatureSpec()), std::move(model), 0.5);
    std::vector<ScoreResult> results;
    ASSERT_TRUE(scorer.Score(txs, &results).ok());
    ASSERT_EQ(results.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(results[i].transaction_id, txs[i].id);
      if (bad[i]) {
        EXPECT_THAT(results[i].error, HasSubstr("model failed: ")) << "n=" << n << " row " << i;
        EXPECT_THAT(results[i].error, txs[i].amount == 13.0 ? HasSubstr("cannot score amount 13")
                                                            : HasSubstr("threw: the devil's amount"));
      } else {
        EXPECT_EQ(results[i].error, "") << "n=" << n << " row " << i;
        EXPECT_DOUBLE_EQ(results[i].fraud_probability,
                         static_cast<double>(static_cast<float>(txs[i].vendor_id)) / 1000.0);
      }
    }
    // Halving costs O(bad x log n) calls, not one per row.
    if (bad_count == 0) {
      EXPECT_EQ(picky->calls_, 1);
    }
    EXPECT_LE(picky->calls_, 1 + 2 * static_cast<int>(bad_count) * (1 + static_cast<int>(std::log2(n)) + 1));
  }
}

TEST_F(ScorerTest, FeatureRowsAreScoredAsGivenAndEqualTheTransactionsScores) {
  // The rows the spec extracts from two transactions, given directly (a
  // KServe v2 tensor), reach the model unchanged and score the same.
  Scorer scorer = MakeScorer({0.25, 0.75});
  std::vector<ScoreResult> from_transactions;
  ASSERT_TRUE(scorer.Score(Transactions(2), &from_transactions).ok());
  const std::vector<float> rows = model_->last_rows_;
  std::vector<ScoreResult> from_rows = from_transactions;  // reused output: ids are cleared
  ASSERT_TRUE(scorer.ScoreRows(rows.data(), 2, 4, &from_rows).ok());
  EXPECT_EQ(model_->last_rows_, rows);
  ASSERT_EQ(from_rows.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(from_rows[i].transaction_id, 0);
    EXPECT_EQ(from_rows[i].fraud_probability, from_transactions[i].fraud_probability);
    EXPECT_EQ(from_rows[i].is_fraudulent, from_transactions[i].is_fraudulent);
    EXPECT_EQ(from_rows[i].confidence, from_transactions[i].confidence);
    EXPECT_TRUE(from_rows[i].error.empty());
  }
}

TEST_F(ScorerTest, FeatureRowsOfAnotherWidthFailEveryRowNamingBothWidths) {
  Scorer scorer = MakeScorer({0.25, 0.75, 0.5});
  const std::vector<float> rows(9, 1.0f);
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.ScoreRows(rows.data(), 3, 3, &results).ok());
  ASSERT_EQ(results.size(), 3u);
  for (const ScoreResult& r : results) EXPECT_EQ(r.error, "model fixed-1 takes 4 features a row, not 3");
}

TEST_F(ScorerTest, FeatureRowsTheModelFailsOnFailWithTheModelsReason) {
  Scorer scorer = MakeScorer({0.1, 0.1});
  model_->fail_ = true;
  const std::vector<float> rows(8, 1.0f);
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer.ScoreRows(rows.data(), 2, 4, &results).ok());
  ASSERT_EQ(results.size(), 2u);
  for (const ScoreResult& r : results) EXPECT_THAT(r.error, HasSubstr("model exploded"));
}

TEST_F(ScorerTest, EmptyBatchGivesNoResults) {
  Scorer scorer = MakeScorer({});
  std::vector<ScoreResult> results(2);
  ASSERT_TRUE(scorer.Score({}, &results).ok());
  EXPECT_TRUE(results.empty());
}

TEST(LoadScorerTest, LoadsDemoModelAndFeatures) {
  Result<Scorer> scorer = LoadScorer(testing::DemoModelConfig());
  ASSERT_TRUE(scorer.ok()) << scorer.status().message();
  EXPECT_EQ(scorer->features().width(), 4u);
  EXPECT_EQ(scorer->model().num_features(), 4u);
  EXPECT_EQ(scorer->model().version(), "model.json");
  EXPECT_EQ(scorer->threshold(), 0.5);
}

TEST(LoadScorerTest, FeatureSpecWiderThanModelIsError) {
  testing::ScratchDir dir;
  ModelConfig cfg = testing::DemoModelConfig();
  cfg.features = dir.Write("features.yaml", R"(features:
  - {name: timestamp, field: timestamp, transform: unix_seconds}
  - {name: status, field: status, transform: index, values: [submitted, accepted, rejected]}
  - {name: vendor_id, field: vendor_id, transform: number}
  - {name: amount, field: amount, transform: number}
  - {name: customer_id, field: customer_id, transform: number}
)");
  Result<Scorer> scorer = LoadScorer(cfg);
  ASSERT_FALSE(scorer.ok());
  EXPECT_EQ(scorer.status().message(), cfg.path + ": the model takes 4 features but the feature spec has 5");
}

TEST(LoadScorerTest, BadFeatureSpecIsError) {
  ModelConfig cfg = testing::DemoModelConfig();
  cfg.features = "/nonexistent/features.yaml";
  Result<Scorer> scorer = LoadScorer(cfg);
  ASSERT_FALSE(scorer.ok());
  EXPECT_THAT(scorer.status().message(), HasSubstr("/nonexistent/features.yaml: cannot open"));

  cfg.features.clear();
  EXPECT_EQ(LoadScorer(cfg).status().message(), "model.features: no feature spec path given");
}

TEST(LoadScorerTest, ThresholdOutsideZeroOneIsError) {
  for (double threshold : {-0.1, 1.01, std::nan("")}) {
    ModelConfig cfg = testing::DemoModelConfig();
    cfg.threshold = threshold;
    Result<Scorer> scorer = LoadScorer(cfg);
    ASSERT_FALSE(scorer.ok()) << threshold;
    EXPECT_THAT(scorer.status().message(), HasSubstr("model.threshold: "));
    EXPECT_THAT(scorer.status().message(), HasSubstr("allowed: [0, 1]"));
  }
}

}  // namespace
}  // namespace scorepipe
