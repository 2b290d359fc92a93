// The Model contract, run once against every model format through LoadModel().
#include "scoring/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "tests/scoring/model_test_util.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

// How to get a four-feature model file of one format.
struct FormatCase {
  const char* name;
  ModelFormat format;
  std::string (*make_file)(const testing::ScratchDir& dir);
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.name; }

std::string DemoXgboost(const testing::ScratchDir&) { return testing::DemoDir() + "/model.json"; }

std::string SmallLinear(const testing::ScratchDir& dir) {
  return dir.Write("linear.yaml", "format: linear\nweights: [1.0e-9, 0.6, 0.001, 0.002]\nbias: -4\n");
}

class ModelContractTest : public ::testing::TestWithParam<FormatCase> {
 protected:
  ModelConfig Config() const {
    ModelConfig cfg;
    cfg.format = GetParam().format;
    cfg.path = GetParam().make_file(dir_);
    return cfg;
  }

  // Upstream-feature rows for synthetic transactions.
  static std::vector<float> Rows(size_t n) {
    FeatureExtractor extractor(UpstreamFeatureSpec());
    SyntheticTransactions generator(7);
    std::vector<Transaction> txs;
    for (size_t i = 0; i < n; ++i) txs.push_back(generator.Next().parsed);
    std::vector<float> rows;
    extractor.Extract(txs, &rows);
    return rows;
  }

  testing::ScratchDir dir_;
};

TEST_P(ModelContractTest, TakesTheSpecWidthAndDefaultsVersionToFileName) {
  const ModelConfig cfg = Config();
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->num_features(), 4u);
  EXPECT_EQ((*model)->version(), std::filesystem::path(cfg.path).filename().string());
}

TEST_P(ModelContractTest, ReportsConfiguredVersion) {
  ModelConfig cfg = Config();
  cfg.version = "fraud-2026-03";
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->version(), "fraud-2026-03");
}

TEST_P(ModelContractTest, GivesOneProbabilityInZeroOnePerRow) {
  Result<std::unique_ptr<Model>> model = LoadModel(Config(), 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::vector<float> rows = Rows(1000);
  std::vector<double> p;
  ASSERT_TRUE((*model)->PredictProba(rows.data(), 1000, &p).ok());
  ASSERT_EQ(p.size(), 1000u);
  for (double v : p) {
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_GE(v, 0.0);
    ASSERT_LE(v, 1.0);
  }
}

TEST_P(ModelContractTest, BatchesScoreLikeSingleRowsAndReuseTheOutput) {
  Result<std::unique_ptr<Model>> model = LoadModel(Config(), 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::vector<float> rows = Rows(50);
  std::vector<double> batch;
  ASSERT_TRUE((*model)->PredictProba(rows.data(), 50, &batch).ok());
  std::vector<double> single(100, 9.0);  // larger than needed: must shrink
  for (size_t i = 0; i < 50; ++i) {
    ASSERT_TRUE((*model)->PredictProba(rows.data() + 4 * i, 1, &single).ok());
    ASSERT_EQ(single.size(), 1u);
    EXPECT_NEAR(single[0], batch[i], 1e-12) << "row " << i;
  }
}

TEST_P(ModelContractTest, EmptyBatchGivesNoProbabilities) {
  Result<std::unique_ptr<Model>> model = LoadModel(Config(), 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<double> p(3, 0.5);
  ASSERT_TRUE((*model)->PredictProba(nullptr, 0, &p).ok());
  EXPECT_TRUE(p.empty());
}

TEST_P(ModelContractTest, FeatureCountMismatchIsErrorWithPath) {
  const ModelConfig cfg = Config();
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 5);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(cfg.path + ":"));
  EXPECT_THAT(model.status().message(), HasSubstr("the model takes 4 features but the feature spec has 5"));
}

TEST_P(ModelContractTest, MissingFileIsErrorWithPath) {
  ModelConfig cfg = Config();
  cfg.path = dir_.File("absent");
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 4);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), cfg.path + ": cannot open: No such file or directory");
}

TEST_P(ModelContractTest, CorruptFileIsErrorWithPath) {
  ModelConfig cfg = Config();
  cfg.path = dir_.Write("corrupt", "{[: not a model");
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 4);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(cfg.path + ":"));
}

INSTANTIATE_TEST_SUITE_P(Model, ModelContractTest,
                         ::testing::Values(FormatCase{"Xgboost", ModelFormat::kXgboost, &DemoXgboost},
                                           FormatCase{"Linear", ModelFormat::kLinear, &SmallLinear}),
                         [](const ::testing::TestParamInfo<FormatCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(LoadModelTest, EmptyPathIsError) {
  Result<std::unique_ptr<Model>> model = LoadModel(ModelConfig{}, 4);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), "model: no model path given");
}

TEST(LoadModelTest, WrongFormatForTheFileIsError) {
  ModelConfig cfg = testing::DemoModelConfig();
  cfg.format = ModelFormat::kLinear;  // a JSON XGBoost model read as linear YAML
  Result<std::unique_ptr<Model>> model = LoadModel(cfg, 4);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr(cfg.path + ":"));
}

}  // namespace
}  // namespace scorepipe
