#include "scoring/feature_spec.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <utility>

#include "config/yaml_util.h"
#include "durable/file_util.h"

namespace scorepipe {
namespace {

// The value of a Transaction::id_text (a JSON number token the bridge
// checked, e.g. "5005.5").
double IdTextValue(const std::string& text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

constexpr FeatureField kAllFields[] = {FeatureField::kId,        FeatureField::kCustomerId,
                                       FeatureField::kVendorId,  FeatureField::kAmount,
                                       FeatureField::kTimestamp, FeatureField::kStatus};
constexpr FeatureTransform kAllTransforms[] = {FeatureTransform::kNumber, FeatureTransform::kUnixSeconds,
                                               FeatureTransform::kIndex};

constexpr const char* kAllowedFields = "id, customer_id, vendor_id, amount, timestamp, status";
constexpr const char* kAllowedTransforms = "number, unix_seconds, index";

// What kind of value a field holds, for messages.
const char* FieldKind(FeatureField field) {
  switch (field) {
    case FeatureField::kId:
    case FeatureField::kCustomerId:
    case FeatureField::kVendorId:
      return "an integer";
    case FeatureField::kAmount:
      return "a number";
    case FeatureField::kTimestamp:
      return "a date-time";
    case FeatureField::kStatus:
      return "a string";
  }
  return "?";
}

bool TransformFits(FeatureTransform transform, FeatureField field) {
  switch (transform) {
    case FeatureTransform::kNumber:
      return field == FeatureField::kId || field == FeatureField::kCustomerId ||
             field == FeatureField::kVendorId || field == FeatureField::kAmount;
    case FeatureTransform::kUnixSeconds:
      return field == FeatureField::kTimestamp;
    case FeatureTransform::kIndex:
      return field == FeatureField::kStatus;
  }
  return false;
}

std::string FieldsFitting(FeatureTransform transform) {
  std::string out;
  for (FeatureField f : kAllFields) {
    if (!TransformFits(transform, f)) continue;
    if (!out.empty()) out += ", ";
    out += FeatureFieldName(f);
  }
  return out;
}

// Builds "name:line:column: what" errors from yaml-cpp marks (0-based).
class ErrorAt {
 public:
  explicit ErrorAt(const std::string& name) : name_(name) {}

  const std::string& name() const { return name_; }

  Status operator()(const YAML::Node& node, const std::string& what) const { return At(node.Mark(), what); }
  Status At(const YAML::Mark& mark, const std::string& what) const { return YamlErrorAt(name_, mark, what); }

 private:
  const std::string& name_;
};

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// Reads a non-empty scalar string.
Status ReadString(const ErrorAt& error, const YAML::Node& node, const std::string& key, std::string* out) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    return error(node, key + ": expected a non-empty string");
  }
  *out = node.Scalar();
  return Status::Ok();
}

Status ParseFeature(const ErrorAt& error, const YAML::Node& item, const std::string& path, FeatureDef* def) {
  YamlFields fields;
  if (Status s = ReadYamlMapping(error.name(), item, path,
                                 {"name", "field", "transform", "values", "default"}, &fields);
      !s.ok()) {
    return s;
  }
  for (const char* key : {"name", "field", "transform"}) {
    if (!fields.count(key)) return error(item, path + ": missing key '" + key + "'");
  }
  const YAML::Node& field = fields["field"];
  const YAML::Node& transform = fields["transform"];
  const auto values_it = fields.find("values");
  const auto default_it = fields.find("default");

  if (Status s = ReadString(error, fields["name"], path + ".name", &def->name); !s.ok()) return s;

  std::string text;
  if (Status s = ReadString(error, field, path + ".field", &text); !s.ok()) return s;
  bool found = false;
  for (FeatureField f : kAllFields) {
    if (text == FeatureFieldName(f)) {
      def->field = f;
      found = true;
    }
  }
  if (!found) {
    return error(
        field, path + ".field: " + Quoted(text) + " is not a transaction field; allowed: " + kAllowedFields);
  }

  if (Status s = ReadString(error, transform, path + ".transform", &text); !s.ok()) return s;
  found = false;
  for (FeatureTransform t : kAllTransforms) {
    if (text == FeatureTransformName(t)) {
      def->transform = t;
      found = true;
    }
  }
  if (!found) {
    return error(transform, path + ".transform: " + Quoted(text) +
                                " is not a transform; allowed: " + kAllowedTransforms);
  }
  if (!TransformFits(def->transform, def->field)) {
    return error(transform, path + ".transform: " + Quoted(text) + " does not fit field " +
                                Quoted(FeatureFieldName(def->field)) + " (" + FieldKind(def->field) +
                                "); allowed fields for " + Quoted(text) + ": " +
                                FieldsFitting(def->transform));
  }

  if (def->transform != FeatureTransform::kIndex) {
    if (values_it != fields.end()) {
      return error(values_it->second, path + ".values: only allowed with transform 'index'");
    }
    if (default_it != fields.end()) {
      return error(default_it->second, path + ".default: only allowed with transform 'index'");
    }
    return Status::Ok();
  }

  if (values_it == fields.end()) {
    return error(item, path + ": missing key 'values' (transform 'index')");
  }
  const YAML::Node& values = values_it->second;
  if (!values.IsSequence() || values.size() == 0) {
    return error(values, path + ".values: expected a non-empty list of strings");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string value_path = path + ".values[" + std::to_string(i) + "]";
    std::string value;
    if (Status s = ReadString(error, values[i], value_path, &value); !s.ok()) return s;
    for (const std::string& earlier : def->values) {
      if (earlier == value) {
        return error(values[i], value_path + ": " + Quoted(value) + " is listed twice");
      }
    }
    def->values.push_back(std::move(value));
  }
  if (default_it != fields.end()) {
    const YAML::Node& default_value = default_it->second;
    double d = 0;
    if (!default_value.IsScalar() || !YAML::convert<double>::decode(default_value, d) || !std::isfinite(d)) {
      return error(default_value, path + ".default: expected a finite number");
    }
    def->default_value = d;
  }
  return Status::Ok();
}

Result<FeatureSpec> ParseSpec(const YAML::Node& root, const std::string& name) {
  const ErrorAt error(name);
  YamlFields fields;
  if (Status s = ReadYamlMapping(name, root, "", {"features"}, &fields); !s.ok()) return s;
  if (!fields.count("features")) return error(root, "missing key 'features'");
  const YAML::Node& features = fields["features"];
  if (!features.IsSequence() || features.size() == 0) {
    return error(features, "features: expected a non-empty list of features");
  }

  FeatureSpec spec;
  spec.source = name;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string path = "features[" + std::to_string(i) + "]";
    FeatureDef def;
    if (Status s = ParseFeature(error, features[i], path, &def); !s.ok()) return s;
    for (const FeatureDef& earlier : spec.features) {
      if (earlier.name == def.name) {
        return error(features[i]["name"],
                     path + ".name: " + Quoted(def.name) + " is already the name of a feature");
      }
    }
    spec.features.push_back(std::move(def));
  }
  return spec;
}

}  // namespace

const char* FeatureFieldName(FeatureField field) {
  switch (field) {
    case FeatureField::kId:
      return "id";
    case FeatureField::kCustomerId:
      return "customer_id";
    case FeatureField::kVendorId:
      return "vendor_id";
    case FeatureField::kAmount:
      return "amount";
    case FeatureField::kTimestamp:
      return "timestamp";
    case FeatureField::kStatus:
      return "status";
  }
  return "?";
}

const char* FeatureTransformName(FeatureTransform transform) {
  switch (transform) {
    case FeatureTransform::kNumber:
      return "number";
    case FeatureTransform::kUnixSeconds:
      return "unix_seconds";
    case FeatureTransform::kIndex:
      return "index";
  }
  return "?";
}

Result<FeatureSpec> LoadFeatureSpecString(const std::string& text, const std::string& name) {
  Result<YAML::Node> root = ParseYaml(text, name);
  if (!root.ok()) return root.status();
  try {
    return ParseSpec(*root, name);
  } catch (const YAML::Exception& e) {  // Not expected: every access is checked first.
    return YamlErrorAt(name, e.mark, e.msg);
  }
}

Result<FeatureSpec> LoadFeatureSpecFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return LoadFeatureSpecString(*text, path);
}

FeatureSpec UpstreamFeatureSpec() {
  FeatureSpec spec;
  spec.source = "upstream";
  spec.features.push_back({"timestamp", FeatureField::kTimestamp, FeatureTransform::kUnixSeconds, {}, -1});
  spec.features.push_back(
      {"status", FeatureField::kStatus, FeatureTransform::kIndex, {"submitted", "accepted", "rejected"}, -1});
  spec.features.push_back({"vendor_id", FeatureField::kVendorId, FeatureTransform::kNumber, {}, -1});
  spec.features.push_back({"amount", FeatureField::kAmount, FeatureTransform::kNumber, {}, -1});
  return spec;
}

std::string FeatureSpecToYaml(const FeatureSpec& spec) {
  YAML::Emitter out;
  out << YAML::Comment("Model features, in column order; see scoring/feature_spec.h.");
  out << YAML::BeginMap << YAML::Key << "features" << YAML::Value << YAML::BeginSeq;
  for (const FeatureDef& def : spec.features) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << def.name;
    out << YAML::Key << "field" << YAML::Value << FeatureFieldName(def.field);
    out << YAML::Key << "transform" << YAML::Value << FeatureTransformName(def.transform);
    if (def.transform == FeatureTransform::kIndex) {
      out << YAML::Key << "values" << YAML::Value << YAML::Flow << def.values;
      out << YAML::Key << "default" << YAML::Value << def.default_value;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

FeatureExtractor::FeatureExtractor(FeatureSpec spec) : spec_(std::move(spec)) {}

void FeatureExtractor::ExtractRow(const Transaction& tx, float* row) const {
  for (const FeatureDef& def : spec_.features) {
    double v = 0;
    switch (def.transform) {
      case FeatureTransform::kNumber:
        switch (def.field) {
          case FeatureField::kId:
            v = tx.id_text.empty() ? static_cast<double>(tx.id) : IdTextValue(tx.id_text);
            break;
          case FeatureField::kCustomerId:
            v = tx.customer_id;
            break;
          case FeatureField::kVendorId:
            v = tx.vendor_id;
            break;
          case FeatureField::kAmount:
            v = tx.amount;
            break;
          case FeatureField::kTimestamp:  // Not reachable for a valid spec.
          case FeatureField::kStatus:
            v = std::nan("");
            break;
        }
        break;
      case FeatureTransform::kUnixSeconds:
        v = tx.timestamp_unix_s;
        break;
      case FeatureTransform::kIndex: {
        v = def.default_value;
        for (size_t i = 0; i < def.values.size(); ++i) {
          if (def.values[i] == tx.status) {
            v = static_cast<double>(i);
            break;
          }
        }
        break;
      }
    }
    *row++ = static_cast<float>(v);
  }
}

void FeatureExtractor::Extract(const std::vector<Transaction>& txs, std::vector<float>* out) const {
  const size_t w = width();
  out->resize(txs.size() * w);
  float* row = out->data();
  for (const Transaction& tx : txs) {
    ExtractRow(tx, row);
    row += w;
  }
}

}  // namespace scorepipe
