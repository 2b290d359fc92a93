// scorepipe: the one command for people. `up` runs a cluster on this host,
// `demo` runs one on a private Redis with synthetic data, `push` feeds
// synthetic transactions, `status` shows what a running cluster is doing,
// `model` keeps the registry of model versions, `dataset` writes a labelled
// demo file, `train` fits a model on one and registers it, `evaluate`
// measures a model on one;
// `bridge|ventilator|worker|sink|train-demo` run the role programs that sit
// beside this one (as `git <command>` does).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <filesystem>

#include "cli/dataset_command.h"
#include "cli/demo_command.h"
#include "cli/evaluate_command.h"
#include "cli/install_command.h"
#include "cli/model_command.h"
#include "cli/shadow_report_command.h"
#include "runtime/curve.h"
#include "cli/status_command.h"
#include "local_cluster/supervisor.h"
#include "local_cluster/synthetic_push.h"
#include "cli/train_command.h"
#include "runtime/node_setup.h"
#include "runtime/node.h"
#include "scoring/model_watcher.h"

namespace {

std::string BinDir() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : self.parent_path().string();
}

// `scorepipe worker ...` runs `scorepipe-worker ...`.
int ExecRole(const std::string& role, int argc, char** argv) {
  std::string program = BinDir() + "/scorepipe-" + role;
  std::vector<char*> args = {program.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(program.c_str(), args.data());
  fprintf(stderr, "scorepipe: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
  return 127;
}

int Up(const std::string& config_path, const std::string& log_dir, const std::string& log_level) {
  auto topology = scorepipe::SetUpNode("up", scorepipe::HostName(), config_path, log_level);
  if (!topology.ok()) {
    fprintf(stderr, "scorepipe up: %s\n", topology.status().message().c_str());
    return 2;
  }
  // A model that cannot load would only make every worker fail: say so now.
  if (auto model = scorepipe::LoadModelOf(topology->model); !model.ok()) {
    spdlog::critical("cannot load the model: {}", model.status().message());
    return 1;
  }
  if (!log_dir.empty()) std::filesystem::create_directories(log_dir);
  scorepipe::SupervisorOptions options{std::filesystem::absolute(config_path).string(), BinDir(), log_dir,
                                       log_level};
  scorepipe::Supervisor supervisor(options, *topology);
  scorepipe::Status status = supervisor.Run();
  if (!status.ok()) spdlog::critical("{}", status.message());
  return status.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* role : {"bridge", "ventilator", "worker", "sink", "train-demo"}) {
    if (argc >= 2 && std::strcmp(argv[1], role) == 0) return ExecRole(role, argc, argv);
  }
  CLI::App app{
      "scorepipe: real-time fraud scoring of payment transactions on a ZeroMQ cluster.\n"
      "Node programs (each also runs alone, e.g. on another host):\n"
      "  scorepipe bridge|ventilator|worker|sink -c FILE   (see `scorepipe worker --help`)\n"
      "  scorepipe train-demo --out DIR                    (fit the demo XGBoost model)"};
  app.require_subcommand(1);

  std::string config_path;
  std::string log_dir;
  std::string log_level;
  CLI::App* up =
      app.add_subcommand("up",
                         "run bridge, ventilator, sink and workers.count workers on this host; "
                         "restarts a node that dies (a slot that keeps dying backs off, up to 10 s); "
                         "SIGHUP reopens the log files; Ctrl-C stops all cleanly");
  up->add_option("-c,--config", config_path, "topology YAML")->required()->check(CLI::ExistingFile);
  up->add_option("--log-dir", log_dir,
                 "write each node's log to DIR/<node>.log, reopened on SIGHUP (default: this terminal)");
  up->add_option("--log-level", log_level, "overrides logging.level for every node");

  scorepipe::DemoOptions demo_options;
  demo_options.config_path = "config/local.yaml";
  CLI::App* demo = app.add_subcommand("demo",
                                      "start a private Redis and a local cluster, push synthetic "
                                      "transactions, show results and throughput, stop everything");
  demo->add_option("-c,--config", demo_options.config_path, "topology to start from")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  demo->add_option("-n,--transactions", demo_options.transactions, "synthetic transactions to push")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  demo->add_option("-w,--workers", demo_options.workers, "workers to start (default: the topology's count)")
      ->check(CLI::Range(1, 256));
  demo->add_option("--seed", demo_options.seed, "seed of the synthetic stream")->capture_default_str();
  demo->add_option("--timeout", demo_options.timeout_s, "seconds to wait for all results")
      ->capture_default_str();
  demo->add_flag("--keep", demo_options.keep_dir, "keep the temporary directory with the logs");

  // --seed and --first-id: which synthetic stream `push` and `dataset` take.
  const auto add_stream_options = [](CLI::App* command, uint64_t& seed, int64_t& first_id) {
    command->add_option("--seed", seed, "seed of the synthetic stream (same seed, same transactions)")
        ->capture_default_str();
    command->add_option("--first-id", first_id, "id of the first transaction; the rest count up")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  };
  scorepipe::PushOptions push_options;
  CLI::App* push = app.add_subcommand("push", "push synthetic upstream transactions into queue.input");
  push->add_option("-c,--config", push_options.config_path, "topology YAML (its queue: section says where)")
      ->required()
      ->check(CLI::ExistingFile);
  push->add_option("-n,--count", push_options.count, "how many transactions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  add_stream_options(push, push_options.seed, push_options.first_id);
  push->add_option("--chunk", push_options.chunk, "transactions per round of pushes to the queue")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  push->footer(
      "Pushes the way the upstream producers do, into whichever queue.kind the topology names:\n"
      "redis-list (LPUSH onto queue.input), redis-stream (XADD to queue.input, field\n"
      "queue.stream_field) or http-mq (POST /push-n to queue.url, queue queue.input).\n"
      "A long push prints a line about once a second: seconds so far,\n"
      "transactions pushed, and the rate. Ctrl-C stops after the current chunk and says how\n"
      "many went in. Exit code: 0 all pushed, 1 the queue failed or the push was\n"
      "interrupted, 2 bad usage or a topology that does not load.");

  scorepipe::StatusOptions status_options;
  CLI::App* status = app.add_subcommand("status",
                                        "show the ventilator, its workers and the queue's backlog, "
                                        "on one screen");
  status
      ->add_option("-c,--config", status_options.config_path,
                   "topology YAML (ventilator.status_connect and queue: say where to ask)")
      ->required()
      ->check(CLI::ExistingFile);
  status->add_option("--timeout-ms", status_options.timeout_ms, "wait this long for the ventilator's answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  status->add_flag("--json", status_options.json,
                   "print one JSON object (ventilator, workers, queue, errors) instead of the table");
  status->add_flag("--watch", status_options.watch,
                   "refresh every second until Ctrl-C (with --json: one object per line)");
  status->footer(
      "The first lines are the ventilator (host, pid, uptime, live workers, cluster throughput),\n"
      "its batches (queued, in flight, re-dispatched after a worker died or ran over time,\n"
      "workers lost) and the queue (messages waiting, messages in flight under a lease;\n"
      "http-mq cannot tell how many wait: 'unknown', and in flight is its lease journal);\n"
      "then one row per worker: id, host, pid, state, time since its last heartbeat,\n"
      "batches in flight, transactions scored and its rate.\n"
      "Exit code: 0 both answered, 1 the ventilator did not answer within --timeout-ms or\n"
      "the queue is unreachable (what is known is still printed), 2 bad usage or a topology\n"
      "that does not load.");

  scorepipe::InstallOptions install_options;
  std::vector<std::string> install_roles;
  CLI::App* install = app.add_subcommand("install",
                                         "put this host's part of a cluster in place for systemd: programs, "
                                         "units, topology, models, user, keys");
  install->add_option("--role", install_roles, "what this host runs: bridge, ventilator, sink, worker, head, all")
      ->required()
      ->delimiter(',');
  install->add_option("-c,--config", install_options.config_path, "the cluster's topology YAML")
      ->required()
      ->check(CLI::ExistingFile);
  install->add_option("--prefix", install_options.prefix, "programs go to PREFIX/bin")->capture_default_str();
  install->add_option("--root", install_options.root, "stage everything under this folder (like DESTDIR)")
      ->capture_default_str();
  install->add_flag("--force", install_options.force, "replace an installed topology that differs (kept as .old)");
  bool no_user = false;
  install->add_flag("--no-user", no_user, "do not create the `scorepipe` system user");
  install->footer(
      "Writes (under --root):\n"
      "  PREFIX/bin/scorepipe and scorepipe-<role> for each role\n"
      "  /etc/systemd/system/scorepipe-<role>.service (the worker as scorepipe-worker@.service),\n"
      "    scorepipe-.service.d/10-scorepipe.conf (what every node unit shares: Type=notify,\n"
      "    WatchdogSec, Restart=always, hardening) and scorepipe.target\n"
      "  /etc/scorepipe/topology.yaml (validated first) and /etc/scorepipe/models/<model folder>/\n"
      "  PREFIX/share/doc/scorepipe/README.md\n"
      "  /usr/lib/sysusers.d/scorepipe.conf (declares the system user `scorepipe`)\n"
      "When --root is / it also creates the user and, for security.mode curve, this host's key\n"
      "pair (`scorepipe keys`), given to `scorepipe`: a chown that fails is an error. A staged\n"
      "root (--root DIR, for a package or an image) holds no user and no key: each host gets\n"
      "the user from sysusers.d at boot and makes its own keys at the first start of a node\n"
      "unit. Then it prints the systemctl commands that start the roles. Run it again to\n"
      "upgrade: programs and units are replaced atomically, keys are kept. Exit code: 0\n"
      "installed, 1 a file could not be written, 2 bad usage or a topology that does not load.");

  std::string keygen_prefix;
  CLI::App* keygen = app.add_subcommand("keygen", "write a CURVE key pair for a node: PREFIX.key and PREFIX.key_secret");
  keygen->add_option("prefix", keygen_prefix, "path without extension, e.g. /etc/scorepipe/keys/worker-host-1")
      ->required();
  keygen->footer(
      "Writes the public key to PREFIX.key and the secret key to PREFIX.key_secret (mode 0600),\n"
      "one Z85 line each; refuses to overwrite either. Copy PREFIX.key to the head node's\n"
      "authorized-keys folder to let this node in (docs/operations.md). Exit code: 0 written,\n"
      "1 not written (a file exists, or the folder is not writable).");

  scorepipe::HostKeysOptions keys_options;
  CLI::App* keys = app.add_subcommand(
      "keys", "make this host's CURVE keys from the topology when missing (each node unit runs it at start)");
  keys->add_option("-c,--config", keys_options.config_path, "the installed topology")->capture_default_str();
  keys->add_option("--role", keys_options.role_names,
                   "what this host runs: bridge, ventilator, sink, worker, head, all")
      ->required()
      ->delimiter(',');
  keys->add_option("--owner", keys_options.owner,
                   "give the key pair to this user (as root; the units give it to scorepipe)");
  keys->footer(
      "With security.mode curve: makes the key pair at security.secret_key when it is missing\n"
      "and never replaces one; on a head (any role but worker) also the server key file (its\n"
      "own public key) and the authorized-keys folder. The files belong to whoever runs it,\n"
      "or to --owner (also a pair that was there); a chown that fails is an error. Prints the\n"
      "public key and what to copy to which host. Runs at each start of a node unit\n"
      "(ExecStartPre), so a host made from a staged image makes its own keys at its first\n"
      "start. Exit code: 0 the keys are in place (or security.mode none), 1 not made or not\n"
      "given to --owner, 2 bad usage or a topology that does not load.");

  scorepipe::ModelCommandOptions model_options;
  CLI::App* model = app.add_subcommand(
      "model",
      "the model registry: list, show, register, promote, roll back, compare and shadow model versions");
  model->require_subcommand(1);
  model->footer(
      "The registry is a folder: <registry>/<name>/<version>/ holds the model file, features.yaml\n"
      "and meta.yaml; <registry>/<name>/history.jsonl records every register, promote,\n"
      "rollback, shadow and unshadow, append-only. See docs/models.md. Exit code: 0 done,\n"
      "1 refused or failed, 2 bad usage.");
  auto model_command = [&](const char* name, const char* help, scorepipe::ModelAction action) {
    CLI::App* command = model->add_subcommand(name, help);
    command->add_option("--registry", model_options.registry, "the registry folder")
        ->envname("SCOREPIPE_REGISTRY")
        ->capture_default_str();
    command->parse_complete_callback([&model_options, action] { model_options.action = action; });
    return command;
  };
  CLI::App* model_list = model_command("list", "list the models, or NAME's versions with their metrics",
                                       scorepipe::ModelAction::kList);
  model_list->add_option("name", model_options.name, "a model: list its versions");
  CLI::App* model_show =
      model_command("show", "show a version's metadata, whether it is live, and its history",
                    scorepipe::ModelAction::kShow);
  model_show->add_option("name", model_options.name, "the model")->required();
  model_show->add_option("version", model_options.version, "the version (default: the live one)");
  CLI::App* model_register = model_command("register", "add a new version (not live until promoted)",
                                           scorepipe::ModelAction::kRegister);
  model_register->add_option("name", model_options.name, "the model, e.g. fraud")->required();
  model_register
      ->add_option("--model", model_options.model_path, "the model file (.json: xgboost, .yaml: linear)")
      ->required()
      ->check(CLI::ExistingFile);
  model_register->add_option("--features", model_options.features_path, "its features.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  model_register
      ->add_option("--format", model_options.format, "xgboost or linear (default: by the extension)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  model_register->add_option("--version", model_options.version, "the version's name (default: the next vN)");
  model_register
      ->add_option("--metrics", model_options.metrics_path,
                   "YAML map of name: number, e.g. {auc: 0.91}; promote checks auc")
      ->check(CLI::ExistingFile);
  model_register
      ->add_option("--data-summary", model_options.data_summary_path,
                   "YAML map describing the training data, kept as is")
      ->check(CLI::ExistingFile);
  model_register->add_option("--note", model_options.note, "a line for the history");
  model_register->footer(
      "Loads the model with its features.yaml through the worker's own loaders first, and refuses\n"
      "(exit code 1, nothing recorded) a model that does not load: a file cut short or corrupt, another\n"
      "format, a feature count the model does not take. Then copies the files into\n"
      "<registry>/NAME/VERSION/; never replaces a version.");
  CLI::App* model_promote =
      model_command("promote", "put a version live, after checking it", scorepipe::ModelAction::kPromote);
  model_promote->add_option("name", model_options.name, "the model")->required();
  model_promote->add_option("version", model_options.version, "the version to put live")->required();
  model_promote->add_flag("--force", model_options.force,
                          "promote even when a quality check (--min-auc) fails (the history says so);\n"
                          "never a version that does not load");
  double min_auc = 0;
  CLI::Option* min_auc_option = model_promote
                                    ->add_option("--min-auc", min_auc,
                                                 "refuse a version whose metrics.auc is missing or lower "
                                                 "(default: min_auc in <registry>/registry.yaml, if any)")
                                    ->check(CLI::Range(0.0, 1.0));
  model_promote->add_option("--note", model_options.note, "a line for the history");
  model_promote->footer(
      "Refuses (exit code 1) a version that does not load with its features.yaml through the\n"
      "worker's own loaders (its files damaged since it was registered, a feature count that\n"
      "differs from the model's, a field the input does not have): --force never overrides that.\n"
      "Refuses a version whose auc is below the minimum unless --force.");
  CLI::App* model_rollback =
      model_command("rollback", "put back the version that was live before the current one",
                    scorepipe::ModelAction::kRollback);
  model_rollback->add_option("name", model_options.name, "the model")->required();
  model_rollback->add_option("--note", model_options.note, "a line for the history");
  model_rollback->footer("Refuses (exit code 1) when the version it would put back does not load.");
  CLI::App* model_diff = model_command("diff", "compare two versions: format, features, metrics, model file",
                                       scorepipe::ModelAction::kDiff);
  model_diff->add_option("name", model_options.name, "the model")->required();
  model_diff->add_option("v1", model_options.version, "the first version")->required();
  model_diff->add_option("v2", model_options.version_b, "the second version")->required();
  CLI::App* model_shadow = model_command(
      "shadow", "score a candidate version beside the live one, its scores kept apart; --off ends it",
      scorepipe::ModelAction::kShadow);
  model_shadow->add_option("name", model_options.name, "the model")->required();
  CLI::Option* shadow_version =
      model_shadow->add_option("version", model_options.version, "the version to put in shadow");
  model_shadow->add_flag("--off", model_options.off, "end the shadowing")->excludes(shadow_version);
  model_shadow->add_option("--note", model_options.note, "a line for the history");
  model_shadow->footer(
      "Workers score every batch with the live version (the results, as always) and then with\n"
      "the version in shadow; the shadow scores go to queue.shadow, one JSON per transaction,\n"
      "never to the results. Refuses a version that does not load with its features, the live\n"
      "version, and a model with no live version. Promoting the version ends its shadowing.\n"
      "Compare the two with `scorepipe model shadow-report`. See docs/models.md.");
  scorepipe::ShadowReportOptions shadow_report_options;
  CLI::App* shadow_report = model->add_subcommand(
      "shadow-report", "compare the version in shadow with the live one, from the entries in queue.shadow");
  shadow_report
      ->add_option("-c,--config", shadow_report_options.config_path,
                   "topology YAML (its queue: section says where queue.shadow is)")
      ->required()
      ->check(CLI::ExistingFile);
  shadow_report->add_flag("--json", shadow_report_options.json, "print one JSON object instead of text");
  shadow_report->add_option("--max", shadow_report_options.max, "read at most the newest N entries")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  shadow_report->footer(
      "Reads queue.shadow without consuming it (Redis lists: LRANGE, streams: XREVRANGE; http-mq has no\n"
      "way to read without removing, so it is not supported there) and prints: entries, the live\n"
      "and shadow versions seen, agreement (the share with the same is_fraudulent) with the 2x2\n"
      "decision table, mean and max |delta P(fraud)|, mean P(fraud) of each, a 10-bin histogram of\n"
      "each and the population stability index (PSI) of the shadow scores against the live ones\n"
      "(< 0.1 stable, 0.1-0.25 some shift, > 0.25 a large shift). Exit code: 0 done, 1 failed,\n"
      "2 bad usage.");

  scorepipe::DatasetOptions dataset_options;
  CLI::App* dataset = app.add_subcommand(
      "dataset", "write a labelled file of synthetic transactions (CSV or JSON lines) for evaluate and training");
  dataset->add_option("-n,--rows", dataset_options.rows, "how many transactions")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000000}));
  add_stream_options(dataset, dataset_options.seed, dataset_options.first_id);
  dataset->add_option("-o,--out", dataset_options.out_path, "the file to write: .csv, .jsonl or .ndjson")
      ->required();
  dataset->add_option("--label-column", dataset_options.label_column, "the label's column (CSV) or key (JSON)")
      ->capture_default_str();
  dataset->footer(
      "Rows are the upstream transaction format plus the label (1 fraud, 0 not), drawn by the\n"
      "same deterministic generator as `push` and train-demo. A long run prints a line per\n"
      "million rows on stderr. Exit code: 0 written, 1 failed, 2 bad usage.");

  scorepipe::TrainCommandOptions train_options;
  scorepipe::XgboostTrainParams& xgb = train_options.training.xgboost;
  scorepipe::LinearTrainParams& linear = train_options.training.linear;
  CLI::App* train = app.add_subcommand(
      "train", "fit a model on a labelled file and register it as a new version (not live)");
  // A parameter with its default in --help.
  const auto train_option = [train](const char* flag, auto& value, const char* help) {
    return train->add_option(flag, value, help)->capture_default_str();
  };
  train->add_option("--data", train_options.data_path, "the labelled file: .csv, .jsonl or .ndjson")
      ->required()
      ->check(CLI::ExistingFile);
  train_option("--label-column", train_options.label_column, "the label's column (CSV) or key (JSON)");
  train->add_option("--features", train_options.features_path, "features.yaml: the model's columns")
      ->required()
      ->check(CLI::ExistingFile);
  std::string algorithm = "xgboost";
  train_option("--algorithm", algorithm, "xgboost (boosted trees) or linear (logistic regression)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  train_option("--validation-fraction", train_options.training.validation_fraction,
               "the last rows of the file held out for early stopping and the metrics");
  train_option("--seed", train_options.training.seed, "xgboost's seed");
  std::string metric = "auc";
  train_option("--metric", metric, "validation metric for early stopping and progress: auc or logloss")
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
  train_option("--registry", train_options.registry, "the registry folder")->envname("SCOREPIPE_REGISTRY");
  train->add_option("--name", train_options.name, "the model, e.g. fraud")->required();
  train->add_option("--version", train_options.version, "the version's name (default: the next vN)");
  train->add_option("--note", train_options.note, "a line for the history");
  train->footer(
      "The last --validation-fraction of the rows (in file order) never train: they pick the\n"
      "early-stopping round and give the metrics (auc, pr_auc, logloss) registered with the\n"
      "version, beside a summary of the data and the parameters. Progress goes to stderr. See\n"
      "docs/models.md. Exit code: 0 registered, 1 failed, 2 bad usage.");

  scorepipe::EvaluateOptions evaluate_options;
  CLI::App* evaluate = app.add_subcommand(
      "evaluate", "score a labelled file with a model and report ROC AUC, PR AUC, precision, recall, F1, "
                  "the confusion matrix and calibration");
  evaluate->add_option("--registry", evaluate_options.registry, "the registry folder (with --name)")
      ->envname("SCOREPIPE_REGISTRY")
      ->capture_default_str();
  evaluate->add_option("--name", evaluate_options.name, "a model in the registry");
  evaluate->add_option("--version", evaluate_options.version, "its version (default: the live one)");
  evaluate->add_option("--model", evaluate_options.model_path, "or a model file (.json: xgboost, .yaml: linear)")
      ->check(CLI::ExistingFile);
  evaluate->add_option("--features", evaluate_options.features_path, "with its features.yaml")
      ->check(CLI::ExistingFile);
  evaluate->add_option("--format", evaluate_options.format, "xgboost or linear (default: by --model's extension)")
      ->check(CLI::IsMember({"xgboost", "linear"}));
  evaluate->add_option("--data", evaluate_options.data_path, "the labelled file: .csv, .jsonl or .ndjson")
      ->required();
  evaluate->add_option("--label-column", evaluate_options.label_column, "the label's column (CSV) or key (JSON)")
      ->capture_default_str();
  evaluate->add_option("--threshold", evaluate_options.threshold, "a score >= threshold counts as fraud")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  evaluate->add_option("--bins", evaluate_options.bins, "uniform bins of the calibration table")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  evaluate->add_flag("--json", evaluate_options.json, "print one JSON object with every figure instead of the report");
  evaluate->add_option("--scores-out", evaluate_options.scores_out, "also write each scored row's id,score,label (CSV)");
  evaluate
      ->add_option("--cluster", evaluate_options.cluster_config,
                   "or score on the running cluster of this topology YAML, with its live model")
      ->check(CLI::ExistingFile);
  evaluate
      ->add_option("--batch-rows", evaluate_options.cluster_batch_rows,
                   "--cluster: rows per batch, at most the topology's bridge.batch_size (the default)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  evaluate
      ->add_option("--stall-timeout-s", evaluate_options.stall_timeout_s,
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help, or what is wrong with the command line
    return code == 0 ? 0 : 2;
  }
  if (up->parsed()) return Up(config_path, log_dir, log_level);
  if (push->parsed()) return scorepipe::RunPush(push_options);
  if (status->parsed()) return scorepipe::RunStatus(status_options);
  if (shadow_report->parsed()) return scorepipe::RunShadowReport(shadow_report_options);
  if (model->parsed()) {
    if (min_auc_option->count() > 0) model_options.min_auc = min_auc;
    spdlog::set_level(spdlog::level::warn);  // the model loaders' info lines are not for this output
    return scorepipe::RunModelCommand(model_options);
  }
  if (dataset->parsed()) return scorepipe::RunDataset(dataset_options);
  if (train->parsed()) {
    train_options.training.algorithm = *scorepipe::ParseTrainAlgorithm(algorithm);
    train_options.training.metric = *scorepipe::ParseStoppingMetric(metric);
    spdlog::set_level(spdlog::level::warn);
    return scorepipe::RunTrainCommand(train_options);
  }
  if (evaluate->parsed()) {
    spdlog::set_level(spdlog::level::warn);  // the model loaders' info lines are not for this output
    if (!evaluate_options.cluster_config.empty()) scorepipe::InstallStopSignalHandlers();  // Ctrl-C ends a run
    return scorepipe::RunEvaluate(evaluate_options);
  }
  if (keygen->parsed()) {
    auto pair = scorepipe::NewCurveKeyPair();
    scorepipe::Status written = pair.ok() ? scorepipe::WriteKeyPair(keygen_prefix, pair.value()) : pair.status();
    if (!written.ok()) {
      fprintf(stderr, "scorepipe keygen: %s\n", written.message().c_str());
      return 1;
    }
    printf("wrote %s.key (public: %s) and %s.key_secret (secret, mode 0600)\n", keygen_prefix.c_str(),
           pair->public_key.c_str(), keygen_prefix.c_str());
    return 0;
  }
  if (keys->parsed()) return scorepipe::RunHostKeys(keys_options);
  if (install->parsed()) {
    auto roles = scorepipe::ParseInstallRoles(install_roles);
    if (!roles.ok()) {
      fprintf(stderr, "scorepipe install: %s\n", roles.status().message().c_str());
      return 2;
    }
    install_options.roles = roles.value();
    install_options.bin_dir = BinDir();
    install_options.create_user = !no_user;
    if (auto topology = scorepipe::LoadTopologyFile(install_options.config_path); !topology.ok()) {
      fprintf(stderr, "scorepipe install: %s\n", topology.status().message().c_str());
      return 2;
    }
    auto report = scorepipe::Install(install_options);
    if (!report.ok()) {
      fprintf(stderr, "scorepipe install: %s\n", report.status().message().c_str());
      return 1;
    }
    printf("installed under %s:\n", install_options.root.c_str());
    for (const std::string& file : report->written) printf("  %s\n", file.c_str());
    if (report->user_created) printf("created the system user scorepipe\n");
    printf("next:\n");
    for (const std::string& step : report->next_steps) printf("  %s\n", step.c_str());
    return 0;
  }
  demo_options.bin_dir = BinDir();
  scorepipe::InstallStopSignalHandlers();
  scorepipe::Status s = scorepipe::RunDemo(demo_options);
  if (!s.ok()) {
    fprintf(stderr, "scorepipe demo: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
