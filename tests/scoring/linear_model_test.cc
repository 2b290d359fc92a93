#include "scoring/linear_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

constexpr const char* kModelYaml = R"(format: linear
weights: [2.0e-9, 0.75, -0.001, 0.0025]
bias: -6.5
)";

double HandProbability(const std::vector<double>& w, double b, const float* row) {
  double z = b;
  for (size_t i = 0; i < w.size(); ++i) z += w[i] * static_cast<double>(row[i]);
  return 1.0 / (1.0 + std::exp(-z));
}

class LinearModelTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Model>> Load(const std::string& yaml, size_t features = 4) {
    return LoadLinearModel(dir_.Write("linear.yaml", yaml), "v1", features);
  }
  std::string Error(const std::string& yaml, size_t features = 4) {
    Result<std::unique_ptr<Model>> model = Load(yaml, features);
    EXPECT_FALSE(model.ok()) << "accepted:\n" << yaml;
    return model.ok() ? "" : model.status().message();
  }
  std::string Path() const { return dir_.File("linear.yaml"); }

  testing::ScratchDir dir_;
};

TEST_F(LinearModelTest, ProbabilitiesEqualHandComputation) {
  Result<std::unique_ptr<Model>> model = Load(kModelYaml);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->num_features(), 4u);
  EXPECT_EQ((*model)->version(), "v1");

  const std::vector<float> rows = {1767225600.0f, 1,  3,   120.5f,    // accepted, small
                                   1790000000.0f, 2,  47,  1999.99f,  // rejected, large
                                   1780000000.0f, -1, 400, 0.0f};     // pending, zero
  std::vector<double> p;
  ASSERT_TRUE((*model)->PredictProba(rows.data(), 3, &p).ok());
  ASSERT_EQ(p.size(), 3u);
  const std::vector<double> w = {2.0e-9, 0.75, -0.001, 0.0025};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(p[i], HandProbability(w, -6.5, &rows[i * 4]), 1e-12) << "row " << i;
  }
}

TEST_F(LinearModelTest, ExtremeLogitsSaturateToZeroAndOne) {
  LinearModel model(Eigen::VectorXd::Constant(1, 1.0), 0.0, "v");
  const std::vector<float> rows = {-1e6f, 1e6f};
  std::vector<double> p;
  ASSERT_TRUE(model.PredictProba(rows.data(), 2, &p).ok());
  EXPECT_EQ(p[0], 0.0);
  EXPECT_EQ(p[1], 1.0);
}

TEST_F(LinearModelTest, EmptyBatchGivesNoProbabilities) {
  LinearModel model(Eigen::VectorXd::Zero(4), 0.0, "v");
  std::vector<double> p(5, 0.5);
  ASSERT_TRUE(model.PredictProba(nullptr, 0, &p).ok());
  EXPECT_TRUE(p.empty());
}

TEST_F(LinearModelTest, MissingFileIsErrorWithPath) {
  Result<std::unique_ptr<Model>> model = LoadLinearModel("/nonexistent/linear.yaml", "v", 4);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), "/nonexistent/linear.yaml: cannot open: No such file or directory");
}

TEST_F(LinearModelTest, WidthMismatchIsError) {
  EXPECT_EQ(Error(kModelYaml, 3),
            Path() + ":2:10: weights: the model takes 4 features but the feature spec has 3");
}

TEST_F(LinearModelTest, CorruptFileIsError) {
  EXPECT_THAT(Error("format: linear\nweights: [1, 2\n"), HasSubstr(Path() + ":"));
  EXPECT_THAT(Error("format: linear\nweights: [1, 2\n"), HasSubstr("invalid YAML"));
  EXPECT_EQ(Error(""), Path() + ": the file is empty");
  EXPECT_EQ(Error("[1, 2]\n"), Path() + ":1:1: expected a mapping with keys format, weights, bias");
}

TEST_F(LinearModelTest, UnknownKeyIsErrorWithLine) {
  EXPECT_EQ(Error(std::string(kModelYaml) + "intercept: 1\n"),
            Path() + ":4:1: unknown key 'intercept'; allowed: format, weights, bias");
}

TEST_F(LinearModelTest, MissingKeysAreErrors) {
  EXPECT_THAT(Error("format: linear\nbias: 0\n"), HasSubstr("missing key 'weights'"));
  EXPECT_THAT(Error("format: linear\nweights: [1, 2, 3, 4]\n"), HasSubstr("missing key 'bias'"));
  EXPECT_THAT(Error("weights: [1, 2, 3, 4]\nbias: 0\n"), HasSubstr("missing key 'format'"));
}

TEST_F(LinearModelTest, BadValuesAreErrors) {
  EXPECT_EQ(Error("format: xgboost\nweights: [1, 2, 3, 4]\nbias: 0\n"),
            Path() + ":1:9: format: 'xgboost' is not allowed here; allowed: linear");
  EXPECT_EQ(Error("format: linear\nweights: 1\nbias: 0\n"),
            Path() + ":2:10: weights: expected a non-empty list of numbers");
  EXPECT_EQ(Error("format: linear\nweights: [1, .inf, 3, 4]\nbias: 0\n"),
            Path() + ":2:14: weights[1]: expected a finite number");
  EXPECT_EQ(Error("format: linear\nweights: [1, x, 3, 4]\nbias: 0\n"),
            Path() + ":2:14: weights[1]: expected a finite number");
  EXPECT_EQ(Error("format: linear\nweights: [1, 2, 3, 4]\nbias: .nan\n"),
            Path() + ":3:7: bias: expected a finite number");
}

}  // namespace
}  // namespace scorepipe
