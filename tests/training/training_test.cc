#include "training/training.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scoring/evaluation.h"
#include "scoring/feature_spec.h"
#include "scoring/linear_model.h"
#include "scoring/model.h"
#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

using Data = testing::LabelledRows;

Data Synthetic(size_t n) { return testing::SyntheticRows(n, 7); }

TrainingOptions Options(TrainAlgorithm algorithm) {
  TrainingOptions o;
  o.algorithm = algorithm;
  o.xgboost.rounds = 20;
  o.xgboost.max_depth = 4;
  return o;
}

// The model as the worker loads it, with its features.yaml beside it.
Result<std::unique_ptr<Model>> LoadAsWorker(const testing::ScratchDir& dir, const std::string& model_path,
                                            ModelFormat format) {
  ModelConfig cfg;
  cfg.path = model_path;
  cfg.format = format;
  cfg.features = dir.Write("features.yaml", FeatureSpecToYaml(UpstreamFeatureSpec()));
  return LoadModel(cfg, UpstreamFeatureSpec().features.size());
}

// The loaded model's scores on the last `n` rows.
std::vector<float> ScoreLast(Model* model, const Data& data, size_t n) {
  const size_t width = model->num_features();
  std::vector<double> p;
  EXPECT_TRUE(model->PredictProba(data.rows.data() + (data.labels.size() - n) * width, n, &p).ok());
  return std::vector<float>(p.begin(), p.end());
}

std::vector<float> LastLabels(const Data& data, size_t n) {
  return std::vector<float>(data.labels.end() - static_cast<std::ptrdiff_t>(n), data.labels.end());
}

TEST(TrainModelTest, XgboostLearnsTheSyntheticData) {
  testing::ScratchDir dir;
  const Data data = Synthetic(20000);
  std::vector<std::string> progress;
  TrainingOptions o = Options(TrainAlgorithm::kXgboost);
  o.progress = [&](const std::string& line) { progress.push_back(line); };
  Result<TrainingReport> report = TrainModel(data.rows, 4, data.labels, o, dir.File("model.json"));
  ASSERT_TRUE(report.ok()) << report.status().message();

  EXPECT_EQ(report->train_rows, 16000u);
  EXPECT_EQ(report->validation_rows, 4000u);
  EXPECT_GT(report->validation_auc, 0.8);
  EXPECT_GT(report->validation_pr_auc, report->validation_fraud_rate);
  EXPECT_GT(report->validation_logloss, 0);
  EXPECT_EQ(report->iterations, 20);
  EXPECT_EQ(report->best_iteration, 19);
  EXPECT_FALSE(report->stopped_early);
  EXPECT_THAT(progress, ::testing::Contains(HasSubstr("validation-auc:")));

  Result<std::unique_ptr<Model>> model = LoadAsWorker(dir, dir.File("model.json"), ModelFormat::kXgboost);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::vector<float> scores = ScoreLast(model->get(), data, 4000);
  EXPECT_NEAR(*RocAuc(scores, LastLabels(data, 4000)), report->validation_auc, 1e-9);
}

TEST(TrainModelTest, LinearLearnsTheSyntheticData) {
  testing::ScratchDir dir;
  const Data data = Synthetic(20000);
  Result<TrainingReport> report =
      TrainModel(data.rows, 4, data.labels, Options(TrainAlgorithm::kLinear), dir.File("model.yaml"));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_GT(report->validation_auc, 0.6);
  EXPECT_GE(report->iterations, 2);
  EXPECT_LT(report->iterations, 100);  // Newton converges in a handful of steps
  EXPECT_EQ(report->linear_weights.size(), 4);
}

// A model trained over an existing file replaces it whole: a reader that
// opened the old file keeps reading the old model, never a truncated one,
// and no temporary file is left beside it.
TEST(TrainModelTest, TrainingOverAModelReplacesItWhole) {
  for (const auto& [algorithm, name] : {std::pair{TrainAlgorithm::kXgboost, "model.json"},
                                        std::pair{TrainAlgorithm::kLinear, "model.yaml"}}) {
    SCOPED_TRACE(name);
    testing::ScratchDir dir;
    const std::string old_text = "the model a worker is reading\n";
    const std::string path = dir.Write(name, old_text);
    std::ifstream reader(path);
    ASSERT_TRUE(reader.is_open());

    const Data data = Synthetic(2000);
    Result<TrainingReport> report = TrainModel(data.rows, 4, data.labels, Options(algorithm), path);
    ASSERT_TRUE(report.ok()) << report.status().message();

    const std::string seen_by_reader((std::istreambuf_iterator<char>(reader)),
                                     std::istreambuf_iterator<char>());
    EXPECT_EQ(seen_by_reader, old_text);
    EXPECT_EQ(
        std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()),
        1)
        << "only the model";
    ASSERT_TRUE(
        LoadAsWorker(dir, path,
                     algorithm == TrainAlgorithm::kXgboost ? ModelFormat::kXgboost : ModelFormat::kLinear)
            .ok());
  }
}

TEST(TrainModelTest, EarlyStoppingKeepsOnlyTheBestRound) {
  testing::ScratchDir dir;
  const Data data = Synthetic(3000);
  // Deep, unregularised, full-step trees on little data overfit at once.
  TrainingOptions o = Options(TrainAlgorithm::kXgboost);
  o.xgboost.rounds = 300;
  o.xgboost.max_depth = 12;
  o.xgboost.eta = 1.0;
  o.xgboost.lambda = 0;
  o.xgboost.min_child_weight = 0;
  o.xgboost.early_stopping_rounds = 5;
  Result<TrainingReport> stopped = TrainModel(data.rows, 4, data.labels, o, dir.File("stopped.json"));
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  EXPECT_TRUE(stopped->stopped_early);
  EXPECT_LT(stopped->iterations, 300);
  EXPECT_EQ(stopped->iterations, stopped->best_iteration + 1 + 5);

  // The same training cut at the best round writes a model that scores the same.
  o.xgboost.rounds = stopped->best_iteration + 1;
  o.xgboost.early_stopping_rounds = 0;
  Result<TrainingReport> cut = TrainModel(data.rows, 4, data.labels, o, dir.File("cut.json"));
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_EQ(cut->validation_auc, stopped->validation_auc);

  Result<std::unique_ptr<Model>> a = LoadAsWorker(dir, dir.File("stopped.json"), ModelFormat::kXgboost);
  Result<std::unique_ptr<Model>> b = LoadAsWorker(dir, dir.File("cut.json"), ModelFormat::kXgboost);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().message() << b.status().message();
  const std::vector<float> scores = ScoreLast(a->get(), data, stopped->validation_rows);
  EXPECT_EQ(scores, ScoreLast(b->get(), data, stopped->validation_rows));
  EXPECT_NEAR(*RocAuc(scores, LastLabels(data, stopped->validation_rows)), stopped->validation_auc, 1e-9);
}

TEST(TrainModelTest, EarlyStoppingOnLoglossStopsToo) {
  testing::ScratchDir dir;
  const Data data = Synthetic(3000);
  TrainingOptions o = Options(TrainAlgorithm::kXgboost);
  o.metric = StoppingMetric::kLogloss;
  o.xgboost.rounds = 300;
  o.xgboost.eta = 1.0;
  o.xgboost.max_depth = 12;
  o.xgboost.early_stopping_rounds = 3;
  Result<TrainingReport> report = TrainModel(data.rows, 4, data.labels, o, dir.File("m.json"));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->stopped_early);
  EXPECT_EQ(report->iterations, report->best_iteration + 1 + 3);
}

TEST(TrainModelTest, LinearModelFileScoresAsTheFit) {
  testing::ScratchDir dir;
  const Data data = Synthetic(10000);
  TrainingOptions o = Options(TrainAlgorithm::kLinear);
  o.linear.l2 = 0.5;
  Result<TrainingReport> report = TrainModel(data.rows, 4, data.labels, o, dir.File("model.yaml"));
  ASSERT_TRUE(report.ok()) << report.status().message();

  ModelConfig cfg;
  cfg.path = dir.File("model.yaml");
  cfg.format = ModelFormat::kLinear;
  cfg.features = dir.Write("features.yaml", FeatureSpecToYaml(UpstreamFeatureSpec()));
  Result<Scorer> scorer = LoadScorer(cfg);
  ASSERT_TRUE(scorer.ok()) << scorer.status().message();
  std::vector<ScoreResult> results;
  ASSERT_TRUE(scorer->Score(data.txs, &results).ok());

  LinearModel fitted(report->linear_weights, report->linear_bias, "fit");
  std::vector<double> expected;
  ASSERT_TRUE(fitted.PredictProba(data.rows.data(), data.labels.size(), &expected).ok());
  ASSERT_EQ(results.size(), expected.size());
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_EQ(results[i].fraud_probability, expected[i]) << "row " << i;
  }
  const std::vector<double> validation(expected.end() - 2000, expected.end());
  EXPECT_NEAR(*RocAuc(validation, LastLabels(data, 2000)), report->validation_auc, 1e-12);
}

TEST(TrainModelTest, LinearWeightsFollowTheSignal) {
  // Label 1 exactly when x0 is large; x1 is noise around a large offset. The
  // raw-feature weights must put the signal on x0 whatever the scales.
  std::vector<float> rows, labels;
  for (int i = 0; i < 2000; ++i) {
    const float x0 = static_cast<float>((i * 37) % 100);
    const float x1 = 1.0e6f + static_cast<float>((i * 53) % 17);
    rows.insert(rows.end(), {x0, x1});
    labels.push_back(x0 + static_cast<float>((i * 11) % 30) > 70 ? 1.0f : 0.0f);
  }
  testing::ScratchDir dir;
  Result<TrainingReport> report =
      TrainModel(rows, 2, labels, Options(TrainAlgorithm::kLinear), dir.File("m.yaml"));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_GT(report->linear_weights[0], 0.05);
  EXPECT_GT(report->validation_auc, 0.9);
}

TEST(TrainModelTest, BadOptionsAndDataAreErrors) {
  testing::ScratchDir dir;
  const Data data = Synthetic(1000);
  const std::string path = dir.File("m.json");
  auto error = [&](const TrainingOptions& o) {
    return TrainModel(data.rows, 4, data.labels, o, path).status().message();
  };
  TrainingOptions o = Options(TrainAlgorithm::kXgboost);
  o.xgboost.objective = "reg:squarederror";
  EXPECT_EQ(error(o),
            "train options: objective: 'reg:squarederror' is not allowed; allowed: "
            "binary:logistic (what the worker scores)");
  o = Options(TrainAlgorithm::kXgboost);
  o.xgboost.rounds = 0;
  EXPECT_EQ(error(o), "train options: rounds: 0 is out of range; allowed: 1..10000");
  o = Options(TrainAlgorithm::kXgboost);
  o.xgboost.subsample = 1.5;
  EXPECT_EQ(error(o), "train options: subsample: 1.5 is out of range; allowed: (0, 1]");
  o = Options(TrainAlgorithm::kXgboost);
  o.validation_fraction = 1;
  EXPECT_EQ(error(o), "train options: validation_fraction: 1 is out of range; allowed: (0, 1)");
  o = Options(TrainAlgorithm::kLinear);
  o.linear.l2 = -1;
  EXPECT_EQ(error(o), "train options: l2: -1 is out of range; allowed: >= 0");

  o = Options(TrainAlgorithm::kXgboost);
  EXPECT_THAT(TrainModel(data.rows, 3, data.labels, o, path).status().message(),
              HasSubstr("are not 1000 rows of 3 features"));
  std::vector<float> bad_labels = data.labels;
  bad_labels[3] = 2;
  EXPECT_THAT(TrainModel(data.rows, 4, bad_labels, o, path).status().message(),
              HasSubstr("label 2 is not 0 or 1"));
  std::vector<float> no_fraud_late = data.labels;
  std::fill(no_fraud_late.begin() + 800, no_fraud_late.end(), 0.0f);
  EXPECT_THAT(TrainModel(data.rows, 4, no_fraud_late, o, path).status().message(),
              HasSubstr("the validation rows hold only label 0"));
  EXPECT_THAT(TrainModel(data.rows, 4, data.labels, o, dir.File("no/such/dir/m.json")).status().message(),
              HasSubstr("cannot save the model"));
}

TEST(TrainAlgorithmTest, NamesRoundTrip) {
  for (TrainAlgorithm a : {TrainAlgorithm::kXgboost, TrainAlgorithm::kLinear}) {
    EXPECT_EQ(ParseTrainAlgorithm(TrainAlgorithmName(a)), a);
  }
  EXPECT_FALSE(ParseTrainAlgorithm("forest").has_value());
  EXPECT_STREQ(TrainedModelFileName(TrainAlgorithm::kLinear), "model.yaml");
}

}  // namespace
}  // namespace scorepipe
