// The model registry: every model version a cluster may run, kept on disk with
// what it was made from and an append-only history of who put which version
// live and when.
//
//   <root>/registry.yaml            optional: {min_auc: 0.85}
//   <root>/<name>/<version>/        one folder per version, never changed once made
//       model.json | model.yaml     the model file (its original extension)
//       features.yaml               the feature spec it was trained with
//       meta.yaml                   format, created_at, registered_by, sources,
//                                   data_summary (free map), metrics (name: number), note
//   <root>/<name>/history.jsonl     one JSON object per line:
//       {"at":"2026-11-24T00:12:34Z","action":"promote","version":"v2","by":"ana",
//        "from":"v1","forced":false,"note":""}
//
// Nothing is overwritten: Register refuses an existing version and builds the
// folder under a temporary name before renaming it into place; Promote and
// Rollback only append a record. No version that does not load goes in or
// goes live: Register, Promote (even forced) and Rollback load the model with
// its features through the worker's own loader (LoadScorer) first. The live version is what replaying the
// history gives: a promote puts its version live; a rollback puts back the
// version that was live before the current one. The version in shadow (scored
// beside the live one, its scores kept apart: docs/models.md) is replayed too:
// a shadow record puts its version in shadow, an unshadow record ends it, and
// so does that version going live.
//
// A ModelRegistry is a value naming a root folder; any thread may use its own.
// Commands that write take an flock on the model's folder, so concurrent
// commands (threads or processes) on one model see each other's records.
#ifndef SCOREPIPE_SCORING_MODEL_REGISTRY_H_
#define SCOREPIPE_SCORING_MODEL_REGISTRY_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// Where `scorepipe model` looks when neither --registry nor
// SCOREPIPE_REGISTRY says otherwise.
inline constexpr const char* kDefaultRegistryRoot = "/var/lib/scorepipe/models";

enum class HistoryAction {
  kRegister,  // a version was added; it is not live yet
  kPromote,   // `version` went live, replacing `from`
  kRollback,  // `from` was taken down and `version` (live before it) put back
  kShadow,    // `version` is scored beside the live one (`from`), replacing any other in shadow
  kUnshadow,  // `version` is no longer in shadow
};

const char* HistoryActionName(HistoryAction action);

// "xgboost" | "linear", as in topology files (ModelFormatName() names them).
std::optional<ModelFormat> ParseRegistryFormat(const std::string& name);

// The format a model file's extension implies: .json is xgboost, .yaml and
// .yml linear; anything else is an error asking for --format.
Result<ModelFormat> ModelFormatByExtension(const std::string& model_path);

// One line of history.jsonl.
struct HistoryRecord {
  std::string at;  // ISO-8601 UTC, seconds ("2026-11-24T00:12:34Z")
  HistoryAction action = HistoryAction::kRegister;
  std::string version;              // registered, promoted, live again after a rollback, or (un)shadowed
  std::string by;                   // the user who ran the command
  std::optional<std::string> from;  // the live version before this record, if any
  bool forced = false;              // a promote whose checks failed, done with --force
  std::string note;
};

// meta.yaml of one version.
struct ModelMeta {
  ModelFormat format = ModelFormat::kXgboost;
  std::string model_file;  // name of the model file inside the version folder
  std::string created_at;  // ISO-8601 UTC
  std::string registered_by;
  std::string model_source;  // the paths it was registered from (absolute)
  std::string features_source;
  YAML::Node data_summary;                // free map, or null
  std::map<std::string, double> metrics;  // e.g. auc
  std::string note;
};

struct RegisterRequest {
  std::string name;
  std::string model_path;             // copied into the version folder
  std::string features_path;          // copied as features.yaml
  std::optional<ModelFormat> format;  // default: .json is xgboost, .yaml/.yml linear
  std::string version;                // default: the next free vN (v1, v2, ...)
  std::string metrics_path;           // optional YAML map of name: number
  std::string data_summary_path;      // optional YAML map, kept as is
  std::string note;
  // For a program that registers what it made (`scorepipe train`), without
  // files in between: metrics beside (and over) metrics_path's; the data
  // summary when data_summary_path is empty (a map, or null for none); and
  // what meta.yaml names as the model's source instead of model_path (which
  // may be a temporary file).
  std::map<std::string, double> metrics;
  YAML::Node data_summary;
  std::string model_source;
};

struct PromoteRequest {
  std::string name;
  std::string version;
  // Promote even when a quality check (min_auc) fails; recorded. Never
  // overrides the check that the version loads.
  bool force = false;
  std::optional<double> min_auc;  // default: registry.yaml's min_auc, if any
  std::string note;
  std::string by;  // who, for the history; empty: the user running this process
};

// What Promote did, and the quality checks --force overrode (empty unless forced).
struct PromoteResult {
  HistoryRecord record;
  std::vector<std::string> overridden;
};

// Two versions of one model side by side.
struct ModelDiff {
  struct FeatureChange {
    char kind = '~';  // '+' only in b, '-' only in a, '~' in both but different
    std::string name;
    std::string a, b;  // "field transform [values] default", empty where absent
  };
  struct MetricRow {
    std::string name;
    std::optional<double> a, b;
  };
  ModelFormat format_a = ModelFormat::kXgboost, format_b = ModelFormat::kXgboost;
  std::vector<FeatureChange> features;  // empty: same features
  bool feature_order_differs = false;   // same names, another column order
  std::vector<MetricRow> metrics;       // union of both, sorted by name
  uintmax_t model_bytes_a = 0, model_bytes_b = 0;
  bool model_files_identical = false;
};

// A name or version: [A-Za-z0-9._-]+, at most 128 characters, not starting
// with a dot. `what` ("model name") starts the error.
Status ValidateRegistryName(const std::string& value, const std::string& what);

class ModelRegistry {
 public:
  explicit ModelRegistry(std::string root);

  const std::string& root() const { return root_; }
  std::string ModelDir(const std::string& name) const;
  std::string VersionDir(const std::string& name, const std::string& version) const;

  // Model names, sorted; an empty list when the root does not exist yet.
  Result<std::vector<std::string>> ListModels() const;
  // A model's versions, in natural order (v2 before v10); an error for an unknown model.
  Result<std::vector<std::string>> ListVersions(const std::string& name) const;
  Result<ModelMeta> ReadMeta(const std::string& name, const std::string& version) const;
  // Every record, oldest first; an empty list when there is no history yet.
  Result<std::vector<HistoryRecord>> History(const std::string& name) const;
  // What a worker loads for a version: its model file, format and
  // features.yaml, with the version as the model's version; threshold 0.5.
  Result<ModelConfig> VersionConfig(const std::string& name, const std::string& version) const;
  // The live version, or empty when none was ever promoted (or all rolled back).
  Result<std::optional<std::string>> LiveVersion(const std::string& name) const;
  // The version in shadow, or empty when none is.
  Result<std::optional<std::string>> ShadowVersion(const std::string& name) const;
  // registry.yaml's min_auc, if the file and the key exist.
  Result<std::optional<double>> ConfiguredMinAuc() const;

  // Loads the model file with the features file as a worker would, then
  // copies them into a new version folder and records "register". Returns
  // the version's record. A model that does not load (corrupt, cut short,
  // another format, features it does not take) is an error naming the file
  // and why, and nothing is written.
  Result<HistoryRecord> Register(const RegisterRequest& request) const;
  // Checks that the version loads with its features (its files may have
  // been damaged since it was registered): an error naming why, whatever
  // request.force says. Then the quality checks (its auc reaches the
  // minimum): a failed one is an error naming it, unless request.force.
  // Records "promote".
  Result<PromoteResult> Promote(const PromoteRequest& request) const;
  // Puts back the version live before the current one after checking that
  // it loads; an error when there is none or it does not load. `by` names
  // who for the history; empty: the user running this process.
  Result<HistoryRecord> Rollback(const std::string& name, const std::string& note,
                                 const std::string& by = "") const;
  // Puts `version` in shadow (replacing the one there, if any) after checking
  // that it loads with its features (no metric check: a shadow decides
  // nothing). Refuses the live version, the version already in shadow, and a
  // model with no live version to compare with.
  Result<HistoryRecord> Shadow(const std::string& name, const std::string& version,
                               const std::string& note) const;
  // Ends the shadowing; an error when no version is in shadow.
  Result<HistoryRecord> Unshadow(const std::string& name, const std::string& note) const;
  Result<ModelDiff> Diff(const std::string& name, const std::string& version_a,
                         const std::string& version_b) const;

 private:
  std::string root_;
};

// The live version after replaying `history` (the same rule LiveVersion uses).
std::optional<std::string> ReplayLiveVersion(const std::vector<HistoryRecord>& history);
// The versions that were live before `version` and would come back by
// rollbacks, the most recent first, each once (never one registered but not
// promoted, nor one a rollback took down): where a worker starting on a live
// `version` that does not load looks for one that does. Empty unless
// `version` is the live version of `history`.
std::vector<std::string> LiveBefore(const std::vector<HistoryRecord>& history, const std::string& version);
// The version in shadow after replaying `history`: the last shadow record's
// version, unless an unshadow record followed or that version has gone live
// since (by a promote, or by a rollback that put it back).
std::optional<std::string> ReplayShadowVersion(const std::vector<HistoryRecord>& history);

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_MODEL_REGISTRY_H_
