// Pushes synthetic upstream transactions into the input queue the way the
// upstream producers do, many per round trip (`scorepipe push`, the demo, the
// benchmark and the tests push with it).
//
// Two ways in: through a Queue (queue/queue.h: whatever queue.kind the
// topology names, Redis list or stream), which `scorepipe push` uses; and
// straight into a Redis list with LPUSH (oldest first out), which the demo
// and the tests that build their own lists use.
//
// Free functions; the caller owns the client, queue and generator, and uses
// them from one thread.
#ifndef SCOREPIPE_LOCAL_CLUSTER_SYNTHETIC_PUSH_H_
#define SCOREPIPE_LOCAL_CLUSTER_SYNTHETIC_PUSH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proto/status.h"
#include "queue/queue.h"
#include "queue/redis_client.h"
#include "training/synthetic.h"

namespace scorepipe {

// LPUSHes `messages` to `list` in chunks of `chunk`, in order (the first
// message is the first a consumer's RPOP gets).
Status PushMessages(RedisClient& client, const std::string& list, const std::vector<std::string>& messages,
                    size_t chunk = 1000);

// Pushes the next `count` transactions of `generator`.
Status PushSynthetic(RedisClient& client, const std::string& list, SyntheticTransactions& generator,
                     size_t count, size_t chunk = 1000);

// Called after each chunk with how many transactions are in the queue so
// far; returning false stops the push there.
using PushProgress = std::function<bool(size_t pushed)>;

// Pushes the next `count` transactions of `generator` into `queue`, `chunk`
// per Queue::Push (which bounds the memory a large push needs). A push that
// `progress` stopped fails with how many it had pushed.
Status PushSynthetic(Queue& queue, SyntheticTransactions& generator, size_t count, size_t chunk = 10000,
                     const PushProgress& progress = nullptr);

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_SYNTHETIC_PUSH_H_
