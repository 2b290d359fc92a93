// RedisStreamQueue: Redis Streams read in a consumer group.
//
// Producers XADD to the input stream, each entry holding one message in the
// field `stream_field`; results and dead letters are XADDed the same way to
// the output and dead-letter streams. The consumer group `group` (created at
// the start of the input, MKSTREAM, on first use and again when Redis lost it)
// is the in-flight record: XREADGROUP hands out entries and enters them in
// the group's pending entries list (PEL) in the same step.
//   Take     XREADGROUP ... COUNT max [BLOCK block_ms] STREAMS input >: one
//            round trip whether it waits or not. A lease id is its entry ids
//            joined by single spaces, in order. An entry without the field (or
//            with a non-string value) gives the message "" (unparseable, so
//            it is dead-lettered).
//   Settle   one Lua script (EVALSHA): per entry, XACK, and only if that
//            acknowledged it (it was still pending) XADD its outcome. The gate
//            is per entry: whichever lease holding an entry settles first
//            publishes it; later settlements of it count as duplicates. So
//            unlike the list kind, a lease whose entries were reclaimed still
//            publishes the ones the new lease has not settled yet: still
//            exactly once.
//   Release  streams cannot un-read: the entries stay pending and are
//            reclaimed once they are older than the in-flight timeout.
//   Reclaim  XAUTOCLAIM input group <consumer> older_than_ms <cursor> COUNT
//            max, resuming where the last call stopped and starting over once
//            it has been round; entries deleted from the stream while pending
//            cannot be answered and are logged. The lease's deliveries are
//            the highest delivery count in the PEL of its entries (XPENDING
//            over them: one more round trip, only when something came back).
//   Depth    waiting is the group's lag (XINFO GROUPS; XLEN when Redis cannot
//            tell, after deletions), in flight its pending count.
// The consumer name is "<hostname>-<pid>-<n>", unique per instance.
//
// Owns a RedisClient; one thread uses one instance.
#ifndef SCOREPIPE_QUEUE_REDIS_STREAM_QUEUE_H_
#define SCOREPIPE_QUEUE_REDIS_STREAM_QUEUE_H_

#include <string>
#include <string_view>
#include <vector>

#include "queue/queue.h"
#include "queue/redis_client.h"

namespace scorepipe {

class RedisStreamQueue final : public Queue {
 public:
  explicit RedisStreamQueue(QueueConfig config);

  Status Push(const std::vector<std::string>& messages) override;
  Status Append(const std::string& queue, const std::vector<std::string>& messages) override;
  Result<std::vector<std::string>> Peek(const std::string& queue, size_t max) override;
  Status Take(size_t max, int block_ms, Lease* lease) override;
  Result<Settlement> Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) override;
  Status Release(const Lease& lease) override;
  Status Reclaim(int older_than_ms, size_t max, Lease* out) override;
  Result<QueueDepth> Depth() override;
  std::string Describe() const override;

  const std::string& consumer() const { return consumer_; }

 private:
  // Sets lease->deliveries from the PEL of its entries.
  Status ReadDeliveries(Lease* lease);
  // One XREADGROUP of up to `max` new entries into `lease`, waiting up to
  // `block_ms` (0: not at all).
  Status Read(size_t max, int block_ms, Lease* lease);
  // Creates the group if it does not exist.
  Status CreateGroup();
  // Runs a group command, creating the group first when it is missing.
  Result<RedisReply> GroupCommand(const std::vector<std::string_view>& command);
  // Appends the entries of an XREADGROUP/XAUTOCLAIM entry array to `lease`.
  void AppendEntries(const redisReply* entries, Lease* lease) const;

  QueueConfig config_;
  RedisClient client_;
  std::string consumer_;
  bool group_ready_ = false;
  std::string reclaim_cursor_ = "0-0";
  RedisScript settle_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_REDIS_STREAM_QUEUE_H_
