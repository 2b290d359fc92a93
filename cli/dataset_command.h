// `scorepipe dataset`: writes a labelled demo file (training/labelled_data.h)
// from the deterministic synthetic generator (training/synthetic.h), for
// `scorepipe evaluate` and training. main.cc parses the flags into
// DatasetOptions; RunDataset does the work and returns the exit code: 0
// written, 1 failed (the reason on `err`).
//
// A plain function; it uses only the calling thread.
#ifndef SCOREPIPE_CLI_DATASET_COMMAND_H_
#define SCOREPIPE_CLI_DATASET_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/command.h"

namespace scorepipe {

struct DatasetOptions {
  size_t rows = 100000;                        // transactions, >= 1
  uint64_t seed = 42;                          // generator seed: same seed, same file
  int64_t first_id = 1;                        // id of the first row, >= 1
  std::string out_path;                        // .csv, .jsonl or .ndjson
  std::string label_column = "is_fraudulent";  // its column (CSV) or key (JSON lines)
  size_t progress_every_rows = 1000000;        // a progress line on `err` every so many rows
};

int RunDataset(const DatasetOptions& options, FILE* out = stdout, FILE* err = stderr);

// Registers `scorepipe dataset`.
Command AddDatasetCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_DATASET_COMMAND_H_
