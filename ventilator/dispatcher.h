// Dispatcher: the ventilator's bookkeeping, without sockets. It knows which
// workers are alive, how many batches each may still take (credit), and
// which batch is where (the in-flight ledger), and decides what goes where.
//
// Flow control is credit-based: a worker announces how many batches it can
// hold (WorkerReady), every batch sent uses one credit, every BatchDone gives
// one back. So a batch only ever goes to a worker that asked for it, never
// into the pipe of a peer that died: no work piles up where it can be lost.
//
// Every batch sent is in the ledger until its worker says it is done. A batch
// goes back to the front of the queue, to be sent to a living worker, when
// - its worker is dead: silent (no heartbeat, no message) for longer than
//   `dead_after`, gone (a send to it failed), leaving (it said so), or
//   replaced (the same worker id announced itself on another connection:
//   a new process, or the same one connected again);
// - it is overdue: not done `batch_timeout` after it was sent (lost in a
//   pipe, stuck in a hung worker).
// A worker that finishes a batch after it was re-dispatched only produces a
// duplicate result, which the queue's lease drops (queue/queue.h).
// A batch taken back `max_attempts` times (it kills or hangs every worker
// that scores it: a poison batch), or one a worker refused (BatchDone with a
// reason: it could not decode it), is not sent again but handed to the
// caller (TakePoisoned), which cuts it into parts sent as new batches
// (EnqueueFront, with fewer attempts each) until the messages that fail are
// alone, and dead-letters those (docs/architecture.md, "Poison").
//
// Online batches (from gateways; docs/architecture.md, "Online scoring") go
// the same way with three differences: they are sent before the bridge's
// (a caller waits on each), their results come back through the ventilator
// to the gateway that sent them (TakeReturnAddress: once per batch, so a
// re-dispatched batch answers its caller once), and one still queued when
// its caller's timeout has passed is dropped.
//
// Time is passed in, so tests drive it. One thread owns a Dispatcher.
#ifndef SCOREPIPE_VENTILATOR_DISPATCHER_H_
#define SCOREPIPE_VENTILATOR_DISPATCHER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "proto/messages.h"

namespace scorepipe {

using SteadyClock = std::chrono::steady_clock;

struct WorkerView {
  std::string routing_id;  // the worker's ZeroMQ identity: "<worker id>#<session>"
  std::string worker_id;
  std::string host;
  int64_t pid = 0;
  uint64_t session = 0;
  WorkerState state = WorkerState::kActive;
  uint32_t credit = 0;
  size_t in_flight = 0;                    // batches in the ledger for this worker
  SteadyClock::time_point last_seen;       // last message of any kind
  SteadyClock::time_point last_heartbeat;  // last heartbeat (zero: none yet)
  SteadyClock::time_point joined;
  SteadyClock::time_point last_sent;   // when it was last sent a batch
  uint64_t batches_done = 0;           // BatchDones received from it
  uint64_t batches_scored = 0;         // from its last heartbeat
  uint64_t transactions_scored = 0;    // from its last heartbeat
  double transactions_per_second = 0;  // between its last two heartbeats
  std::string model_name;              // from its last heartbeat: the model it runs
  std::string model_version;
  std::string model_error;     // why the live version did not load; empty: none failed
  std::string shadow_version;  // the version it scores in shadow; empty: none
  std::string link_error;      // why a link of it is refused; empty: its links are fine
};

struct DispatcherStats {
  uint64_t batches_received = 0;
  uint64_t batches_sent = 0;  // sends, re-dispatches included
  uint64_t batches_done = 0;
  uint64_t redispatched = 0;  // batches sent again (dead worker or overdue)
  uint64_t overdue = 0;       // of which overdue
  uint64_t workers_joined = 0;
  uint64_t workers_lost = 0;     // declared dead, gone or replaced
  uint64_t poisoned = 0;         // batches given up after max_attempts, or refused by a worker
  uint64_t refused = 0;          // of which refused
  uint64_t parts = 0;            // parts of poison batches enqueued (EnqueueFront)
  uint64_t online_received = 0;  // online batches from gateways (EnqueueOnline)
  uint64_t online_answered = 0;  // of which the results went back (TakeReturnAddress)
  uint64_t online_expired = 0;   // of which dropped while queued past their expiry
};

// Why batches went back to the queue, for the caller's log line.
struct Requeue {
  std::string worker_id;
  std::string host;
  int64_t pid = 0;
  std::string reason;  // "silent for 3012 ms", "left", "replaced by a new session", ...
  size_t batches = 0;
};

class Dispatcher {
 public:
  // `credit_cap`: most batches one worker may hold (topology workers.credit);
  // `dead_after`: heartbeat interval x liveness.
  Dispatcher(uint32_t credit_cap, std::chrono::milliseconds batch_timeout,
             std::chrono::milliseconds dead_after, uint32_t max_attempts = kDefaultMaxAttempts);

  static constexpr uint32_t kDefaultMaxAttempts = 5;

  // Batches given up as poison since the last call, with their frames.
  struct Poisoned {
    uint64_t batch_id = 0;
    zmq::message_t frame;
    uint32_t attempts = 0;
    std::string reason;     // why: "every worker that took it died or timed out (5 attempts)", ...
    std::string return_to;  // an online batch's gateway (routing id); empty: the bridge's
    SteadyClock::time_point expires{};  // an online batch's expiry
  };
  std::vector<Poisoned> TakePoisoned();

  // A batch from the bridge, to be sent.
  void Enqueue(uint64_t batch_id, zmq::message_t frame);
  // An online batch from the gateway `return_to` (its routing id): sent
  // before every batch of the bridge, in order among online batches; its
  // results go back to `return_to` (TakeReturnAddress). Dropped while still
  // queued at `expires` (its caller has had a timeout by then).
  void EnqueueOnline(uint64_t batch_id, zmq::message_t frame, std::string return_to,
                     SteadyClock::time_point expires);
  // A part of a poison batch: sent before anything queued of its kind
  // (online with a `return_to`), given up after `max_attempts` (>= 1).
  void EnqueueFront(uint64_t batch_id, zmq::message_t frame, uint32_t max_attempts,
                    std::string return_to = {}, SteadyClock::time_point expires = {});
  // A worker sent an online batch's results: where they go (the gateway's
  // routing id), the first time only; nothing for a batch that is not
  // online, already answered, or unknown. A queued copy (taken back from a
  // worker that answered after all) is dropped.
  std::optional<std::string> TakeReturnAddress(uint64_t batch_id);

  // A worker's announcement on the work channel. Returns a requeue when it
  // replaces an older session of the same worker id, or when it leaves.
  std::optional<Requeue> OnReady(const std::string& routing_id, const WorkerReady& ready,
                                 SteadyClock::time_point now);
  // A heartbeat from `routing_id`; false when that worker (session) is not
  // known, i.e. it must announce itself again.
  bool OnHeartbeat(const std::string& routing_id, const Heartbeat& heartbeat, SteadyClock::time_point now);
  void OnDone(const std::string& routing_id, const BatchDone& done, SteadyClock::time_point now);

  // The next batch to send and to whom: the front of the queue, to the live
  // worker with the most credit (ties: the one that waited longest).
  // Nothing when the queue is empty or no worker has credit.
  struct Assignment {
    std::string routing_id;
    uint64_t batch_id = 0;
    const zmq::message_t* frame = nullptr;  // valid until the next call
  };
  std::optional<Assignment> Next() const;
  // The caller sent `Next()`'s batch: it moves to the ledger.
  void Sent(const Assignment& assignment, SteadyClock::time_point now);
  // The send to `routing_id` failed: `gone` (no such peer any more) drops the
  // worker and requeues its batches; otherwise (its pipe is full) it gets no
  // more batches until it gives credit back.
  std::optional<Requeue> SendFailed(const std::string& routing_id, bool gone, SteadyClock::time_point now);

  // Declares silent workers dead and takes back overdue batches; returns
  // what went back to the queue, one entry per worker.
  std::vector<Requeue> Expire(SteadyClock::time_point now);

  // Whether it is worth reading another batch from the bridge: some worker
  // has credit the queued batches do not already use. Otherwise the intake
  // is left unread, which stops the bridge (back-pressure to the queue).
  bool WantsMore() const;

  size_t queued() const { return queue_.size() + online_.size(); }
  size_t in_flight() const { return ledger_.size(); }
  // Workers that can take batches now or finish what they hold: blocked ones
  // (a refused link) do not count.
  size_t live_workers() const;
  std::vector<WorkerView> Workers() const;
  // Online batches not yet answered (queued or at a worker), counted by
  // their gateway's routing id; for `scorepipe status`, not the hot path.
  std::map<std::string, size_t> OnlineByGateway() const;
  const DispatcherStats& stats() const { return stats_; }

 private:
  struct Entry {
    uint64_t batch_id = 0;
    zmq::message_t frame;
    std::string routing_id;  // empty while queued
    uint32_t attempts = 0;   // times sent
    uint32_t max_attempts = 0;
    SteadyClock::time_point deadline;
    std::string return_to;              // online: the gateway's routing id
    SteadyClock::time_point expires{};  // online: dropped while queued from then on
    bool answered = false;              // online: its results went back
  };
  // The queue an entry waits in: online_ for online batches.
  std::deque<Entry>& QueueOf(const Entry& entry);

  // Moves every ledger entry of `routing_id` to the front of the queue and
  // forgets the worker. `routing_id` by value: callers pass the key of
  // workers_ that this erases.
  Requeue DropWorker(std::string routing_id, std::string reason);
  // Puts every batch `routing_id` holds back at the front of the queue; how many.
  size_t TakeBackFrom(const std::string& routing_id);
  void RequeueFront(Entry entry);

  const uint32_t credit_cap_;
  const std::chrono::milliseconds batch_timeout_;
  const std::chrono::milliseconds dead_after_;
  const uint32_t max_attempts_;
  std::vector<Poisoned> poisoned_;
  std::map<std::string, WorkerView> workers_;   // by routing id
  std::deque<Entry> queue_;                     // the bridge's batches
  std::deque<Entry> online_;                    // online batches: sent first
  std::unordered_map<uint64_t, Entry> ledger_;  // by batch id
  DispatcherStats stats_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_VENTILATOR_DISPATCHER_H_
