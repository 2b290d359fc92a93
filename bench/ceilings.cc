#include "bench/ceilings.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <zmq.hpp>

#include "bench/latency.h"
#include "bench/process_usage.h"
#include "bench/redis_stats.h"
#include "queue/queue.h"
#include "scoring/model.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPreloadChunk = 10000;  // messages per Queue::Push

}  // namespace

Status Preload(const QueueConfig& queue, const std::string& key, const std::vector<std::string>& messages) {
  QueueConfig target = queue;
  target.input = key;
  RedisClient redis(queue.redis);
  if (auto deleted = redis.Command({"DEL", key}); !deleted.ok()) return deleted.status();
  Result<std::unique_ptr<Queue>> loader = OpenQueue(target);
  if (!loader.ok()) return loader.status();
  std::vector<std::string> chunk;
  for (size_t at = 0; at < messages.size(); at += kPreloadChunk) {
    chunk.assign(
        messages.begin() + static_cast<std::ptrdiff_t>(at),
        messages.begin() + static_cast<std::ptrdiff_t>(std::min(messages.size(), at + kPreloadChunk)));
    if (Status s = loader.value()->Push(chunk); !s.ok()) {
      return s.WithContext("loading " + std::to_string(messages.size()) + " messages into " + key);
    }
  }
  if (queue.kind == QueueKind::kRedisStream) {
    auto group = redis.Command({"XGROUP", "CREATE", key, queue.group, "0"});
    if (!group.ok()) return group.status();
  }
  return Status::Ok();
}

Result<RunFigures> RunRedisMove(const RedisConfig& config, pid_t redis_pid, const std::string& input,
                                const std::string& output, const std::vector<std::string>& messages,
                                size_t batch_size) {
  RedisClient redis(config);
  if (Status s = redis.Connect(); !s.ok()) return s;
  if (auto cleared = redis.Command({"DEL", input, output}); !cleared.ok()) return cleared.status();
  QueueConfig list;
  list.kind = QueueKind::kRedisList;
  list.redis = config;
  if (Status s = Preload(list, kPreloadKey, messages); !s.ok()) return s;

  Result<ProcessUsage> server_before = redis_pid > 0 ? ReadProcessUsage(redis_pid) : ProcessUsage{};
  if (!server_before.ok()) return server_before.status();
  Result<std::vector<RedisCommandStat>> commands_before = ReadCommandStats(redis);
  if (!commands_before.ok()) return commands_before.status();
  const double cpu_before = ThreadCpuSeconds();
  const std::string count = std::to_string(batch_size);
  const auto start = Clock::now();
  if (auto renamed = redis.Command({"RENAME", kPreloadKey, input}); !renamed.ok()) return renamed.status();
  size_t moved = 0;
  std::vector<std::string_view> push;
  while (moved < messages.size()) {
    auto popped = redis.Command({"RPOP", input, count});
    if (!popped.ok()) return popped.status().WithContext("redis-move");
    const redisReply* reply = popped.value().get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
      return Status::Error("redis-move: " + input + " ran dry after " + std::to_string(moved) + " of " +
                           std::to_string(messages.size()) + " messages");
    }
    push.assign({"LPUSH", output});
    for (size_t i = 0; i < reply->elements; ++i) push.push_back(ReplyText(reply->element[i]));
    if (auto pushed = redis.Command(push); !pushed.ok()) return pushed.status().WithContext("redis-move");
    moved += reply->elements;
  }
  RunFigures run;
  run.name = "redis-move";
  run.ceiling = true;
  run.detail = "RPOP " + count + " + one LPUSH per batch, one connection, same Redis and messages";
  run.transactions = moved;
  run.seconds = SecondsSince(start);
  run.nodes.push_back(NodeFigures{"bench (move loop)", ThreadCpuSeconds() - cpu_before, 0, 0});
  Result<std::vector<RedisCommandStat>> commands_after = ReadCommandStats(redis);
  if (!commands_after.ok()) return commands_after.status();
  run.redis_commands = CommandStatsSpent(commands_before.value(), commands_after.value());
  if (redis_pid > 0) {
    Result<ProcessUsage> after = ReadProcessUsage(redis_pid);
    if (!after.ok()) return after.status();
    run.nodes.push_back(NodeFigures{"redis-server", after->cpu_seconds - server_before->cpu_seconds,
                                    after->peak_rss_bytes, after->rss_bytes});
  }
  if (auto cleared = redis.Command({"DEL", input, output}); !cleared.ok()) return cleared.status();
  return run;
}

Result<RunFigures> RunZmqRaw(const std::string& dir, size_t frame_bytes, size_t transactions,
                             size_t batch_size) {
  const size_t frames = (transactions + batch_size - 1) / batch_size;
  const std::string in = "ipc://" + dir + "/zmq-raw-in.ipc";
  const std::string out = "ipc://" + dir + "/zmq-raw-out.ipc";
  RunFigures run;
  try {
    zmq::context_t context;
    zmq::socket_t relay_in(context, zmq::socket_type::pull);
    zmq::socket_t relay_out(context, zmq::socket_type::push);
    zmq::socket_t source(context, zmq::socket_type::push);
    zmq::socket_t drain(context, zmq::socket_type::pull);
    relay_in.bind(in);
    relay_out.bind(out);
    source.connect(in);
    drain.connect(out);
    std::vector<char> payload(frame_bytes,
                              'x');  // the bytes of an encoded batch; content does not matter here

    const double cpu_before = ProcessCpuSeconds();
    const auto start = Clock::now();
    std::thread relay([&] {
      for (size_t i = 0; i < frames; ++i) {
        zmq::message_t frame;
        if (!relay_in.recv(frame)) return;
        relay_out.send(frame, zmq::send_flags::none);
      }
    });
    std::thread collector([&] {
      for (size_t i = 0; i < frames; ++i) {
        zmq::message_t frame;
        if (!drain.recv(frame)) return;
      }
    });
    for (size_t i = 0; i < frames; ++i) {
      zmq::message_t frame(payload.data(), payload.size());
      source.send(frame, zmq::send_flags::none);
    }
    relay.join();
    collector.join();
    run.seconds = SecondsSince(start);
    run.nodes.push_back(NodeFigures{"bench (3 threads + I/O)", ProcessCpuSeconds() - cpu_before, 0, 0});
    for (zmq::socket_t* s : {&relay_in, &relay_out, &source, &drain}) s->set(zmq::sockopt::linger, 0);
  } catch (const zmq::error_t& e) {
    return Status::Error(std::string("zmq-raw: ") + e.what());
  }
  run.name = "zmq-raw";
  run.ceiling = true;
  run.detail = "PUSH->PULL->PUSH->PULL over ipc, " + std::to_string(frames) + " frames of " +
               std::to_string(frame_bytes) + " bytes (" + std::to_string(batch_size) + " transactions each)";
  run.transactions = frames * batch_size;
  return run;
}

Result<RunFigures> RunScoreOnly(const ModelConfig& model, const std::vector<Transaction>& transactions,
                                size_t batch_size) {
  Result<Scorer> scorer = LoadScorer(model);
  if (!scorer.ok()) return scorer.status().WithContext("score-only");
  std::vector<std::vector<Transaction>> batches;
  for (size_t at = 0; at < transactions.size(); at += batch_size) {
    const auto end =
        transactions.begin() + static_cast<std::ptrdiff_t>(std::min(transactions.size(), at + batch_size));
    batches.emplace_back(transactions.begin() + static_cast<std::ptrdiff_t>(at), end);
  }
  std::vector<ScoreResult> results;
  const double cpu_before = ThreadCpuSeconds();
  const auto start = Clock::now();
  for (const std::vector<Transaction>& batch : batches) {
    if (Status s = scorer->Score(batch, &results); !s.ok()) return s.WithContext("score-only");
  }
  RunFigures run;
  run.name = "score-only";
  run.ceiling = true;
  run.detail =
      "features + " + scorer->model().version() + " in one thread, batches of " + std::to_string(batch_size);
  run.transactions = transactions.size();
  run.seconds = SecondsSince(start);
  run.nodes.push_back(NodeFigures{"bench (one thread)", ThreadCpuSeconds() - cpu_before, 0, 0});
  return run;
}

}  // namespace scorepipe
