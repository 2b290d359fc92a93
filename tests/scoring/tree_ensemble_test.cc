// The native tree evaluator against libxgboost itself: the demo model and
// models trained here through the C API, row by row, including missing values
// and values exactly on split thresholds; what it refuses; and what the
// XGBoost model does with a model it refuses.
#include "scoring/tree_ensemble.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "durable/file_util.h"
#include "scoring/model.h"
#include "scoring/xgboost_model.h"
#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

// The committed demo model's JSON text.
std::string DemoJson() {
  Result<std::string> json = ReadWholeFile(testing::DemoDir() + "/model.json");
  EXPECT_TRUE(json.ok()) << json.status().message();
  return json.ok() ? *json : std::string();
}

// A booster and the matrices it was trained on, freed together.
class TestBooster {
 public:
  TestBooster() { EXPECT_EQ(XGBoosterCreate(nullptr, 0, &booster_), 0); }
  ~TestBooster() {
    XGBoosterFree(booster_);
    for (DMatrixHandle m : matrices_) XGDMatrixFree(m);
  }
  TestBooster(const TestBooster&) = delete;
  TestBooster& operator=(const TestBooster&) = delete;

  // Loads a JSON model.
  void Load(const std::string& json) {
    ASSERT_EQ(XGBoosterLoadModelFromBuffer(booster_, json.data(), json.size()), 0) << XGBGetLastError();
  }

  // Trains `rounds` rounds with `params` on rows x cols (NaN = missing).
  void Train(const std::vector<float>& x, const std::vector<float>& labels, size_t cols,
             const std::vector<std::pair<std::string, std::string>>& params, int rounds,
             const std::vector<const char*>& feature_types = {}) {
    DMatrixHandle matrix = Matrix(x, cols);
    if (!feature_types.empty()) {
      ASSERT_EQ(
          XGDMatrixSetStrFeatureInfo(matrix, "feature_type", const_cast<const char**>(feature_types.data()),
                                     feature_types.size()),
          0)
          << XGBGetLastError();
    }
    ASSERT_EQ(XGDMatrixSetFloatInfo(matrix, "label", labels.data(), labels.size()), 0);
    XGBoosterFree(booster_);
    ASSERT_EQ(XGBoosterCreate(&matrix, 1, &booster_), 0);
    for (const auto& [key, value] : params) {
      ASSERT_EQ(XGBoosterSetParam(booster_, key.c_str(), value.c_str()), 0) << XGBGetLastError();
    }
    for (int i = 0; i < rounds; ++i) {
      ASSERT_EQ(XGBoosterUpdateOneIter(booster_, i, matrix), 0) << XGBGetLastError();
    }
  }

  std::string Json() const {
    bst_ulong len = 0;
    const char* json = nullptr;
    EXPECT_EQ(XGBoosterSaveModelToBuffer(booster_, R"({"format":"json"})", &len, &json), 0)
        << XGBGetLastError();
    return std::string(json, len);
  }

  // libxgboost's probabilities by in-place prediction (a DMatrix would refuse
  // the infinities of the probe rows).
  std::vector<double> Predict(const std::vector<float>& x, size_t cols) {
    char array_interface[192];
    std::snprintf(array_interface, sizeof array_interface,
                  R"({"data":[%)" PRIuPTR R"(,true],"shape":[%zu,%zu],"typestr":"<f4","version":3})",
                  reinterpret_cast<uintptr_t>(x.data()), x.size() / cols, cols);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    if (XGBoosterPredictFromDense(booster_, array_interface,
                                  R"({"type":0,"training":false,"iteration_begin":0,)"
                                  R"("iteration_end":0,"strict_shape":false,"cache_id":0,"missing":NaN})",
                                  nullptr, &shape, &dim, &out) != 0) {
      ADD_FAILURE() << XGBGetLastError();
      return {};
    }
    return std::vector<double>(out, out + x.size() / cols);
  }

 private:
  DMatrixHandle Matrix(const std::vector<float>& x, size_t cols) {
    DMatrixHandle matrix = nullptr;
    EXPECT_EQ(XGDMatrixCreateFromMat(x.data(), x.size() / cols, cols, std::nanf(""), &matrix), 0)
        << XGBGetLastError();
    matrices_.push_back(matrix);
    return matrix;
  }

  BoosterHandle booster_ = nullptr;
  std::vector<DMatrixHandle> matrices_;
};

// Labelled rows with missing values: label 1 mostly when a weighted sum of
// the first columns is high; every tenth value is NaN.
struct Synthetic {
  std::vector<float> x;
  std::vector<float> labels;
};
Synthetic MakeSynthetic(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Synthetic data;
  for (size_t r = 0; r < rows; ++r) {
    float score = 0;
    for (size_t c = 0; c < cols; ++c) {
      const float value = normal(random) * static_cast<float>(c + 1);
      score += value / static_cast<float>(c + 1) * (c % 2 == 0 ? 1.0f : -0.5f);
      data.x.push_back(random() % 10 == 0 ? std::nanf("") : value);
    }
    data.labels.push_back(score + 0.5f * normal(random) > 0.8f ? 1.0f : 0.0f);
  }
  return data;
}

// The native evaluator's probabilities for rows scored in uneven batches, so
// that lanes, tails, blocks and blocks with and without NaN all occur.
std::vector<double> NativePredict(const TreeEnsemble& ensemble, const std::vector<float>& x) {
  const size_t cols = ensemble.num_features();
  const size_t rows = x.size() / cols;
  std::vector<double> p(rows);
  size_t begin = 0;
  for (size_t batch : {1, 2, 11, 12, 13, 100, 255, 256, 257, 513, 4096}) {
    batch = std::min(batch, rows - begin);
    ensemble.PredictProba(x.data() + begin * cols, batch, p.data() + begin);
    begin += batch;
  }
  ensemble.PredictProba(x.data() + begin * cols, rows - begin, p.data() + begin);
  return p;
}

// Expects every row within 1e-6 of libxgboost's and returns the largest
// absolute difference, which the test also prints.
double ExpectRowsEqual(const std::vector<double>& native, const std::vector<double>& expected,
                       const std::vector<float>& x, size_t cols) {
  EXPECT_EQ(native.size(), expected.size());
  double max_diff = 0;
  for (size_t r = 0; r < std::min(native.size(), expected.size()); ++r) {
    const double diff = std::fabs(native[r] - expected[r]);
    max_diff = std::max(max_diff, diff);
    if (!(diff <= 1e-6)) {
      std::string row;
      for (size_t c = 0; c < cols; ++c) row += std::to_string(x[r * cols + c]) + " ";
      ADD_FAILURE() << "row " << r << " [" << row << "]: native " << native[r] << ", libxgboost "
                    << expected[r];
      break;
    }
  }
  const std::string text = std::to_string(max_diff);
  ::testing::Test::RecordProperty("max_abs_diff", text);
  std::printf("max abs difference from libxgboost over %zu rows: %s\n", native.size(), text.c_str());
  return max_diff;
}

TEST(TreeEnsembleTest, ReadsDemoModelShape) {
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(DemoJson());
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  EXPECT_EQ(ensemble->num_features(), 4u);
  EXPECT_EQ(ensemble->num_trees(), 60u);
  EXPECT_EQ(ensemble->max_depth(), 5);
  EXPECT_EQ(ensemble->base_margin(), 0.0f);  // base_score 0.5
}

// The demo model as a TreeEnsemble and as a libxgboost booster.
class TreeEnsembleOnDemoModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string json = DemoJson();
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
    ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
    ensemble_.emplace(std::move(ensemble).value());
    booster_.Load(json);
  }

  std::optional<TreeEnsemble> ensemble_;
  TestBooster booster_;
};

TEST_F(TreeEnsembleOnDemoModelTest, EqualsLibxgboostOnThresholdsNanInfinityAndRandomRows) {
  const std::vector<float> x = ensemble_->ProbeRows(50000, /*seed=*/99);
  size_t nan = 0;
  size_t infinite = 0;
  for (float v : x) {
    nan += std::isnan(v) ? 1 : 0;
    infinite += std::isinf(v) ? 1 : 0;
  }
  ASSERT_GT(nan, x.size() / 20);
  ASSERT_GT(infinite, x.size() / 100);
  const double max_diff = ExpectRowsEqual(NativePredict(*ensemble_, x), booster_.Predict(x, 4), x, 4);
  EXPECT_EQ(max_diff, 0.0) << "XGBoost's float arithmetic is reproduced exactly";
}

TEST_F(TreeEnsembleOnDemoModelTest, EqualsLibxgboostOnRowsWithoutMissingValues) {
  std::vector<float> x = ensemble_->ProbeRows(20000, /*seed=*/5);
  for (float& v : x) v = std::isnan(v) ? 0.0f : v;
  ExpectRowsEqual(NativePredict(*ensemble_, x), booster_.Predict(x, 4), x, 4);
}

TEST(TreeEnsembleTest, ProbeRowsAreTheSameForTheSameSeed) {
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(DemoJson());
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  const std::vector<float> a = ensemble->ProbeRows(100, 1);
  const std::vector<float> b = ensemble->ProbeRows(100, 1);
  ASSERT_EQ(a.size(), 400u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << i;
  }
}

// A model trained here with other shapes than the demo's.
struct TrainCase {
  const char* name;
  size_t cols;
  int rounds;
  std::vector<std::pair<std::string, std::string>> params;
};

void PrintTo(const TrainCase& c, std::ostream* os) { *os << c.name; }

class TrainedModelTest : public ::testing::TestWithParam<TrainCase> {};

TEST_P(TrainedModelTest, EqualsLibxgboostRowByRow) {
  const TrainCase& c = GetParam();
  const Synthetic train = MakeSynthetic(3000, c.cols, /*seed=*/11);
  TestBooster booster;
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", "binary:logistic"}, {"nthread", "1"}, {"seed", "3"}};
  params.insert(params.end(), c.params.begin(), c.params.end());
  booster.Train(train.x, train.labels, c.cols, params, c.rounds);
  const std::string json = booster.Json();

  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  EXPECT_EQ(ensemble->num_features(), c.cols);
  for (const auto& [key, value] : c.params) {
    if (key != "base_score") continue;
    const float b = std::stof(value);
    EXPECT_EQ(ensemble->base_margin(), -std::log(1.0f / b - 1.0f));
  }

  std::vector<float> x = ensemble->ProbeRows(20000, /*seed=*/17);
  x.insert(x.end(), train.x.begin(), train.x.end());
  ExpectRowsEqual(NativePredict(*ensemble, x), booster.Predict(x, c.cols), x, c.cols);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, TrainedModelTest,
    ::testing::Values(
        TrainCase{"Depth7BaseScore0p2", 6, 40, {{"max_depth", "7"}, {"eta", "0.2"}, {"base_score", "0.2"}}},
        TrainCase{"Stumps", 3, 30, {{"max_depth", "1"}, {"base_score", "0.7"}}},
        TrainCase{"Depth10LossguideHist",
                  8,
                  15,
                  {{"max_depth", "10"},
                   {"tree_method", "hist"},
                   {"grow_policy", "lossguide"},
                   {"max_leaves", "64"},
                   {"base_score", "0.35"}}},
        TrainCase{"BoostedForest",
                  5,
                  6,
                  {{"num_parallel_tree", "4"},
                   {"subsample", "0.7"},
                   {"colsample_bynode", "0.6"},
                   {"max_depth", "4"}}},
        TrainCase{"ThreeTrees", 2, 3, {{"max_depth", "3"}, {"base_score", "0.9"}}}),
    [](const ::testing::TestParamInfo<TrainCase>& info) { return std::string(info.param.name); });

// A model of `rounds` rounds trained with `params`, as JSON.
std::string TrainedJson(const std::vector<std::pair<std::string, std::string>>& params,
                        const std::vector<const char*>& feature_types = {}) {
  const Synthetic train = MakeSynthetic(1000, 3, /*seed=*/23);
  std::vector<float> labels = train.labels;
  for (const auto& [key, value] : params) {
    if (key != "num_class") continue;
    for (size_t r = 0; r < labels.size(); ++r) labels[r] = static_cast<float>(r % 3);
  }
  std::vector<float> x = train.x;
  if (!feature_types.empty()) {
    for (size_t r = 0; r < x.size() / 3; ++r) x[r * 3] = static_cast<float>(r % 5);
  }
  TestBooster booster;
  booster.Train(x, labels, 3, params, 5, feature_types);
  return booster.Json();
}

TEST(TreeEnsembleTest, MultiClassModelIsRefusedNamingTheClasses) {
  const std::string json =
      TrainedJson({{"objective", "multi:softprob"}, {"num_class", "3"}, {"nthread", "1"}});
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_FALSE(ensemble.ok());
  EXPECT_EQ(ensemble.status().message(),
            "learner.learner_model_param.num_class: 3 classes; only binary models (0 or 1) are "
            "supported");
}

TEST(TreeEnsembleTest, ObjectiveOtherThanBinaryLogisticIsRefused) {
  const std::string json = TrainedJson({{"objective", "binary:logitraw"}, {"nthread", "1"}});
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_FALSE(ensemble.ok());
  EXPECT_EQ(ensemble.status().message(),
            "learner.objective.name: 'binary:logitraw' is not supported; allowed: binary:logistic");
}

TEST(TreeEnsembleTest, DartAndGblinearBoostersAreRefused) {
  for (const char* booster : {"dart", "gblinear"}) {
    const std::string json =
        TrainedJson({{"objective", "binary:logistic"}, {"booster", booster}, {"nthread", "1"}});
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
    ASSERT_FALSE(ensemble.ok()) << booster;
    EXPECT_EQ(ensemble.status().message(), std::string("learner.gradient_booster.name: '") + booster +
                                               "' is not supported; allowed: gbtree");
  }
}

TEST(TreeEnsembleTest, CategoricalSplitIsRefusedNamingTheNode) {
  const std::string json = TrainedJson(
      {{"objective", "binary:logistic"}, {"tree_method", "hist"}, {"nthread", "1"}}, {"c", "q", "q"});
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_FALSE(ensemble.ok());
  EXPECT_THAT(ensemble.status().message(), HasSubstr("categorical split (split_type 1)"));
  EXPECT_THAT(ensemble.status().message(), HasSubstr("learner.gradient_booster.model.trees["));
}

// The XGBoost model keeps libxgboost for a binary:logistic model that the
// native evaluator refuses, and scores it as libxgboost does.
TEST(TreeEnsembleTest, RefusedModelIsStillScoredThroughLibxgboost) {
  struct Refused {
    const char* name;
    std::string json;
    const char* reason;
  };
  const std::vector<Refused> cases = {
      {"dart",
       TrainedJson(
           {{"objective", "binary:logistic"}, {"booster", "dart"}, {"rate_drop", "0.3"}, {"nthread", "1"}}),
       "gradient_booster.name: 'dart'"},
      {"categorical",
       TrainedJson({{"objective", "binary:logistic"}, {"tree_method", "hist"}, {"nthread", "1"}},
                   {"c", "q", "q"}),
       "categorical split"},
      {"deep",
       TrainedJson({{"objective", "binary:logistic"},
                    {"max_depth", "20"},
                    {"min_child_weight", "0"},
                    {"lambda", "0"},
                    {"nthread", "1"}}),
       "is beyond the native evaluator's limit of 12"},
  };
  testing::ScratchDir dir;
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.Write(std::string(c.name) + ".json", c.json);
    Result<std::unique_ptr<Model>> model = LoadXgboostModel(path, c.name, 3);
    ASSERT_TRUE(model.ok()) << model.status().message();
    EXPECT_THAT((*model)->Describe(), HasSubstr("libxgboost (the native tree evaluator does not"));
    EXPECT_THAT((*model)->Describe(), HasSubstr(c.reason));

    TestBooster booster;
    booster.Load(c.json);
    std::vector<float> x = MakeSynthetic(500, 3, /*seed=*/31).x;
    for (size_t r = 0; r < 500; ++r) x[r * 3] = static_cast<float>(r % 5);
    std::vector<double> p;
    ASSERT_TRUE((*model)->PredictProba(x.data(), 500, &p).ok());
    ExpectRowsEqual(p, booster.Predict(x, 3), x, 3);
  }
}

TEST(TreeEnsembleTest, DemoModelLoadsWithTheVerifiedNativeEvaluator) {
  Result<std::unique_ptr<Model>> model = LoadXgboostModel(testing::DemoDir() + "/model.json", "demo-1", 4);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->Describe(),
            "xgboost model demo-1: native tree evaluator (60 trees, depth 5, verified against "
            "libxgboost on 2000 rows)");
}

TEST(TreeEnsembleTest, TruncatedJsonIsErrorNeverCrash) {
  const std::string json = DemoJson();
  for (size_t size = 0; size < json.size(); size += 4999) {
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json.substr(0, size));
    EXPECT_FALSE(ensemble.ok()) << "truncated at " << size;
  }
  for (size_t cut = 1; cut <= 64; ++cut) {
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json.substr(0, json.size() - cut));
    EXPECT_FALSE(ensemble.ok()) << "last " << cut << " bytes cut";
  }
}

TEST(TreeEnsembleTest, CorruptJsonIsErrorNeverCrash) {
  for (const std::string& text :
       {std::string(""), std::string("{"), std::string("{}"), std::string("[1, 2]"), std::string("null"),
        std::string("\x01\x02garbage"), std::string(R"({"learner": 5})"), DemoJson() + "}", DemoJson() + " x",
        std::string(R"({"learner": {"learner_model_param": {"base_score": "x"}}})")}) {
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(text);
    EXPECT_FALSE(ensemble.ok()) << text;
    EXPECT_FALSE(ensemble.status().message().empty());
  }
}

TEST(TreeEnsembleTest, RandomlyDamagedModelIsErrorOrScoresWithoutCrash) {
  const std::string json = DemoJson();
  std::mt19937_64 random(7);
  const std::string replacements = "0123456789-.,[]{}\":eE aZ";
  size_t refused = 0;
  for (int round = 0; round < 300; ++round) {
    std::string damaged = json;
    for (int k = 0; k < 3; ++k) {
      damaged[random() % damaged.size()] = replacements[random() % replacements.size()];
    }
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(damaged);
    if (!ensemble.ok()) {
      ++refused;
      continue;
    }
    const std::vector<float> x = ensemble->ProbeRows(64, 1);
    std::vector<double> p(64);
    ensemble->PredictProba(x.data(), 64, p.data());
  }
  EXPECT_GT(refused, 0u);
}

// Damage that keeps the JSON valid but breaks the trees.
TEST(TreeEnsembleTest, InconsistentTreesAreRefusedNamingTreeAndNode) {
  const std::string json = DemoJson();
  struct Damage {
    const char* from;
    const char* to;
    const char* message;
  };
  // Tree 0 begins "left_children":[1,3,5,...],... "right_children":[2,4,6,...]
  // and "split_indices":[3,1,3,...].
  for (const Damage& d : {
           Damage{R"("split_indices":[3,)", R"("split_indices":[4,)",
                  "trees[0] node 0: split feature 4 is not in [0, 4)"},
           Damage{R"("right_children":[2,)", R"("right_children":[3,)",
                  "trees[0] node 0: right child 3 is not left child + 1 (2)"},
           Damage{R"("left_children":[1,)", R"("left_children":[900,)",
                  "trees[0] node 0: left child 900 is not a node of the tree"},
           Damage{R"("left_children":[1,3,)", R"("left_children":[1,1,)",
                  "trees[0] node 1: right child 4 is not left child + 1 (2)"},
           Damage{R"("base_score":"5E-1")", R"("base_score":"1.5")", "base_score: 1.5 is outside (0, 1)"},
           Damage{R"("num_trees":"60")", R"("num_trees":"61")", "61"},
       }) {
    std::string damaged = json;
    const size_t at = damaged.find(d.from);
    ASSERT_NE(at, std::string::npos) << d.from;
    damaged.replace(at, std::string(d.from).size(), d.to);
    Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(damaged);
    ASSERT_FALSE(ensemble.ok()) << d.to;
    EXPECT_THAT(ensemble.status().message(), HasSubstr(d.message));
  }
}

TEST(TreeEnsembleTest, NodeReachedTwiceIsRefused) {
  std::string json = DemoJson();
  // Node 1's children become nodes 1 and 2 again.
  const std::string left = R"("left_children":[1,3,)";
  const std::string right = R"("right_children":[2,4,)";
  json.replace(json.find(left), left.size(), R"("left_children":[1,1,)");
  json.replace(json.find(right), right.size(), R"("right_children":[2,2,)");
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_FALSE(ensemble.ok());
  EXPECT_THAT(ensemble.status().message(), HasSubstr("trees[0] node "));
  EXPECT_THAT(ensemble.status().message(), HasSubstr(": reached twice; not a tree"));
}

TEST(TreeEnsembleTest, EmptyBatchWritesNothing) {
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(DemoJson());
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  ensemble->PredictProba(nullptr, 0, nullptr);
}

}  // namespace
}  // namespace scorepipe
