// RedisListQueue: the upstream's Redis lists, with leases kept in Redis.
//
// Producers LPUSH to the input list and consumers of our output and
// dead-letter lists RPOP, so each list's first pushed is its first popped.
// Beside the input list `<input>` live:
//   <input>:scorepipe:inflight  ZSET lease id -> when it was last taken into
//                               (ms, from Redis TIME: bridges on different
//                               hosts share no clock)
//   <input>:scorepipe:lease:<id> LIST the lease's raw messages, oldest first
//   <input>:scorepipe:seq       INCR counter; a lease id is its decimal value.
//                               Created at the time in microseconds, so that
//                               a Redis restarted without its data does not
//                               hand out the ids of leases still held by
//                               bridges (their settlements must find nothing)
//   <input>:scorepipe:deliveries HASH lease id -> how many times its messages
//                               were handed out, for leases handed out more
//                               than once (Lease::deliveries; absent: 1)
// Every step is atomic: a Lua script (run by digest, EVALSHA), or for Settle
// an optimistic transaction:
//   Take     RPOP input <max>, RPUSH the messages to the lease, ZADD the lease
//            (opening it with INCR when its id is empty). Only when the input
//            is empty and `block_ms` > 0, `BLMOVE input input RIGHT RIGHT`
//            waits without taking (the message it returns stays in the input)
//            and the script runs again for it and what came with it. Nothing
//            is in flight during the wait. Take never leaves a lease that
//            holds nothing registered: the id stays empty then.
//   Settle   WATCH the lease key, check it is registered (ZSCORE) and holds
//            one message per outcome (LLEN), then MULTI: ZREM and DEL it,
//            HDEL its deliveries, LPUSH the results and dead letters in
//            order, EXEC. Anything that
//            ends or moves the lease meanwhile touches its key, so EXEC fails
//            and the check runs again. (Not a script: Lua would copy every
//            outcome in and out, most of Redis' time for a large batch.) A
//            lease no longer registered (settled, reclaimed, released)
//            publishes nothing: duplicates. A wrong number of outcomes is an
//            error and changes nothing (the lease stays, to be reclaimed
//            after the timeout). Two round trips.
//   Release  only if ZREM removes the lease: its messages go back to the
//            input's tail in their order, so the next RPOP takes them.
//   Reclaim  the oldest lease last taken into before now - older_than_ms is
//            RENAMEd to a new lease id (its old id unregistered, so its
//            holder's Settle publishes nothing); one lease per call; a lease
//            of more than `max` messages is split: the first `max` go to the
//            new lease, the rest to another new lease that stays expired for
//            the next call. Expired leases that hold nothing are dropped.
//            The new lease's deliveries are the old one's plus one.
// The scripts touch lease keys they derive from ids, so they need a
// standalone Redis (not Redis Cluster).
//
// Owns a RedisClient; one thread uses one instance.
#ifndef SCOREPIPE_QUEUE_REDIS_LIST_QUEUE_H_
#define SCOREPIPE_QUEUE_REDIS_LIST_QUEUE_H_

#include <span>
#include <string>
#include <vector>

#include "queue/queue.h"
#include "queue/redis_client.h"

namespace scorepipe {

class RedisListQueue final : public Queue {
 public:
  explicit RedisListQueue(QueueConfig config);

  Status Push(const std::vector<std::string>& messages) override;
  Status Append(const std::string& queue, const std::vector<std::string>& messages) override;
  Result<std::vector<std::string>> Peek(const std::string& queue, size_t max) override;
  // A Take into a lease that was reclaimed or settled meanwhile is an error
  // (its messages belong to another lease now): open a new lease.
  Status Take(size_t max, int block_ms, Lease* lease) override;
  Result<Settlement> Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) override;
  // One WATCH and one transaction for all of them.
  Result<std::vector<Settlement>> SettleMany(std::span<const SettleRequest> requests) override;
  Status Release(const Lease& lease) override;
  Status Reclaim(int older_than_ms, size_t max, Lease* out) override;
  // Exact: in_flight sums the lengths of the registered leases.
  Result<QueueDepth> Depth() override;
  std::string Describe() const override;

 private:
  std::string LeaseKey(const std::string& id) const { return lease_prefix_ + id; }
  // One take script: up to `max` messages into `lease`, without waiting.
  Status TakeNow(size_t max, Lease* lease);

  QueueConfig config_;
  bool drained_ = false;  // the last take found fewer than it asked for
  RedisClient client_;
  std::string inflight_key_;
  std::string seq_key_;
  std::string lease_prefix_;
  std::string deliveries_key_;
  RedisScript take_;
  RedisScript release_;
  RedisScript reclaim_;
  RedisScript depth_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_REDIS_LIST_QUEUE_H_
