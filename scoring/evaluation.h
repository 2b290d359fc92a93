// Computing how well fraud scores match known labels: the figures of an
// Evaluation (proto/evaluation.h) that `scorepipe evaluate` reports (locally,
// or gathered by the sink for `--cluster`), and the AUC that training
// records. Not in proto: only the figures travel on the wire.
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
#ifndef SCOREPIPE_SCORING_EVALUATION_H_
#define SCOREPIPE_SCORING_EVALUATION_H_

#include <vector>

#include "proto/evaluation.h"
#include "proto/status.h"

namespace scorepipe {

struct EvaluationOptions {
  double threshold = 0.5;     // a score >= threshold is predicted fraud; in [0, 1]
  int calibration_bins = 10;  // uniform bins over [0, 1]; 1..1000

  Status Validate() const;
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

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_EVALUATION_H_
