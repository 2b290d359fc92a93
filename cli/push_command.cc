#include "cli/push_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "config/topology.h"
#include "local_cluster/synthetic_push.h"
#include "proto/text.h"
#include "queue/queue.h"
#include "runtime/node.h"
#include "training/synthetic.h"

namespace scorepipe {

int RunPush(const PushOptions& options) {
  using Clock = std::chrono::steady_clock;
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe push: %s\n", topology.status().message().c_str());
    return 2;
  }
  Result<std::unique_ptr<Queue>> queue = OpenQueue(topology->queue);
  if (!queue.ok()) {
    std::fprintf(stderr, "scorepipe push: %s\n", queue.status().message().c_str());
    return 1;
  }
  InstallStopSignalHandlers();
  const std::string total = WithThousands(static_cast<int64_t>(options.count));
  const auto start = Clock::now();
  auto last_line = start;
  size_t pushed = 0;
  auto progress = [&](size_t done) {
    pushed = done;
    const auto now = Clock::now();
    if (now - last_line >= std::chrono::seconds(1)) {
      const double seconds = std::chrono::duration<double>(now - start).count();
      std::printf("  %6.1f s  pushed %11s / %s  %10s tx/s\n", seconds,
                  WithThousands(static_cast<int64_t>(done)).c_str(), total.c_str(),
                  WithThousands(static_cast<int64_t>(static_cast<double>(done) / seconds)).c_str());
      std::fflush(stdout);
      last_line = now;
    }
    return !StopRequested();
  };
  SyntheticTransactions generator(options.seed, options.first_id);
  const Status s = PushSynthetic(*queue.value(), generator, options.count, options.chunk, progress);
  const double seconds = std::max(1e-6, std::chrono::duration<double>(Clock::now() - start).count());
  const int64_t last_id = options.first_id + static_cast<int64_t>(pushed) - 1;
  if (!s.ok() && StopRequested()) {
    std::fprintf(stderr, "scorepipe push: interrupted: pushed %s of %s (ids %lld..%lld) to %s\n",
                 WithThousands(static_cast<int64_t>(pushed)).c_str(), total.c_str(),
                 static_cast<long long>(options.first_id), static_cast<long long>(last_id),
                 queue.value()->Describe().c_str());
    return 1;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "scorepipe push: %s: %s\n", queue.value()->Describe().c_str(), s.message().c_str());
    if (pushed > 0) {
      std::fprintf(stderr, "scorepipe push: ids %lld..%lld went in before that\n",
                   static_cast<long long>(options.first_id), static_cast<long long>(last_id));
    }
    return 1;
  }
  std::printf("pushed %s transactions (ids %lld..%lld) in %.2f s (%s tx/s) to %s\n", total.c_str(),
              static_cast<long long>(options.first_id), static_cast<long long>(last_id), seconds,
              WithThousands(static_cast<int64_t>(static_cast<double>(pushed) / seconds)).c_str(),
              queue.value()->Describe().c_str());
  return 0;
}

Command AddPushCommand(CLI::App& app) {
  auto options = std::make_shared<PushOptions>();
  CLI::App* push = app.add_subcommand("push", "push synthetic upstream transactions into queue.input");
  push->add_option("-c,--config", options->config_path, "topology YAML (its queue: section says where)")
      ->required()
      ->check(CLI::ExistingFile);
  push->add_option("-n,--count", options->count, "how many transactions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  AddStreamOptions(push, options->seed, options->first_id);
  push->add_option("--chunk", options->chunk, "transactions per round of pushes to the queue")
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
  return {push, [options] { return RunPush(*options); }};
}

}  // namespace scorepipe
