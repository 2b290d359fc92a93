#include "queue/queue.h"

#include <string>

#include "queue/http_mq_queue.h"
#include "queue/redis_list_queue.h"
#include "queue/redis_stream_queue.h"

namespace scorepipe {

Result<std::vector<Settlement>> Queue::SettleMany(std::span<const SettleRequest> requests) {
  std::vector<Settlement> out;
  out.reserve(requests.size());
  for (const SettleRequest& r : requests) {
    Result<Settlement> settled = Settle(r.lease_id, r.outcomes);
    if (!settled.ok()) return settled.status();
    out.push_back(std::move(settled.value()));
  }
  return out;
}

Status Queue::CheckReclaimArguments(int older_than_ms, const std::string& context) {
  if (older_than_ms >= 0) return Status::Ok();
  return Status::Error(context + ": older_than_ms is " + std::to_string(older_than_ms) + "; allowed: >= 0");
}

Result<std::unique_ptr<Queue>> OpenQueue(const QueueConfig& config) {
  switch (config.kind) {
    case QueueKind::kRedisList:
      return std::unique_ptr<Queue>(std::make_unique<RedisListQueue>(config));
    case QueueKind::kRedisStream:
      return std::unique_ptr<Queue>(std::make_unique<RedisStreamQueue>(config));
    case QueueKind::kHttpMq:
      if (config.journal_dir.empty()) return Status::Error("queue.kind http-mq needs queue.journal_dir");
      return std::unique_ptr<Queue>(std::make_unique<HttpMqQueue>(config));
  }
  return Status::Error("unknown queue kind " + std::to_string(static_cast<int>(config.kind)));
}

}  // namespace scorepipe
