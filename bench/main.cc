// scorepipe-bench: the benchmark of issue 4 (see bench/bench_run.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "bench/bench_run.h"

namespace {

std::string BinDir() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : self.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  scorepipe::BenchOptions options;
  options.config_path = std::string(SCOREPIPE_SOURCE_DIR) + "/config/local.yaml";
  options.bin_dir = BinDir();
  options.json_path = "bench-results.jsonl";
  CLI::App app{
      "Measures scorepipe against reference ceilings measured in the same run on the same Redis, messages "
      "and batch size: redis-move (only moving the messages through Redis), zmq-raw (the transport alone), "
      "score-only (features + model in one thread); then the whole pipeline (separate processes on a "
      "private redis-server): drain of N waiting transactions on Redis lists and Streams, a paced run "
      "for latency (enqueue to result in Redis), and a long run for memory (each node's RSS after warm-up "
      "and "
      "at the end). Prints a table (tx/s, ratio to redis-move, p50/p99/p99.9, "
      "CPU s per million transactions, peak memory) and appends one JSON line per run.",
      "scorepipe-bench"};
  app.add_option("-c,--config", options.config_path, "topology to start from (batch size, credit, model)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  app.add_option("-n,--transactions", options.transactions, "transactions per drain and ceiling run")
      ->check(CLI::Range(1000, 100000000))
      ->capture_default_str();
  app.add_option("--rate", options.rate, "paced run: transactions per second")
      ->check(CLI::Range(1.0, 10000000.0))
      ->capture_default_str();
  app.add_option("--paced-seconds", options.paced_seconds, "paced run: how long")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--memory-transactions", options.memory_transactions, "memory run: transactions")
      ->check(CLI::Range(10000, 1000000000))
      ->capture_default_str();
  app.add_option("-w,--workers", options.workers, "workers in the pipeline")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--json", options.json_path, "append one JSON line per run to this file (\"\": none)")
      ->capture_default_str();
  app.add_flag(
      "--quick", options.quick,
      "CI-sized: 50,000 transactions, 2 s paced, 200,000 for memory (a smoke test, not a measurement)");
  app.add_option("--runs", options.runs,
                 "only these runs (comma-separated): redis-move, zmq-raw, score-only, drain, plain (drain\n"
                 "without CURVE), paced, memory, streams")
      ->delimiter(',');
  app.add_flag("--keep", options.keep_dir, "keep the work directory (topologies, node logs)");
  CLI11_PARSE(app, argc, argv);
  scorepipe::Status status = scorepipe::RunBench(options);
  if (!status.ok()) {
    std::fprintf(stderr, "scorepipe-bench: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
