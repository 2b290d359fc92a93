// How well fraud scores match known labels: the figures `scorepipe evaluate`
// reports (locally, or gathered by the sink for `--cluster`), and their JSON.
// In proto because an Evaluation travels on the wire, from the sink to
// `scorepipe evaluate --cluster` (proto/evaluation_codec.h); computing it
// from scores and labels is scoring/evaluation.h's Evaluate(), which also
// defines each figure.
//
// Value types and a plain function; any thread.
#ifndef SCOREPIPE_PROTO_EVALUATION_H_
#define SCOREPIPE_PROTO_EVALUATION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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

// The evaluation as one JSON object (keys as the Evaluation's fields, the
// confusion matrix and the calibration table nested; an undefined figure is
// null with its reason beside it). Numbers are written so that they parse
// back to the same double.
std::string EvaluationToJson(const Evaluation& evaluation);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_EVALUATION_H_
