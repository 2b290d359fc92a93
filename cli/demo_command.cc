#include "cli/demo_command.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "config/topology_writer.h"
#include "local_cluster/child_process.h"
#include "local_cluster/local_redis.h"
#include "local_cluster/private_topology.h"
#include "local_cluster/synthetic_push.h"
#include "proto/text.h"
#include "queue/redis_client.h"
#include "runtime/curve.h"
#include "runtime/node.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Messages that break the upstream schema, one per kind of mistake.
const std::vector<std::string> kInvalidMessages = {
    R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":)",
    R"({"id":2,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted"})",
    R"({"id":3,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":-5})",
    R"({"id":4,"customer_id":1,"vendor_id":1,"timestamp":"yesterday","status":"accepted","amount":5})",
    R"({"id":5,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"lost","amount":5})",
};

Result<long long> ListLength(RedisClient& redis, const std::string& list) {
  auto reply = redis.Command({"LLEN", list});
  if (!reply.ok()) return reply.status();
  return reply.value()->integer;
}

// The oldest `n` entries of a list (the first a consumer would pop).
std::vector<std::string> Oldest(RedisClient& redis, const std::string& list, int n) {
  std::vector<std::string> out;
  std::string from = std::to_string(-n);
  auto reply = redis.Command({"LRANGE", list, from, "-1"});
  if (!reply.ok()) return out;
  for (size_t i = reply.value()->elements; i-- > 0;) out.emplace_back(ReplyText(reply.value()->element[i]));
  return out;
}

}  // namespace

Result<std::string> FindDemoTopology(const std::string& bin_dir) {
  const std::vector<fs::path> candidates = {
      "config/local.yaml",                                         // the repository, as the README runs it
      fs::path(bin_dir) / "../../config/local.yaml",               // a build tree: <repo>/build/bin
      fs::path(bin_dir) / "../share/scorepipe/config/local.yaml",  // an install under a prefix
      "/usr/share/scorepipe/config/local.yaml",                    // the Debian package
  };
  std::error_code error;
  for (const fs::path& candidate : candidates) {
    if (fs::is_regular_file(candidate, error)) return fs::weakly_canonical(candidate, error).string();
  }
  std::string tried;
  for (const fs::path& candidate : candidates)
    tried += (tried.empty() ? "" : ", ") + candidate.lexically_normal().string();
  return Status::Error("no topology to start from (looked for " + tried +
                       "); run it in the repository, or give -c FILE (the repository's config/local.yaml)");
}

namespace {

Result<Topology> DeriveTopology(const DemoOptions& options, int redis_port, const fs::path& dir) {
  Result<Topology> loaded = LoadTopologyFile(options.config_path);
  if (!loaded.ok()) return loaded.status();
  Topology t = PrivateTopology(loaded.value(), redis_port, dir.string());
  if (options.workers > 0) t.workers.count = options.workers;
  Result<SecurityConfig> curve = SingleHostCurve(dir.string());
  if (!curve.ok()) return curve.status();
  t.security = curve.value();
  return t;
}

}  // namespace

Status RunDemo(const DemoOptions& options) {
  char pattern[] = "/tmp/scorepipe-demo-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Status::Error("cannot create a temporary directory");
  const fs::path dir = pattern;
  fs::create_directories(dir / "logs");

  printf("scorepipe demo (work directory %s)\n", dir.c_str());
  LocalRedisOptions redis_options;
  redis_options.dir = dir.string();
  auto redis_server = LocalRedis::Start(redis_options);
  if (!redis_server.ok()) return redis_server.status();
  const int port = redis_server.value()->port();
  printf("  redis-server   127.0.0.1:%d (private to this demo)\n", port);

  Result<Topology> topology = DeriveTopology(options, port, dir);
  if (!topology.ok()) return topology.status();
  const fs::path topology_path = dir / "topology.yaml";
  std::ofstream(topology_path) << TopologyToYaml(topology.value());
  printf("  cluster        bridge, ventilator, sink and %d workers (topology %s, logs in %s)\n",
         topology->workers.count, topology_path.c_str(), (dir / "logs").c_str());
  printf("  model          %s (%s)\n", topology->model.version.c_str(), topology->model.path.c_str());
  printf("  links          CURVE-encrypted and authenticated (a fresh key pair in %s)\n",
         fs::path(topology->security.secret_key).parent_path().c_str());

  auto up = ChildProcess::Start({options.bin_dir + "/scorepipe", "up", "-c", topology_path.string(),
                                 "--log-dir", (dir / "logs").string()},
                                (dir / "logs" / "up.log").string());
  if (!up.ok()) return up.status();

  RedisConfig redis_config = topology->queue.redis;
  RedisClient redis(redis_config);
  const std::string& input = topology->queue.input;
  const std::string& output = topology->queue.output;
  const std::string& dead = topology->queue.dead_letter;

  Status status = Status::Ok();
  SyntheticTransactions generator(options.seed);
  const size_t total = options.transactions;
  // One transaction first: its result says the cluster is up.
  printf("waiting for the cluster to answer its first transaction ...");
  fflush(stdout);
  status = PushSynthetic(redis, input, generator, 1);
  const auto ready_deadline = Clock::now() + std::chrono::seconds(60);
  while (status.ok()) {
    auto n = ListLength(redis, output);
    if (!n.ok()) status = n.status();
    if (status.ok() && n.value() >= 1) break;
    if (!up->Running()) status = Status::Error("the cluster stopped; see " + (dir / "logs").string());
    if (status.ok() && Clock::now() > ready_deadline) status = Status::Error("no result within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (status.ok()) {
    printf(" ready\n");
    printf("pushing %s synthetic transactions and %zu invalid messages into '%s' ...\n",
           WithThousands(static_cast<long long>(total)).c_str(), kInvalidMessages.size(), input.c_str());
    const auto start = Clock::now();
    // Producers push on their own connection while this thread watches the results arrive.
    Status pushed = Status::Ok();
    std::atomic<bool> push_done{false};
    std::thread producer([&] {
      RedisClient producer_redis(redis_config);
      pushed = PushMessages(producer_redis, input, kInvalidMessages);
      if (pushed.ok()) pushed = PushSynthetic(producer_redis, input, generator, total - 1);
      push_done.store(true, std::memory_order_release);
    });
    const long long expected =
        static_cast<long long>(total) + static_cast<long long>(kInvalidMessages.size());
    auto last_print = Clock::now();
    long long results = 0;
    long long dead_letters = 0;
    while (status.ok() && !StopRequested()) {
      if (push_done.load(std::memory_order_acquire) && !pushed.ok()) break;
      auto r = ListLength(redis, output);
      auto d = ListLength(redis, dead);
      if (!r.ok() || !d.ok()) {
        status = r.ok() ? d.status() : r.status();
        break;
      }
      results = r.value();
      dead_letters = d.value();
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      const bool done = results + dead_letters >= expected;
      if (done || Clock::now() - last_print >= std::chrono::milliseconds(250)) {
        printf(
            "  %6.2f s  results %11s / %s   dead letters %lld   %10s tx/s\n", seconds,
            WithThousands(results).c_str(), WithThousands(static_cast<long long>(total)).c_str(),
            dead_letters,
            WithThousands(static_cast<long long>(static_cast<double>(results - 1) / std::max(seconds, 1e-3)))
                .c_str());
        fflush(stdout);
        last_print = Clock::now();
      }
      if (done) {
        printf(
            "done: %s transactions scored in %.2f s: %s transactions/s end to end (Redis in -> Redis out)\n",
            WithThousands(results).c_str(), seconds,
            WithThousands(static_cast<long long>(static_cast<double>(results - 1) / seconds)).c_str());
        break;
      }
      if (!up->Running()) status = Status::Error("the cluster stopped; see " + (dir / "logs").string());
      if (seconds > options.timeout_s) status = Status::Error("results still missing after the timeout");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    producer.join();
    if (status.ok() && !pushed.ok()) status = pushed;
    if (status.ok()) {
      printf("first results in '%s':\n", output.c_str());
      for (const std::string& r : Oldest(redis, output, 3)) printf("  %s\n", r.c_str());
      printf("a dead letter in '%s':\n", dead.c_str());
      for (const std::string& r : Oldest(redis, dead, 1)) printf("  %s\n", r.c_str());
    }
  }
  printf("stopping the cluster ...\n");
  up->Stop(std::chrono::seconds(60));
  redis_server.value()->Stop();
  if (!options.keep_dir && status.ok()) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  } else {
    printf("logs kept in %s\n", (dir / "logs").c_str());
  }
  return status;
}

Command AddDemoCommand(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo",
                                      "start a private Redis and a local cluster, push synthetic "
                                      "transactions, show results and throughput, stop everything");
  demo->add_option("-c,--config", options->config_path,
                   "topology to start from (default: config/local.yaml here, else the one of this "
                   "build's source tree, else of the installed package)")
      ->check(CLI::ExistingFile);
  demo->add_option("-n,--transactions", options->transactions, "synthetic transactions to push")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  demo->add_option("-w,--workers", options->workers, "workers to start (default: the topology's count)")
      ->check(CLI::Range(1, 256));
  demo->add_option("--seed", options->seed, "seed of the synthetic stream")->capture_default_str();
  demo->add_option("--timeout", options->timeout_s, "seconds to wait for all results")->capture_default_str();
  demo->add_flag("--keep", options->keep_dir, "keep the temporary directory with the logs");
  return {demo, [options] {
            options->bin_dir = BinDir();
            if (options->config_path.empty()) {
              Result<std::string> found = FindDemoTopology(options->bin_dir);
              if (!found.ok()) {
                std::fprintf(stderr, "scorepipe demo: %s\n", found.status().message().c_str());
                return 2;
              }
              options->config_path = found.value();
            }
            InstallStopSignalHandlers();
            Status s = RunDemo(*options);
            if (!s.ok()) {
              std::fprintf(stderr, "scorepipe demo: %s\n", s.message().c_str());
              return 1;
            }
            return 0;
          }};
}

}  // namespace scorepipe
