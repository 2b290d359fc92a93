#include "gateway/task_store.h"

#include <random>

namespace scorepipe {
namespace {

// KEYS: task hash, pending set. ARGV: id, body, now_ms, lease deadline,
// seconds the hash lives unsettled.
constexpr char kCreate[] = R"lua(
redis.call('HSET', KEYS[1], 'status', 'PENDING', 'body', ARGV[2], 'created', ARGV[3], 'attempts', 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
)lua";

// KEYS: pending set. ARGV: now_ms, new deadline, most, key prefix,
// max attempts. Returns id, body, id, body, ... of the tasks leased again.
constexpr char kReclaim[] = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if redis.call('HGET', key, 'status') ~= 'PENDING' then
    redis.call('ZREM', KEYS[1], id)
  else
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    if attempts > tonumber(ARGV[5]) then
      redis.call('HSET', key, 'status', 'FAILURE', 'finished', ARGV[1],
                 'reason', 'poison: leased ' .. (attempts - 1) .. ' times without an answer')
      redis.call('HDEL', key, 'body')
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('ZADD', KEYS[1], ARGV[2], id)
      table.insert(out, id)
      table.insert(out, redis.call('HGET', key, 'body'))
    end
  end
end
return out
)lua";

// KEYS: task hash, pending set. ARGV: id, state, field, value, now_ms, ttl_s.
constexpr char kSettle[] = R"lua(
if redis.call('HGET', KEYS[1], 'status') ~= 'PENDING' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4], 'finished', ARGV[5])
redis.call('HDEL', KEYS[1], 'body')
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

std::string NewTaskId() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t bits = random();
    for (size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xf];
  }
  return id;
}

}  // namespace

TaskStore::TaskStore(TaskStoreOptions options)
    : options_(std::move(options)),
      pending_key_(options_.prefix + "pending"),
      redis_(options_.redis),
      create_(kCreate),
      reclaim_(kReclaim),
      settle_(kSettle) {}

Result<std::string> TaskStore::Create(std::string_view body, int64_t now_ms) {
  std::string id = NewTaskId();
  const std::string key = TaskKey(id);
  const std::string now = std::to_string(now_ms);
  const std::string deadline = std::to_string(now_ms + options_.lease_ms);
  // Unsettled, a task lives through every lease it may get, and then its ttl.
  const std::string lives =
      std::to_string(options_.ttl_s + (options_.lease_ms * (options_.max_attempts + 1)) / 1000 + 1);
  Result<RedisReply> reply = redis_.Eval(&create_, 2, {key, pending_key_, id, body, now, deadline, lives});
  if (!reply.ok()) return reply.status().WithContext("cannot record the task");
  return id;
}

Result<std::vector<TaskStore::Leased>> TaskStore::Reclaim(int64_t now_ms, size_t most) {
  const std::string now = std::to_string(now_ms);
  const std::string deadline = std::to_string(now_ms + options_.lease_ms);
  const std::string count = std::to_string(most);
  const std::string attempts = std::to_string(options_.max_attempts);
  Result<RedisReply> reply =
      redis_.Eval(&reclaim_, 1, {pending_key_, now, deadline, count, options_.prefix + "task:", attempts});
  if (!reply.ok()) return reply.status().WithContext("cannot take over tasks");
  std::vector<Leased> out;
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out.push_back(Leased{std::string(ReplyText(r->element[i])), std::string(ReplyText(r->element[i + 1]))});
  }
  return out;
}

Result<bool> TaskStore::Settle(std::string_view id, std::string_view state, std::string_view field,
                               std::string_view value, int64_t now_ms) {
  const std::string key = TaskKey(id);
  const std::string now = std::to_string(now_ms);
  const std::string ttl = std::to_string(options_.ttl_s);
  Result<RedisReply> reply = redis_.Eval(&settle_, 2, {key, pending_key_, id, state, field, value, now, ttl});
  if (!reply.ok()) return reply.status().WithContext("cannot settle task " + std::string(id));
  return reply->get()->type == REDIS_REPLY_INTEGER && reply->get()->integer == 1;
}

Result<bool> TaskStore::Complete(std::string_view id, std::string_view results, int64_t now_ms) {
  return Settle(id, "SUCCESS", "results", results, now_ms);
}

Result<bool> TaskStore::Fail(std::string_view id, std::string_view reason, int64_t now_ms) {
  return Settle(id, "FAILURE", "reason", reason, now_ms);
}

Result<TaskStore::View> TaskStore::Get(std::string_view id) {
  const std::string key = TaskKey(id);
  Result<RedisReply> reply = redis_.Command({"HMGET", key, "status", "results", "reason"});
  if (!reply.ok()) return reply.status().WithContext("cannot read task " + std::string(id));
  View view;
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING)
    return view;
  const std::string_view state = ReplyText(r->element[0]);
  if (state == "PENDING") view.state = View::State::kPending;
  if (state == "SUCCESS") view.state = View::State::kSuccess;
  if (state == "FAILURE") view.state = View::State::kFailure;
  view.results = std::string(ReplyText(r->element[1]));
  view.reason = std::string(ReplyText(r->element[2]));
  return view;
}

}  // namespace scorepipe
