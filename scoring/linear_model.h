// A logistic-regression model: P(fraud) = sigmoid(bias + weights . row),
// computed in double precision with Eigen over the whole batch. Its file is
// YAML:
//
//   format: linear
//   weights: [1.5e-9, 0.8, 0.0, 0.002]   # one per feature, in column order
//   bias: -4.2
//
// Unknown keys and non-finite numbers are errors, with file:line:column.
//
// Read-only after construction apart from PredictProba's output; owned by one
// thread.
#ifndef SCOREPIPE_SCORING_LINEAR_MODEL_H_
#define SCOREPIPE_SCORING_LINEAR_MODEL_H_

#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "proto/status.h"
#include "scoring/model.h"

namespace scorepipe {

class LinearModel final : public Model {
 public:
  // `weights` has one entry per feature; all values finite.
  explicit LinearModel(Eigen::VectorXd weights, double bias, std::string version);

  size_t num_features() const override { return static_cast<size_t>(weights_.size()); }
  const std::string& version() const override { return version_; }
  Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p_fraud) override;

  const Eigen::VectorXd& weights() const { return weights_; }
  double bias() const { return bias_; }

 private:
  Eigen::VectorXd weights_;
  double bias_;
  std::string version_;
};

// Loads a linear model file; its weights must number expected_features.
Result<std::unique_ptr<Model>> LoadLinearModel(const std::string& path, std::string version,
                                               size_t expected_features);

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_LINEAR_MODEL_H_
