// `scorepipe model list|show|register|promote|rollback|diff|shadow`: the model
// registry (scoring/model_registry.h) for people. main.cc parses the flags into
// ModelCommandOptions; RunModelCommand does the work, prints what happened
// and returns the exit code: 0 done, 1 refused or failed (the reason on
// `err`).
//
// A plain function; it uses only the calling thread.
#ifndef SCOREPIPE_CLI_MODEL_COMMAND_H_
#define SCOREPIPE_CLI_MODEL_COMMAND_H_

#include <cstdio>
#include <optional>
#include <string>

#include "cli/command.h"
#include "scoring/model_registry.h"

namespace scorepipe {

enum class ModelAction {
  kList,      // models, or one model's versions
  kShow,      // one version (default: the live one), its meta and its history
  kRegister,  // add a version
  kPromote,   // put a version live, after its checks
  kRollback,  // put the previous live version back
  kDiff,      // two versions side by side
  kShadow,    // put a version in shadow beside the live one, or end the shadowing (--off)
};

struct ModelCommandOptions {
  ModelAction action = ModelAction::kList;
  std::string registry = kDefaultRegistryRoot;  // --registry, else $SCOREPIPE_REGISTRY
  std::string name;                             // empty only for `list`
  std::string version;                          // show, register (optional), promote, shadow; diff: the first
  std::string version_b;                        // diff: the second
  std::string model_path;                       // register
  std::string features_path;                    // register
  std::string format;                           // register: xgboost | linear; empty: by extension
  std::string metrics_path;                     // register: YAML map name: number
  std::string data_summary_path;                // register: YAML map, kept as is
  std::string note;                             // register, promote, rollback, shadow
  bool force = false;                           // promote
  bool off = false;                             // shadow: end it (no version then)
  std::optional<double> min_auc;                // promote; default: registry.yaml's min_auc
};

int RunModelCommand(const ModelCommandOptions& options, FILE* out = stdout, FILE* err = stderr);

// The lines that close a register (`model register`, `train`): where the new
// version is and how to put it live.
void PrintRegistered(const ModelRegistry& registry, const std::string& name, const std::string& version,
                     FILE* out);

// Registers `scorepipe model` and its subcommands (with `model shadow-report`).
Command AddModelCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_MODEL_COMMAND_H_
