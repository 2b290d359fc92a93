#include "cli/evaluate_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/evaluate_cluster_command.h"
#include "config/topology.h"
#include "config/topology_writer.h"
#include "proto/evaluation.h"
#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "runtime/node.h"
#include "scoring/evaluation.h"
#include "scoring/model.h"
#include "scoring/model_watcher.h"
#include "training/labelled_data.h"

namespace scorepipe {
namespace {

// How many unscored rows the report names (all of them are counted).
constexpr size_t kUnscoredExamples = 5;

constexpr const char* kAveragePrecisionNote =
    "PR AUC is the average precision, as scikit-learn's average_precision_score: the sum over the distinct "
    "scores, high to low, of (recall - previous recall) * precision, without interpolation";

struct ChosenModel {
  ModelConfig config;
  std::string source;  // "registry" | "files"
  std::string name;    // the registry's model name; empty for files
};

// The flags that name the model go together (a usage error otherwise).
Status CheckModelFlags(const EvaluateOptions& o) {
  const bool from_registry = !o.name.empty();
  const bool from_files = !o.model_path.empty() || !o.features_path.empty();
  if (from_registry == from_files) {
    return Status::Error(
        "name the model either from the registry (--name NAME [--version V]) or as files (--model PATH "
        "--features PATH), not both");
  }
  if (from_registry && !o.format.empty()) {
    return Status::Error("--format is for --model files; the registry knows the format");
  }
  if (!from_registry && !o.version.empty())
    return Status::Error("--version is for a registry model (--name)");
  if (!from_registry && (o.model_path.empty() || o.features_path.empty())) {
    return Status::Error("a model from files needs both --model and --features");
  }
  if (!from_registry && !o.format.empty() && !ParseRegistryFormat(o.format)) {
    return Status::Error("--format: '" + o.format + "' is not xgboost or linear");
  }
  return Status::Ok();
}

// The model the flags name (CheckModelFlags passed).
Result<ChosenModel> ChooseModel(const EvaluateOptions& o) {
  ChosenModel chosen;
  if (!o.name.empty()) {
    // A name the registry does not hold says so, not which file is missing.
    if (Result<std::vector<std::string>> versions = ModelRegistry(o.registry).ListVersions(o.name);
        !versions.ok()) {
      return Status::Error("--name " + o.name + ": " + versions.status().message() +
                           " (`scorepipe model list --registry " + o.registry + "` lists the models)");
    }
    ModelConfig wanted;
    wanted.registry = o.registry;
    wanted.name = o.name;
    // The live version as a worker finds it, or the one named.
    Result<ModelConfig> config =
        o.version.empty() ? ResolveModel(wanted) : ModelRegistry(o.registry).VersionConfig(o.name, o.version);
    if (!config.ok()) return config.status();
    chosen.config = std::move(config).value();
    chosen.source = "registry";
    chosen.name = o.name;
  } else {
    if (o.format.empty()) {
      Result<ModelFormat> format = ModelFormatByExtension(o.model_path);
      if (!format.ok()) return format.status();
      chosen.config.format = *format;
    } else {
      chosen.config.format = *ParseRegistryFormat(o.format);
    }
    chosen.config.path = o.model_path;
    chosen.config.features = o.features_path;
    chosen.source = "files";
  }
  chosen.config.threshold = o.threshold;
  return chosen;
}

// The rows the Scorer scored, in file order, and those it marked with an error.
struct ScoredRows {
  std::vector<std::string> ids;  // as the file wrote them (AppendTransactionId)
  std::vector<double> scores;
  std::vector<float> labels;
  size_t unscored = 0;
  std::vector<std::string> unscored_examples;  // "id N: reason", the first few
};

// Scores the file's rows as they are read, `o.batch_rows` at a time, so that
// only the scores stay in memory, however large the file.
Result<ScoredRows> ScoreAll(Scorer& scorer, const EvaluateOptions& o, FILE* err) {
  LabelledFileOptions file_options;
  file_options.label_column = o.label_column;
  Result<LabelledFileReader> reader = LabelledFileReader::Open(o.data_path, file_options);
  if (!reader.ok()) return reader.status();
  ScoredRows scored;
  LabelledData batch;
  std::vector<ScoreResult> results;
  while (true) {
    const size_t begin = reader->rows_read();
    Result<size_t> read = reader->Next(o.batch_rows, &batch);
    if (!read.ok()) return read.status();
    if (*read == 0) break;
    const size_t end = begin + *read;
    if (Status s = scorer.Score(batch.transactions, &results); !s.ok()) {
      return s.WithContext("scoring rows " + std::to_string(begin + 1) + " to " + std::to_string(end));
    }
    for (size_t i = 0; i < results.size(); ++i) {
      const ScoreResult& r = results[i];
      std::string id;
      AppendTransactionId(r.transaction_id, r.transaction_id_text, &id);
      if (!r.error.empty()) {
        if (++scored.unscored <= kUnscoredExamples) {
          scored.unscored_examples.push_back("id " + id + ": " + r.error);
        }
        continue;
      }
      scored.ids.push_back(std::move(id));
      scored.scores.push_back(r.fraud_probability);
      scored.labels.push_back(batch.labels[i]);
    }
    if (o.progress_every_rows > 0 && end / o.progress_every_rows > begin / o.progress_every_rows) {
      fprintf(err, "evaluate: scored %zu rows\n", end);
    }
  }
  if (reader->rows_read() == 0) return Status::Error(o.data_path + ": no rows to evaluate");
  return scored;
}

Status WriteScores(const std::string& path, const ScoredRows& scored) {
  FILE* file = fopen(path.c_str(), "w");
  if (file == nullptr) return Status::Error(path + ": cannot open for writing");
  fprintf(file, "id,score,label\n");
  for (size_t i = 0; i < scored.ids.size(); ++i) {
    fprintf(file, "%s,%.17g,%d\n", scored.ids[i].c_str(), scored.scores[i], scored.labels[i] == 1.0f ? 1 : 0);
  }
  const bool failed = ferror(file) != 0;
  return fclose(file) == 0 && !failed ? Status::Ok() : Status::Error(path + ": write failed");
}

// What the report says besides the figures: where the scores came from.
struct ReportHead {
  std::string model_text;  // the "model:" line's text
  std::string model_json;  // the "model" object
  size_t unscored = 0;
  std::vector<std::string> unscored_examples;
  std::string cluster_text;  // --cluster: lines after the data line
  std::string cluster_json;  // --cluster: the "cluster" object
};

ReportHead LocalHead(const ChosenModel& model, const EvaluateOptions& o, const ScoredRows& scored) {
  const ModelConfig& c = model.config;
  ReportHead head;
  head.model_text = model.source == "registry"
                        ? model.name + " " + c.version + " (registry " + o.registry + ")"
                        : c.path + " (" + ModelFormatName(c.format) + "), features " + c.features;
  JsonWriter json(&head.model_json);
  json.BeginObject().Field("source", model.source).Field("name", model.name).Field("version", c.version);
  json.Field("path", c.path).Field("features", c.features).Field("format", ModelFormatName(c.format));
  json.EndObject();
  head.unscored = scored.unscored;
  head.unscored_examples = scored.unscored_examples;
  return head;
}

std::string FigureText(const std::optional<double>& value, const std::string& why_not) {
  if (!value) return "undefined (" + why_not + ")";
  char text[32];
  snprintf(text, sizeof text, "%.6f", *value);
  return text;
}

void PrintText(const ReportHead& head, const EvaluateOptions& o, const Evaluation& e, FILE* out) {
  fprintf(out, "model:     %s\n", head.model_text.c_str());
  fprintf(out, "data:      %s: %zu rows scored, %zu fraud (%.2f%%), %zu not scored\n", o.data_path.c_str(),
          e.rows, e.positives, 100.0 * static_cast<double>(e.positives) / static_cast<double>(e.rows),
          head.unscored);
  for (const std::string& example : head.unscored_examples)
    fprintf(out, "  not scored: %s\n", example.c_str());
  fputs(head.cluster_text.c_str(), out);
  fprintf(out, "threshold: %g (a score >= threshold is fraud)\n\n", e.threshold);
  fprintf(out, "ROC AUC            %s\n", FigureText(e.roc_auc, e.roc_auc_undefined).c_str());
  fprintf(out, "PR AUC             %s  (average precision)\n",
          FigureText(e.average_precision, e.average_precision_undefined).c_str());
  fprintf(out, "precision          %.6f\n", e.precision);
  fprintf(out, "recall             %.6f\n", e.recall);
  fprintf(out, "F1                 %.6f\n", e.f1);
  fprintf(out, "accuracy           %.6f\n", e.accuracy);
  fprintf(out, "log loss           %.6f\n", e.log_loss);
  fprintf(out, "Brier score        %.6f\n\n", e.brier);
  const ConfusionMatrix& m = e.confusion;
  fprintf(out, "confusion matrix     predicted fraud  predicted not\n");
  fprintf(out, "  actual fraud     %15zu  %13zu\n", m.true_positives, m.false_negatives);
  fprintf(out, "  actual not       %15zu  %13zu\n\n", m.false_positives, m.true_negatives);
  fprintf(out, "calibration (%zu uniform bins, as scikit-learn's calibration_curve)\n", e.calibration.size());
  fprintf(out, "  %-15s %10s  %14s  %13s\n", "score", "count", "mean predicted", "observed rate");
  for (const CalibrationBin& bin : e.calibration) {
    char range[40];
    snprintf(range, sizeof range, "%.3f-%.3f", bin.lower, bin.upper);
    if (bin.count == 0) {
      fprintf(out, "  %-15s %10zu  %14s  %13s\n", range, bin.count, "-", "-");
    } else {
      fprintf(out, "  %-15s %10zu  %14.6f  %13.6f\n", range, bin.count, bin.mean_predicted,
              bin.observed_rate);
    }
  }
  fprintf(out, "\n%s.\n", kAveragePrecisionNote);
}

std::string JsonReport(const ReportHead& head, const EvaluateOptions& o, const Evaluation& e) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("model").Raw(head.model_json);
  json.Key("data").BeginObject().Field("path", o.data_path).Field("label_column", o.label_column);
  json.Field("scored_rows", e.rows).Field("unscored_rows", head.unscored);
  json.Key("unscored_examples").BeginArray();
  for (const std::string& example : head.unscored_examples) json.String(example);
  json.EndArray().EndObject();
  if (!head.cluster_json.empty()) json.Key("cluster").Raw(head.cluster_json);
  // pr_auc: the figure (null when undefined, as average_precision is), and
  // what it is beside it.
  json.Key("pr_auc");
  if (e.average_precision) {
    json.Number(*e.average_precision);
  } else {
    json.Null();
  }
  json.Field("pr_auc_note", kAveragePrecisionNote).Key("evaluation").Raw(EvaluationToJson(e)).EndObject();
  out += '\n';
  return out;
}

void Print(const ReportHead& head, const EvaluateOptions& o, const Evaluation& e, FILE* out) {
  if (o.json) {
    fputs(JsonReport(head, o, e).c_str(), out);
  } else {
    PrintText(head, o, e, out);
  }
}

// "fraud v2", or the version alone for a topology that names model files.
std::string ModelName(const ModelRows& m) { return m.name.empty() ? m.version : m.name + " " + m.version; }

ReportHead ClusterHead(const EvaluateOptions& o, const ClusterRun& run, size_t batch_rows) {
  const EvaluationReply& r = run.reply;
  ReportHead head;
  // Who scored the rows: one version, or (a promotion during the run) each with its rows.
  if (r.models.size() == 1) {
    head.model_text = ModelName(r.models.front()) + ", live on the cluster of " + o.cluster_config;
  } else {
    for (const ModelRows& m : r.models) {
      if (!head.model_text.empty()) head.model_text += ", ";
      head.model_text += ModelName(m) + " (" + std::to_string(m.rows) + " rows)";
    }
    head.model_text += ": the live version changed during the run";
  }
  JsonWriter model(&head.model_json);
  model.BeginObject().Field("source", "cluster");
  if (!r.models.empty()) {  // the version with the most rows first
    model.Field("name", r.models.front().name).Field("version", r.models.front().version);
  }
  model.Key("versions").BeginArray();
  for (const ModelRows& m : r.models) {
    model.BeginObject().Field("name", m.name).Field("version", m.version).Field("rows", m.rows).EndObject();
  }
  model.EndArray().EndObject();
  head.unscored = r.failed;
  head.unscored_examples = r.failures;
  const double rows_per_s = static_cast<double>(r.rows) / std::max(1e-9, run.elapsed_s);
  char line[256];
  snprintf(line, sizeof line, "cluster:   %zu batches of up to %zu rows (%zu sent), %.2f s, %.0f rows/s\n",
           run.batches, batch_rows, run.batches_sent, run.elapsed_s, rows_per_s);
  head.cluster_text = line;
  JsonWriter cluster(&head.cluster_json);
  cluster.BeginObject()
      .Field("topology", o.cluster_config)
      .Field("run", run.run)
      .Field("batches", run.batches);
  cluster.Field("batch_rows", batch_rows).Field("batches_sent", run.batches_sent);
  cluster.Field("elapsed_s", run.elapsed_s, "%.3f").Field("rows_per_s", rows_per_s, "%.1f").EndObject();
  return head;
}

// --cluster: the rows go through the running cluster (cli/evaluate_cluster_command.h).
// --cluster takes none of the flags of a local evaluation (a usage error otherwise).
Status CheckClusterFlags(const EvaluateOptions& o) {
  if (!o.name.empty() || !o.version.empty() || !o.model_path.empty() || !o.features_path.empty() ||
      !o.format.empty() || !o.scores_out.empty()) {
    return Status::Error(
        "--cluster evaluates the model live on the cluster; --name, --version, --model, --features, --format "
        "and --scores-out are for a local evaluation");
  }
  return Status::Ok();
}

// CheckClusterFlags passed.
Status EvaluateWithCluster(const EvaluateOptions& o, const EvaluationOptions& evaluation_options, FILE* out,
                           FILE* err) {
  Result<Topology> topology = LoadTopologyFile(o.cluster_config);
  if (!topology.ok()) return topology.status();
  // The file is read as its batches go out: the command holds one batch at a time.
  LabelledFileOptions file_options;
  file_options.label_column = o.label_column;
  Result<std::unique_ptr<RowsFromFile>> batches = RowsFromFile::Open(o.data_path, file_options);
  if (!batches.ok()) return batches.status();
  const size_t rows = batches.value()->rows();
  if (rows == 0) return Status::Error(o.data_path + ": no rows to evaluate");
  if (o.progress_every_rows > 0 && rows >= o.progress_every_rows) {
    fprintf(err, "evaluate: %s has %zu rows\n", o.data_path.c_str(), rows);
  }
  if (o.cluster_batch_rows > static_cast<size_t>(topology->bridge.batch_size)) {
    // The nodes' frame limits derive from bridge.batch_size (proto/codec.h).
    return Status::Error("--batch-rows " + std::to_string(o.cluster_batch_rows) +
                         " is over the topology's bridge.batch_size (" +
                         std::to_string(topology->bridge.batch_size) +
                         "): the nodes take batches of at most that many messages");
  }
  ClusterRunOptions run_options;
  run_options.batch_rows =
      o.cluster_batch_rows > 0 ? o.cluster_batch_rows : static_cast<size_t>(topology->bridge.batch_size);
  run_options.evaluation = evaluation_options;
  run_options.stall_timeout = std::chrono::seconds(o.stall_timeout_s);
  run_options.resend_after = DefaultResendAfter(topology.value());
  // The answer that completes the run carries the figures, which the sink
  // computes then: about a second per few million rows.
  run_options.request_timeout = std::chrono::seconds(5) + std::chrono::seconds(rows / 1000000);
  Result<ClusterRun> run = EvaluateOnCluster(topology.value(), *batches.value(), run_options, err);
  if (!run.ok()) return run.status();
  const EvaluationReply& reply = run->reply;
  if (!reply.evaluation) {
    std::string why = reply.evaluation_error;
    if (!reply.failures.empty()) why += "; first: " + reply.failures.front();
    return Status::Error(why);
  }
  Print(ClusterHead(o, run.value(), run_options.batch_rows), o, *reply.evaluation, out);
  return Status::Ok();
}

}  // namespace

int RunEvaluate(const EvaluateOptions& o, FILE* out, FILE* err) {
  const auto fail = [err](const Status& status) {
    fprintf(err, "scorepipe evaluate: %s\n", status.message().c_str());
    return 1;
  };
  // Flags that do not go together, or a value out of range: exit 2.
  const auto usage = [err](const Status& status) {
    fprintf(err, "scorepipe evaluate: %s\nRun with --help for more information.\n", status.message().c_str());
    return 2;
  };
  EvaluationOptions evaluation_options;
  evaluation_options.threshold = o.threshold;
  evaluation_options.calibration_bins = o.bins;
  if (Status s = evaluation_options.Validate(); !s.ok()) return usage(s);
  if (o.batch_rows == 0) return usage(Status::Error("--batch-rows: must be at least 1"));
  if (o.data_path.empty()) return usage(Status::Error("--data names the labelled file to evaluate on"));
  if (!o.cluster_config.empty()) {
    if (Status s = CheckClusterFlags(o); !s.ok()) return usage(s);
    Status s = EvaluateWithCluster(o, evaluation_options, out, err);
    return s.ok() ? 0 : fail(s);
  }
  if (Status s = CheckModelFlags(o); !s.ok()) return usage(s);
  Result<ChosenModel> model = ChooseModel(o);
  if (!model.ok()) return fail(model.status());
  Result<Scorer> scorer = LoadScorer(model->config);
  if (!scorer.ok()) return fail(scorer.status());
  // The loader's default version is the model file's name: report that.
  model->config.version = scorer->model().version();

  Result<ScoredRows> scored = ScoreAll(*scorer, o, err);
  if (!scored.ok()) return fail(scored.status());
  if (scored->ids.empty()) {
    return fail(Status::Error("the model scored none of the " + std::to_string(scored->unscored) +
                              " rows; first: " + scored->unscored_examples.front()));
  }
  Result<Evaluation> evaluation = Evaluate(scored->scores, scored->labels, evaluation_options);
  if (!evaluation.ok()) return fail(evaluation.status());
  if (!o.scores_out.empty()) {
    if (Status s = WriteScores(o.scores_out, *scored); !s.ok()) return fail(s);
  }
  Print(LocalHead(*model, o, *scored), o, *evaluation, out);
  return 0;
}

Command AddEvaluateCommand(CLI::App& app) {
  auto options = std::make_shared<EvaluateOptions>();
  CLI::App* evaluate = app.add_subcommand(
      "evaluate",
      "score a labelled file with a model and report ROC AUC, PR AUC, precision, recall, F1, "
      "the confusion matrix and calibration");
  evaluate->add_option("--registry", options->registry, "the registry folder (with --name)")
      ->envname("SCOREPIPE_REGISTRY")
      ->capture_default_str();
  evaluate->add_option("--name", options->name, "a model in the registry");
  evaluate->add_option("--version", options->version, "its version (default: the live one)");
  evaluate->add_option("--model", options->model_path, "or a model file (.json: xgboost, .yaml: linear)")
      ->check(CLI::ExistingFile);
  evaluate->add_option("--features", options->features_path, "with its features.yaml")
      ->check(CLI::ExistingFile);
  evaluate->add_option("--format", options->format, "xgboost or linear (default: by --model's extension)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  evaluate->add_option("--data", options->data_path, "the labelled file: .csv, .jsonl or .ndjson")
      ->required();
  evaluate->add_option("--label-column", options->label_column, "the label's column (CSV) or key (JSON)")
      ->capture_default_str();
  evaluate->add_option("--threshold", options->threshold, "a score >= threshold counts as fraud")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  evaluate->add_option("--bins", options->bins, "uniform bins of the calibration table")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  evaluate->add_flag("--json", options->json,
                     "print one JSON object with every figure instead of the report");
  evaluate->add_option("--scores-out", options->scores_out,
                       "also write each scored row's id,score,label (CSV)");
  evaluate
      ->add_option("--cluster", options->cluster_config,
                   "or score on the running cluster of this topology YAML, with its live model")
      ->check(CLI::ExistingFile);
  evaluate
      ->add_option("--batch-rows", options->cluster_batch_rows,
                   "--cluster: rows per batch, at most the topology's bridge.batch_size (the default)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  evaluate
      ->add_option("--stall-timeout-s", options->stall_timeout_s,
                   "--cluster: give up when no row is answered for this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  evaluate->footer(
      "The labelled file is the upstream transaction format plus a label column (1 fraud, 0 not;\n"
      "also true/false): a CSV with a header row, or JSON lines; `scorepipe dataset` makes one.\n"
      "Rows are scored in batches by the worker's own scorer, so the scores are the cluster's;\n"
      "rows the scorer cannot score are counted and reported. Every figure follows\n"
      "scikit-learn's definition; PR AUC is the average precision (average_precision_score).\n"
      "With --cluster the rows go through the cluster itself: the ventilator spreads them over\n"
      "the workers, which score them with the live model, and the sink (sink.status) gathers\n"
      "the figures; nothing goes to the result queue. Batches lost on the way are sent again;\n"
      "the report adds which versions scored the rows and the rows per second.\n"
      "See docs/models.md. Exit code: 0 evaluated, 1 a bad file or model, 2 bad usage.");

  return {evaluate, [options] {
            spdlog::set_level(spdlog::level::warn);  // the model loaders' info lines are not for this output
            if (!options->cluster_config.empty()) InstallStopSignalHandlers();  // Ctrl-C ends a run
            return RunEvaluate(*options);
          }};
}

}  // namespace scorepipe
