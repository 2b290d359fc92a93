// How well fraud scores match known labels: the figures `scorepipe evaluate`
// reports (locally, or gathered by the sink for `--cluster`), and the AUC the
// demo trainer records. In proto because an Evaluation travels on the wire,
// from the sink to `scorepipe evaluate --cluster`.
//
// Every figure follows scikit-learn's definition (the project's tests compare
// them with sklearn.metrics on the same predictions):
//   roc_auc            roc_auc_score: the probability that a random fraud
//                      scores above a random non-fraud, ties counting one half
//   average_precision  average_precision_score, the PR AUC: the sum over the
//                      distinct scores t, from high to low, of
//                      (recall(t) - recall(previous t)) * precision(t); no
//                      interpolation between points
//   precision, recall, f1 at the threshold: a score >= threshold is predicted
//                      fraud, as the worker decides (scoring/model.h); a ratio
//                      whose denominator is 0 (no predicted or no actual
//                      fraud) is 0, as sklearn's zero_division=0
//   log_loss           log_loss, probabilities clipped to [eps, 1 - eps] with
//                      eps = 2^-52 (a double's machine epsilon, sklearn 1.2's
//                      eps="auto")
//   brier              brier_score_loss: the mean of (score - label)^2
//   calibration        calibration_curve(strategy="uniform"): bin edges
//                      e_k = k * (1 + 1e-8) / bins (so that a score of 1 falls
//                      in the last bin), a score s in bin k when
//                      e_k < s <= e_(k+1) (bin 0 also takes s = 0); unlike
//                      sklearn, empty bins stay in the table with count 0.
//
// Plain functions on value types; any thread.
#ifndef SCOREPIPE_PROTO_EVALUATION_H_
#define SCOREPIPE_PROTO_EVALUATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

struct ConfusionMatrix {
  size_t true_positives = 0;   // fraud, predicted fraud
  size_t false_positives = 0;  // not fraud, predicted fraud
  size_t true_negatives = 0;   // not fraud, predicted not fraud
  size_t false_negatives = 0;  // fraud, predicted not fraud

  bool operator==(const ConfusionMatrix&) const = default;
};

// One uniform bin of the calibration table.
struct CalibrationBin {
  double lower = 0;  // the bin's nominal range [lower, upper]: k/bins, (k+1)/bins
  double upper = 0;
  size_t count = 0;           // scores in the bin
  double mean_predicted = 0;  // their mean; 0 when count is 0
  double observed_rate = 0;   // the share of them labelled fraud; 0 when count is 0

  bool operator==(const CalibrationBin&) const = default;
};

struct EvaluationOptions {
  double threshold = 0.5;     // a score >= threshold is predicted fraud; in [0, 1]
  int calibration_bins = 10;  // uniform bins over [0, 1]; 1..1000

  Status Validate() const;
};

struct Evaluation {
  double threshold = 0.5;
  size_t rows = 0;
  size_t positives = 0;  // labelled fraud
  size_t negatives = 0;
  // Empty when undefined: the AUC needs both classes, the average
  // precision at least one fraud; *_undefined says why.
  std::optional<double> roc_auc;
  std::string roc_auc_undefined;
  std::optional<double> average_precision;
  std::string average_precision_undefined;
  ConfusionMatrix confusion;
  double precision = 0;  // TP / (TP + FP); 0 when nothing is predicted fraud
  double recall = 0;     // TP / (TP + FN); 0 when nothing is fraud
  double f1 = 0;         // 2 TP / (2 TP + FP + FN); 0 when that is 0 / 0
  double accuracy = 0;   // (TP + TN) / rows
  double log_loss = 0;
  double brier = 0;
  std::vector<CalibrationBin> calibration;  // options.calibration_bins bins, low to high

  bool operator==(const Evaluation&) const = default;
};

// Every figure at once. An error when the sizes differ, there are no rows, a
// score is not a finite number in [0, 1], a label is not 0 or 1, or the
// options are out of range.
Result<Evaluation> Evaluate(const std::vector<double>& scores, const std::vector<float>& labels,
                            const EvaluationOptions& options = {});

// ROC AUC alone (see above). An error when the sizes differ or one class is
// absent. Labels > 0.5 count as fraud.
Result<double> RocAuc(const std::vector<double>& scores, const std::vector<float>& labels);
Result<double> RocAuc(const std::vector<float>& scores, const std::vector<float>& labels);

// The evaluation as one JSON object (keys as the Evaluation's fields, the
// confusion matrix and the calibration table nested; an undefined figure is
// null with its reason beside it). Numbers are written so that they parse
// back to the same double.
std::string EvaluationToJson(const Evaluation& evaluation);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_EVALUATION_H_
