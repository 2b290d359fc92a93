#include "cli/model_command.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/shadow_report_command.h"
#include "config/topology_writer.h"

namespace scorepipe {
namespace {

std::string Metrics(const ModelMeta& meta) {
  std::string text;
  for (const auto& [name, value] : meta.metrics) {
    if (!text.empty()) text += ", ";
    char number[64];
    snprintf(number, sizeof number, "%.6g", value);
    text += name + " " + number;
  }
  return text.empty() ? "(none)" : text;
}

std::string RecordLine(const HistoryRecord& record) {
  std::string line =
      record.at + "  " + HistoryActionName(record.action) + " " + record.version + " by " + record.by;
  const bool shadowing = record.action == HistoryAction::kShadow || record.action == HistoryAction::kUnshadow;
  if (record.action != HistoryAction::kRegister && record.from) {
    line += (shadowing ? " (live " : " (was ") + *record.from + ")";
  }
  if (record.forced) line += " FORCED";
  if (!record.note.empty()) line += "  \"" + record.note + "\"";
  return line;
}

int Fail(FILE* err, const char* action, const Status& status) {
  fprintf(err, "scorepipe model %s: %s\n", action, status.message().c_str());
  return 1;
}

int List(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  std::error_code error;
  if (!std::filesystem::is_directory(registry.root(), error)) {
    // Most likely a mistyped --registry (or SCOREPIPE_REGISTRY): say so
    // rather than list nothing.
    return Fail(err, "list",
                Status::Error("no registry at " + registry.root() +
                              " (the first `scorepipe model register` or `scorepipe train` makes one; "
                              "--registry or SCOREPIPE_REGISTRY names another)"));
  }
  if (options.name.empty()) {
    Result<std::vector<std::string>> models = registry.ListModels();
    if (!models.ok()) return Fail(err, "list", models.status());
    if (models->empty()) {
      fprintf(out, "no models in %s\n", registry.root().c_str());
      return 0;
    }
    fprintf(out, "%-24s %-9s %-12s %s\n", "MODEL", "VERSIONS", "LIVE", "SHADOW");
    for (const std::string& name : *models) {
      Result<std::vector<std::string>> versions = registry.ListVersions(name);
      if (!versions.ok()) return Fail(err, "list", versions.status());
      Result<std::vector<HistoryRecord>> history = registry.History(name);
      if (!history.ok()) return Fail(err, "list", history.status());
      fprintf(out, "%-24s %-9zu %-12s %s\n", name.c_str(), versions->size(),
              ReplayLiveVersion(*history).value_or("-").c_str(),
              ReplayShadowVersion(*history).value_or("-").c_str());
    }
    return 0;
  }
  Result<std::vector<std::string>> versions = registry.ListVersions(options.name);
  if (!versions.ok()) return Fail(err, "list", versions.status());
  Result<std::vector<HistoryRecord>> history = registry.History(options.name);
  if (!history.ok()) return Fail(err, "list", history.status());
  const std::optional<std::string> live = ReplayLiveVersion(*history);
  const std::optional<std::string> shadow = ReplayShadowVersion(*history);
  fprintf(out, "%-12s %-8s %-8s %-21s %-12s %s\n", "VERSION", "STATE", "FORMAT", "CREATED", "BY", "METRICS");
  for (const std::string& version : *versions) {
    Result<ModelMeta> meta = registry.ReadMeta(options.name, version);
    if (!meta.ok()) return Fail(err, "list", meta.status());
    const char* state = live == version ? "live" : shadow == version ? "shadow" : "";
    fprintf(out, "%-12s %-8s %-8s %-21s %-12s %s\n", version.c_str(), state, ModelFormatName(meta->format),
            meta->created_at.c_str(), meta->registered_by.c_str(), Metrics(*meta).c_str());
  }
  return 0;
}

int Show(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  Result<std::optional<std::string>> live = registry.LiveVersion(options.name);
  if (!live.ok()) return Fail(err, "show", live.status());
  std::string version = options.version;
  if (version.empty()) {
    if (!live->has_value()) {
      Result<std::vector<std::string>> versions = registry.ListVersions(options.name);
      if (!versions.ok()) return Fail(err, "show", versions.status());
      return Fail(
          err, "show",
          Status::Error("model '" + options.name + "' has no live version; name one: scorepipe model show " +
                        options.name + " VERSION"));
    }
    version = **live;
  }
  Result<ModelMeta> meta = registry.ReadMeta(options.name, version);
  if (!meta.ok()) return Fail(err, "show", meta.status());
  Result<std::vector<HistoryRecord>> history = registry.History(options.name);
  if (!history.ok()) return Fail(err, "show", history.status());
  const std::optional<std::string> shadow = ReplayShadowVersion(*history);

  fprintf(out, "model:         %s\n", options.name.c_str());
  fprintf(out, "version:       %s (%s)\n", version.c_str(),
          *live == version    ? "live"
          : shadow == version ? "in shadow beside the live one"
                              : "not live");
  fprintf(out, "in shadow:     %s\n", shadow.value_or("none").c_str());
  fprintf(out, "folder:        %s\n", registry.VersionDir(options.name, version).c_str());
  fprintf(out, "format:        %s (%s)\n", ModelFormatName(meta->format), meta->model_file.c_str());
  fprintf(out, "created:       %s by %s\n", meta->created_at.c_str(), meta->registered_by.c_str());
  fprintf(out, "model from:    %s\n", meta->model_source.c_str());
  fprintf(out, "features from: %s\n", meta->features_source.c_str());
  fprintf(out, "metrics:       %s\n", Metrics(*meta).c_str());
  if (!meta->note.empty()) fprintf(out, "note:          %s\n", meta->note.c_str());
  if (meta->data_summary && !meta->data_summary.IsNull()) {
    YAML::Emitter summary;
    summary << meta->data_summary;
    fprintf(out, "data summary:\n");
    std::string text = summary.c_str();
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      fprintf(out, "  %s\n", text.substr(start, end - start).c_str());
      start = end + 1;
    }
  }
  fprintf(out, "history:\n");
  for (const HistoryRecord& record : *history) {
    if (record.version == version || record.from == version)
      fprintf(out, "  %s\n", RecordLine(record).c_str());
  }
  return 0;
}

int Register(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  RegisterRequest request;
  request.name = options.name;
  request.model_path = options.model_path;
  request.features_path = options.features_path;
  if (!options.format.empty()) {
    request.format = ParseRegistryFormat(options.format);
    if (!request.format) {
      return Fail(err, "register",
                  Status::Error("--format '" + options.format + "'; allowed: xgboost, linear"));
    }
  }
  request.version = options.version;
  request.metrics_path = options.metrics_path;
  request.data_summary_path = options.data_summary_path;
  request.note = options.note;
  Result<HistoryRecord> record = registry.Register(request);
  if (!record.ok()) return Fail(err, "register", record.status());
  PrintRegistered(registry, options.name, record->version, out);
  return 0;
}

int Promote(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  PromoteRequest request{options.name, options.version, options.force, options.min_auc, options.note, ""};
  Result<PromoteResult> result = registry.Promote(request);
  if (!result.ok()) return Fail(err, "promote", result.status());
  fprintf(out, "promoted %s %s (was %s)\n", options.name.c_str(), options.version.c_str(),
          result->record.from.value_or("none").c_str());
  for (const std::string& reason : result->overridden) fprintf(out, "forced past: %s\n", reason.c_str());
  return 0;
}

int Rollback(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  Result<HistoryRecord> record = registry.Rollback(options.name, options.note);
  if (!record.ok()) return Fail(err, "rollback", record.status());
  fprintf(out, "rolled back %s: %s is live again (was %s)\n", options.name.c_str(), record->version.c_str(),
          record->from.value_or("none").c_str());
  return 0;
}

int Shadow(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  if (options.off) {
    Result<HistoryRecord> record = registry.Unshadow(options.name, options.note);
    if (!record.ok()) return Fail(err, "shadow", record.status());
    fprintf(out, "%s %s is no longer in shadow; the workers stop scoring it within model.watch_ms\n",
            options.name.c_str(), record->version.c_str());
    return 0;
  }
  if (options.version.empty()) {
    return Fail(err, "shadow", Status::Error("name the VERSION to put in shadow, or say --off to end it"));
  }
  Result<HistoryRecord> record = registry.Shadow(options.name, options.version, options.note);
  if (!record.ok()) return Fail(err, "shadow", record.status());
  fprintf(
      out,
      "%s %s is in shadow beside the live %s: the workers score every batch with both within\n"
      "model.watch_ms; its scores go to queue.shadow, never to the results (scorepipe model shadow-report)\n",
      options.name.c_str(), options.version.c_str(), record->from.value_or("none").c_str());
  return 0;
}

std::string Number(const std::optional<double>& value) {
  if (!value) return "-";
  char text[64];
  snprintf(text, sizeof text, "%.6g", *value);
  return text;
}

int Diff(const ModelRegistry& registry, const ModelCommandOptions& options, FILE* out, FILE* err) {
  Result<ModelDiff> diff = registry.Diff(options.name, options.version, options.version_b);
  if (!diff.ok()) return Fail(err, "diff", diff.status());
  const char* a = options.version.c_str();
  const char* b = options.version_b.c_str();
  fprintf(out, "%s: %s -> %s\n", options.name.c_str(), a, b);
  const bool same_format = diff->format_a == diff->format_b;
  fprintf(out, "format:   %s -> %s%s\n", ModelFormatName(diff->format_a), ModelFormatName(diff->format_b),
          same_format ? " (same)" : "");
  if (diff->features.empty() && !diff->feature_order_differs) {
    fprintf(out, "features: same\n");
  } else {
    fprintf(out, "features:\n");
    for (const ModelDiff::FeatureChange& change : diff->features) {
      if (change.kind == '+') fprintf(out, "  + %s: %s\n", change.name.c_str(), change.b.c_str());
      if (change.kind == '-') fprintf(out, "  - %s: %s\n", change.name.c_str(), change.a.c_str());
      if (change.kind == '~') {
        fprintf(out, "  ~ %s: %s -> %s\n", change.name.c_str(), change.a.c_str(), change.b.c_str());
      }
    }
    if (diff->feature_order_differs) fprintf(out, "  column order differs\n");
  }
  if (diff->metrics.empty()) {
    fprintf(out, "metrics:  none in either\n");
  } else {
    fprintf(out, "metrics:\n  %-16s %-12s %-12s %s\n", "NAME", a, b, "DELTA");
    for (const ModelDiff::MetricRow& row : diff->metrics) {
      std::string delta = "-";
      if (row.a && row.b) {
        char text[64];
        snprintf(text, sizeof text, "%+.6g", *row.b - *row.a);
        delta = text;
      }
      fprintf(out, "  %-16s %-12s %-12s %s\n", row.name.c_str(), Number(row.a).c_str(), Number(row.b).c_str(),
              delta.c_str());
    }
  }
  fprintf(out, "model file: %ju bytes -> %ju bytes, %s\n", diff->model_bytes_a, diff->model_bytes_b,
          diff->model_files_identical ? "identical" : "different");
  return 0;
}

}  // namespace

void PrintRegistered(const ModelRegistry& registry, const std::string& name, const std::string& version,
                     FILE* out) {
  fprintf(out, "registered %s %s in %s\n", name.c_str(), version.c_str(),
          registry.VersionDir(name, version).c_str());
  fprintf(out, "it is not live; put it live with: scorepipe model promote %s %s\n", name.c_str(),
          version.c_str());
}

int RunModelCommand(const ModelCommandOptions& options, FILE* out, FILE* err) {
  ModelRegistry registry(options.registry);
  switch (options.action) {
    case ModelAction::kList:
      return List(registry, options, out, err);
    case ModelAction::kShow:
      return Show(registry, options, out, err);
    case ModelAction::kRegister:
      return Register(registry, options, out, err);
    case ModelAction::kPromote:
      return Promote(registry, options, out, err);
    case ModelAction::kRollback:
      return Rollback(registry, options, out, err);
    case ModelAction::kDiff:
      return Diff(registry, options, out, err);
    case ModelAction::kShadow:
      return Shadow(registry, options, out, err);
  }
  return 1;
}

Command AddModelCommand(CLI::App& app) {
  struct State {
    ModelCommandOptions options;
    double min_auc = 0;
  };
  auto state = std::make_shared<State>();
  CLI::App* model = app.add_subcommand(
      "model",
      "the model registry: list, show, register, promote, roll back, compare and shadow model versions");
  model->require_subcommand(1);
  model->footer(
      "The registry is a folder: <registry>/<name>/<version>/ holds the model file, features.yaml\n"
      "and meta.yaml; <registry>/<name>/history.jsonl records every register, promote,\n"
      "rollback, shadow and unshadow, append-only. See docs/models.md. Exit code: 0 done,\n"
      "1 refused or failed, 2 bad usage.");
  auto model_command = [&, state](const char* name, const char* help, ModelAction action) {
    CLI::App* command = model->add_subcommand(name, help);
    command->add_option("--registry", state->options.registry, "the registry folder")
        ->envname("SCOREPIPE_REGISTRY")
        ->capture_default_str();
    command->parse_complete_callback([state, action] { state->options.action = action; });
    return command;
  };
  CLI::App* model_list =
      model_command("list", "list the models, or NAME's versions with their metrics", ModelAction::kList);
  model_list->add_option("name", state->options.name, "a model: list its versions");
  CLI::App* model_show = model_command(
      "show", "show a version's metadata, whether it is live, and its history", ModelAction::kShow);
  model_show->add_option("name", state->options.name, "the model")->required();
  model_show->add_option("version", state->options.version, "the version (default: the live one)");
  CLI::App* model_register =
      model_command("register", "add a new version (not live until promoted)", ModelAction::kRegister);
  model_register->add_option("name", state->options.name, "the model, e.g. fraud")->required();
  model_register
      ->add_option("--model", state->options.model_path, "the model file (.json: xgboost, .yaml: linear)")
      ->required()
      ->check(CLI::ExistingFile);
  model_register->add_option("--features", state->options.features_path, "its features.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  model_register
      ->add_option("--format", state->options.format, "xgboost or linear (default: by the extension)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  model_register->add_option("--version", state->options.version,
                             "the version's name (default: the next vN)");
  model_register
      ->add_option("--metrics", state->options.metrics_path,
                   "YAML map of name: number, e.g. {auc: 0.91}; promote checks auc")
      ->check(CLI::ExistingFile);
  model_register
      ->add_option("--data-summary", state->options.data_summary_path,
                   "YAML map describing the training data, kept as is")
      ->check(CLI::ExistingFile);
  model_register->add_option("--note", state->options.note, "a line for the history");
  model_register->footer(
      "Loads the model with its features.yaml through the worker's own loaders first, and refuses\n"
      "(exit code 1, nothing recorded) a model that does not load: a file cut short or corrupt, another\n"
      "format, a feature count the model does not take. Then copies the files into\n"
      "<registry>/NAME/VERSION/; never replaces a version.");
  CLI::App* model_promote =
      model_command("promote", "put a version live, after checking it", ModelAction::kPromote);
  model_promote->add_option("name", state->options.name, "the model")->required();
  model_promote->add_option("version", state->options.version, "the version to put live")->required();
  model_promote->add_flag("--force", state->options.force,
                          "promote even when a quality check (--min-auc) fails (the history says so);\n"
                          "never a version that does not load");
  CLI::Option* min_auc_option = model_promote
                                    ->add_option("--min-auc", state->min_auc,
                                                 "refuse a version whose metrics.auc is missing or lower "
                                                 "(default: min_auc in <registry>/registry.yaml, if any)")
                                    ->check(CLI::Range(0.0, 1.0));
  model_promote->add_option("--note", state->options.note, "a line for the history");
  model_promote->footer(
      "Refuses (exit code 1) a version that does not load with its features.yaml through the\n"
      "worker's own loaders (its files damaged since it was registered, a feature count that\n"
      "differs from the model's, a field the input does not have): --force never overrides that.\n"
      "Refuses a version whose auc is below the minimum unless --force.");
  CLI::App* model_rollback = model_command(
      "rollback", "put back the version that was live before the current one", ModelAction::kRollback);
  model_rollback->add_option("name", state->options.name, "the model")->required();
  model_rollback->add_option("--note", state->options.note, "a line for the history");
  model_rollback->footer("Refuses (exit code 1) when the version it would put back does not load.");
  CLI::App* model_diff = model_command("diff", "compare two versions: format, features, metrics, model file",
                                       ModelAction::kDiff);
  model_diff->add_option("name", state->options.name, "the model")->required();
  model_diff->add_option("v1", state->options.version, "the first version")->required();
  model_diff->add_option("v2", state->options.version_b, "the second version")->required();
  CLI::App* model_shadow = model_command(
      "shadow", "score a candidate version beside the live one, its scores kept apart; --off ends it",
      ModelAction::kShadow);
  model_shadow->add_option("name", state->options.name, "the model")->required();
  CLI::Option* shadow_version =
      model_shadow->add_option("version", state->options.version, "the version to put in shadow");
  model_shadow->add_flag("--off", state->options.off, "end the shadowing")->excludes(shadow_version);
  model_shadow->add_option("--note", state->options.note, "a line for the history");
  model_shadow->footer(
      "Workers score every batch with the live version (the results, as always) and then with\n"
      "the version in shadow; the shadow scores go to queue.shadow, one JSON per transaction,\n"
      "never to the results. Refuses a version that does not load with its features, the live\n"
      "version, and a model with no live version. Promoting the version ends its shadowing.\n"
      "Compare the two with `scorepipe model shadow-report`. See docs/models.md.");
  Command shadow_report = AddShadowReportCommand(*model);
  return {model, [state, min_auc_option, shadow_report] {
            if (shadow_report.app->parsed()) return shadow_report.run();
            if (min_auc_option->count() > 0) state->options.min_auc = state->min_auc;
            spdlog::set_level(spdlog::level::warn);  // the model loaders' info lines are not for this output
            return RunModelCommand(state->options);
          }};
}

}  // namespace scorepipe
