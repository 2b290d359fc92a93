#include "cli/train_command.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/model_command.h"
#include "scoring/feature_spec.h"
#include "training/labelled_data.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunkRows = 65536;  // rows read at once, turned into features and let go

int Fail(FILE* err, int code, const Status& status) {
  fprintf(err, "scorepipe train: %s\n", status.message().c_str());
  return code;
}

// A fresh private folder under the system's temp dir, removed with its files.
class TempFolder {
 public:
  static Result<TempFolder> Make() {
    std::string pattern = (fs::temp_directory_path() / "scorepipe-train-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::Error(pattern + ": cannot create a temporary folder");
    }
    return TempFolder(pattern);
  }
  TempFolder(TempFolder&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  TempFolder& operator=(TempFolder&&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  explicit TempFolder(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The metrics the registry keeps (name: number; promote checks auc).
std::map<std::string, double> Metrics(const TrainingReport& r) {
  return {
      {"auc", r.validation_auc},
      {"pr_auc", r.validation_pr_auc},
      {"logloss", r.validation_logloss},
      {"best_iteration", r.best_iteration},
      {"iterations", r.iterations},
      {"rows", static_cast<double>(r.train_rows + r.validation_rows)},
      {"train_rows", static_cast<double>(r.train_rows)},
      {"validation_rows", static_cast<double>(r.validation_rows)},
  };
}

// What the version was trained on and how: kept as meta.yaml's data_summary.
YAML::Node DataSummary(const TrainCommandOptions& o, const FeatureSpec& spec, const TrainingReport& r) {
  const size_t rows = r.train_rows + r.validation_rows;
  const double fraud_rate = (r.train_fraud_rate * static_cast<double>(r.train_rows) +
                             r.validation_fraud_rate * static_cast<double>(r.validation_rows)) /
                            static_cast<double>(rows);
  const TrainingOptions& t = o.training;
  YAML::Emitter out;
  out.SetDoublePrecision(10);  // 0.3, not 0.29999999999999999
  auto field = [&out](const char* key, const auto& value) {
    out << YAML::Key << key << YAML::Value << value;
  };
  out << YAML::BeginMap;
  field("file", fs::absolute(o.data_path).string());
  field("label_column", o.label_column);
  field("rows", rows);
  field("fraud_rate", fraud_rate);
  field("train_rows", r.train_rows);
  field("validation_rows", r.validation_rows);
  field("validation",
        "the last " + FormatDouble(100 * t.validation_fraction) + "% of the rows, in file order");
  std::vector<std::string> names;
  for (const FeatureDef& def : spec.features) names.push_back(def.name);
  out << YAML::Key << "features" << YAML::Value << YAML::Flow << names;
  field("algorithm", TrainAlgorithmName(t.algorithm));
  out << YAML::Key << "parameters" << YAML::Value << YAML::BeginMap;
  if (t.algorithm == TrainAlgorithm::kXgboost) {
    const XgboostTrainParams& p = t.xgboost;
    field("objective", p.objective);
    field("rounds", p.rounds);
    field("max_depth", p.max_depth);
    field("eta", p.eta);
    field("subsample", p.subsample);
    field("min_child_weight", p.min_child_weight);
    field("lambda", p.lambda);
    field("early_stopping_rounds", p.early_stopping_rounds);
    field("metric", StoppingMetricName(t.metric));
    field("seed", t.seed);
    field("nthread", p.nthread);
  } else {
    field("l2", t.linear.l2);
    field("max_iterations", t.linear.max_iterations);
    field("tolerance", t.linear.tolerance);
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  return YAML::Load(out.c_str());  // the emitter's number formatting (0.3, not 0.29999999999999999)
}

// A check's message in the words of the command line: the training
// options' fields ("train options: max_depth: ...") and the other values
// it names become the flags that set them ("--max-depth: ...").
Status AsFlags(const Status& status) {
  if (status.ok()) return status;
  std::string message = status.message();
  constexpr std::string_view kPrefix = "train options: ";
  if (message.starts_with(kPrefix)) message.erase(0, kPrefix.size());
  static const std::pair<std::string_view, std::string_view> kFlags[] = {
      {"validation_fraction", "--validation-fraction"},
      {"rounds", "--rounds"},
      {"max_depth", "--max-depth"},
      {"eta", "--eta"},
      {"subsample", "--subsample"},
      {"min_child_weight", "--min-child-weight"},
      {"lambda", "--lambda"},
      {"early_stopping_rounds", "--early-stopping-rounds"},
      {"nthread", "--nthread"},
      {"seed", "--seed"},
      {"l2", "--l2"},
      {"max_iterations", "--max-iterations"},
      {"tolerance", "--tolerance"},
      {"objective", "--algorithm"},
      {"label column", "--label-column"},
      {"model name", "--name"},
      {"version", "--version"},
  };
  for (const auto& [field, flag] : kFlags) {
    if (message.starts_with(field) && message.size() > field.size() &&
        (message[field.size()] == ':' || message[field.size()] == ' ')) {
      return Status::Error(std::string(flag) + message.substr(field.size()));
    }
  }
  return Status::Error(message);
}

}  // namespace

int RunTrainCommand(const TrainCommandOptions& options, FILE* out, FILE* err) {
  // Everything that can be checked before the data is read, is.
  if (Status s = ValidateTrainingOptions(options.training); !s.ok()) return Fail(err, 2, AsFlags(s));
  if (Status s = ValidateRegistryName(options.name, "model name"); !s.ok()) return Fail(err, 2, AsFlags(s));
  const ModelRegistry registry(options.registry);
  if (!options.version.empty()) {
    if (Status s = ValidateRegistryName(options.version, "version"); !s.ok()) return Fail(err, 2, AsFlags(s));
    std::error_code ec;
    if (fs::exists(registry.VersionDir(options.name, options.version), ec)) {
      return Fail(err, 1,
                  Status::Error(options.name + " " + options.version + " exists already in " +
                                registry.root() + "; versions are never replaced"));
    }
  }
  Result<FeatureSpec> spec = LoadFeatureSpecFile(options.features_path);
  if (!spec.ok()) return Fail(err, 1, spec.status());
  LabelledFileOptions file_options;
  file_options.label_column = options.label_column;
  if (Status s = file_options.Validate(); !s.ok()) return Fail(err, 2, AsFlags(s));

  auto progress = [err](const std::string& line) {
    fprintf(err, "%s\n", line.c_str());
    fflush(err);
  };
  progress("reading " + options.data_path);
  // Only the features and labels stay in memory: the transactions are
  // turned into features as they are read.
  Result<LabelledFileReader> reader = LabelledFileReader::Open(options.data_path, file_options);
  if (!reader.ok()) return Fail(err, 1, reader.status());
  const FeatureExtractor extractor(*spec);
  std::vector<float> rows;
  std::vector<float> labels;
  LabelledData chunk;
  std::vector<float> chunk_rows;
  while (true) {
    Result<size_t> read = reader->Next(kReadChunkRows, &chunk);
    if (!read.ok()) return Fail(err, 1, read.status());
    if (*read == 0) break;
    extractor.Extract(chunk.transactions, &chunk_rows);
    rows.insert(rows.end(), chunk_rows.begin(), chunk_rows.end());
    labels.insert(labels.end(), chunk.labels.begin(), chunk.labels.end());
  }
  progress(std::to_string(labels.size()) + " labelled rows, " + std::to_string(extractor.width()) +
           " features from " + options.features_path);

  Result<TempFolder> folder = TempFolder::Make();
  if (!folder.ok()) return Fail(err, 1, folder.status());
  TrainingOptions training = options.training;
  training.progress = progress;
  const std::string model_path = folder->File(TrainedModelFileName(training.algorithm));
  Result<TrainingReport> report = TrainModel(rows, extractor.width(), labels, training, model_path);
  if (!report.ok()) return Fail(err, 1, report.status().WithContext(options.data_path));

  RegisterRequest request;
  request.name = options.name;
  request.model_path = model_path;
  request.features_path = options.features_path;
  request.format =
      training.algorithm == TrainAlgorithm::kXgboost ? ModelFormat::kXgboost : ModelFormat::kLinear;
  request.version = options.version;
  request.note = options.note;
  request.metrics = Metrics(*report);
  request.data_summary = DataSummary(options, *spec, *report);
  // The model file is a temporary one: name where the model came from instead.
  request.model_source = "scorepipe train --data " + fs::absolute(options.data_path).string();
  Result<HistoryRecord> record = registry.Register(request);
  if (!record.ok()) return Fail(err, 1, record.status());
  fprintf(out, "trained %s on %zu rows; validation auc %.4f, pr_auc %.4f, logloss %.4f (%zu rows)\n",
          TrainAlgorithmName(training.algorithm), report->train_rows, report->validation_auc,
          report->validation_pr_auc, report->validation_logloss, report->validation_rows);
  PrintRegistered(registry, options.name, record->version, out);
  return 0;
}

Command AddTrainCommand(CLI::App& app) {
  struct State {
    TrainCommandOptions options;
    std::string algorithm = "xgboost";
    std::string metric = "auc";
  };
  auto state = std::make_shared<State>();
  XgboostTrainParams& xgb = state->options.training.xgboost;
  LinearTrainParams& linear = state->options.training.linear;
  CLI::App* train = app.add_subcommand(
      "train", "fit a model on a labelled file and register it as a new version (not live)");
  // A parameter with its default in --help.
  const auto train_option = [train](const char* flag, auto& value, const char* help) {
    return train->add_option(flag, value, help)->capture_default_str();
  };
  train->add_option("--data", state->options.data_path, "the labelled file: .csv, .jsonl or .ndjson")
      ->required()
      ->check(CLI::ExistingFile);
  train_option("--label-column", state->options.label_column, "the label's column (CSV) or key (JSON)");
  train->add_option("--features", state->options.features_path, "features.yaml: the model's columns")
      ->required()
      ->check(CLI::ExistingFile);
  train_option("--algorithm", state->algorithm, "xgboost (boosted trees) or linear (logistic regression)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  train_option("--validation-fraction", state->options.training.validation_fraction,
               "the last rows of the file held out for early stopping and the metrics");
  train_option("--seed", state->options.training.seed, "xgboost's seed");
  train_option("--metric", state->metric, "validation metric for early stopping and progress: auc or logloss")
      ->check(CLI::IsMember({"auc", "logloss"}));
  train_option("--rounds", xgb.rounds, "xgboost: most boosting rounds (trees)");
  train_option("--max-depth", xgb.max_depth, "xgboost: depth of each tree");
  train_option("--eta", xgb.eta, "xgboost: learning rate");
  train_option("--subsample", xgb.subsample, "xgboost: share of rows sampled per tree");
  train_option("--min-child-weight", xgb.min_child_weight, "xgboost: least hessian sum in a leaf");
  train_option("--lambda", xgb.lambda, "xgboost: L2 penalty on leaf weights");
  train_option("--early-stopping-rounds", xgb.early_stopping_rounds,
               "xgboost: stop after this many rounds without a better validation metric (0: off)");
  train_option("--nthread", xgb.nthread, "xgboost: training threads");
  train_option("--l2", linear.l2, "linear: L2 penalty on the standardised weights");
  train_option("--max-iterations", linear.max_iterations, "linear: most Newton steps");
  train_option("--tolerance", linear.tolerance, "linear: stop when no weight moves more than this");
  train_option("--registry", state->options.registry, "the registry folder")->envname("SCOREPIPE_REGISTRY");
  train->add_option("--name", state->options.name, "the model, e.g. fraud")->required();
  train->add_option("--version", state->options.version, "the version's name (default: the next vN)");
  train->add_option("--note", state->options.note, "a line for the history");
  train->footer(
      "The last --validation-fraction of the rows (in file order) never train: they pick the\n"
      "early-stopping round and give the metrics (auc, pr_auc, logloss) registered with the\n"
      "version, beside a summary of the data and the parameters. Progress goes to stderr. See\n"
      "docs/models.md. Exit code: 0 registered, 1 failed, 2 bad usage.");

  return {train, [state] {
            state->options.training.algorithm = *ParseTrainAlgorithm(state->algorithm);
            state->options.training.metric = *ParseStoppingMetric(state->metric);
            spdlog::set_level(spdlog::level::warn);
            return RunTrainCommand(state->options);
          }};
}

}  // namespace scorepipe
