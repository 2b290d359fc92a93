#include "scoring/xgboost_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scoring/model.h"
#include "tests/scoring/model_test_util.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

std::string DemoModelPath() { return testing::DemoDir() + "/model.json"; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The demo model's row for a transaction, written out here from the upstream
// feature definition rather than through FeatureExtractor.
void AppendUpstreamRow(const Transaction& tx, std::vector<float>* rows) {
  float status = -1;
  if (tx.status == "submitted") status = 0;
  if (tx.status == "accepted") status = 1;
  if (tx.status == "rejected") status = 2;
  rows->push_back(static_cast<float>(tx.timestamp_unix_s));
  rows->push_back(status);
  rows->push_back(static_cast<float>(tx.vendor_id));
  rows->push_back(static_cast<float>(tx.amount));
}

// libxgboost's own prediction: a fresh booster, a DMatrix, XGBoosterPredict.
std::vector<float> ReferencePredict(const std::string& model_path, const std::vector<float>& rows,
                                    size_t n_rows) {
  BoosterHandle booster = nullptr;
  DMatrixHandle matrix = nullptr;
  EXPECT_EQ(XGBoosterCreate(nullptr, 0, &booster), 0);
  EXPECT_EQ(XGBoosterLoadModel(booster, model_path.c_str()), 0) << XGBGetLastError();
  EXPECT_EQ(XGDMatrixCreateFromMat(rows.data(), n_rows, 4, std::nanf(""), &matrix), 0);
  bst_ulong len = 0;
  const float* out = nullptr;
  EXPECT_EQ(XGBoosterPredict(booster, matrix, 0, 0, 0, &len, &out), 0) << XGBGetLastError();
  std::vector<float> result(out, out + len);
  XGDMatrixFree(matrix);
  XGBoosterFree(booster);
  return result;
}

TEST(XgboostModelTest, LoadsDemoModelWithFourFeatures) {
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(DemoModelPath(), "demo", 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->num_features(), 4u);
  EXPECT_EQ((*model)->version(), "demo");
}

TEST(XgboostModelTest, DemoScoresThroughScorerEqualLibxgboostPrediction) {
  Result<Scorer> scorer = LoadScorer(testing::DemoModelConfig());
  ASSERT_TRUE(scorer.ok()) << scorer.status().message();

  constexpr size_t kRows = 4000;
  SyntheticTransactions generator(/*seed=*/2024);
  std::vector<Transaction> txs;
  std::vector<float> rows;
  for (size_t i = 0; i < kRows; ++i) {
    txs.push_back(generator.Next().parsed);
    AppendUpstreamRow(txs.back(), &rows);
  }
  const std::vector<float> expected = ReferencePredict(DemoModelPath(), rows, kRows);
  ASSERT_EQ(expected.size(), kRows);

  // Scored in uneven batches, as a worker would.
  std::vector<ScoreResult> results;
  size_t begin = 0;
  for (size_t batch : {1u, 7u, 512u, 1480u, 2000u}) {
    const std::vector<Transaction> part(txs.begin() + begin, txs.begin() + begin + batch);
    ASSERT_TRUE(scorer->Score(part, &results).ok());
    ASSERT_EQ(results.size(), batch);
    for (size_t i = 0; i < batch; ++i) {
      ASSERT_TRUE(results[i].error.empty()) << results[i].error;
      EXPECT_EQ(results[i].transaction_id, txs[begin + i].id);
      EXPECT_NEAR(results[i].fraud_probability, expected[begin + i], 1e-6) << "row " << begin + i;
    }
    begin += batch;
  }
  EXPECT_EQ(begin, kRows);
}

TEST(XgboostModelTest, EmptyBatchGivesNoProbabilities) {
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(DemoModelPath(), "demo", 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<double> p(3, 0.5);
  ASSERT_TRUE((*model)->PredictProba(nullptr, 0, &p).ok());
  EXPECT_TRUE(p.empty());
}

TEST(XgboostModelTest, MissingFileIsErrorWithPath) {
  Result<std::unique_ptr<Model>> model = LoadXgboostModel("/nonexistent/model.json", "v", 4);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), "/nonexistent/model.json: cannot open: No such file or directory");
}

TEST(XgboostModelTest, TruncatedFileIsErrorWithLibxgboostReason) {
  testing::ScratchDir dir;
  const std::string json = ReadAll(DemoModelPath());
  const std::string path = dir.Write("model.json", json.substr(0, json.size() / 2));
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(path, "v", 4);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(path + ": not a valid XGBoost model: "));
  EXPECT_THAT(model.status().message(), ::testing::Not(HasSubstr("Stack trace")));
}

TEST(XgboostModelTest, JsonThatIsNotAModelIsError) {
  testing::ScratchDir dir;
  const std::string path = dir.Write("model.json", R"({"weights": [1, 2]})");
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(path, "v", 4);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(path + ": not a valid XGBoost model: "));
}

TEST(XgboostModelTest, NonJsonFileIsError) {
  testing::ScratchDir dir;
  for (const std::string& content : {std::string(""), std::string("binf\x01\x02garbage")}) {
    const std::string path = dir.Write("model.json", content);
    Result<std::unique_ptr<Model>> model = LoadXgboostModel(path, "v", 4);
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().message(),
              path + ": not an XGBoost JSON model (the file does not start with '{')");
  }
}

TEST(XgboostModelTest, FeatureCountMismatchIsError) {
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(DemoModelPath(), "v", 3);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            DemoModelPath() + ": the model takes 4 features but the feature spec has 3");
}

TEST(XgboostModelTest, ObjectiveOtherThanBinaryLogisticIsError) {
  // A tiny regression model, trained here.
  const std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<float> y = {0, 1, 2, 3};
  DMatrixHandle matrix = nullptr;
  BoosterHandle booster = nullptr;
  ASSERT_EQ(XGDMatrixCreateFromMat(x.data(), 4, 2, std::nanf(""), &matrix), 0);
  ASSERT_EQ(XGDMatrixSetFloatInfo(matrix, "label", y.data(), 4), 0);
  ASSERT_EQ(XGBoosterCreate(&matrix, 1, &booster), 0);
  ASSERT_EQ(XGBoosterSetParam(booster, "objective", "reg:squarederror"), 0);
  ASSERT_EQ(XGBoosterUpdateOneIter(booster, 0, matrix), 0);
  testing::ScratchDir dir;
  const std::string path = dir.File("regression.json");
  ASSERT_EQ(XGBoosterSaveModel(booster, path.c_str()), 0);
  XGBoosterFree(booster);
  XGDMatrixFree(matrix);

  Result<std::unique_ptr<Model>> model = LoadXgboostModel(path, "v", 2);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            path + ": objective 'reg:squarederror' is not supported; allowed: binary:logistic");
}

TEST(XgboostModelTest, LastErrorDropsTimeAndStackTrace) {
  BoosterHandle booster = nullptr;
  ASSERT_EQ(XGBoosterCreate(nullptr, 0, &booster), 0);
  ASSERT_NE(XGBoosterLoadModel(booster, "/nonexistent/x.json"), 0);
  const std::string message = XgboostLastError();
  XGBoosterFree(booster);
  EXPECT_THAT(message, HasSubstr("/nonexistent/x.json"));
  EXPECT_NE(message.front(), '[');
  EXPECT_THAT(message, ::testing::Not(HasSubstr("Stack trace")));
}

}  // namespace
}  // namespace scorepipe
