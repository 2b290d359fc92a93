#include "proto/evaluation.h"

#include <string_view>

#include "proto/json_writer.h"

namespace scorepipe {
namespace {

// `value`, or null and, when `why_not` is not empty, "<key>_undefined": why_not.
void OptionalField(std::string_view key, const std::optional<double>& value, const std::string& why_not,
                   JsonWriter& json) {
  json.Key(key);
  if (value) {
    json.Number(*value);
    return;
  }
  json.Null();
  if (!why_not.empty()) json.Field(std::string(key) + "_undefined", why_not);
}

}  // namespace

std::string EvaluationToJson(const Evaluation& e) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Field("rows", e.rows).Field("positives", e.positives).Field("negatives", e.negatives);
  json.Field("threshold", e.threshold);
  OptionalField("roc_auc", e.roc_auc, e.roc_auc_undefined, json);
  OptionalField("average_precision", e.average_precision, e.average_precision_undefined, json);
  json.Field("precision", e.precision).Field("recall", e.recall).Field("f1", e.f1);
  json.Field("accuracy", e.accuracy).Field("log_loss", e.log_loss).Field("brier", e.brier);
  json.Key("confusion").BeginObject();
  json.Field("true_positives", e.confusion.true_positives)
      .Field("false_positives", e.confusion.false_positives);
  json.Field("true_negatives", e.confusion.true_negatives)
      .Field("false_negatives", e.confusion.false_negatives);
  json.EndObject();
  json.Key("calibration").BeginArray();
  for (const CalibrationBin& bin : e.calibration) {
    json.BeginObject().Field("lower", bin.lower).Field("upper", bin.upper).Field("count", bin.count);
    // An empty bin has no mean: null, as in the text table's "-".
    const std::optional<double> mean = bin.count > 0 ? std::optional(bin.mean_predicted) : std::nullopt;
    const std::optional<double> rate = bin.count > 0 ? std::optional(bin.observed_rate) : std::nullopt;
    OptionalField("mean_predicted", mean, "", json);
    OptionalField("observed_rate", rate, "", json);
    json.EndObject();
  }
  json.EndArray().EndObject();
  return out;
}

}  // namespace scorepipe
