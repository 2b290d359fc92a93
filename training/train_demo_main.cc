// scorepipe-train-demo: trains the demo fraud model on synthetic transactions
// and writes model.json, features.yaml and metrics.json to --out. All logic is
// in training/trainer.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "proto/build_info.h"
#include "training/trainer.h"

int main(int argc, char** argv) {
  scorepipe::TrainOptions options;
  CLI::App app{"Train the scorepipe demo fraud model on synthetic transactions"};
  app.add_option("--out", options.out_dir, "Output directory (created if missing)")->required();
  app.add_option("--rows", options.rows, "Synthetic transactions to generate")
      ->check(CLI::Range(size_t{100}, size_t{100000000}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Generator seed")->capture_default_str();
  app.add_option("--rounds", options.rounds, "Boosting rounds")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--max-depth", options.max_depth, "Tree depth")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--eta", options.eta, "Learning rate")->capture_default_str();
  app.add_option("--nthread", options.nthread, "Training threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.set_version_flag("--version", scorepipe::VersionLine("scorepipe-train-demo"),
                       "prints the version, the commit and the build type, and exits");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors exit 2, as every scorepipe program
  }

  options.progress = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  scorepipe::Result<scorepipe::TrainReport> report = scorepipe::TrainDemoModel(options);
  if (!report.ok()) {
    std::fprintf(stderr, "scorepipe-train-demo: %s\n", report.status().message().c_str());
    return 1;
  }
  std::printf("AUC %.4f on %zu test rows\n", report->test_auc, report->test_rows);
  return 0;
}
