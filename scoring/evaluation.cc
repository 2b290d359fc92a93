#include "scoring/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

// Counts of labels per distinct score, from the highest score down: what
// both the ROC and the precision-recall curve are made of.
struct ScoreGroup {
  double positives = 0;
  double negatives = 0;
};

template <typename Score>
std::vector<ScoreGroup> GroupsByScoreDescending(const std::vector<Score>& scores,
                                                const std::vector<float>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&scores](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<ScoreGroup> groups;
  for (size_t i = 0; i < order.size();) {
    ScoreGroup group;
    size_t j = i;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j) {
      (labels[order[j]] > 0.5f ? group.positives : group.negatives) += 1;
    }
    groups.push_back(group);
    i = j;
  }
  return groups;
}

struct Totals {
  double positives = 0;
  double negatives = 0;
};

Totals TotalsOf(const std::vector<ScoreGroup>& groups) {
  Totals totals;
  for (const ScoreGroup& g : groups) {
    totals.positives += g.positives;
    totals.negatives += g.negatives;
  }
  return totals;
}

std::string ClassCounts(const Totals& totals) {
  return std::to_string(static_cast<size_t>(totals.positives)) + " positives and " +
         std::to_string(static_cast<size_t>(totals.negatives)) + " negatives";
}

// Pairs (fraud, non-fraud) in the right order, ties one half, over all pairs.
// Counts stay integers (exact in a double up to 2^53), so only the final
// division rounds.
Result<double> AucOfGroups(const std::vector<ScoreGroup>& groups) {
  const Totals totals = TotalsOf(groups);
  if (totals.positives == 0 || totals.negatives == 0) {
    return Status::Error("auc: needs both classes; got " + ClassCounts(totals));
  }
  double right_pairs_twice = 0;
  double negatives_above = 0;
  for (const ScoreGroup& g : groups) {
    const double negatives_below = totals.negatives - negatives_above - g.negatives;
    right_pairs_twice += g.positives * (2 * negatives_below + g.negatives);
    negatives_above += g.negatives;
  }
  return right_pairs_twice / (2 * totals.positives * totals.negatives);
}

Result<double> AveragePrecisionOfGroups(const std::vector<ScoreGroup>& groups) {
  const Totals totals = TotalsOf(groups);
  if (totals.positives == 0) {
    return Status::Error("average precision: needs at least one fraud; got " + ClassCounts(totals));
  }
  double ap = 0;
  double true_positives = 0;
  double predicted = 0;
  for (const ScoreGroup& g : groups) {
    true_positives += g.positives;
    predicted += g.positives + g.negatives;
    ap += (g.positives / totals.positives) * (true_positives / predicted);
  }
  return ap;
}

template <typename Score>
Result<double> RocAucOf(const std::vector<Score>& scores, const std::vector<float>& labels) {
  if (scores.size() != labels.size()) {
    return Status::Error("auc: " + std::to_string(scores.size()) + " scores but " +
                         std::to_string(labels.size()) + " labels");
  }
  return AucOfGroups(GroupsByScoreDescending(scores, labels));
}

double Ratio(size_t numerator, size_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// The calibration bin of `score` (in [0, 1]) as sklearn's calibration_curve
// finds it: np.searchsorted(edges[1:-1], score) over
// edges = np.linspace(0, 1 + 1e-8, bins + 1), i.e. the number of inner edges
// strictly below the score. Inner edge k is k * ((1 + 1e-8) / bins), as
// numpy's linspace computes it.
size_t CalibrationBinOf(double score, int bins) {
  const double step = (1.0 + 1e-8) / bins;
  // Start near the answer, then settle on the exact edge comparisons.
  size_t bin = static_cast<size_t>(std::clamp(static_cast<int>(score / step), 0, bins - 1));
  while (bin > 0 && !(static_cast<double>(bin) * step < score)) --bin;
  while (bin + 1 < static_cast<size_t>(bins) && static_cast<double>(bin + 1) * step < score) ++bin;
  return bin;
}

}  // namespace

Status EvaluationOptions::Validate() const {
  if (!(threshold >= 0 && threshold <= 1)) {
    return Status::Error("threshold: " + std::to_string(threshold) + " is out of range [0, 1]");
  }
  if (calibration_bins < 1 || calibration_bins > 1000) {
    return Status::Error("calibration bins: " + std::to_string(calibration_bins) +
                         " is out of range [1, 1000]");
  }
  return Status::Ok();
}

Result<double> RocAuc(const std::vector<double>& scores, const std::vector<float>& labels) {
  return RocAucOf(scores, labels);
}

Result<double> RocAuc(const std::vector<float>& scores, const std::vector<float>& labels) {
  return RocAucOf(scores, labels);
}

Result<Evaluation> Evaluate(const std::vector<double>& scores, const std::vector<float>& labels,
                            const EvaluationOptions& options) {
  if (Status s = options.Validate(); !s.ok()) return s;
  if (scores.size() != labels.size()) {
    return Status::Error("evaluate: " + std::to_string(scores.size()) + " scores but " +
                         std::to_string(labels.size()) + " labels");
  }
  if (scores.empty()) return Status::Error("evaluate: no rows to evaluate");
  Evaluation e;
  e.threshold = options.threshold;
  e.rows = scores.size();
  const int bins = options.calibration_bins;
  e.calibration.resize(static_cast<size_t>(bins));
  for (int k = 0; k < bins; ++k) {
    e.calibration[k].lower = static_cast<double>(k) / bins;
    e.calibration[k].upper = static_cast<double>(k + 1) / bins;
  }
  // Sums per bin first, means at the end.
  std::vector<double> bin_fraud(static_cast<size_t>(bins), 0.0);
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  double log_loss_sum = 0;
  double brier_sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const double p = scores[i];
    const float label = labels[i];
    if (!std::isfinite(p) || p < 0 || p > 1) {
      return Status::Error("evaluate: score " + std::to_string(i) + " is " + std::to_string(p) +
                           ", not a probability in [0, 1]");
    }
    if (label != 0.0f && label != 1.0f) {
      return Status::Error("evaluate: label " + std::to_string(i) + " is " + std::to_string(label) +
                           ", not 0 or 1");
    }
    const bool fraud = label == 1.0f;
    const bool predicted = p >= options.threshold;
    ConfusionMatrix& c = e.confusion;
    ++(fraud ? (predicted ? c.true_positives : c.false_negatives)
             : (predicted ? c.false_positives : c.true_negatives));
    log_loss_sum -= std::log(std::clamp(fraud ? p : 1 - p, kEps, 1 - kEps));
    brier_sum += (p - label) * (p - label);
    const size_t k = CalibrationBinOf(p, bins);
    ++e.calibration[k].count;
    e.calibration[k].mean_predicted += p;
    bin_fraud[k] += label;
  }
  for (size_t k = 0; k < e.calibration.size(); ++k) {
    CalibrationBin& bin = e.calibration[k];
    if (bin.count == 0) continue;
    bin.mean_predicted /= static_cast<double>(bin.count);
    bin.observed_rate = bin_fraud[k] / static_cast<double>(bin.count);
  }
  const ConfusionMatrix& c = e.confusion;
  e.positives = c.true_positives + c.false_negatives;
  e.negatives = c.true_negatives + c.false_positives;
  e.precision = Ratio(c.true_positives, c.true_positives + c.false_positives);
  e.recall = Ratio(c.true_positives, e.positives);
  e.f1 = Ratio(2 * c.true_positives, 2 * c.true_positives + c.false_positives + c.false_negatives);
  e.accuracy = Ratio(c.true_positives + c.true_negatives, e.rows);
  e.log_loss = log_loss_sum / static_cast<double>(e.rows);
  e.brier = brier_sum / static_cast<double>(e.rows);

  const std::vector<ScoreGroup> groups = GroupsByScoreDescending(scores, labels);
  if (Result<double> auc = AucOfGroups(groups); auc.ok()) {
    e.roc_auc = *auc;
  } else {
    e.roc_auc_undefined = auc.status().message();
  }
  if (Result<double> ap = AveragePrecisionOfGroups(groups); ap.ok()) {
    e.average_precision = *ap;
  } else {
    e.average_precision_undefined = ap.status().message();
  }
  return e;
}

}  // namespace scorepipe
