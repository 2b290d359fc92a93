#include "bench/pipeline_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/ceilings.h"
#include "bench/latency.h"
#include "bench/process_usage.h"
#include "bench/redis_stats.h"
#include "config/topology_writer.h"
#include "queue/queue.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr size_t kPushChunk = 10000;
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kPoll = std::chrono::milliseconds(5);
constexpr auto kStopGrace = std::chrono::seconds(30);
constexpr int64_t kProbeId = 1000000000000;  // far from the runs' ids 1..N

int64_t MicrosSince(Clock::time_point origin) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin).count();
}

// The transaction_id of a result JSON, or -1.
int64_t ResultId(std::string_view json) {
  static constexpr std::string_view kKey = "\"transaction_id\":";
  const size_t at = json.find(kKey);
  if (at == std::string_view::npos) return -1;
  return std::strtoll(json.data() + at + kKey.size(), nullptr, 10);
}

// Waits (polling) until `done` says so, printing progress about once a
// second; fails after `timeout` or when a node exits.
template <typename Done>
Status WaitFor(Done done, size_t total, Clock::time_point start, std::chrono::seconds timeout,
               const BenchProgress& progress, const std::function<Status()>& alive) {
  auto next_report = start + std::chrono::seconds(1);
  while (true) {
    Result<size_t> now = done();
    if (!now.ok()) return now.status();
    if (now.value() >= total) return Status::Ok();
    if (Clock::now() >= next_report) {
      if (progress) progress(now.value(), total, SecondsSince(start));
      next_report += std::chrono::seconds(1);
      if (Status s = alive(); !s.ok()) return s;
    }
    if (Clock::now() - start > timeout) {
      return Status::Error("only " + std::to_string(now.value()) + " of " + std::to_string(total) +
                           " results after " + std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace

PipelineBench::PipelineBench(Topology topology, pid_t redis_pid, std::string dir)
    : topology_(std::move(topology)),
      redis_pid_(redis_pid),
      dir_(std::move(dir)),
      redis_(topology_.queue.redis) {}

PipelineBench::~PipelineBench() {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) it->process.Stop(kStopGrace);
}

Result<std::unique_ptr<PipelineBench>> PipelineBench::Start(const Topology& topology, pid_t redis_pid,
                                                            const std::string& bin_dir,
                                                            const std::string& dir) {
  std::unique_ptr<PipelineBench> bench(new PipelineBench(topology, redis_pid, dir));
  if (Status s = bench->redis_.Connect(); !s.ok()) return s;
  const std::string kind = QueueKindName(topology.queue.kind);
  const fs::path path = fs::path(dir) / ("topology-" + kind + ".yaml");
  std::ofstream(path) << TopologyToYaml(topology);
  fs::create_directories(fs::path(dir) / "logs");
  auto start = [&](const std::string& role, const std::string& name,
                   std::vector<std::string> extra) -> Status {
    std::vector<std::string> argv = {bin_dir + "/scorepipe-" + role, "-c", path.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Result<ChildProcess> child =
        ChildProcess::Start(argv, (fs::path(dir) / "logs" / (kind + "-" + name + ".log")).string());
    if (!child.ok()) return child.status().WithContext("starting " + name);
    bench->nodes_.push_back(Node{name, std::move(child.value())});
    return Status::Ok();
  };
  // Downstream first, so that nothing waits for a peer.
  if (Status s = start("sink", "sink", {}); !s.ok()) return s;
  if (Status s = start("ventilator", "ventilator", {}); !s.ok()) return s;
  for (int i = 1; i <= topology.workers.count; ++i) {
    const std::string name = "worker-" + std::to_string(i);
    if (Status s = start("worker", name, {"--id", name}); !s.ok()) return s;
  }
  if (Status s = start("bridge", "bridge", {}); !s.ok()) return s;

  // One transaction through the whole pipeline says it is ready.
  if (Status s = bench->ClearOutputs(); !s.ok()) return s;
  Result<std::unique_ptr<Queue>> queue = OpenQueue(topology.queue);
  if (!queue.ok()) return queue.status();
  SyntheticTransactions probe(99, kProbeId);
  if (Status s = queue.value()->Push({probe.Next().json}); !s.ok()) return s;
  const auto started = Clock::now();
  Status ready = WaitFor(
      [&]() -> Result<size_t> {
        Result<long long> n = bench->Outputs();
        if (!n.ok()) return n.status();
        return static_cast<size_t>(n.value());
      },
      1, started, std::chrono::duration_cast<std::chrono::seconds>(kReadyTimeout), nullptr,
      [&] { return Status::Ok(); });
  if (!ready.ok())
    return ready.WithContext("the cluster did not answer its first transaction (logs in " + dir + ")");
  if (Status s = bench->ClearOutputs(); !s.ok()) return s;
  return bench;
}

std::string PipelineBench::Describe() const {
  return std::string(QueueKindName(topology_.queue.kind)) + ", " + std::to_string(topology_.workers.count) +
         " workers, batches of " + std::to_string(topology_.bridge.batch_size) + ", credit " +
         std::to_string(topology_.workers.credit);
}

Result<long long> PipelineBench::Outputs() {
  const bool stream = topology_.queue.kind == QueueKind::kRedisStream;
  const char* length = stream ? "XLEN" : "LLEN";
  auto replies = redis_.Pipeline({{length, topology_.queue.output}, {length, topology_.queue.dead_letter}});
  if (!replies.ok()) return replies.status();
  return replies.value()[0]->integer + replies.value()[1]->integer;
}

Status PipelineBench::ClearOutputs() {
  auto cleared = redis_.Command({"DEL", topology_.queue.output, topology_.queue.dead_letter});
  return cleared.ok() ? Status::Ok() : cleared.status();
}

Result<std::vector<NodeFigures>> PipelineBench::Usage() {
  std::vector<NodeFigures> out;
  auto add = [&](const std::string& name, pid_t pid) -> Status {
    Result<ProcessUsage> u = ReadProcessUsage(pid);
    if (!u.ok()) return u.status().WithContext(name);
    out.push_back(NodeFigures{name, u->cpu_seconds, u->peak_rss_bytes, u->rss_bytes});
    return Status::Ok();
  };
  for (const Node& n : nodes_) {
    if (Status s = add(n.name, n.process.pid()); !s.ok()) return s;
  }
  if (redis_pid_ > 0) {
    if (Status s = add("redis-server", redis_pid_); !s.ok()) return s;
  }
  return out;
}

std::vector<NodeFigures> PipelineBench::Spent(const std::vector<NodeFigures>& before,
                                              const std::vector<NodeFigures>& after) {
  std::vector<NodeFigures> out = after;
  for (size_t i = 0; i < out.size() && i < before.size(); ++i) out[i].cpu_seconds -= before[i].cpu_seconds;
  return out;
}

Result<RunFigures> PipelineBench::Drain(const std::vector<std::string>& messages,
                                        const BenchProgress& progress) {
  // Load under another key, then RENAME: the pipeline sees all N at once.
  if (Status s = Preload(topology_.queue, kPreloadKey, messages); !s.ok()) return s.WithContext("drain run");
  if (Status s = ClearOutputs(); !s.ok()) return s;

  Result<std::vector<NodeFigures>> before = Usage();
  if (!before.ok()) return before.status();
  Result<std::vector<RedisCommandStat>> commands_before = ReadCommandStats(redis_);
  if (!commands_before.ok()) return commands_before.status();
  const auto start = Clock::now();
  if (auto renamed = redis_.Command({"RENAME", kPreloadKey, topology_.queue.input}); !renamed.ok()) {
    return renamed.status();
  }
  Status waited = WaitFor(
      [&]() -> Result<size_t> {
        Result<long long> n = Outputs();
        if (!n.ok()) return n.status();
        return static_cast<size_t>(n.value());
      },
      messages.size(), start, std::chrono::seconds(600), progress, [&] { return Usage().status(); });
  const double seconds = SecondsSince(start);
  if (!waited.ok()) return waited.WithContext("drain run");
  Result<std::vector<NodeFigures>> after = Usage();
  if (!after.ok()) return after.status();
  Result<std::vector<RedisCommandStat>> commands_after = ReadCommandStats(redis_);
  if (!commands_after.ok()) return commands_after.status();

  RunFigures run;
  run.name = "pipeline drain " + std::string(QueueKindName(topology_.queue.kind));
  run.detail = Describe() + "; N waiting in the input queue, time until N results";
  run.transactions = messages.size();
  run.seconds = seconds;
  run.nodes = Spent(before.value(), after.value());
  run.redis_commands = CommandStatsSpent(commands_before.value(), commands_after.value());
  if (Status s = ClearOutputs(); !s.ok()) return s;
  return run;
}

Result<RunFigures> PipelineBench::Paced(const std::vector<std::string>& messages, double rate, size_t warmup,
                                        const BenchProgress& progress) {
  if (Status s = ClearOutputs(); !s.ok()) return s;
  const size_t total = messages.size();
  std::vector<int64_t> enqueued_us(total, -1);
  std::vector<int64_t> arrived_us(total, -1);
  std::atomic<size_t> received{0};
  std::atomic<bool> stop{false};
  Status produced = Status::Ok();
  Status consumed = Status::Ok();

  Result<std::vector<NodeFigures>> before = Usage();
  if (!before.ok()) return before.status();
  Result<std::vector<RedisCommandStat>> commands_before = ReadCommandStats(redis_);
  if (!commands_before.ok()) return commands_before.status();
  const auto origin = Clock::now();

  // The reader: blocking pops of the output queue, stamping each result.
  std::thread reader([&] {
    RedisClient redis(topology_.queue.redis);
    redis.SetReadTimeoutMs(5000);
    const bool stream = topology_.queue.kind == QueueKind::kRedisStream;
    std::string last_id = "0";
    auto record = [&](std::string_view json) {
      const int64_t id = ResultId(json);
      if (id >= 1 && static_cast<size_t>(id) <= total && arrived_us[static_cast<size_t>(id - 1)] < 0) {
        arrived_us[static_cast<size_t>(id - 1)] = MicrosSince(origin);
        ++received;
      }
    };
    while (!stop && received < total) {
      if (stream) {
        auto reply = redis.Command(
            {"XREAD", "COUNT", "1000", "BLOCK", "200", "STREAMS", topology_.queue.output, last_id});
        if (!reply.ok()) {
          consumed = reply.status();
          return;
        }
        const redisReply* r = reply.value().get();
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) continue;
        const redisReply* entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; ++i) {
          const redisReply* entry = entries->element[i];
          last_id = std::string(ReplyText(entry->element[0]));
          const redisReply* fields = entry->element[1];
          for (size_t f = 0; f + 1 < fields->elements; f += 2) record(ReplyText(fields->element[f + 1]));
        }
        continue;
      }
      auto one = redis.Command({"BRPOP", topology_.queue.output, "0.2"});
      if (!one.ok()) {
        consumed = one.status();
        return;
      }
      if (one.value()->type != REDIS_REPLY_ARRAY || one.value()->elements < 2) continue;
      record(ReplyText(one.value()->element[1]));
      auto more = redis.Command({"RPOP", topology_.queue.output, "1000"});
      if (!more.ok()) {
        consumed = more.status();
        return;
      }
      for (size_t i = 0; more.value()->type == REDIS_REPLY_ARRAY && i < more.value()->elements; ++i) {
        record(ReplyText(more.value()->element[i]));
      }
    }
  });

  // The producer: every millisecond, what is due at `rate`, stamped just before its push.
  std::thread producer([&] {
    Result<std::unique_ptr<Queue>> queue = OpenQueue(topology_.queue);
    if (!queue.ok()) {
      produced = queue.status();
      return;
    }
    size_t sent = 0;
    std::vector<std::string> chunk;
    for (int64_t tick = 1; sent < total && !stop; ++tick) {
      std::this_thread::sleep_until(origin + std::chrono::milliseconds(tick));
      const size_t due = std::min(total, static_cast<size_t>(rate * static_cast<double>(tick) / 1000.0));
      if (due <= sent) continue;
      chunk.assign(messages.begin() + static_cast<std::ptrdiff_t>(sent),
                   messages.begin() + static_cast<std::ptrdiff_t>(due));
      const int64_t now = MicrosSince(origin);
      for (size_t i = sent; i < due; ++i) enqueued_us[i] = now;
      if (Status s = queue.value()->Push(chunk); !s.ok()) {
        produced = s;
        return;
      }
      sent = due;
    }
  });

  const double expected_s = static_cast<double>(total) / rate;
  Status waited = WaitFor([&]() -> Result<size_t> { return received.load(); }, total, origin,
                          std::chrono::seconds(static_cast<int64_t>(expected_s) + 120), progress,
                          [&] { return produced.ok() && consumed.ok() ? Usage().status() : Status::Ok(); });
  stop = true;
  producer.join();
  reader.join();
  const double seconds = SecondsSince(origin);
  if (!produced.ok()) return produced.WithContext("paced run: producer");
  if (!consumed.ok()) return consumed.WithContext("paced run: reader");
  if (!waited.ok()) return waited.WithContext("paced run");
  Result<std::vector<NodeFigures>> after = Usage();
  if (!after.ok()) return after.status();
  Result<std::vector<RedisCommandStat>> commands_after = ReadCommandStats(redis_);
  if (!commands_after.ok()) return commands_after.status();

  std::vector<double> latencies;
  latencies.reserve(total);
  for (size_t i = std::min(warmup, total); i < total; ++i) {
    latencies.push_back(static_cast<double>(arrived_us[i] - enqueued_us[i]));
  }
  RunFigures run;
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
  run.name = "pipeline paced " + std::string(QueueKindName(topology_.queue.kind));
  run.detail = Describe() + "; pushed at " + rate_text + "/s, latency = result in Redis - enqueue, first " +
               std::to_string(warmup) + " left out (warm-up)";
  run.transactions = total;
  run.seconds = seconds;
  run.latency = Summarize(&latencies);
  run.nodes = Spent(before.value(), after.value());
  run.redis_commands = CommandStatsSpent(commands_before.value(), commands_after.value());
  if (Status s = ClearOutputs(); !s.ok()) return s;
  return run;
}

Result<RunFigures> PipelineBench::Memory(const std::vector<std::string>& messages, size_t total,
                                         const BenchProgress& progress) {
  constexpr long long kMaxBacklog = 200000;
  constexpr const char* kTakeOut = "10000";
  if (messages.empty()) return Status::Error("memory run: no messages");
  if (Status s = ClearOutputs(); !s.ok()) return s;
  std::atomic<bool> stop{false};
  Status produced = Status::Ok();
  std::thread producer([&] {
    RedisClient redis(topology_.queue.redis);
    Result<std::unique_ptr<Queue>> queue = OpenQueue(topology_.queue);
    if (!queue.ok()) {
      produced = queue.status();
      return;
    }
    const char* length = topology_.queue.kind == QueueKind::kRedisStream ? "XLEN" : "LLEN";
    std::vector<std::string> chunk;
    size_t pushed = 0;
    while (pushed < total && !stop) {
      auto backlog = redis.Command({length, topology_.queue.input});
      if (!backlog.ok()) {
        produced = backlog.status();
        return;
      }
      if (backlog.value()->integer > kMaxBacklog) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      chunk.clear();
      for (size_t i = 0; i < kPushChunk && pushed < total; ++i, ++pushed)
        chunk.push_back(messages[pushed % messages.size()]);
      if (Status s = queue.value()->Push(chunk); !s.ok()) {
        produced = s;
        return;
      }
    }
  });

  Result<std::vector<NodeFigures>> before = Usage();
  if (!before.ok()) return before.status();
  Result<std::vector<RedisCommandStat>> commands_before = ReadCommandStats(redis_);
  if (!commands_before.ok()) return commands_before.status();
  std::vector<NodeFigures> warm;
  const auto start = Clock::now();
  size_t done = 0;
  Status status = Status::Ok();
  auto next_report = start + std::chrono::seconds(1);
  const auto deadline =
      start + std::chrono::seconds(60) + std::chrono::microseconds(static_cast<int64_t>(total * 20));
  while (status.ok() && done < total) {
    // Take the results out as they come, so that Redis does not hold millions.
    auto taken = redis_.Command({"RPOP", topology_.queue.output, kTakeOut});
    if (!taken.ok()) {
      status = taken.status();
      break;
    }
    const redisReply* reply = taken.value().get();
    const size_t got = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    done += got;
    if (got == 0) {
      auto dead = redis_.Command({"LLEN", topology_.queue.dead_letter});
      if (dead.ok() && dead.value()->integer > 0) {
        status = Status::Error(std::to_string(dead.value()->integer) +
                               " dead letters in the memory run; see " + dir_ + "/logs");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (warm.empty() && done >= total / 10) {
      Result<std::vector<NodeFigures>> u = Usage();
      if (!u.ok())
        status = u.status();
      else
        warm = u.value();
    }
    if (Clock::now() >= next_report) {
      if (progress) progress(done, total, SecondsSince(start));
      next_report += std::chrono::seconds(1);
      if (!produced.ok()) status = produced;
    }
    if (Clock::now() > deadline)
      status = Status::Error("memory run: only " + std::to_string(done) + " of " + std::to_string(total) +
                             " results in time");
  }
  const double seconds = SecondsSince(start);
  stop = true;
  producer.join();
  if (!status.ok()) return status.WithContext("memory run");
  if (!produced.ok()) return produced.WithContext("memory run: producer");
  Result<std::vector<NodeFigures>> after = Usage();
  if (!after.ok()) return after.status();
  Result<std::vector<RedisCommandStat>> commands_after = ReadCommandStats(redis_);
  if (!commands_after.ok()) return commands_after.status();

  RunFigures run;
  run.name = "pipeline memory " + std::string(QueueKindName(topology_.queue.kind));
  run.detail = Describe() + "; " + std::to_string(total) + " transactions, backlog kept under " +
               std::to_string(kMaxBacklog) + ", results taken out as they come; warm-up = the first tenth";
  run.transactions = done;
  run.seconds = seconds;
  run.nodes = Spent(before.value(), after.value());
  run.redis_commands = CommandStatsSpent(commands_before.value(), commands_after.value());
  for (size_t i = 0; i < run.nodes.size() && i < warm.size(); ++i)
    run.nodes[i].warm_rss_bytes = warm[i].rss_bytes;
  if (Status s = ClearOutputs(); !s.ok()) return s;
  return run;
}

Status PipelineBench::Stop() {
  // Pipeline order: the bridge stops taking, the rest drains behind it.
  std::vector<std::string> failed;
  for (const char* prefix : {"bridge", "ventilator", "worker", "sink"}) {
    for (Node& n : nodes_) {
      if (n.name.rfind(prefix, 0) != 0 || !n.process.Running()) continue;
      n.process.Stop(kStopGrace);
      if (n.process.exit_code() != 0) failed.push_back(n.name);
    }
  }
  nodes_.clear();
  if (failed.empty()) return Status::Ok();
  std::string names;
  for (const std::string& f : failed) names += (names.empty() ? "" : ", ") + f;
  return Status::Error("did not stop cleanly: " + names + " (logs in " + dir_ + "/logs)");
}

}  // namespace scorepipe
