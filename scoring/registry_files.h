// The model registry's files (internal to scoring/; the layout is
// model_registry.h's): their names, a history.jsonl line written and read,
// meta.yaml written and read, the registry's settings (registry.yaml), a
// metrics file, and the version folders listed. The registry's rules (what
// may be registered, promoted, rolled back) are model_registry.cc's; the
// crash-safe writing beneath is durable/'s.
//
// Stateless functions; any thread.
#ifndef SCOREPIPE_SCORING_REGISTRY_FILES_H_
#define SCOREPIPE_SCORING_REGISTRY_FILES_H_

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "durable/dir.h"
#include "proto/status.h"
#include "scoring/model_registry.h"

namespace scorepipe::registry_internal {

inline constexpr const char* kHistoryFile = "history.jsonl";
inline constexpr const char* kMetaFile = "meta.yaml";
inline constexpr const char* kFeaturesFile = "features.yaml";
inline constexpr const char* kSettingsFile = "registry.yaml";

// `value` as the registry writes numbers: a whole number as such (200000,
// not the shortest form 2e+05), anything else in its shortest form.
std::string NumberText(double value);

// history.jsonl of a model folder: its records, oldest first (none when the
// file does not exist). A last line without its newline is a record still
// being appended and is left for the next read. Errors name the file and
// line.
Result<std::vector<HistoryRecord>> ReadHistoryFile(const std::string& path);
// Appends `record` as one line to `model_dir`'s history.jsonl (durable/'s
// AppendLine: whole or not at all). The caller holds the model's lock.
Status AppendHistoryRecord(const std::string& model_dir, const HistoryRecord& record);

// meta.yaml: written for a new version, and read back; errors name the file
// and line.
std::string MetaYaml(const ModelMeta& meta);
Result<ModelMeta> ReadMetaFile(const std::string& path);

// The registry's settings file: its min_auc, nothing when the file or the
// key is absent.
Result<std::optional<double>> ReadMinAuc(const std::string& path);

// A YAML map of name: number (`scorepipe model register --metrics`).
Result<std::map<std::string, double>> ReadMetricsFile(const std::string& path);

// The file's YAML document; errors name the file (and the line).
Result<YAML::Node> LoadYamlFile(const std::string& path);

// The sub-folders of `dir` that are names (hidden ones are work in
// progress), in natural order ("v2" before "v10").
Result<std::vector<std::string>> NamedSubfolders(const std::string& dir);

// Writes a new file of a version folder (never replacing one) and fsyncs it.
Status WriteNewFile(const Dir& dir, const std::string& name, const std::string& bytes);

}  // namespace scorepipe::registry_internal

#endif  // SCOREPIPE_SCORING_REGISTRY_FILES_H_
