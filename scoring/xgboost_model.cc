#include "scoring/xgboost_model.h"

#include <spdlog/spdlog.h>
#include <xgboost/c_api.h>

#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "durable/file_util.h"
#include "scoring/tree_ensemble.h"

namespace scorepipe {
namespace {

// In-place prediction of the transformed value (probabilities) with every
// tree; NaN marks a missing value, as in training.
constexpr const char* kPredictConfig = R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
                                       R"("strict_shape":false,"cache_id":0,"missing":NaN})";

constexpr const char* kFloatTypestr = std::endian::native == std::endian::little ? "<f4" : ">f4";

constexpr const char* kSupportedObjective = "binary:logistic";

// The native evaluator replaces libxgboost only after it gave the same
// probabilities (within kProbeTolerance) on kProbeRows rows
// (TreeEnsemble::ProbeRows: thresholds, their neighbours, NaN, infinities,
// random values), the same rows at every load.
constexpr size_t kProbeRows = 2000;
constexpr uint64_t kProbeSeed = 20240607;
constexpr double kProbeTolerance = 1e-6;

// The objective's name from the booster's JSON configuration, "" if absent.
std::string ObjectiveName(BoosterHandle handle) {
  bst_ulong len = 0;
  const char* config = nullptr;
  if (XGBoosterSaveJsonConfig(handle, &len, &config) != 0) return "";
  const std::string text(config, len);
  const std::string key = R"("objective":{"name":")";
  const size_t begin = text.find(key);
  if (begin == std::string::npos) return "";
  const size_t start = begin + key.size();
  const size_t end = text.find('"', start);
  if (end == std::string::npos) return "";
  return text.substr(start, end - start);
}

// libxgboost's probabilities for n_rows rows of num_features floats, one
// in-place prediction; replaces *p.
Status LibxgboostPredict(BoosterHandle handle, const float* rows, size_t n_rows, size_t num_features,
                         std::vector<double>* p) {
  p->clear();
  if (n_rows == 0) return Status::Ok();
  // A NumPy-style __array_interface__ describing the caller's buffer; no copy.
  char array_interface[192];
  std::snprintf(array_interface, sizeof array_interface,
                R"({"data":[%)" PRIuPTR R"(,true],"shape":[%zu,%zu],"typestr":"%s","version":3})",
                reinterpret_cast<uintptr_t>(rows), n_rows, num_features, kFloatTypestr);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(handle, array_interface, kPredictConfig, nullptr, &shape, &dim, &result) !=
      0) {
    return Status::Error("prediction failed: " + XgboostLastError());
  }
  bst_ulong total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  if (total != n_rows) {
    return Status::Error("expected " + std::to_string(n_rows) + " predictions, got " + std::to_string(total));
  }
  p->assign(result, result + n_rows);
  return Status::Ok();
}

// The native evaluator for the booster's model, checked against libxgboost
// on the probe rows; or why it cannot be used.
Result<TreeEnsemble> VerifiedTreeEnsemble(BoosterHandle handle, size_t num_features) {
  // The model as libxgboost holds it, in its own JSON schema whatever the
  // version that wrote the file.
  bst_ulong len = 0;
  const char* json = nullptr;
  if (XGBoosterSaveModelToBuffer(handle, R"({"format":"json"})", &len, &json) != 0) {
    return Status::Error("cannot save the model as JSON: " + XgboostLastError());
  }
  Result<TreeEnsemble> ensemble = TreeEnsemble::FromXgboostJson(std::string_view(json, len));
  if (!ensemble.ok()) return ensemble.status();
  if (ensemble->num_features() != num_features) {
    return Status::Error("it reads " + std::to_string(ensemble->num_features()) + " features, libxgboost " +
                         std::to_string(num_features));
  }
  const std::vector<float> rows = ensemble->ProbeRows(kProbeRows, kProbeSeed);
  std::vector<double> expected;
  if (Status s = LibxgboostPredict(handle, rows.data(), kProbeRows, num_features, &expected); !s.ok()) {
    return s.WithContext("libxgboost on the probe rows");
  }
  std::vector<double> native(kProbeRows);
  ensemble->PredictProba(rows.data(), kProbeRows, native.data());
  for (size_t r = 0; r < kProbeRows; ++r) {
    const bool both_nan = std::isnan(native[r]) && std::isnan(expected[r]);
    if (both_nan || std::fabs(native[r] - expected[r]) <= kProbeTolerance) continue;
    std::string values;
    char number[32];
    for (size_t f = 0; f < num_features; ++f) {
      std::snprintf(number, sizeof number, "%s%.9g", f == 0 ? "" : ", ",
                    static_cast<double>(rows[r * num_features + f]));
      values += number;
    }
    std::snprintf(number, sizeof number, "%.9g", native[r]);
    std::string message = "probe row " + std::to_string(r) + " [" + values + "]: native " + number;
    std::snprintf(number, sizeof number, "%.9g", expected[r]);
    return Status::Error(message + ", libxgboost " + number);
  }
  return ensemble;
}

class XgboostModel final : public Model {
 public:
  // `native`, when set, was verified against the booster's predictions.
  XgboostModel(BoosterHandle handle, size_t num_features, std::string version,
               std::optional<TreeEnsemble> native, std::string description)
      : handle_(handle),
        num_features_(num_features),
        version_(std::move(version)),
        native_(std::move(native)),
        description_(std::move(description)) {}
  ~XgboostModel() override { XGBoosterFree(handle_); }

  size_t num_features() const override { return num_features_; }
  const std::string& version() const override { return version_; }
  std::string Describe() const override { return description_; }

  Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p_fraud) override {
    if (native_.has_value()) {
      p_fraud->resize(n_rows);
      native_->PredictProba(rows, n_rows, p_fraud->data());
      return Status::Ok();
    }
    if (Status s = LibxgboostPredict(handle_, rows, n_rows, num_features_, p_fraud); !s.ok()) {
      return s.WithContext("xgboost model " + version_);
    }
    return Status::Ok();
  }

 private:
  BoosterHandle handle_;
  size_t num_features_;
  std::string version_;
  std::optional<TreeEnsemble> native_;  // scores instead of the booster when set
  std::string description_;
};

}  // namespace

std::string XgboostLastError() {
  std::string message = XGBGetLastError();
  // "[12:34:56] ./src/file.cc:123: what\nStack trace:\n  [bt] ..."
  if (message.size() > 11 && message[0] == '[' && message[9] == ']' && message[10] == ' ') {
    message.erase(0, 11);
  }
  if (size_t trace = message.find("Stack trace:"); trace != std::string::npos) {
    message.erase(trace);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

Result<std::unique_ptr<Model>> LoadXgboostModel(const std::string& path, std::string version,
                                                size_t expected_features) {
  Result<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  // Only JSON models: libxgboost would read anything else as its legacy
  // binary format, which has no integrity checks.
  const size_t first = bytes->find_first_not_of(" \t\r\n");
  if (first == std::string::npos || (*bytes)[first] != '{') {
    return Status::Error(path + ": not an XGBoost JSON model (the file does not start with '{')");
  }

  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) {
    return Status::Error(path + ": cannot create an XGBoost booster: " + XgboostLastError());
  }
  // Frees the booster on every early return.
  std::unique_ptr<void, int (*)(BoosterHandle)> guard(handle, &XGBoosterFree);

  if (XGBoosterLoadModelFromBuffer(handle, bytes->data(), bytes->size()) != 0) {
    return Status::Error(path + ": not a valid XGBoost model: " + XgboostLastError());
  }
  if (XGBoosterSetParam(handle, "nthread", "1") != 0) {
    return Status::Error(path + ": cannot set nthread=1: " + XgboostLastError());
  }
  const std::string objective = ObjectiveName(handle);
  if (objective != kSupportedObjective) {
    return Status::Error(path + ": objective '" + objective +
                         "' is not supported; allowed: " + kSupportedObjective);
  }
  bst_ulong num_features = 0;
  if (XGBoosterGetNumFeature(handle, &num_features) != 0) {
    return Status::Error(path + ": cannot read the feature count: " + XgboostLastError());
  }
  if (num_features != expected_features) {
    return Status::Error(path + ": the model takes " + std::to_string(num_features) +
                         " features but the feature spec has " + std::to_string(expected_features));
  }

  // The native evaluator when it reproduces libxgboost on this model;
  // libxgboost otherwise, which scores every model it loads.
  std::optional<TreeEnsemble> native;
  std::string description = "xgboost model " + version + ": ";
  Result<TreeEnsemble> ensemble = VerifiedTreeEnsemble(handle, static_cast<size_t>(num_features));
  if (ensemble.ok()) {
    description += "native tree evaluator (" + std::to_string(ensemble->num_trees()) + " trees, depth " +
                   std::to_string(ensemble->max_depth()) + ", verified against libxgboost on " +
                   std::to_string(kProbeRows) + " rows)";
    native = std::move(ensemble).value();
    spdlog::info("{}", description);
  } else {
    description +=
        "libxgboost (the native tree evaluator does not take it: " + ensemble.status().message() + ")";
    spdlog::warn("{} ({})", description, path);
  }
  // The model owns the booster from here.
  return std::unique_ptr<Model>(new XgboostModel(guard.release(), static_cast<size_t>(num_features),
                                                 std::move(version), std::move(native),
                                                 std::move(description)));
}

}  // namespace scorepipe
