#include "queue/redis_list_queue.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace scorepipe {
namespace {

// Replies of a blocking command may take this long beyond its own timeout,
// and any other reply (a script settling a large batch) this long in all.
constexpr int kReplyGraceMs = 5000;
// Values per LPUSH/RPUSH: Lua's unpack() and a single command stay small.
constexpr size_t kPushChunk = 1000;
// A settlement whose lease changes between its check and its transaction
// looks again; this many times at most (each change ends or moves the lease,
// so the second look normally settles it).
constexpr int kSettleAttempts = 8;

// LPUSHes of the texts of `outcomes` routed `route`, in order (the first
// is the first a consumer's RPOP gets), in chunks.
void AppendPushes(const std::string& key, const std::vector<Outcome>& outcomes, Outcome::Route route,
                  std::vector<std::vector<std::string_view>>* commands) {
  std::vector<std::string_view>* push = nullptr;
  for (const Outcome& outcome : outcomes) {
    if (outcome.route != route) continue;
    if (push == nullptr || push->size() >= kPushChunk + 2) {
      push = &commands->emplace_back();
      push->reserve(std::min(outcomes.size(), kPushChunk) + 2);
      push->emplace_back("LPUSH");
      push->push_back(key);
    }
    push->push_back(outcome.text);
  }
}

// Shared by the scripts below. Time comes from the server: bridges on
// different hosts share no clock.
constexpr std::string_view kLuaPrelude = R"lua(
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A new lease id. A counter Redis lost (a restart without persistence)
-- starts again from the time in microseconds, not from 1: a lease from
-- before must not name one from after.
local function next_id(seq)
  if redis.call('EXISTS', seq) == 0 then redis.call('SET', seq, now_ms() * 1000) end
  return string.format('%d', redis.call('INCR', seq))
end
-- cmd key items[first..last], in chunks: unpack() has a small stack limit.
local function push(cmd, key, items, first, last)
  for i = first, last, 1000 do
    redis.call(cmd, key, unpack(items, i, math.min(i + 999, last)))
  end
end
-- Moves what the list `key` holds to the tail of `input`, so that RPOP takes
-- it next and in its order; returns how many.
local function give_back(input, key)
  local held = redis.call('LRANGE', key, 0, -1)
  local reversed = {}
  for i = #held, 1, -1 do reversed[#reversed + 1] = held[i] end
  push('RPUSH', input, reversed, 1, #reversed)
  redis.call('DEL', key)
  return #held
end
)lua";

// KEYS: input, inflight, seq. ARGV: lease id ('' opens one), max, lease key
// prefix.
// Returns {0} when the lease is no longer held, else {1, id, messages} (id
// '' when nothing came and no lease was opened).
constexpr std::string_view kTakeLua = R"lua(
local id = ARGV[1]
if id ~= '' and not redis.call('ZSCORE', KEYS[2], id) then return {0} end
local popped = redis.call('RPOP', KEYS[1], ARGV[2])
if not popped then
  popped = {}
  if id == '' then return {1, '', popped} end
end
if id == '' then id = next_id(KEYS[3]) end
push('RPUSH', ARGV[3] .. id, popped, 1, #popped)
redis.call('ZADD', KEYS[2], now_ms(), id)
return {1, id, popped}
)lua";

// KEYS: inflight, lease key, input, deliveries. ARGV: lease id. Returns the
// number of messages given back (0 when the lease was no longer held).
constexpr std::string_view kReleaseLua = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[4], ARGV[1])
return give_back(KEYS[3], KEYS[2])
)lua";

// KEYS: inflight, seq, deliveries. ARGV: older_than_ms, max (>= 1), lease key
// prefix. Returns {} when no expired lease holds anything, else {new id,
// messages, deliveries}. Expired leases holding nothing (their holder died
// waiting) are dropped on the way, up to 1000 a call. The deliveries hash
// holds the count of each lease handed out more than once (absent: 1); the
// new lease's is one more than the old one's, and the part of an old lease
// that stays behind keeps the old count.
constexpr std::string_view kReclaimLua = R"lua(
local now = now_ms()
local cutoff = now - tonumber(ARGV[1])
local max = tonumber(ARGV[2])
for _ = 1, 1000 do
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, 1)
  if #oldest == 0 then return {} end
  local old_id, taken_at = oldest[1], oldest[2]
  local old_key = ARGV[3] .. old_id
  local held = redis.call('LLEN', old_key)
  redis.call('ZREM', KEYS[1], old_id)
  local delivered = tonumber(redis.call('HGET', KEYS[3], old_id) or '1')
  redis.call('HDEL', KEYS[3], old_id)
  if held > 0 then
    local id = next_id(KEYS[2])
    local key = ARGV[3] .. id
    if held <= max then
      redis.call('RENAME', old_key, key)
    else
      local first = redis.call('LRANGE', old_key, 0, max - 1)
      redis.call('LTRIM', old_key, max, -1)
      push('RPUSH', key, first, 1, #first)
      local rest = next_id(KEYS[2])
      redis.call('RENAME', old_key, ARGV[3] .. rest)
      redis.call('ZADD', KEYS[1], taken_at, rest)
      if delivered > 1 then redis.call('HSET', KEYS[3], rest, delivered) end
    end
    redis.call('ZADD', KEYS[1], now, id)
    redis.call('HSET', KEYS[3], id, delivered + 1)
    return {id, redis.call('LRANGE', key, 0, -1), delivered + 1}
  end
end
return {}
)lua";

// KEYS: input, inflight. ARGV: lease key prefix. Returns {waiting, in_flight}.
constexpr std::string_view kDepthLua = R"lua(
local in_flight = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  in_flight = in_flight + redis.call('LLEN', ARGV[1] .. id)
end
return {redis.call('LLEN', KEYS[1]), in_flight}
)lua";

RedisScript Script(std::string_view body) {
  return RedisScript(std::string(kLuaPrelude) + std::string(body));
}

bool IsArray(const redisReply* reply, size_t elements) {
  return reply->type == REDIS_REPLY_ARRAY && reply->elements == elements;
}

bool IsInteger(const redisReply* reply) { return reply->type == REDIS_REPLY_INTEGER; }

void AppendStrings(const redisReply* array, std::vector<std::string>* out) {
  if (array->type != REDIS_REPLY_ARRAY) return;
  out->reserve(out->size() + array->elements);
  for (size_t i = 0; i < array->elements; ++i) out->emplace_back(ReplyText(array->element[i]));
}

Status Unexpected(const std::string& context, const char* script) {
  return Status::Error(context + ": unexpected reply from the " + std::string(script) + " script");
}

bool IsLeaseId(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

RedisListQueue::RedisListQueue(QueueConfig config)
    : config_(std::move(config)),
      client_(config_.redis),
      inflight_key_(config_.input + ":scorepipe:inflight"),
      seq_key_(config_.input + ":scorepipe:seq"),
      lease_prefix_(config_.input + ":scorepipe:lease:"),
      deliveries_key_(config_.input + ":scorepipe:deliveries"),
      take_(Script(kTakeLua)),
      release_(Script(kReleaseLua)),
      reclaim_(Script(kReclaimLua)),
      depth_(Script(kDepthLua)) {}

std::string RedisListQueue::Describe() const {
  return "redis-list " + client_.Address() + " input=" + config_.input + " output=" + config_.output +
         " dead_letter=" + config_.dead_letter;
}

Status RedisListQueue::Push(const std::vector<std::string>& messages) {
  return Append(config_.input, messages);
}

Status RedisListQueue::Append(const std::string& queue, const std::vector<std::string>& messages) {
  // LPUSH k a b puts b at the head: a, pushed first, is popped first.
  std::vector<std::vector<std::string_view>> pushes;
  for (size_t first = 0; first < messages.size(); first += kPushChunk) {
    const size_t last = std::min(messages.size(), first + kPushChunk);
    std::vector<std::string_view>& push = pushes.emplace_back();
    push.reserve(last - first + 2);
    push.emplace_back("LPUSH");
    push.push_back(queue);
    push.insert(push.end(), messages.begin() + static_cast<ptrdiff_t>(first),
                messages.begin() + static_cast<ptrdiff_t>(last));
  }
  if (pushes.empty()) return Status::Ok();
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto replies = client_.Pipeline(pushes);
  return replies.ok() ? Status::Ok() : replies.status().WithContext("pushing to " + queue);
}

Result<std::vector<std::string>> RedisListQueue::Peek(const std::string& queue, size_t max) {
  if (max == 0) return std::vector<std::string>{};
  const std::string last = std::to_string(max - 1);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  // The head of the list is the newest (LPUSH): its first `max`, read back to front.
  auto reply = client_.Command({"LRANGE", queue, "0", last});
  if (!reply.ok()) return reply.status().WithContext("reading " + queue);
  std::vector<std::string> messages;
  const redisReply* items = reply.value().get();
  for (size_t i = items->elements; i-- > 0;) messages.emplace_back(ReplyText(items->element[i]));
  return messages;
}

Status RedisListQueue::Take(size_t max, int block_ms, Lease* lease) {
  if (max == 0) return Status::Ok();
  const std::string context = "taking from " + config_.input;
  // After a take that emptied the input, the next one waits first: one round
  // trip less per batch when the producers are slower than the pipeline.
  if (!drained_ || block_ms <= 0) {
    const size_t before = lease->messages.size();
    if (Status s = TakeNow(max, lease); !s.ok()) return s.WithContext(context);
    if (lease->messages.size() > before || block_ms <= 0) return Status::Ok();
  }
  // The input is empty: wait without taking. BLMOVE of the input onto itself
  // (RIGHT to RIGHT) returns once a message is there and leaves it where it
  // was; the take script then takes it, and what came with it, into the
  // lease. Nothing is in flight while waiting, so a bridge killed here loses
  // nothing. BLMOVE's timeout is in seconds; 0 would be forever.
  client_.SetReadTimeoutMs(block_ms + kReplyGraceMs);
  const std::string timeout = std::to_string(block_ms / 1000.0);
  auto waited = client_.Command({"BLMOVE", config_.input, config_.input, "RIGHT", "RIGHT", timeout});
  if (!waited.ok()) return waited.status().WithContext(context);
  if (waited.value()->type != REDIS_REPLY_STRING) return Status::Ok();  // nothing came in time
  return TakeNow(max, lease).WithContext(context);
}

Status RedisListQueue::TakeNow(size_t max, Lease* lease) {
  const std::string count = std::to_string(max);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto taken =
      client_.Eval(&take_, 3, {config_.input, inflight_key_, seq_key_, lease->id, count, lease_prefix_});
  if (!taken.ok()) return taken.status();
  const redisReply* reply = taken.value().get();
  if (IsArray(reply, 1) && IsInteger(reply->element[0]) && reply->element[0]->integer == 0) {
    const std::string lost = lease->id;
    *lease = Lease{};  // its messages are someone else's now
    return Status::Error("lease " + lost + " is no longer held (reclaimed or settled)");
  }
  if (!IsArray(reply, 3) || !IsInteger(reply->element[0]))
    return Status::Error("unexpected reply from the take script");
  lease->id = ReplyText(reply->element[1]);
  if (lease->deliveries == 0 && !lease->id.empty()) lease->deliveries = 1;
  const size_t got = reply->element[2]->type == REDIS_REPLY_ARRAY ? reply->element[2]->elements : 0;
  AppendStrings(reply->element[2], &lease->messages);
  drained_ = got < max;
  return Status::Ok();
}

Result<Settlement> RedisListQueue::Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) {
  const SettleRequest one{lease_id, outcomes};  // a copy; the sink's path, SettleMany, makes none
  Result<std::vector<Settlement>> settled = SettleMany(std::span<const SettleRequest>(&one, 1));
  if (!settled.ok()) return settled.status();
  return std::move(settled.value().front());
}

Result<std::vector<Settlement>> RedisListQueue::SettleMany(std::span<const SettleRequest> requests) {
  auto context = [&](const std::string& lease_id) {
    return "settling lease '" + lease_id + "' of " + config_.input;
  };
  std::vector<Settlement> out(requests.size());
  std::vector<size_t> open;  // the requests to look up in Redis
  for (size_t i = 0; i < requests.size(); ++i) {
    const SettleRequest& r = requests[i];
    if (r.lease_id.empty() && r.outcomes.empty()) continue;  // a lease never opened
    if (!IsLeaseId(r.lease_id)) {
      out[i].refused = context(r.lease_id) + ": not a lease id of this queue";
      continue;
    }
    open.push_back(i);
  }
  if (open.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(open.size());
  for (size_t i : open) keys.push_back(LeaseKey(requests[i].lease_id));

  // An optimistic transaction instead of a script: a script would copy every
  // outcome into Lua and back (two thirds of Redis' time for a settle of 512
  // in the benchmark), MULTI/EXEC hands them to LPUSH as they are. WATCH on
  // the lease keys makes EXEC fail if anyone touched a lease meanwhile
  // (another settlement of it, a reclaim renaming it, a release): then the
  // checks run again and see the lease gone.
  const std::string what = open.size() == 1
                               ? context(requests[open[0]].lease_id)
                               : "settling " + std::to_string(open.size()) + " leases of " + config_.input;
  for (int attempt = 0; attempt < kSettleAttempts; ++attempt) {
    std::vector<std::vector<std::string_view>> checks;
    checks.reserve(1 + 2 * open.size());
    std::vector<std::string_view>& watch = checks.emplace_back();
    watch.push_back("WATCH");
    watch.insert(watch.end(), keys.begin(), keys.end());
    for (size_t k = 0; k < open.size(); ++k) {
      checks.push_back({"ZSCORE", inflight_key_, requests[open[k]].lease_id});
      checks.push_back({"LLEN", keys[k]});
    }
    client_.SetReadTimeoutMs(kReplyGraceMs);
    auto checked = client_.Exchange(checks);
    if (!checked.ok()) return checked.status().WithContext(what);
    const std::vector<RedisReply>& c = checked.value();
    if (c[0]->type == REDIS_REPLY_ERROR) return client_.ReplyError("WATCH", c[0].get()).WithContext(what);

    std::vector<std::vector<std::string_view>> commands = {{"MULTI"}};
    std::vector<size_t> settling;
    for (size_t k = 0; k < open.size(); ++k) {
      const size_t i = open[k];
      const size_t n = requests[i].outcomes.size();
      const bool held = c[1 + 2 * k]->type != REDIS_REPLY_NIL;
      const long long holds = IsInteger(c[2 + 2 * k].get()) ? c[2 + 2 * k]->integer : -1;
      out[i] = Settlement{};
      if (!held) {
        out[i].duplicates = n;  // settled or reclaimed before
        continue;
      }
      if (holds != static_cast<long long>(n)) {
        out[i].refused = context(requests[i].lease_id) + ": the lease holds " + std::to_string(holds) +
                         " messages, got " + std::to_string(n) +
                         " outcomes; nothing published (the lease is reclaimed after the in-flight timeout)";
        continue;
      }
      settling.push_back(i);
      commands.push_back({"ZREM", inflight_key_, requests[i].lease_id});
      commands.push_back({"DEL", keys[k]});
      commands.push_back({"HDEL", deliveries_key_, requests[i].lease_id});
      AppendPushes(config_.output, requests[i].outcomes, Outcome::Route::kResult, &commands);
      AppendPushes(config_.dead_letter, requests[i].outcomes, Outcome::Route::kDeadLetter, &commands);
    }
    if (settling.empty()) {
      if (auto unwatched = client_.Command({"UNWATCH"}); !unwatched.ok())
        return unwatched.status().WithContext(what);
      return out;
    }
    commands.push_back({"EXEC"});
    auto done = client_.Exchange(commands);
    if (!done.ok()) return done.status().WithContext(what);
    const redisReply* exec = done.value().back().get();
    if (exec->type == REDIS_REPLY_NIL) continue;  // a lease changed under us: look again
    if (exec->type != REDIS_REPLY_ARRAY) {
      for (const RedisReply& r : done.value()) {
        if (r->type == REDIS_REPLY_ERROR)
          return client_.ReplyError("settle transaction", r.get()).WithContext(what);
      }
      return Unexpected(what, "settle transaction");
    }
    for (size_t i : settling) out[i].published = requests[i].outcomes.size();
    return out;
  }
  return Status::Error(what + ": the leases kept changing under " + std::to_string(kSettleAttempts) +
                       " attempts to settle them");
}

Status RedisListQueue::Release(const Lease& lease) {
  if (lease.id.empty()) return Status::Ok();
  const std::string context = "releasing lease '" + lease.id + "' of " + config_.input;
  if (!IsLeaseId(lease.id)) return Status::Error(context + ": not a lease id of this queue");
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto released = client_.Eval(&release_, 4,
                               {inflight_key_, LeaseKey(lease.id), config_.input, deliveries_key_, lease.id});
  return released.ok() ? Status::Ok() : released.status().WithContext(context);
}

Status RedisListQueue::Reclaim(int older_than_ms, size_t max, Lease* out) {
  *out = Lease{};
  const std::string context = "reclaiming leases of " + config_.input;
  if (Status checked = CheckReclaimArguments(older_than_ms, context); !checked.ok()) return checked;
  if (max == 0) return Status::Ok();
  const std::string older_than = std::to_string(older_than_ms);
  const std::string count = std::to_string(max);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto reclaimed = client_.Eval(&reclaim_, 3,
                                {inflight_key_, seq_key_, deliveries_key_, older_than, count, lease_prefix_});
  if (!reclaimed.ok()) return reclaimed.status().WithContext(context);
  const redisReply* reply = reclaimed.value().get();
  if (IsArray(reply, 0)) return Status::Ok();
  if (!IsArray(reply, 3) || !IsInteger(reply->element[2])) return Unexpected(context, "reclaim");
  out->id = ReplyText(reply->element[0]);
  AppendStrings(reply->element[1], &out->messages);
  out->deliveries = static_cast<uint32_t>(std::clamp<long long>(reply->element[2]->integer, 1, UINT32_MAX));
  return Status::Ok();
}

Result<QueueDepth> RedisListQueue::Depth() {
  const std::string context = "measuring " + config_.input;
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto depth = client_.Eval(&depth_, 2, {config_.input, inflight_key_, lease_prefix_});
  if (!depth.ok()) return depth.status().WithContext(context);
  const redisReply* reply = depth.value().get();
  if (!IsArray(reply, 2) || !IsInteger(reply->element[0]) || !IsInteger(reply->element[1])) {
    return Unexpected(context, "depth");
  }
  return QueueDepth{reply->element[0]->integer, reply->element[1]->integer};
}

}  // namespace scorepipe
