#include "scoring/model_registry.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>
#include <utility>

#include "config/yaml_util.h"
#include "durable/dir.h"
#include "durable/file_lock.h"
#include "durable/file_util.h"
#include "scoring/feature_spec.h"
#include "scoring/model.h"
#include "scoring/registry_files.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

using registry_internal::AppendHistoryRecord;
using registry_internal::kFeaturesFile;
using registry_internal::kHistoryFile;
using registry_internal::kMetaFile;
using registry_internal::kSettingsFile;
using registry_internal::LoadYamlFile;
using registry_internal::MetaYaml;
using registry_internal::NamedSubfolders;
using registry_internal::NumberText;
using registry_internal::ReadHistoryFile;
using registry_internal::ReadMetaFile;
using registry_internal::ReadMetricsFile;
using registry_internal::ReadMinAuc;
using registry_internal::WriteNewFile;

constexpr size_t kMaxNameLength = 128;

std::string NowIso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string CurrentUser() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  return "uid " + std::to_string(geteuid());
}

// A model's history, read under the lock on its folder, which stays held
// for as long as this lives: a record appended meanwhile is based on it.
struct LockedHistory {
  FileLock lock;
  std::vector<HistoryRecord> records;
};

// Loads a model file with a feature spec through the worker's own loaders
// (LoadScorer), as a worker would; the error says why it does not load.
Status LoadsWithFeatures(const ModelConfig& config) {
  if (Result<Scorer> scorer = LoadScorer(config); !scorer.ok()) {
    return Status::Error("it does not load with its features: " + scorer.status().message());
  }
  return Status::Ok();
}

// The same for a registered version, from its folder.
Status LoadsWithItsFeatures(const ModelRegistry& registry, const std::string& name,
                            const std::string& version) {
  Result<ModelConfig> config = registry.VersionConfig(name, version);
  if (!config.ok()) return config.status();
  return LoadsWithFeatures(*config);
}

// "field transform [values] default" for diffs.
std::string DescribeFeature(const FeatureDef& def) {
  std::string text = std::string(FeatureFieldName(def.field)) + " " + FeatureTransformName(def.transform);
  if (def.transform == FeatureTransform::kIndex) {
    text += " [";
    for (size_t i = 0; i < def.values.size(); ++i) text += (i ? ", " : "") + def.values[i];
    text += "] default " + NumberText(def.default_value);
  }
  return text;
}

}  // namespace

const char* HistoryActionName(HistoryAction action) {
  switch (action) {
    case HistoryAction::kRegister:
      return "register";
    case HistoryAction::kPromote:
      return "promote";
    case HistoryAction::kRollback:
      return "rollback";
    case HistoryAction::kShadow:
      return "shadow";
    case HistoryAction::kUnshadow:
      return "unshadow";
  }
  return "?";
}

std::optional<ModelFormat> ParseRegistryFormat(const std::string& name) {
  if (name == "xgboost") return ModelFormat::kXgboost;
  if (name == "linear") return ModelFormat::kLinear;
  return std::nullopt;
}

Status ValidateRegistryName(const std::string& value, const std::string& what) {
  if (value.empty()) return Status::Error(what + " is empty");
  if (value.size() > kMaxNameLength) {
    return Status::Error(what + " '" + value + "' is longer than " + std::to_string(kMaxNameLength) +
                         " characters");
  }
  if (value[0] == '.') return Status::Error(what + " '" + value + "' starts with a dot");
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Status::Error(what + " '" + value + "' has a character outside [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

namespace {

// The versions put live, most recent last, after replaying `history` (a
// rollback takes the last one down); with `shadow`, the version in shadow too.
std::vector<std::string> ReplayLiveChain(const std::vector<HistoryRecord>& history,
                                         std::optional<std::string>* shadow = nullptr) {
  std::vector<std::string> live;
  std::optional<std::string> in_shadow;
  for (const HistoryRecord& record : history) {
    if (record.action == HistoryAction::kPromote) live.push_back(record.version);
    if (record.action == HistoryAction::kRollback && !live.empty()) live.pop_back();
    if (record.action == HistoryAction::kShadow) in_shadow = record.version;
    if (record.action == HistoryAction::kUnshadow) in_shadow.reset();
    if (in_shadow && !live.empty() && live.back() == *in_shadow) in_shadow.reset();  // it went live
  }
  if (shadow != nullptr) *shadow = in_shadow;
  return live;
}

}  // namespace

std::optional<std::string> ReplayLiveVersion(const std::vector<HistoryRecord>& history) {
  std::vector<std::string> live = ReplayLiveChain(history);
  if (live.empty()) return std::nullopt;
  return live.back();
}

std::optional<std::string> ReplayShadowVersion(const std::vector<HistoryRecord>& history) {
  std::optional<std::string> shadow;
  ReplayLiveChain(history, &shadow);
  return shadow;
}

std::vector<std::string> LiveBefore(const std::vector<HistoryRecord>& history, const std::string& version) {
  std::vector<std::string> chain = ReplayLiveChain(history);
  if (chain.empty() || chain.back() != version) return {};
  chain.pop_back();
  std::vector<std::string> before;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (*it != version && std::find(before.begin(), before.end(), *it) == before.end()) before.push_back(*it);
  }
  return before;
}

ModelRegistry::ModelRegistry(std::string root) : root_(std::move(root)) {}

std::string ModelRegistry::ModelDir(const std::string& name) const {
  return (fs::path(root_) / name).string();
}

std::string ModelRegistry::VersionDir(const std::string& name, const std::string& version) const {
  return (fs::path(root_) / name / version).string();
}

Result<std::vector<std::string>> ModelRegistry::ListModels() const {
  std::error_code error;
  if (!fs::exists(root_, error)) return std::vector<std::string>{};
  return NamedSubfolders(root_);
}

Result<std::vector<std::string>> ModelRegistry::ListVersions(const std::string& name) const {
  if (Status s = ValidateRegistryName(name, "model name"); !s.ok()) return s;
  std::error_code error;
  if (!fs::is_directory(ModelDir(name), error)) {
    return Status::Error("no model '" + name + "' in " + root_);
  }
  return NamedSubfolders(ModelDir(name));
}

Result<ModelMeta> ModelRegistry::ReadMeta(const std::string& name, const std::string& version) const {
  if (Status s = ValidateRegistryName(name, "model name"); !s.ok()) return s;
  if (Status s = ValidateRegistryName(version, "version"); !s.ok()) return s;
  std::error_code error;
  if (!fs::is_directory(VersionDir(name, version), error)) {
    return Status::Error("no version '" + version + "' of model '" + name + "' in " + root_);
  }
  return ReadMetaFile((fs::path(VersionDir(name, version)) / kMetaFile).string());
}

Result<std::vector<HistoryRecord>> ModelRegistry::History(const std::string& name) const {
  if (Status s = ValidateRegistryName(name, "model name"); !s.ok()) return s;
  return ReadHistoryFile((fs::path(ModelDir(name)) / kHistoryFile).string());
}

Result<std::optional<std::string>> ModelRegistry::LiveVersion(const std::string& name) const {
  Result<std::vector<HistoryRecord>> history = History(name);
  if (!history.ok()) return history.status();
  return ReplayLiveVersion(*history);
}

Result<std::optional<std::string>> ModelRegistry::ShadowVersion(const std::string& name) const {
  Result<std::vector<HistoryRecord>> history = History(name);
  if (!history.ok()) return history.status();
  return ReplayShadowVersion(*history);
}

Result<std::optional<double>> ModelRegistry::ConfiguredMinAuc() const {
  return ReadMinAuc((fs::path(root_) / kSettingsFile).string());
}

Result<ModelFormat> ModelFormatByExtension(const std::string& model_path) {
  const std::string extension = fs::path(model_path).extension().string();
  if (extension == ".json") return ModelFormat::kXgboost;
  if (extension == ".yaml" || extension == ".yml") return ModelFormat::kLinear;
  return Status::Error(model_path + ": cannot tell the format from the extension '" + extension +
                       "'; say --format xgboost or --format linear");
}

Result<ModelConfig> ModelRegistry::VersionConfig(const std::string& name, const std::string& version) const {
  Result<ModelMeta> meta = ReadMeta(name, version);
  if (!meta.ok()) return meta.status();
  const std::string dir = VersionDir(name, version);
  ModelConfig config;
  config.path = (fs::path(dir) / meta->model_file).string();
  config.format = meta->format;
  config.features = (fs::path(dir) / kFeaturesFile).string();
  config.version = version;
  return config;
}

Result<HistoryRecord> ModelRegistry::Register(const RegisterRequest& request) const {
  if (Status s = ValidateRegistryName(request.name, "model name"); !s.ok()) return s;
  if (!request.version.empty()) {
    if (Status s = ValidateRegistryName(request.version, "version"); !s.ok()) return s;
  }
  std::error_code error;
  for (const std::string* path : {&request.model_path, &request.features_path}) {
    if (path->empty()) return Status::Error("register needs both a model file and a features file");
    if (!fs::is_regular_file(*path, error)) return Status::Error(*path + ": not a readable file");
  }
  const std::string extension = fs::path(request.model_path).extension().string();
  ModelMeta meta;
  if (request.format) {
    meta.format = *request.format;
  } else {
    Result<ModelFormat> format = ModelFormatByExtension(request.model_path);
    if (!format.ok()) return format.status();
    meta.format = *format;
  }
  meta.model_file = "model" + extension;
  meta.created_at = NowIso8601();
  meta.registered_by = CurrentUser();
  meta.model_source =
      request.model_source.empty() ? fs::absolute(request.model_path, error).string() : request.model_source;
  meta.features_source = fs::absolute(request.features_path, error).string();
  meta.note = request.note;
  if (!request.metrics_path.empty()) {
    Result<std::map<std::string, double>> metrics = ReadMetricsFile(request.metrics_path);
    if (!metrics.ok()) return metrics.status();
    meta.metrics = std::move(metrics.value());
  }
  for (const auto& [name, value] : request.metrics) meta.metrics[name] = value;
  if (!request.data_summary_path.empty()) {
    Result<YAML::Node> summary = LoadYamlFile(request.data_summary_path);
    if (!summary.ok()) return summary.status();
    if (!summary->IsMap())
      return YamlErrorAt(request.data_summary_path, *summary, "the data summary must be a map");
    meta.data_summary = *summary;
  } else if (request.data_summary.IsDefined() && !request.data_summary.IsNull()) {
    if (!request.data_summary.IsMap()) return Status::Error("the data summary must be a map");
    meta.data_summary = request.data_summary;
  }
  // A version that does not load could never run: refuse it before anything
  // is written (a file cut short, another format, features the model does
  // not take).
  ModelConfig source;
  source.path = request.model_path;
  source.format = meta.format;
  source.features = request.features_path;
  source.version = request.version;
  if (Status loads = LoadsWithFeatures(source); !loads.ok()) {
    return Status::Error("refusing to register " + request.name + " from " + request.model_path + " with " +
                         request.features_path + ": " + loads.message());
  }
  Result<std::string> model_bytes = ReadWholeFile(request.model_path);
  if (!model_bytes.ok()) return model_bytes.status();
  Result<std::string> feature_bytes = ReadWholeFile(request.features_path);
  if (!feature_bytes.ok()) return feature_bytes.status();

  const std::string model_dir = ModelDir(request.name);
  fs::create_directories(model_dir, error);
  if (error) return Status::Error(model_dir + ": cannot create: " + error.message());
  Result<FileLock> lock = FileLock::Take(model_dir);
  if (!lock.ok()) return lock.status();

  std::string version = request.version;
  Result<std::vector<std::string>> versions = NamedSubfolders(model_dir);
  if (!versions.ok()) return versions.status();
  if (version.empty()) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    long next = 1;
    for (const std::string& v : *versions) {
      if (v.size() < 2 || v[0] != 'v' || !std::all_of(v.begin() + 1, v.end(), digit)) continue;
      next = std::max(next, std::strtol(v.c_str() + 1, nullptr, 10) + 1);
    }
    version = "v" + std::to_string(next);
  }
  const std::string final_dir = VersionDir(request.name, version);
  if (fs::exists(final_dir, error)) {
    return Status::Error("model '" + request.name + "' already has a version '" + version +
                         "'; versions are never replaced: register under another --version");
  }
  // Built under a hidden name and renamed: a version folder is whole or
  // absent. We hold the lock: a staged folder there was left by a register
  // that died, and one this register leaves on an error goes with it.
  Result<StagedFolder> staged = StagedFolder::Start(model_dir, ".tmp-" + version);
  if (!staged.ok()) return staged.status();
  const Dir& temp_dir = staged->dir();
  for (const auto& [file, bytes] :
       {std::pair<std::string, const std::string*>{meta.model_file, &model_bytes.value()},
        {kFeaturesFile, &feature_bytes.value()}}) {
    if (Status s = WriteNewFile(temp_dir, file, *bytes); !s.ok()) return s;
  }
  if (Status s = WriteNewFile(temp_dir, kMetaFile, MetaYaml(meta)); !s.ok()) return s;
  // The bytes copied are what was checked above, unless a file changed in
  // between (a model still being written): check the copy too.
  ModelConfig copy = source;
  copy.path = temp_dir.PathOf(meta.model_file);
  copy.features = temp_dir.PathOf(kFeaturesFile);
  if (Status loads = LoadsWithFeatures(copy); !loads.ok()) {
    return Status::Error("refusing to register " + request.name + " from " + request.model_path + " with " +
                         request.features_path + ": the files changed while they were read, and the copy " +
                         loads.message());
  }
  if (Status s = staged->Install(version); !s.ok()) return s;

  Result<std::vector<HistoryRecord>> history = History(request.name);
  if (!history.ok()) return history.status();
  HistoryRecord record{meta.created_at,    HistoryAction::kRegister,    version,
                       meta.registered_by, ReplayLiveVersion(*history), false,
                       request.note};
  if (Status s = AppendHistoryRecord(model_dir, record); !s.ok()) return s;
  return record;
}

namespace {

Result<LockedHistory> LockHistory(const ModelRegistry& registry, const std::string& name) {
  Result<FileLock> lock = FileLock::Take(registry.ModelDir(name));
  if (!lock.ok()) return lock.status();
  Result<std::vector<HistoryRecord>> history = registry.History(name);
  if (!history.ok()) return history.status();
  return LockedHistory{std::move(lock.value()), std::move(history.value())};
}

Status AppendRecord(const ModelRegistry& registry, const std::string& name, const HistoryRecord& record) {
  return AppendHistoryRecord(registry.ModelDir(name), record);
}

}  // namespace

Result<PromoteResult> ModelRegistry::Promote(const PromoteRequest& request) const {
  Result<ModelMeta> meta = ReadMeta(request.name, request.version);
  if (!meta.ok()) return meta.status();
  // A live version that does not load would stop every worker that starts:
  // --force never overrides this (its file may have been damaged since it
  // was registered).
  if (Status loads = LoadsWithItsFeatures(*this, request.name, request.version); !loads.ok()) {
    return Status::Error("refusing to promote " + request.name + " " + request.version + ": " +
                         loads.message() + " (--force overrides the quality checks, never this one)");
  }
  std::vector<std::string> failed;
  std::optional<double> min_auc = request.min_auc;
  if (!min_auc) {
    Result<std::optional<double>> configured = ConfiguredMinAuc();
    if (!configured.ok()) return configured.status();
    min_auc = *configured;
  }
  if (min_auc) {
    auto auc = meta->metrics.find("auc");
    if (auc == meta->metrics.end()) {
      failed.push_back("it has no metrics.auc and the minimum is " + NumberText(*min_auc));
    } else if (auc->second < *min_auc) {
      failed.push_back("its auc " + NumberText(auc->second) + " is below the minimum " +
                       NumberText(*min_auc));
    }
  }
  if (!failed.empty() && !request.force) {
    std::string reasons;
    for (const std::string& reason : failed) reasons += (reasons.empty() ? "" : "; ") + reason;
    return Status::Error("refusing to promote " + request.name + " " + request.version + ": " + reasons +
                         " (--force promotes anyway, and the history says so)");
  }

  Result<LockedHistory> history = LockHistory(*this, request.name);
  if (!history.ok()) return history.status();
  std::optional<std::string> live = ReplayLiveVersion(history->records);
  if (live == request.version) {
    return Status::Error(request.name + " " + request.version + " is already live");
  }
  PromoteResult result;
  result.record = HistoryRecord{
      NowIso8601(), HistoryAction::kPromote, request.version, request.by.empty() ? CurrentUser() : request.by,
      live,         !failed.empty(),         request.note};
  result.overridden = failed;
  if (Status s = AppendRecord(*this, request.name, result.record); !s.ok()) return s;
  return result;
}

Result<HistoryRecord> ModelRegistry::Rollback(const std::string& name, const std::string& note,
                                              const std::string& by) const {
  Result<std::vector<std::string>> versions = ListVersions(name);
  if (!versions.ok()) return versions.status();
  Result<LockedHistory> history = LockHistory(*this, name);
  if (!history.ok()) return history.status();
  const std::vector<std::string> live = ReplayLiveChain(history->records);
  if (live.empty()) return Status::Error("model '" + name + "' has no live version to roll back");
  if (live.size() == 1) {
    return Status::Error("nothing to roll back to: " + name + " " + live.back() +
                         " is live and no version was live before it");
  }
  const std::string& back = live[live.size() - 2];
  if (Status loads = LoadsWithItsFeatures(*this, name, back); !loads.ok()) {
    return Status::Error("refusing to roll " + name + " back to " + back + ": " + loads.message() +
                         "; promote a version that loads instead");
  }
  HistoryRecord record{
      NowIso8601(), HistoryAction::kRollback, back, by.empty() ? CurrentUser() : by, live.back(), false,
      note};
  if (Status s = AppendRecord(*this, name, record); !s.ok()) return s;
  return record;
}

Result<HistoryRecord> ModelRegistry::Shadow(const std::string& name, const std::string& version,
                                            const std::string& note) const {
  Result<ModelMeta> meta = ReadMeta(name, version);
  if (!meta.ok()) return meta.status();
  if (Status loads = LoadsWithItsFeatures(*this, name, version); !loads.ok()) {
    return Status::Error("refusing to shadow " + name + " " + version + ": " + loads.message());
  }
  Result<LockedHistory> history = LockHistory(*this, name);
  if (!history.ok()) return history.status();
  std::optional<std::string> live = ReplayLiveVersion(history->records);
  if (!live) {
    return Status::Error("model '" + name + "' has no live version for " + version +
                         " to be scored beside; promote one first");
  }
  if (*live == version) return Status::Error(name + " " + version + " is live; a shadow is another version");
  if (ReplayShadowVersion(history->records) == version) {
    return Status::Error(name + " " + version + " is already in shadow");
  }
  HistoryRecord record{NowIso8601(), HistoryAction::kShadow, version, CurrentUser(), live, false, note};
  if (Status s = AppendRecord(*this, name, record); !s.ok()) return s;
  return record;
}

Result<HistoryRecord> ModelRegistry::Unshadow(const std::string& name, const std::string& note) const {
  Result<std::vector<std::string>> versions = ListVersions(name);
  if (!versions.ok()) return versions.status();
  Result<LockedHistory> history = LockHistory(*this, name);
  if (!history.ok()) return history.status();
  std::optional<std::string> shadow = ReplayShadowVersion(history->records);
  if (!shadow) return Status::Error("model '" + name + "' has no version in shadow");
  HistoryRecord record{NowIso8601(),
                       HistoryAction::kUnshadow,
                       *shadow,
                       CurrentUser(),
                       ReplayLiveVersion(history->records),
                       false,
                       note};
  if (Status s = AppendRecord(*this, name, record); !s.ok()) return s;
  return record;
}

Result<ModelDiff> ModelRegistry::Diff(const std::string& name, const std::string& version_a,
                                      const std::string& version_b) const {
  Result<ModelMeta> a = ReadMeta(name, version_a);
  if (!a.ok()) return a.status();
  Result<ModelMeta> b = ReadMeta(name, version_b);
  if (!b.ok()) return b.status();
  ModelDiff diff;
  diff.format_a = a->format;
  diff.format_b = b->format;

  Result<FeatureSpec> spec_a =
      LoadFeatureSpecFile((fs::path(VersionDir(name, version_a)) / kFeaturesFile).string());
  if (!spec_a.ok()) return spec_a.status();
  Result<FeatureSpec> spec_b =
      LoadFeatureSpecFile((fs::path(VersionDir(name, version_b)) / kFeaturesFile).string());
  if (!spec_b.ok()) return spec_b.status();
  std::map<std::string, const FeatureDef*> by_name_b;
  for (const FeatureDef& def : spec_b->features) by_name_b[def.name] = &def;
  std::vector<std::string> common_a, common_b;
  for (const FeatureDef& def : spec_a->features) {
    auto it = by_name_b.find(def.name);
    if (it == by_name_b.end()) {
      diff.features.push_back({'-', def.name, DescribeFeature(def), ""});
      continue;
    }
    common_a.push_back(def.name);
    if (DescribeFeature(def) != DescribeFeature(*it->second)) {
      diff.features.push_back({'~', def.name, DescribeFeature(def), DescribeFeature(*it->second)});
    }
  }
  std::set<std::string> names_a;
  for (const FeatureDef& def : spec_a->features) names_a.insert(def.name);
  for (const FeatureDef& def : spec_b->features) {
    if (names_a.count(def.name) == 0) {
      diff.features.push_back({'+', def.name, "", DescribeFeature(def)});
    } else {
      common_b.push_back(def.name);
    }
  }
  diff.feature_order_differs = common_a != common_b;

  std::set<std::string> metric_names;
  for (const auto& [metric, value] : a->metrics) metric_names.insert(metric);
  for (const auto& [metric, value] : b->metrics) metric_names.insert(metric);
  for (const std::string& metric : metric_names) {
    ModelDiff::MetricRow row{metric, std::nullopt, std::nullopt};
    if (auto it = a->metrics.find(metric); it != a->metrics.end()) row.a = it->second;
    if (auto it = b->metrics.find(metric); it != b->metrics.end()) row.b = it->second;
    diff.metrics.push_back(row);
  }

  Result<std::string> bytes_a =
      ReadWholeFile((fs::path(VersionDir(name, version_a)) / a->model_file).string());
  if (!bytes_a.ok()) return bytes_a.status();
  Result<std::string> bytes_b =
      ReadWholeFile((fs::path(VersionDir(name, version_b)) / b->model_file).string());
  if (!bytes_b.ok()) return bytes_b.status();
  diff.model_bytes_a = bytes_a->size();
  diff.model_bytes_b = bytes_b->size();
  diff.model_files_identical = *bytes_a == *bytes_b;
  return diff;
}

}  // namespace scorepipe
