// The model registry's files (see registry_files.h).
#include "scoring/registry_files.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "config/topology_writer.h"
#include "config/yaml_util.h"
#include "durable/file_util.h"
#include "proto/json_writer.h"

namespace scorepipe::registry_internal {
namespace {

namespace fs = std::filesystem;

std::string RecordJson(const HistoryRecord& record) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Field("at", record.at).Field("action", HistoryActionName(record.action));
  json.Field("version", record.version).Field("by", record.by).Key("from");
  if (record.from) {
    json.String(*record.from);
  } else {
    json.Null();
  }
  json.Field("forced", record.forced).Field("note", record.note).EndObject();
  return out;
}

Result<HistoryRecord> ParseRecord(simdjson::dom::parser& parser, const std::string& line,
                                  const std::string& where) {
  simdjson::dom::object object;
  if (auto error = parser.parse(line).get_object().get(object)) {
    return Status::Error(where + ": " + simdjson::error_message(error));
  }
  HistoryRecord record;
  auto text = [&](const char* key, std::string* out) -> Status {
    std::string_view value;
    if (auto error = object[key].get_string().get(value)) {
      return Status::Error(where + ": key '" + key + "': " + simdjson::error_message(error));
    }
    *out = std::string(value);
    return Status::Ok();
  };
  std::string action;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"at", &record.at},
                          {"action", &action},
                          {"version", &record.version},
                          {"by", &record.by},
                          {"note", &record.note}}) {
    if (Status s = text(key, out); !s.ok()) return s;
  }
  if (action == "register") {
    record.action = HistoryAction::kRegister;
  } else if (action == "promote") {
    record.action = HistoryAction::kPromote;
  } else if (action == "rollback") {
    record.action = HistoryAction::kRollback;
  } else if (action == "shadow") {
    record.action = HistoryAction::kShadow;
  } else if (action == "unshadow") {
    record.action = HistoryAction::kUnshadow;
  } else {
    return Status::Error(where + ": unknown action '" + action +
                         "'; allowed: register, promote, rollback, shadow, unshadow");
  }
  simdjson::dom::element from;
  if (object["from"].get(from) == simdjson::SUCCESS && !from.is_null()) {
    std::string_view value;
    if (auto error = from.get_string().get(value)) {
      return Status::Error(where + ": key 'from': " + simdjson::error_message(error));
    }
    record.from = std::string(value);
  }
  bool forced = false;
  if (object["forced"].get_bool().get(forced) == simdjson::SUCCESS) record.forced = forced;
  return record;
}

// "v2" < "v10": runs of digits compare as numbers.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ei = i, ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
      std::string_view da(a.data() + i, ei - i), db(b.data() + j, ej - j);
      while (da.size() > 1 && da[0] == '0') da.remove_prefix(1);
      while (db.size() > 1 && db[0] == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::string NumberText(double value) {
  char text[64];
  // A whole number as such (200000, not the shortest form 2e+05).
  const bool whole = std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15;
  auto [end, error] = whole ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed)
                            : std::to_chars(text, text + sizeof text, value);
  return error == std::errc() ? std::string(text, end) : std::to_string(value);
}

Result<std::vector<HistoryRecord>> ReadHistoryFile(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return std::vector<HistoryRecord>{};
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  // A last line without its newline is a record still being appended: a
  // reader (a worker watching the live version) sees it on its next look.
  text->erase(text->find_last_of('\n') == std::string::npos ? 0 : text->find_last_of('\n') + 1);
  std::vector<HistoryRecord> history;
  simdjson::dom::parser parser;
  std::istringstream lines(*text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    Result<HistoryRecord> record = ParseRecord(parser, line, path + ":" + std::to_string(number));
    if (!record.ok()) return record.status();
    history.push_back(std::move(record.value()));
  }
  return history;
}

Status AppendHistoryRecord(const std::string& model_dir, const HistoryRecord& record) {
  return AppendLine((fs::path(model_dir) / kHistoryFile).string(), RecordJson(record));
}

std::string MetaYaml(const ModelMeta& meta) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << ModelFormatName(meta.format);
  out << YAML::Key << "model_file" << YAML::Value << meta.model_file;
  out << YAML::Key << "created_at" << YAML::Value << meta.created_at;
  out << YAML::Key << "registered_by" << YAML::Value << meta.registered_by;
  out << YAML::Key << "model_source" << YAML::Value << meta.model_source;
  out << YAML::Key << "features_source" << YAML::Value << meta.features_source;
  if (meta.data_summary && !meta.data_summary.IsNull()) {
    out << YAML::Key << "data_summary" << YAML::Value << meta.data_summary;
  }
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, value] : meta.metrics) out << YAML::Key << name << YAML::Value << NumberText(value);
  out << YAML::EndMap;
  out << YAML::Key << "note" << YAML::Value << meta.note;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<ModelMeta> ReadMetaFile(const std::string& path) {
  try {
    Result<YAML::Node> root = LoadYamlFile(path);
    if (!root.ok()) return root.status();
    YamlFields fields;
    if (Status s = ReadYamlMapping(path, *root, "",
                                   {"format", "model_file", "created_at", "registered_by", "model_source",
                                    "features_source", "data_summary", "metrics", "note"},
                                   &fields);
        !s.ok()) {
      return s;
    }
    ModelMeta meta;
    auto scalar = [&](const char* key) {
      auto it = fields.find(key);
      return it == fields.end() || !it->second.IsScalar() ? std::string() : it->second.Scalar();
    };
    std::optional<ModelFormat> format = ParseRegistryFormat(scalar("format"));
    if (!format)
      return YamlErrorAt(path, *root, "format '" + scalar("format") + "'; allowed: xgboost, linear");
    meta.format = *format;
    meta.model_file = scalar("model_file");
    if (meta.model_file.empty()) return YamlErrorAt(path, *root, "model_file is missing");
    meta.created_at = scalar("created_at");
    meta.registered_by = scalar("registered_by");
    meta.model_source = scalar("model_source");
    meta.features_source = scalar("features_source");
    meta.note = scalar("note");
    if (auto it = fields.find("data_summary"); it != fields.end()) meta.data_summary = it->second;
    if (auto it = fields.find("metrics"); it != fields.end() && it->second.IsMap()) {
      for (const auto& entry : it->second) {
        double value = 0;
        if (!YAML::convert<double>::decode(entry.second, value)) {
          return YamlErrorAt(path, entry.second, "metric '" + entry.first.Scalar() + "' is not a number");
        }
        meta.metrics[entry.first.Scalar()] = value;
      }
    }
    return meta;
  } catch (const YAML::Exception& e) {
    return Status::Error(path + ": " + e.what());
  }
}

Result<std::optional<double>> ReadMinAuc(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return std::optional<double>();
  try {
    Result<YAML::Node> root = LoadYamlFile(path);
    if (!root.ok()) return root.status();
    YamlFields fields;
    if (Status s = ReadYamlMapping(path, *root, "", {"min_auc"}, &fields); !s.ok()) return s;
    auto it = fields.find("min_auc");
    if (it == fields.end()) return std::optional<double>();
    double value = 0;
    if (!YAML::convert<double>::decode(it->second, value) || !(value >= 0 && value <= 1)) {
      return YamlErrorAt(path, it->second, "min_auc '" + it->second.Scalar() + "' is not a number in [0, 1]");
    }
    return std::optional<double>(value);
  } catch (const YAML::Exception& e) {
    return Status::Error(path + ": " + e.what());
  }
}

Result<std::map<std::string, double>> ReadMetricsFile(const std::string& path) {
  Result<YAML::Node> root = LoadYamlFile(path);
  if (!root.ok()) return root.status();
  if (!root->IsMap()) return YamlErrorAt(path, *root, "metrics must be a map of name: number (auc: 0.91)");
  std::map<std::string, double> metrics;
  for (const auto& entry : *root) {
    const std::string key = entry.first.Scalar();
    double value = 0;
    if (!entry.second.IsScalar() || !YAML::convert<double>::decode(entry.second, value)) {
      return YamlErrorAt(path, entry.second, "metric '" + key + "' is not a number");
    }
    metrics[key] = value;
  }
  return metrics;
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return ParseYaml(*text, path);
}

Result<std::vector<std::string>> NamedSubfolders(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory()) continue;
    names.push_back(name);
  }
  if (error) return Status::Error(dir + ": cannot list: " + error.message());
  std::sort(names.begin(), names.end(), NaturalLess);
  return names;
}

Status WriteNewFile(const Dir& dir, const std::string& name, const std::string& bytes) {
  Result<bool> created = dir.CreateNew(name, bytes);
  if (!created.ok()) return created.status();
  if (!created.value()) return Status::Error(dir.PathOf(name) + ": cannot create: it exists");
  return Status::Ok();
}

}  // namespace scorepipe::registry_internal
