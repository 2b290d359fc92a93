// `scorepipe evaluate`: scores a labelled file (training/labelled_data.h) with a
// model, through the worker's own LoadScorer/Scorer so that every score is
// exactly what the cluster would compute, and reports how the scores match
// the labels (scoring/evaluation.h): ROC AUC, PR AUC (average precision),
// precision, recall and F1 at the threshold, the confusion matrix, log loss,
// Brier score and a calibration table; as text or as one JSON object.
//
// The model comes from the registry (a name, and a version or the live one)
// or from files (a model and its features.yaml); or, with --cluster, the rows
// go through a running cluster and its live model scores them, the sink
// gathering the figures (cli/evaluate_cluster_command.h): the same report, plus
// which versions scored the rows and how fast. main.cc parses the flags
// into EvaluateOptions; RunEvaluate does the work and returns the exit code:
// 0 evaluated, 1 failed (the reason on `err`). Progress lines for large files
// go to `err` too.
//
// A plain function; it uses only the calling thread.
#ifndef SCOREPIPE_CLI_EVALUATE_COMMAND_H_
#define SCOREPIPE_CLI_EVALUATE_COMMAND_H_

#include <cstddef>
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "scoring/model_registry.h"

namespace scorepipe {

struct EvaluateOptions {
  // The model: either from the registry...
  std::string registry = kDefaultRegistryRoot;  // --registry, else $SCOREPIPE_REGISTRY
  std::string name;                             // --name
  std::string version;                          // --version; empty: the live one
  // ...or from files.
  std::string model_path;     // --model
  std::string features_path;  // --features
  std::string format;         // --format xgboost | linear; empty: by the model file's extension

  std::string data_path;                       // --data: .csv, .jsonl or .ndjson
  std::string label_column = "is_fraudulent";  // --label-column
  double threshold = 0.5;                      // --threshold: score >= threshold is fraud
  int bins = 10;                               // --bins: calibration table
  bool json = false;                           // --json: one JSON object instead of the text report
  std::string scores_out;                      // --scores-out: CSV of id,score,label per scored row
  size_t batch_rows = 4096;                    // transactions per Scorer::Score call, >= 1
  size_t progress_every_rows = 1000000;        // a progress line on `err` every so many rows

  // --cluster TOPOLOGY: score on that running cluster, with its live model,
  // instead of a model named here (cli/evaluate_cluster_command.h).
  std::string cluster_config;
  size_t cluster_batch_rows = 0;  // --batch-rows: rows per batch; 0: the topology's bridge.batch_size
  int stall_timeout_s = 120;      // --stall-timeout-s: give up when no row is answered this long
};

int RunEvaluate(const EvaluateOptions& options, FILE* out = stdout, FILE* err = stderr);

// Registers `scorepipe evaluate`.
Command AddEvaluateCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_EVALUATE_COMMAND_H_
