#include "scoring/linear_model.h"

#include <cmath>
#include <utility>

#include "config/yaml_util.h"
#include "durable/file_util.h"

namespace scorepipe {
namespace {

bool ReadFinite(const YAML::Node& node, double* out) {
  return node.IsScalar() && YAML::convert<double>::decode(node, *out) && std::isfinite(*out);
}

Result<std::unique_ptr<Model>> ParseLinearModel(const YAML::Node& root, const std::string& path,
                                                std::string version, size_t expected_features) {
  YamlFields fields;
  if (Status s = ReadYamlMapping(path, root, "", {"format", "weights", "bias"}, &fields); !s.ok()) {
    return s;
  }
  for (const char* key : {"format", "weights", "bias"}) {
    if (!fields.count(key)) {
      return YamlErrorAt(path, root, std::string("missing key '") + key + "'");
    }
  }
  const YAML::Node& format = fields["format"];
  const YAML::Node& weights = fields["weights"];
  const YAML::Node& bias = fields["bias"];
  if (!format.IsScalar() || format.Scalar() != "linear") {
    return YamlErrorAt(path, format,
                       "format: '" + (format.IsScalar() ? format.Scalar() : std::string("?")) +
                           "' is not allowed here; allowed: linear");
  }
  if (!weights.IsSequence() || weights.size() == 0) {
    return YamlErrorAt(path, weights, "weights: expected a non-empty list of numbers");
  }
  Eigen::VectorXd w(static_cast<Eigen::Index>(weights.size()));
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!ReadFinite(weights[i], &w[static_cast<Eigen::Index>(i)])) {
      return YamlErrorAt(path, weights[i], "weights[" + std::to_string(i) + "]: expected a finite number");
    }
  }
  double b = 0;
  if (!ReadFinite(bias, &b)) return YamlErrorAt(path, bias, "bias: expected a finite number");
  if (weights.size() != expected_features) {
    return YamlErrorAt(path, weights,
                       "weights: the model takes " + std::to_string(weights.size()) +
                           " features but the feature spec has " + std::to_string(expected_features));
  }
  return std::unique_ptr<Model>(new LinearModel(std::move(w), b, std::move(version)));
}

}  // namespace

LinearModel::LinearModel(Eigen::VectorXd weights, double bias, std::string version)
    : weights_(std::move(weights)), bias_(bias), version_(std::move(version)) {}

Status LinearModel::PredictProba(const float* rows, size_t n_rows, std::vector<double>* p_fraud) {
  using RowMajorBatch = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index n = static_cast<Eigen::Index>(n_rows);
  p_fraud->resize(n_rows);
  if (n_rows == 0) return Status::Ok();
  const Eigen::Map<const RowMajorBatch> x(rows, n, weights_.size());
  Eigen::Map<Eigen::VectorXd> p(p_fraud->data(), n);
  // Coefficient-wise product: few features, no temporaries, double precision
  // (timestamps in seconds need more than a float's 24 bits).
  p.noalias() = x.cast<double>().lazyProduct(weights_);
  p = (1.0 + (-(p.array() + bias_)).exp()).inverse().matrix();
  return Status::Ok();
}

Result<std::unique_ptr<Model>> LoadLinearModel(const std::string& path, std::string version,
                                               size_t expected_features) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  Result<YAML::Node> root = ParseYaml(*text, path);
  if (!root.ok()) return root.status();
  try {
    return ParseLinearModel(*root, path, std::move(version), expected_features);
  } catch (const YAML::Exception& e) {  // Not expected: every access is checked first.
    return YamlErrorAt(path, e.mark, e.msg);
  }
}

}  // namespace scorepipe
