#include "worker/xgboost_model.h"

#include <xgboost/c_api.h>

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <utility>
#include <vector>

#include "worker/file_util.h"

namespace scorepipe {
namespace {

// In-place prediction of the transformed value (probabilities) with every
// tree; NaN marks a missing value, as in training.
constexpr const char* kPredictConfig =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
    R"("strict_shape":false,"cache_id":0,"missing":NaN})";

constexpr const char* kFloatTypestr = std::endian::native == std::endian::little ? "<f4" : ">f4";

constexpr const char* kSupportedObjective = "binary:logistic";

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

class XgboostModel final : public Model {
 public:
  XgboostModel(BoosterHandle handle, size_t num_features, std::string version)
      : handle_(handle), num_features_(num_features), version_(std::move(version)) {}
  ~XgboostModel() override { XGBoosterFree(handle_); }

  size_t num_features() const override { return num_features_; }
  const std::string& version() const override { return version_; }

  Status PredictProba(const float* rows, size_t n_rows, std::vector<double>* p_fraud) override {
    p_fraud->clear();
    if (n_rows == 0) return Status::Ok();
    // A NumPy-style __array_interface__ describing the caller's buffer; no copy.
    char array_interface[192];
    std::snprintf(array_interface, sizeof array_interface,
                  R"({"data":[%)" PRIuPTR R"(,true],"shape":[%zu,%zu],"typestr":"%s","version":3})",
                  reinterpret_cast<uintptr_t>(rows), n_rows, num_features_, kFloatTypestr);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDense(handle_, array_interface, kPredictConfig, nullptr, &shape, &dim,
                                  &result) != 0) {
      return Status::Error("xgboost model " + version_ +
                           ": prediction failed: " + XgboostLastError());
    }
    bst_ulong total = 1;
    for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
    if (total != n_rows) {
      return Status::Error("xgboost model " + version_ + ": expected " + std::to_string(n_rows) +
                           " predictions, got " + std::to_string(total));
    }
    p_fraud->assign(result, result + n_rows);
    return Status::Ok();
  }

 private:
  BoosterHandle handle_;
  size_t num_features_;
  std::string version_;
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
  guard.release();
  return std::unique_ptr<Model>(
      new XgboostModel(handle, static_cast<size_t>(num_features), std::move(version)));
}

}  // namespace scorepipe
