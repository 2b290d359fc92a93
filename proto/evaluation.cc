#include "proto/evaluation.h"

#include <charconv>

#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

void AppendDouble(double value, std::string* out) {
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, r.ptr);
}

void AppendKey(const char* key, std::string* out) {
  if (out->back() != '{') *out += ',';
  AppendJsonString(key, out);
  *out += ':';
}

void AppendField(const char* key, double value, std::string* out) {
  AppendKey(key, out);
  AppendDouble(value, out);
}

void AppendField(const char* key, size_t value, std::string* out) {
  AppendKey(key, out);
  *out += std::to_string(value);
}

// `value`, or null and, when `why_not` is not empty, "<key>_undefined": why_not.
void AppendOptionalField(const char* key, const std::optional<double>& value, const std::string& why_not,
                         std::string* out) {
  AppendKey(key, out);
  if (value) {
    AppendDouble(*value, out);
    return;
  }
  *out += "null";
  if (why_not.empty()) return;
  AppendKey((std::string(key) + "_undefined").c_str(), out);
  AppendJsonString(why_not, out);
}

}  // namespace

std::string EvaluationToJson(const Evaluation& e) {
  std::string out = "{";
  AppendField("rows", e.rows, &out);
  AppendField("positives", e.positives, &out);
  AppendField("negatives", e.negatives, &out);
  AppendField("threshold", e.threshold, &out);
  AppendOptionalField("roc_auc", e.roc_auc, e.roc_auc_undefined, &out);
  AppendOptionalField("average_precision", e.average_precision, e.average_precision_undefined, &out);
  AppendField("precision", e.precision, &out);
  AppendField("recall", e.recall, &out);
  AppendField("f1", e.f1, &out);
  AppendField("accuracy", e.accuracy, &out);
  AppendField("log_loss", e.log_loss, &out);
  AppendField("brier", e.brier, &out);
  AppendKey("confusion", &out);
  out += '{';
  AppendField("true_positives", e.confusion.true_positives, &out);
  AppendField("false_positives", e.confusion.false_positives, &out);
  AppendField("true_negatives", e.confusion.true_negatives, &out);
  AppendField("false_negatives", e.confusion.false_negatives, &out);
  out += '}';
  AppendKey("calibration", &out);
  out += '[';
  for (const CalibrationBin& bin : e.calibration) {
    if (out.back() != '[') out += ',';
    out += '{';
    AppendField("lower", bin.lower, &out);
    AppendField("upper", bin.upper, &out);
    AppendField("count", bin.count, &out);
    // An empty bin has no mean: null, as in the text table's "-".
    const std::optional<double> mean = bin.count > 0 ? std::optional(bin.mean_predicted) : std::nullopt;
    const std::optional<double> rate = bin.count > 0 ? std::optional(bin.observed_rate) : std::nullopt;
    AppendOptionalField("mean_predicted", mean, "", &out);
    AppendOptionalField("observed_rate", rate, "", &out);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace scorepipe
