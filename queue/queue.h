// Queue: the external message queue that scorepipe drains and answers on,
// with an exactly-once effect.
//
// Every message taken from the input is, atomically with the taking, held in
// flight in the queue itself under a lease. Settling a lease publishes its
// outcomes (results and dead-letter entries) and ends the lease, again
// atomically, and only for messages still held by that lease: a duplicate
// (a batch re-dispatched after its worker looked dead, which the slow worker
// also finished) publishes nothing. A lease nobody settles (its holder died,
// stalled, or lost the batch) is reclaimed by any bridge after the in-flight
// timeout and its messages go round again under a new lease. So whatever
// process dies, every message ends as exactly one result or one dead-letter
// entry, as long as the queue itself keeps its data (Redis persistence).
// (http-mq keeps the leases in a local journal beside a queue that cannot:
// at-least-once there, see queue/http_mq_queue.h.)
//
// One implementation per `queue.kind`; all of them pass the same contract
// tests (tests/queue/queue_contract_test.cc).
//
// An instance owns its connection; one thread uses one instance.
#ifndef SCOREPIPE_QUEUE_QUEUE_H_
#define SCOREPIPE_QUEUE_QUEUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// Messages held in flight. `id` is opaque outside the implementation and
// travels with the batch (TransactionBatch::lease); empty until the first
// Take opens the lease.
struct Lease {
  std::string id;
  std::vector<std::string> messages;  // oldest first
  // How many times these messages have been handed out under a lease: 1 for
  // a Take, one more than the stale lease's for each Reclaim (the count is
  // kept in the queue beside the lease, so it survives every process). The
  // bridge dead-letters a reclaimed lease past queue.max_deliveries instead
  // of sending it round again (docs/architecture.md, "Poison").
  uint32_t deliveries = 0;
};

// What became of one leased message.
struct Outcome {
  enum class Route : uint8_t { kResult, kDeadLetter };
  Route route = Route::kResult;
  std::string text;  // the result JSON or the dead-letter entry JSON
};

struct Settlement {
  size_t published = 0;   // outcomes written to the output / dead-letter queue
  size_t duplicates = 0;  // outcomes dropped: their messages were no longer held by the lease
  // Non-empty when the outcomes cannot settle the lease at all (not one per
  // message, or not a lease of this queue): says why. Nothing was published;
  // a retry would fail the same way, and the lease (if any) comes back after
  // the in-flight timeout.
  std::string refused;
  // When `refused` is about one outcome that the output would not take (the
  // http-mq service's 400 names the message), its index in the lease's
  // outcomes: the sink dead-letters that outcome with the reason and settles
  // again, so one unwritable result never holds the lease's others.
  std::optional<size_t> refused_index;
};

// One lease's outcomes, for Queue::SettleMany.
struct SettleRequest {
  std::string lease_id;
  std::vector<Outcome> outcomes;
};

struct QueueDepth {
  int64_t waiting = 0;    // input messages not yet taken; -1: the kind cannot tell (http-mq)
  int64_t in_flight = 0;  // messages held by leases (http-mq: pulled and not answered yet)
};

class Queue {
 public:
  virtual ~Queue() = default;

  // What an upstream producer does: appends messages to the input, in order
  // (the first is taken first). Used by `scorepipe push` and the tests.
  virtual Status Push(const std::vector<std::string>& messages) = 0;

  // Appends `messages` to another queue of the same kind and place, `queue`
  // (lists: LPUSH, streams: XADD under queue.stream_field, http-mq: push-n,
  // retried while the service is full for at most queue.push_retry_ms), in
  // order: the first is consumed first. Atomic with nothing else: for side
  // outputs such as queue.shadow, which may lose an append but never hold up
  // a settlement.
  virtual Status Append(const std::string& queue, const std::vector<std::string>& messages) = 0;

  // Up to `max` of the newest messages of `queue`, oldest first, left where
  // they are (lists: LRANGE, streams: XREVRANGE). http-mq cannot read without
  // removing: an error saying so.
  virtual Result<std::vector<std::string>> Peek(const std::string& queue, size_t max) = 0;

  // Takes up to `max` more input messages into `lease` (opening it when its id
  // is empty), oldest first, recording them as in flight in the same atomic
  // step. When the input is empty, waits up to `block_ms` for one (0: does
  // not wait; http-mq: waits for one answer of the service, which on an
  // empty queue comes after its long-poll wait). Nothing appended means
  // nothing arrived in time. When the
  // lease is no longer held (the caller stalled past the in-flight timeout
  // and it was reclaimed), Take clears `lease` (id and messages) and fails:
  // those messages are someone else's now.
  virtual Status Take(size_t max, int block_ms, Lease* lease) = 0;

  // Publishes the outcome of every message of the lease `lease_id` (one per
  // message, in lease order) and ends the lease, atomically; outcomes of
  // messages the lease no longer holds are dropped and counted as
  // duplicates. Each output keeps the given order (the first is consumed
  // first). Safe to retry after an error: a retry of a settlement that did
  // take effect reports duplicates. Outcomes that cannot fit the lease are
  // not an error but a Settlement with `refused` set, so that callers retry
  // only what may succeed later.
  virtual Result<Settlement> Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) = 0;

  // Settles several leases, each exactly as Settle would, in as few round
  // trips as the kind allows (lists: one transaction for them all), so that a
  // busy sink does not pay a round trip per batch. One Settlement per
  // request, in order. After an error some may have taken effect: a retry
  // reports those as duplicates. The default settles one by one.
  virtual Result<std::vector<Settlement>> SettleMany(std::span<const SettleRequest> requests);

  // Ends a lease that will not be settled (a stopping bridge's unsent batch)
  // so its messages are taken again as soon as possible, in their order.
  virtual Status Release(const Lease& lease) = 0;

  // Takes over up to `max` messages held by leases older than
  // `older_than_ms` (their holder died, stalled or lost them) into a new
  // lease `out` (empty when there are none); their old leases settle nothing
  // from then on.
  virtual Status Reclaim(int older_than_ms, size_t max, Lease* out) = 0;

  virtual Result<QueueDepth> Depth() = 0;

  // Where the queue lives, for log lines.
  virtual std::string Describe() const = 0;

 protected:
  // The argument check every Reclaim makes: an error naming `context` when
  // `older_than_ms` is negative.
  static Status CheckReclaimArguments(int older_than_ms, const std::string& context);
};

// Opens the queue `config` names (connecting lazily: a Redis that is not up
// yet is an error of the first call, not of this one).
Result<std::unique_ptr<Queue>> OpenQueue(const QueueConfig& config);

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_QUEUE_H_
