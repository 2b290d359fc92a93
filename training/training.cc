#include "training/training.h"

#include <xgboost/c_api.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>

#include "durable/dir.h"
#include "scoring/evaluation.h"
#include "scoring/linear_model.h"
#include "scoring/xgboost_model.h"

namespace scorepipe {
namespace {

// Writes a trained model through an atomic replace, so that a worker or a
// registry reading the file while a new model is trained over it sees the old
// model or the new one, never a part.
Status SaveModelFile(const std::string& model_path, std::string_view bytes) {
  if (Status s = ReplaceFile(model_path, bytes); !s.ok()) {
    return Status::Error(model_path + ": cannot save the model: " + s.message());
  }
  return Status::Ok();
}

using DMatrixPtr = std::unique_ptr<void, int (*)(DMatrixHandle)>;
using BoosterPtr = std::unique_ptr<void, int (*)(BoosterHandle)>;

Status XgbError(const std::string& what) {
  return Status::Error("xgboost: " + what + ": " + XgboostLastError());
}

Status OutOfRange(const std::string& field, const std::string& value, const std::string& allowed) {
  return Status::Error("train options: " + field + ": " + value + " is out of range; allowed: " + allowed);
}

Status CheckInt(const char* field, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return OutOfRange(field, std::to_string(value), std::to_string(lo) + ".." + std::to_string(hi));
}

// The first train_rows train, the validation_rows after them validate.
struct Split {
  size_t train_rows = 0;
  size_t validation_rows = 0;
};

double PositiveRate(const float* labels, size_t n) {
  size_t positives = 0;
  for (size_t i = 0; i < n; ++i) positives += labels[i] > 0.5f ? 1 : 0;
  return n == 0 ? 0.0 : static_cast<double>(positives) / static_cast<double>(n);
}

Result<Split> SplitRows(const std::vector<float>& labels, double validation_fraction,
                        TrainingReport* report) {
  const size_t n = labels.size();
  if (n < 2) return Status::Error("training: " + std::to_string(n) + " rows; need at least 2");
  Split split;
  split.validation_rows = static_cast<size_t>(std::llround(static_cast<double>(n) * validation_fraction));
  split.validation_rows = std::clamp<size_t>(split.validation_rows, 1, n - 1);
  split.train_rows = n - split.validation_rows;
  report->train_rows = split.train_rows;
  report->validation_rows = split.validation_rows;
  report->train_fraud_rate = PositiveRate(labels.data(), split.train_rows);
  report->validation_fraud_rate = PositiveRate(labels.data() + split.train_rows, split.validation_rows);
  for (const auto& [what, rate] : {std::pair<const char*, double>{"training", report->train_fraud_rate},
                                   {"validation", report->validation_fraud_rate}}) {
    if (rate == 0 || rate == 1) {
      return Status::Error(std::string("training: the ") + what + " rows hold only label " +
                           (rate == 0 ? "0" : "1") +
                           "; both classes are needed (the validation rows are the last " +
                           FormatDouble(100 * validation_fraction) + "% of the data)");
    }
  }
  return split;
}

// The metrics of a written model's validation scores.
Status MeasureValidation(const std::vector<double>& scores, const float* labels, size_t n,
                         TrainingReport* report) {
  Result<Evaluation> evaluation = Evaluate(scores, std::vector<float>(labels, labels + n));
  if (!evaluation.ok()) return evaluation.status().WithContext("validation rows");
  // SplitRows made sure both classes are there, so both figures are defined.
  report->validation_auc = evaluation->roc_auc.value_or(0);
  report->validation_pr_auc = evaluation->average_precision.value_or(0);
  report->validation_logloss = evaluation->log_loss;
  return Status::Ok();
}

Result<DMatrixPtr> MakeDMatrix(const float* rows, size_t n_rows, size_t width, const float* labels,
                               const char* what) {
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromMat(rows, n_rows, width, std::nanf(""), &handle) != 0) {
    return XgbError(std::string("cannot build the ") + what + " matrix");
  }
  DMatrixPtr matrix(handle, &XGDMatrixFree);
  if (XGDMatrixSetFloatInfo(handle, "label", labels, n_rows) != 0) {
    return XgbError(std::string("cannot set the ") + what + " labels");
  }
  return matrix;
}

// The value after "<set>-<metric>:" in libxgboost's evaluation line
// ("[3]\ttrain-auc:0.91\tvalidation-auc:0.89").
Result<double> EvalValue(const char* eval, const std::string& set, const char* metric) {
  const std::string key = "\t" + set + "-" + metric + ":";
  const char* at = std::strstr(eval, key.c_str());
  if (at == nullptr) {
    return Status::Error("xgboost: no " + key.substr(1) + " in its evaluation '" + eval + "'");
  }
  return std::strtod(at + key.size(), nullptr);
}

Status TrainXgboost(const std::vector<float>& rows, size_t width, const std::vector<float>& labels,
                    const Split& split, const TrainingOptions& o, const std::string& model_path,
                    TrainingReport* report) {
  const XgboostTrainParams& p = o.xgboost;
  auto progress = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  const float* validation_labels = labels.data() + split.train_rows;
  Result<DMatrixPtr> train = MakeDMatrix(rows.data(), split.train_rows, width, labels.data(), "training");
  if (!train.ok()) return train.status();
  Result<DMatrixPtr> validation = MakeDMatrix(rows.data() + split.train_rows * width, split.validation_rows,
                                              width, validation_labels, "validation");
  if (!validation.ok()) return validation.status();

  DMatrixHandle cache[] = {train->get(), validation->get()};
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(cache, 2, &handle) != 0) return XgbError("cannot create the booster");
  BoosterPtr booster(handle, &XGBoosterFree);
  const char* metric = StoppingMetricName(o.metric);
  const std::pair<const char*, std::string> params[] = {
      {"objective", p.objective},
      {"eval_metric", metric},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", FormatDouble(p.eta, 17)},
      {"subsample", FormatDouble(p.subsample, 17)},
      {"min_child_weight", FormatDouble(p.min_child_weight, 17)},
      {"lambda", FormatDouble(p.lambda, 17)},
      {"nthread", std::to_string(p.nthread)},
      {"seed", std::to_string(o.seed % 2147483648ULL)},
      {"verbosity", "1"},
  };
  for (const auto& [name, value] : params) {
    if (XGBoosterSetParam(booster.get(), name, value.c_str()) != 0) {
      return XgbError(std::string("cannot set ") + name + "=" + value);
    }
  }

  const bool higher_is_better = o.metric == StoppingMetric::kAuc;
  const char* names[] = {"train", "validation"};
  double best_score = 0;
  for (int round = 0; round < p.rounds; ++round) {
    if (XGBoosterUpdateOneIter(booster.get(), round, train->get()) != 0) {
      return XgbError("round " + std::to_string(round) + " failed");
    }
    report->iterations = round + 1;
    const bool show = (round + 1) % o.progress_every == 0 || round + 1 == p.rounds;
    if (!show && p.early_stopping_rounds == 0) continue;
    // The training set is evaluated only for the progress line.
    const int first = show ? 0 : 1;
    const char* eval = nullptr;
    if (XGBoosterEvalOneIter(booster.get(), round, cache + first, names + first, 2 - first, &eval) != 0) {
      return XgbError("evaluating round " + std::to_string(round) + " failed");
    }
    if (show) progress(eval);
    Result<double> score = EvalValue(eval, "validation", metric);
    if (!score.ok()) return score.status();
    if (round == 0 || (higher_is_better ? *score > best_score : *score < best_score)) {
      best_score = *score;
      report->best_iteration = round;
    }
    if (p.early_stopping_rounds > 0 && round - report->best_iteration >= p.early_stopping_rounds) {
      report->stopped_early = true;
      progress("early stopping after round " + std::to_string(round) + ": validation " + metric +
               " has not improved for " + std::to_string(p.early_stopping_rounds) +
               " rounds; keeping round " + std::to_string(report->best_iteration) + " (" +
               FormatDouble(best_score) + ")");
      break;
    }
  }
  if (p.early_stopping_rounds == 0) report->best_iteration = report->iterations - 1;

  // The model written holds the trees up to the best round and nothing after.
  BoosterPtr kept(nullptr, &XGBoosterFree);
  if (report->best_iteration + 1 < report->iterations) {
    BoosterHandle sliced = nullptr;
    if (XGBoosterSlice(booster.get(), 0, report->best_iteration + 1, 1, &sliced) != 0) {
      return XgbError("cannot keep rounds 0.." + std::to_string(report->best_iteration));
    }
    kept.reset(sliced);
  }
  BoosterHandle final_model = kept ? kept.get() : booster.get();
  if (p.early_stopping_rounds > 0) {
    const std::string best = std::to_string(report->best_iteration);
    const std::string score = FormatDouble(best_score, 17);
    if (XGBoosterSetAttr(final_model, "best_iteration", best.c_str()) != 0 ||
        XGBoosterSetAttr(final_model, "best_score", score.c_str()) != 0) {
      return XgbError("cannot record the best iteration");
    }
  }

  bst_ulong n_pred = 0;
  const float* pred = nullptr;
  if (XGBoosterPredict(final_model, validation->get(), 0, 0, 0, &n_pred, &pred) != 0) {
    return XgbError("predicting the validation rows failed");
  }
  if (n_pred != split.validation_rows) {
    return Status::Error("xgboost: " + std::to_string(n_pred) + " predictions for " +
                         std::to_string(split.validation_rows) + " validation rows");
  }
  const std::vector<double> scores(pred, pred + n_pred);
  if (Status s = MeasureValidation(scores, validation_labels, split.validation_rows, report); !s.ok()) {
    return s;
  }
  const char* format = model_path.ends_with(".ubj") ? R"({"format": "ubj"})" : R"({"format": "json"})";
  bst_ulong size = 0;
  const char* bytes = nullptr;
  if (XGBoosterSaveModelToBuffer(final_model, format, &size, &bytes) != 0) {
    return XgbError(model_path + ": cannot save the model");
  }
  return SaveModelFile(model_path, std::string_view(bytes, size));
}

using RowMajorFloats = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Status TrainLinear(const std::vector<float>& rows, size_t width, const std::vector<float>& labels,
                   const Split& split, const TrainingOptions& o, const std::string& model_path,
                   TrainingReport* report) {
  const LinearTrainParams& p = o.linear;
  const Eigen::Index n = static_cast<Eigen::Index>(split.train_rows);
  const Eigen::Index d = static_cast<Eigen::Index>(width);
  const Eigen::Map<const RowMajorFloats> raw(rows.data(), n, d);
  const Eigen::Map<const Eigen::VectorXf> y_float(labels.data(), n);
  const Eigen::VectorXd y = y_float.cast<double>();

  // Standardise on the training rows; a constant column stays all zero and
  // its weight 0.
  const Eigen::RowVectorXd mean = raw.cast<double>().colwise().mean();
  Eigen::MatrixXd z(n, d + 1);
  z.leftCols(d) = raw.cast<double>().rowwise() - mean;
  Eigen::VectorXd scale(d);
  for (Eigen::Index j = 0; j < d; ++j) {
    const double sd = std::sqrt(z.col(j).squaredNorm() / static_cast<double>(n));
    scale[j] = sd > 0 ? sd : 1.0;
    z.col(j) /= scale[j];
  }
  z.col(d).setOnes();  // the bias

  // Newton's method on sum(logloss) + l2/2 |w|^2 (the bias unpenalised).
  Eigen::VectorXd penalty = Eigen::VectorXd::Constant(d + 1, p.l2);
  penalty[d] = 0;
  for (Eigen::Index j = 0; j < d; ++j) {
    if (z.col(j).squaredNorm() == 0) penalty[j] = 1;  // keeps the Hessian regular; gradient is 0
  }
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(d + 1);
  bool converged = false;
  for (int it = 0; it < p.max_iterations && !converged; ++it) {
    const Eigen::VectorXd margin = z * beta;
    const Eigen::ArrayXd prob = (1.0 + (-margin.array()).exp()).inverse();
    const Eigen::VectorXd gradient = z.transpose() * (prob - y.array()).matrix() + penalty.cwiseProduct(beta);
    const Eigen::ArrayXd curvature = (prob * (1.0 - prob)).max(1e-12);
    Eigen::MatrixXd hessian = z.transpose() * (z.array().colwise() * curvature).matrix();
    hessian.diagonal() += penalty;
    const Eigen::LDLT<Eigen::MatrixXd> solver(hessian);
    if (solver.info() != Eigen::Success || !solver.isPositive()) {
      return Status::Error("linear: Newton step " + std::to_string(it) +
                           ": the Hessian is singular (separable data?); set l2 > 0");
    }
    const Eigen::VectorXd step = solver.solve(gradient);
    beta -= step;
    if (!beta.allFinite()) {
      return Status::Error("linear: the fit diverged at Newton step " + std::to_string(it) +
                           "; set a larger l2");
    }
    report->iterations = it + 1;
    converged = step.cwiseAbs().maxCoeff() < p.tolerance;
    if (converged || (it + 1) % o.progress_every == 0 || it + 1 == p.max_iterations) {
      // Loss at the start of the step: it costs nothing more to report.
      const double loss =
          ((1.0 + margin.array().exp()).log() - y.array() * margin.array()).sum() / static_cast<double>(n);
      if (o.progress) {
        o.progress("[" + std::to_string(it) + "]\ttrain-logloss:" + FormatDouble(loss, 6) +
                   "\tlargest step:" + FormatDouble(step.cwiseAbs().maxCoeff(), 3));
      }
    }
  }
  report->best_iteration = report->iterations - 1;
  if (!converged && o.progress) {
    o.progress("linear: not converged to tolerance " + FormatDouble(p.tolerance) + " in " +
               std::to_string(p.max_iterations) + " Newton steps; keeping the last");
  }

  // Back to raw features: w_raw = w / scale, bias - sum(w_raw * mean).
  report->linear_weights = beta.head(d).cwiseQuotient(scale);
  report->linear_bias = beta[d] - mean.dot(report->linear_weights);
  if (!report->linear_weights.allFinite() || !std::isfinite(report->linear_bias)) {
    return Status::Error("linear: the fitted weights are not finite numbers");
  }

  // Scored exactly as the worker will score the file.
  LinearModel model(report->linear_weights, report->linear_bias, "trained");
  std::vector<double> p_fraud;
  const float* validation_labels = labels.data() + split.train_rows;
  if (Status s = model.PredictProba(rows.data() + split.train_rows * width, split.validation_rows, &p_fraud);
      !s.ok()) {
    return s;
  }
  if (Status s = MeasureValidation(p_fraud, validation_labels, split.validation_rows, report); !s.ok()) {
    return s;
  }

  std::string text = "format: linear\nweights: [";
  for (Eigen::Index j = 0; j < d; ++j) {
    text += (j ? ", " : "") + FormatDouble(report->linear_weights[j], 17);
  }
  text += "]\nbias: " + FormatDouble(report->linear_bias, 17) + "\n";
  return SaveModelFile(model_path, text);
}

// The value among `values` whose name is `name`.
template <typename Enum>
std::optional<Enum> ParseByName(const std::string& name, std::initializer_list<Enum> values,
                                const char* (*name_of)(Enum)) {
  for (Enum value : values) {
    if (name == name_of(value)) return value;
  }
  return std::nullopt;
}

}  // namespace

const char* TrainAlgorithmName(TrainAlgorithm algorithm) {
  return algorithm == TrainAlgorithm::kXgboost ? "xgboost" : "linear";
}

std::optional<TrainAlgorithm> ParseTrainAlgorithm(const std::string& name) {
  return ParseByName(name, {TrainAlgorithm::kXgboost, TrainAlgorithm::kLinear}, TrainAlgorithmName);
}

const char* TrainedModelFileName(TrainAlgorithm algorithm) {
  return algorithm == TrainAlgorithm::kXgboost ? "model.json" : "model.yaml";
}

const char* StoppingMetricName(StoppingMetric metric) {
  return metric == StoppingMetric::kAuc ? "auc" : "logloss";
}

std::optional<StoppingMetric> ParseStoppingMetric(const std::string& name) {
  return ParseByName(name, {StoppingMetric::kAuc, StoppingMetric::kLogloss}, StoppingMetricName);
}

std::string FormatDouble(double v, int significant_digits) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", significant_digits, v);
  return buf;
}

Status ValidateTrainingOptions(const TrainingOptions& o) {
  if (!(o.validation_fraction > 0 && o.validation_fraction < 1)) {
    return OutOfRange("validation_fraction", FormatDouble(o.validation_fraction), "(0, 1)");
  }
  if (o.progress_every < 1) return OutOfRange("progress_every", std::to_string(o.progress_every), ">= 1");
  if (o.algorithm == TrainAlgorithm::kLinear) {
    const LinearTrainParams& p = o.linear;
    if (!(p.l2 >= 0 && std::isfinite(p.l2))) return OutOfRange("l2", FormatDouble(p.l2), ">= 0");
    if (Status s = CheckInt("max_iterations", p.max_iterations, 1, 10000); !s.ok()) return s;
    if (!(p.tolerance > 0 && p.tolerance < 1)) {
      return OutOfRange("tolerance", FormatDouble(p.tolerance), "(0, 1)");
    }
    return Status::Ok();
  }
  const XgboostTrainParams& p = o.xgboost;
  if (p.objective != "binary:logistic") {
    return Status::Error("train options: objective: '" + p.objective +
                         "' is not allowed; allowed: binary:logistic (what the worker scores)");
  }
  if (Status s = CheckInt("rounds", p.rounds, 1, 10000); !s.ok()) return s;
  if (Status s = CheckInt("max_depth", p.max_depth, 1, 16); !s.ok()) return s;
  if (!(p.eta > 0 && p.eta <= 1)) return OutOfRange("eta", FormatDouble(p.eta), "(0, 1]");
  if (!(p.subsample > 0 && p.subsample <= 1)) {
    return OutOfRange("subsample", FormatDouble(p.subsample), "(0, 1]");
  }
  if (!(p.min_child_weight >= 0 && std::isfinite(p.min_child_weight))) {
    return OutOfRange("min_child_weight", FormatDouble(p.min_child_weight), ">= 0");
  }
  if (!(p.lambda >= 0 && std::isfinite(p.lambda))) {
    return OutOfRange("lambda", FormatDouble(p.lambda), ">= 0");
  }
  if (Status s = CheckInt("early_stopping_rounds", p.early_stopping_rounds, 0, 10000); !s.ok()) {
    return s;
  }
  return CheckInt("nthread", p.nthread, 1, 256);
}

Result<TrainingReport> TrainModel(const std::vector<float>& rows, size_t width,
                                  const std::vector<float>& labels, const TrainingOptions& options,
                                  const std::string& model_path) {
  if (Status s = ValidateTrainingOptions(options); !s.ok()) return s;
  if (width == 0 || rows.size() != labels.size() * width) {
    return Status::Error("training: " + std::to_string(rows.size()) + " values are not " +
                         std::to_string(labels.size()) + " rows of " + std::to_string(width) + " features");
  }
  for (float label : labels) {
    if (label != 0.0f && label != 1.0f) {
      return Status::Error("training: label " + FormatDouble(label) + " is not 0 or 1");
    }
  }
  TrainingReport report;
  Result<Split> split = SplitRows(labels, options.validation_fraction, &report);
  if (!split.ok()) return split.status();
  if (options.progress) {
    options.progress(std::string(TrainAlgorithmName(options.algorithm)) + ": train rows " +
                     std::to_string(report.train_rows) + " (fraud " +
                     FormatDouble(100 * report.train_fraud_rate, 4) + "%), validation rows " +
                     std::to_string(report.validation_rows) + " (fraud " +
                     FormatDouble(100 * report.validation_fraud_rate, 4) + "%)");
  }
  const Status trained = options.algorithm == TrainAlgorithm::kXgboost
                             ? TrainXgboost(rows, width, labels, *split, options, model_path, &report)
                             : TrainLinear(rows, width, labels, *split, options, model_path, &report);
  if (!trained.ok()) return trained;
  if (options.progress) {
    options.progress("validation auc " + FormatDouble(report.validation_auc, 6) + ", pr_auc " +
                     FormatDouble(report.validation_pr_auc, 6) + ", logloss " +
                     FormatDouble(report.validation_logloss, 6) + "; wrote " + model_path);
  }
  return report;
}

}  // namespace scorepipe
