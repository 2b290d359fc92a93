#include "bridge/redis_list_queue.h"

#include <string_view>
#include <utility>

namespace scorepipe {
namespace {

// Replies of a blocking command may take this long beyond its own timeout.
constexpr int kReplyGraceMs = 5000;

std::vector<std::string_view> PushCommand(std::string_view verb, const std::string& key,
                                          const std::vector<std::string>& values) {
  std::vector<std::string_view> args;
  args.reserve(values.size() + 2);
  args.push_back(verb);
  args.push_back(key);
  for (const std::string& v : values) args.push_back(v);
  return args;
}

void AppendStrings(const redisReply* array, std::vector<std::string>* out) {
  for (size_t i = 0; i < array->elements; ++i) {
    const redisReply* item = array->element[i];
    if (item->type == REDIS_REPLY_STRING) out->emplace_back(item->str, item->len);
  }
}

}  // namespace

RedisListQueue::RedisListQueue(QueueConfig config)
    : config_(std::move(config)), client_(config_.redis) {}

std::string RedisListQueue::Describe() const {
  return "redis-list " + client_.Address() + " input=" + config_.input +
         " output=" + config_.output + " dead_letter=" + config_.dead_letter;
}

Status RedisListQueue::Take(size_t max, int block_ms, std::vector<std::string>* out) {
  if (max == 0) return Status::Ok();
  client_.SetReadTimeoutMs(block_ms + kReplyGraceMs);
  std::string count = std::to_string(max);
  auto popped = client_.Command({"RPOP", config_.input, count});
  if (!popped.ok()) return popped.status().WithContext("taking from " + config_.input);
  const redisReply* reply = popped.value().get();
  if (reply->type == REDIS_REPLY_ARRAY) {
    AppendStrings(reply, out);
    return Status::Ok();
  }
  if (reply->type != REDIS_REPLY_NIL) {
    return Status::Error("RPOP " + config_.input + " with a count needs Redis >= 6.2; got reply type " +
                         std::to_string(reply->type));
  }
  if (block_ms <= 0) return Status::Ok();
  // Empty: wait for one message (BRPOP's timeout is in seconds, 0 would mean forever).
  std::string timeout = std::to_string(block_ms / 1000.0);
  auto waited = client_.Command({"BRPOP", config_.input, timeout});
  if (!waited.ok()) return waited.status().WithContext("waiting on " + config_.input);
  const redisReply* pair = waited.value().get();
  if (pair->type == REDIS_REPLY_ARRAY && pair->elements == 2 &&
      pair->element[1]->type == REDIS_REPLY_STRING) {
    out->emplace_back(pair->element[1]->str, pair->element[1]->len);
  }
  return Status::Ok();
}

Status RedisListQueue::GiveBack(const std::vector<std::string>& messages) {
  if (messages.empty()) return Status::Ok();
  // RPUSH puts its last argument at the tail, which RPOP takes first.
  std::vector<std::string> reversed(messages.rbegin(), messages.rend());
  auto reply = client_.Command(PushCommand("RPUSH", config_.input, reversed));
  return reply.ok() ? Status::Ok() : reply.status().WithContext("giving back to " + config_.input);
}

Status RedisListQueue::Publish(const std::vector<std::string>& results,
                               const std::vector<std::string>& dead_letters) {
  std::vector<std::vector<std::string_view>> commands;
  const bool both = !results.empty() && !dead_letters.empty();
  if (both) commands.push_back({"MULTI"});
  if (!results.empty()) commands.push_back(PushCommand("LPUSH", config_.output, results));
  if (!dead_letters.empty()) commands.push_back(PushCommand("LPUSH", config_.dead_letter, dead_letters));
  if (both) commands.push_back({"EXEC"});
  if (commands.empty()) return Status::Ok();
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto replies = client_.Pipeline(commands);
  if (!replies.ok()) return replies.status().WithContext("publishing to " + config_.output);
  if (both && replies.value().back()->type != REDIS_REPLY_ARRAY) {
    return Status::Error("publishing to " + config_.output + ": transaction was aborted");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Queue>> OpenQueue(const QueueConfig& config) {
  switch (config.kind) {
    case QueueKind::kRedisList:
      return std::unique_ptr<Queue>(std::make_unique<RedisListQueue>(config));
  }
  return Status::Error("unknown queue kind");
}

}  // namespace scorepipe
