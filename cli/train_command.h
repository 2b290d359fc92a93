// `scorepipe train`: fits a model on a labelled file (training/labelled_data.h)
// with the features of a features.yaml (training/training.h does the fitting)
// and registers it as a new version in the model registry
// (scoring/model_registry.h), with its validation metrics and a summary of the
// data; the version is not promoted. main.cc parses the flags into
// TrainCommandOptions; RunTrainCommand does the work, prints progress on
// `err` and the registered version on `out`, and returns the exit code: 0
// registered, 1 failed (the reason on `err`), 2 bad options.
//
// A plain function; it uses the calling thread and libxgboost's threads.
#ifndef SCOREPIPE_CLI_TRAIN_COMMAND_H_
#define SCOREPIPE_CLI_TRAIN_COMMAND_H_

#include <cstdio>
#include <string>

#include "cli/command.h"
#include "scoring/model_registry.h"
#include "training/training.h"

namespace scorepipe {

struct TrainCommandOptions {
  std::string data_path;                        // labelled .csv, .jsonl or .ndjson
  std::string label_column = "is_fraudulent";   // its label column (CSV) or key (JSON)
  std::string features_path;                    // features.yaml: the model's columns
  TrainingOptions training;                     // algorithm and parameters; progress is set here
  std::string registry = kDefaultRegistryRoot;  // --registry, else $SCOREPIPE_REGISTRY
  std::string name;                             // the model
  std::string version;                          // default: the next vN
  std::string note;                             // a line for the history
};

int RunTrainCommand(const TrainCommandOptions& options, FILE* out = stdout, FILE* err = stderr);

// Registers `scorepipe train`.
Command AddTrainCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_TRAIN_COMMAND_H_
