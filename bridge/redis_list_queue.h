// RedisListQueue: the upstream's Redis lists. Producers LPUSH to the input
// list; we take from its tail with `RPOP key count` (one round trip for many
// messages) and block with BRPOP only while it is empty; results and dead
// letters are LPUSHed so that consumers' RPOP sees them in order.
//
// Owns a RedisClient; one thread uses one instance.
#ifndef SCOREPIPE_BRIDGE_REDIS_LIST_QUEUE_H_
#define SCOREPIPE_BRIDGE_REDIS_LIST_QUEUE_H_

#include <string>
#include <vector>

#include "bridge/queue.h"
#include "bridge/redis_client.h"

namespace scorepipe {

class RedisListQueue final : public Queue {
 public:
  explicit RedisListQueue(QueueConfig config);

  Status Take(size_t max, int block_ms, std::vector<std::string>* out) override;
  Status GiveBack(const std::vector<std::string>& messages) override;
  Status Publish(const std::vector<std::string>& results,
                 const std::vector<std::string>& dead_letters) override;
  std::string Describe() const override;

 private:
  QueueConfig config_;
  RedisClient client_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_BRIDGE_REDIS_LIST_QUEUE_H_
