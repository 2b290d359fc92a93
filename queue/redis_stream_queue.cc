#include "queue/redis_stream_queue.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

namespace scorepipe {
namespace {

// Replies of a blocking command may take this long beyond its own timeout,
// and any other reply (a script settling a large batch) this long in all.
constexpr int kReplyGraceMs = 5000;

// KEYS: input, output, dead_letter. ARGV: group, field, routes (one byte per
// outcome: 'r' result, 'd' dead letter), then the n entry ids, then the n
// outcome texts. Returns {published, duplicates}. Per entry, XACK is the gate:
// it acknowledges only an entry still pending. (Naming the pending ones with
// one XCLAIM ... JUSTID and acknowledging them with one XACK costs Redis more,
// measured.) A missing group (Redis lost it) acknowledges nothing.
constexpr std::string_view kSettleLua = R"lua(
local group, field, routes = ARGV[1], ARGV[2], ARGV[3]
local n = string.len(routes)
local published = 0
for i = 1, n do
  if redis.call('XACK', KEYS[1], group, ARGV[3 + i]) == 1 then
    local destination = KEYS[2]
    if string.byte(routes, i) == 100 then destination = KEYS[3] end
    redis.call('XADD', destination, '*', field, ARGV[3 + n + i])
    published = published + 1
  end
end
return {published, n - published}
)lua";

bool IsError(const redisReply* reply, std::string_view code) {
  return reply->type == REDIS_REPLY_ERROR && ReplyText(reply).starts_with(code);
}

// "<ms>-<seq>", as XREADGROUP hands them out.
bool IsEntryId(std::string_view id) {
  const size_t dash = id.find('-');
  auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return dash != std::string_view::npos && digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

std::vector<std::string_view> SplitIds(std::string_view lease_id) {
  std::vector<std::string_view> ids;
  while (!lease_id.empty()) {
    const size_t space = lease_id.find(' ');
    ids.push_back(lease_id.substr(0, space));
    if (space == std::string_view::npos) break;
    lease_id.remove_prefix(space + 1);
  }
  return ids;
}

std::string ConsumerName() {
  static std::atomic<int> instances{0};
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "scorepipe") + "-" + std::to_string(getpid()) + "-" +
         std::to_string(++instances);
}

// The value of `name` in a flat [name, value, name, value...] array, or null.
const redisReply* Field(const redisReply* pairs, std::string_view name) {
  if (pairs == nullptr || pairs->type != REDIS_REPLY_ARRAY) return nullptr;
  for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
    if (ReplyText(pairs->element[i]) == name) return pairs->element[i + 1];
  }
  return nullptr;
}

}  // namespace

RedisStreamQueue::RedisStreamQueue(QueueConfig config)
    : config_(std::move(config)),
      client_(config_.redis),
      consumer_(ConsumerName()),
      settle_(std::string(kSettleLua)) {}

std::string RedisStreamQueue::Describe() const {
  return "redis-stream " + client_.Address() + " input=" + config_.input + " group=" + config_.group +
         " output=" + config_.output + " dead_letter=" + config_.dead_letter;
}

Status RedisStreamQueue::CreateGroup() {
  auto created = client_.Exchange({{"XGROUP", "CREATE", config_.input, config_.group, "0", "MKSTREAM"}});
  if (!created.ok()) return created.status();
  const redisReply* reply = created.value().front().get();
  if (reply->type == REDIS_REPLY_ERROR && !IsError(reply, "BUSYGROUP")) {
    return client_.ReplyError("XGROUP CREATE", reply);
  }
  group_ready_ = true;
  return Status::Ok();
}

Result<RedisReply> RedisStreamQueue::GroupCommand(const std::vector<std::string_view>& command) {
  for (int attempt = 0;; ++attempt) {
    if (!group_ready_) {
      if (Status s = CreateGroup(); !s.ok()) return s;
    }
    auto replies = client_.Exchange({command});
    if (!replies.ok()) return replies.status();
    RedisReply reply = std::move(replies.value().front());
    // NOGROUP: Redis restarted without its data, or the stream was deleted.
    if (IsError(reply.get(), "NOGROUP") && attempt == 0) {
      group_ready_ = false;
      continue;
    }
    if (reply->type == REDIS_REPLY_ERROR) return client_.ReplyError(command.front(), reply.get());
    return reply;
  }
}

void RedisStreamQueue::AppendEntries(const redisReply* entries, Lease* lease) const {
  if (entries->type != REDIS_REPLY_ARRAY) return;
  lease->messages.reserve(lease->messages.size() + entries->elements);
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 1) continue;
    if (!lease->id.empty()) lease->id += ' ';
    lease->id += ReplyText(entry->element[0]);
    const redisReply* message =
        Field(entry->elements > 1 ? entry->element[1] : nullptr, config_.stream_field);
    lease->messages.emplace_back(
        message != nullptr && message->type == REDIS_REPLY_STRING ? ReplyText(message) : std::string_view());
  }
}

Status RedisStreamQueue::Push(const std::vector<std::string>& messages) {
  return Append(config_.input, messages);
}

Status RedisStreamQueue::Append(const std::string& queue, const std::vector<std::string>& messages) {
  if (messages.empty()) return Status::Ok();
  std::vector<std::vector<std::string_view>> adds;
  adds.reserve(messages.size());
  for (const std::string& message : messages) {
    adds.push_back({"XADD", queue, "*", config_.stream_field, message});
  }
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto replies = client_.Pipeline(adds);
  return replies.ok() ? Status::Ok() : replies.status().WithContext("pushing to " + queue);
}

Result<std::vector<std::string>> RedisStreamQueue::Peek(const std::string& queue, size_t max) {
  if (max == 0) return std::vector<std::string>{};
  const std::string count = std::to_string(max);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto reply = client_.Command({"XREVRANGE", queue, "+", "-", "COUNT", count});
  if (!reply.ok()) return reply.status().WithContext("reading " + queue);
  Lease newest_first;  // AppendEntries' shape: the entries' messages in reply order
  AppendEntries(reply.value().get(), &newest_first);
  return std::vector<std::string>(newest_first.messages.rbegin(), newest_first.messages.rend());
}

Status RedisStreamQueue::Take(size_t max, int block_ms, Lease* lease) {
  if (max == 0) return Status::Ok();
  const size_t before = lease->messages.size();
  if (lease->deliveries == 0) lease->deliveries = 1;
  if (Status s = Read(max, block_ms, lease); !s.ok()) return s;
  // A wait ends with the first entry that arrives; those added right behind
  // it (a producer's pipeline of XADDs) join the same lease.
  const size_t got = lease->messages.size() - before;
  if (block_ms > 0 && got > 0 && got < max) return Read(max - got, 0, lease);
  return Status::Ok();
}

Status RedisStreamQueue::Read(size_t max, int block_ms, Lease* lease) {
  const std::string count = std::to_string(max);
  const std::string block = std::to_string(block_ms);
  std::vector<std::string_view> command = {"XREADGROUP", "GROUP", config_.group, consumer_, "COUNT", count};
  if (block_ms > 0) command.insert(command.end(), {"BLOCK", block});
  command.insert(command.end(), {"STREAMS", config_.input, ">"});
  client_.SetReadTimeoutMs(std::max(block_ms, 0) + kReplyGraceMs);
  auto read = GroupCommand(command);
  if (!read.ok()) return read.status().WithContext("taking from " + config_.input);
  // Nil when nothing came; else [[stream, [[id, [field, value, ...]], ...]]].
  const redisReply* reply = read.value().get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return Status::Ok();
  const redisReply* stream = reply->element[0];
  if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2) AppendEntries(stream->element[1], lease);
  return Status::Ok();
}

Result<Settlement> RedisStreamQueue::Settle(const std::string& lease_id,
                                            const std::vector<Outcome>& outcomes) {
  const std::string context = "settling a lease of " + config_.input;
  const std::vector<std::string_view> ids = SplitIds(lease_id);
  if (ids.size() != outcomes.size()) {
    Settlement refused;
    refused.refused = context + ": the lease holds " + std::to_string(ids.size()) + " messages, got " +
                      std::to_string(outcomes.size()) + " outcomes; nothing published";
    return refused;
  }
  if (ids.empty()) return Settlement{};
  for (std::string_view id : ids) {
    if (!IsEntryId(id)) {
      Settlement refused;
      refused.refused = context + ": '" + std::string(id) + "' is not a stream entry id";
      return refused;
    }
  }
  std::string routes;
  routes.reserve(outcomes.size());
  for (const Outcome& outcome : outcomes) {
    routes.push_back(outcome.route == Outcome::Route::kDeadLetter ? 'd' : 'r');
  }
  std::vector<std::string_view> args = {config_.input, config_.output,       config_.dead_letter,
                                        config_.group, config_.stream_field, routes};
  args.reserve(args.size() + 2 * outcomes.size());
  args.insert(args.end(), ids.begin(), ids.end());
  for (const Outcome& outcome : outcomes) args.push_back(outcome.text);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto settled = client_.Eval(&settle_, 3, args);
  if (!settled.ok()) return settled.status().WithContext(context);
  const redisReply* reply = settled.value().get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_INTEGER) {
    return Status::Error(context + ": unexpected reply from the settle script");
  }
  Settlement done;
  done.published = static_cast<size_t>(reply->element[0]->integer);
  done.duplicates = static_cast<size_t>(reply->element[1]->integer);
  return done;
}

Status RedisStreamQueue::Release(const Lease& /*lease*/) {
  // Nothing to do: a stream cannot un-read; the entries stay pending and
  // Reclaim hands them out again after the in-flight timeout.
  return Status::Ok();
}

Status RedisStreamQueue::Reclaim(int older_than_ms, size_t max, Lease* out) {
  *out = Lease{};
  const std::string context = "reclaiming entries of " + config_.input;
  if (Status checked = CheckReclaimArguments(older_than_ms, context); !checked.ok()) return checked;
  if (max == 0) return Status::Ok();
  const std::string older_than = std::to_string(older_than_ms);
  const std::string count = std::to_string(max);
  client_.SetReadTimeoutMs(kReplyGraceMs);
  // A call that started mid-way and found nothing goes round once from the start.
  for (int pass = 0; pass < 2; ++pass) {
    const std::string start = reclaim_cursor_;
    auto claimed = GroupCommand(
        {"XAUTOCLAIM", config_.input, config_.group, consumer_, older_than, start, "COUNT", count});
    if (!claimed.ok()) return claimed.status().WithContext(context);
    // [next cursor, [[id, [field, value, ...]], ...], [deleted ids]]
    const redisReply* reply = claimed.value().get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
      return Status::Error(context + ": unexpected reply to XAUTOCLAIM");
    }
    reclaim_cursor_ = ReplyText(reply->element[0]);
    if (reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_ARRAY &&
        reply->element[2]->elements > 0) {
      spdlog::warn(
          "{}: {} pending entries were deleted from the stream before they were answered (first: {})",
          context, reply->element[2]->elements, ReplyText(reply->element[2]->element[0]));
    }
    AppendEntries(reply->element[1], out);
    if (!out->messages.empty() || start == "0-0") break;
  }
  if (out->messages.empty()) return Status::Ok();
  return ReadDeliveries(out).WithContext(context);
}

Status RedisStreamQueue::ReadDeliveries(Lease* lease) {
  // The group counts each entry's deliveries in its PEL (XREADGROUP 1,
  // each XAUTOCLAIM one more); the lease's count is its entries' highest.
  // One XPENDING per entry, pipelined: one round trip.
  const std::vector<std::string_view> ids = SplitIds(lease->id);
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(ids.size());
  for (std::string_view id : ids) commands.push_back({"XPENDING", config_.input, config_.group, id, id, "1"});
  auto replies = client_.Exchange(commands);
  if (!replies.ok()) return replies.status();
  uint32_t most = 1;
  for (const RedisReply& reply : replies.value()) {
    if (reply->type == REDIS_REPLY_ERROR) return client_.ReplyError("XPENDING", reply.get());
    // [[id, consumer, idle ms, deliveries]], or [] for an entry acknowledged since
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) continue;
    const redisReply* entry = reply->element[0];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 4 ||
        entry->element[3]->type != REDIS_REPLY_INTEGER) {
      return Status::Error("unexpected reply to XPENDING");
    }
    most = std::max<uint32_t>(
        most, static_cast<uint32_t>(std::clamp<long long>(entry->element[3]->integer, 1, UINT32_MAX)));
  }
  lease->deliveries = most;
  return Status::Ok();
}

Result<QueueDepth> RedisStreamQueue::Depth() {
  const std::string context = "measuring " + config_.input;
  client_.SetReadTimeoutMs(kReplyGraceMs);
  auto info = client_.Exchange({{"XINFO", "GROUPS", config_.input}, {"XLEN", config_.input}});
  if (!info.ok()) return info.status().WithContext(context);
  const redisReply* groups = info.value()[0].get();
  const redisReply* length = info.value()[1].get();
  if (length->type != REDIS_REPLY_INTEGER) return client_.ReplyError("XLEN", length).WithContext(context);
  if (groups->type == REDIS_REPLY_ERROR) {
    if (IsError(groups, "ERR no such key")) return QueueDepth{};
    return client_.ReplyError("XINFO GROUPS", groups).WithContext(context);
  }
  QueueDepth depth{length->integer, 0};  // no group yet: everything waits
  for (size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i < groups->elements; ++i) {
    const redisReply* group = groups->element[i];
    if (ReplyText(Field(group, "name")) != config_.group) continue;
    const redisReply* pending = Field(group, "pending");
    const redisReply* lag = Field(group, "lag");
    if (pending != nullptr && pending->type == REDIS_REPLY_INTEGER) depth.in_flight = pending->integer;
    // Lag is nil when deletions leave Redis unable to tell; XLEN overstates it then.
    if (lag != nullptr && lag->type == REDIS_REPLY_INTEGER) depth.waiting = lag->integer;
  }
  return depth;
}

}  // namespace scorepipe
