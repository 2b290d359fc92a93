// Fits a fraud model from a labelled feature matrix and writes the model file
// a worker loads (scoring/model.h), with a report of how well it does.
//
// The input is a row-major float matrix (rows x width, the columns of a
// features.yaml as FeatureExtractor produces them) and one 0/1 label per row.
// The LAST validation_fraction of the rows (in the order given, no shuffle)
// are held out: they never train, they pick the early-stopping round, and the
// report's metrics are measured on them. Callers that want a random split
// shuffle the rows first; a time-ordered file then validates on its latest
// rows, as the model will be used.
//
// Two algorithms:
//   - xgboost: gradient-boosted trees through libxgboost's C API
//     (tree_method hist). With early_stopping_rounds > 0 training stops when
//     the validation metric has not improved for that many rounds, and the
//     model written holds only the trees up to the best round, so it scores
//     as the best iteration in any loader (the worker's included); the file
//     also carries best_iteration and best_score as booster attributes.
//   - linear: L2-regularised logistic regression fitted with Eigen by Newton's
//     method (IRLS) on internally standardised features. The standardisation
//     is folded back into the weights and bias, so the linear-model YAML
//     (scoring/linear_model.h) scores raw feature rows.
//
// Plain functions; xgboost uses xgboost.nthread threads inside libxgboost,
// and `progress` is called on the calling thread.
#ifndef SCOREPIPE_TRAINING_TRAINING_H_
#define SCOREPIPE_TRAINING_TRAINING_H_

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

enum class TrainAlgorithm {
  kXgboost,  // boosted trees, written as XGBoost JSON (model.json)
  kLinear,   // logistic regression, written as linear-model YAML (model.yaml)
};

// "xgboost" | "linear", and back.
const char* TrainAlgorithmName(TrainAlgorithm algorithm);
std::optional<TrainAlgorithm> ParseTrainAlgorithm(const std::string& name);
// The model file's name in a version folder: model.json or model.yaml.
const char* TrainedModelFileName(TrainAlgorithm algorithm);

// What early stopping and the progress lines watch on the validation rows.
enum class StoppingMetric {
  kAuc,      // ROC AUC, higher is better
  kLogloss,  // mean negative log-likelihood, lower is better
};

const char* StoppingMetricName(StoppingMetric metric);
std::optional<StoppingMetric> ParseStoppingMetric(const std::string& name);

struct XgboostTrainParams {
  // The only objective the worker scores (scoring/xgboost_model.h).
  std::string objective = "binary:logistic";
  int rounds = 100;               // most boosting rounds (trees), 1..10000
  int max_depth = 5;              // per tree, 1..16
  double eta = 0.3;               // learning rate, (0, 1]
  double subsample = 1.0;         // rows sampled per tree, (0, 1]
  double min_child_weight = 1.0;  // least hessian sum in a leaf, >= 0
  double lambda = 1.0;            // L2 on leaf weights, >= 0
  int early_stopping_rounds = 0;  // 0: off; else rounds without improvement, 1..10000
  int nthread = 2;                // libxgboost threads, 1..256
};

struct LinearTrainParams {
  double l2 = 1.0;           // L2 penalty on the standardised weights (not the bias), >= 0
  int max_iterations = 100;  // Newton steps, 1..10000
  double tolerance = 1e-8;   // stop when the largest step is below this, (0, 1)
};

struct TrainingOptions {
  TrainAlgorithm algorithm = TrainAlgorithm::kXgboost;
  double validation_fraction = 0.2;  // the last rows held out, (0, 1)
  uint64_t seed = 42;                // XGBoost's seed (taken mod 2^31)
  StoppingMetric metric = StoppingMetric::kAuc;
  XgboostTrainParams xgboost;
  LinearTrainParams linear;
  int progress_every = 10;  // rounds (or Newton steps) between progress lines, >= 1
  // One line per progress step: the split, every progress_every rounds the
  // train and validation metric, the result.
  std::function<void(const std::string&)> progress;
};

// An error naming the first bad field, its value and what is allowed.
Status ValidateTrainingOptions(const TrainingOptions& options);

struct TrainingReport {
  size_t train_rows = 0;
  size_t validation_rows = 0;
  double train_fraud_rate = 0;  // share of label 1
  double validation_fraud_rate = 0;
  // On the validation rows with the model as written (scoring/evaluation.h's
  // roc_auc, average_precision and log_loss).
  double validation_auc = 0;
  double validation_pr_auc = 0;
  double validation_logloss = 0;
  // xgboost: rounds run and the 0-based best round kept (rounds - 1 without
  // early stopping); linear: Newton steps taken, best_iteration = iterations - 1.
  int iterations = 0;
  int best_iteration = 0;
  bool stopped_early = false;  // xgboost: early stopping ended it
  // linear: the fitted model on raw features, as written.
  Eigen::VectorXd linear_weights;
  double linear_bias = 0;
};

// Fits on `rows` (labels.size() rows of `width` floats) and writes the model
// to model_path, replaced atomically (a reader sees the old model or the
// new, never a part). Errors: bad options, a matrix too small to split or a
// split without both classes, a library failure, a write failure.
Result<TrainingReport> TrainModel(const std::vector<float>& rows, size_t width,
                                  const std::vector<float>& labels, const TrainingOptions& options,
                                  const std::string& model_path);

// `v` with this many significant digits ("%.*g"): 17 round-trips a double
// (model files), 10 is for messages and reports.
std::string FormatDouble(double v, int significant_digits = 10);

}  // namespace scorepipe

#endif  // SCOREPIPE_TRAINING_TRAINING_H_
