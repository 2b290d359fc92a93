// HttpMqQueue: the upstream's HTTP message_queue service (queue.kind
// http-mq; /work/shared/UPSTREAM.md), with leases in a local journal.
//
// The service's GET /pull-n removes what it returns, so no lease can live
// there: every message pulled is first written to the lease journal
// (queue/lease_journal.h, queue.journal_dir), durably, then handed out.
//   Take     journalled messages not handed out yet (a stopped bridge's last
//            pull, a released lease) come first, without asking the service.
//            Else one GET /pull-n?queue-name=<input>&count=<max> runs on the
//            adapter's own thread, which journals its answer (200) as
//            soon as it comes; Take waits up to `block_ms` for it (0: for one
//            answer, which the service gives at once when it holds messages,
//            else after its long-poll wait queue.pull_wait_ms). A pull is
//            never cut short (the service may have popped messages for it
//            already): its client limit is pull_wait_ms + http_timeout_ms,
//            and a Take that stops waiting leaves it outstanding for the
//            next Take. One round trip for many messages as for one.
//   Settle   claims the lease's file (a rename, under the journal's lock; a
//            lease not there settled, was reclaimed or released: duplicates,
//            nothing published), POSTs the results to queue.output with
//            /push-n (201), in lease order, then ends the lease and appends
//            its dead letters to the journal's dead_letters.jsonl in one
//            journal change (exactly once across crashes). The service has
//            no dead-letter queue and validates every message as a
//            transaction or a result, so a dead letter never goes there, and
//            never holds a result up. A 409 (queue full) is retried with
//            back-off and jitter, halving the chunk down to one message, for
//            up to queue.push_retry_ms; past that, or on a transport error,
//            Settle returns an error and gives the claim back with what was
//            published marked done, so a retry (or a Reclaim) publishes only
//            the rest: nothing is dropped and nothing published twice. A 400
//            (the service refuses a message; it names the index only in its
//            error text, "Invalid message format for message at index i") or
//            a result that is not JSON is `refused`, with `refused_index` the
//            outcome's position in the lease; the results pushed before it
//            stay done, so settling again with that outcome dead-lettered
//            publishes the rest.
//   SettleMany  settles one lease after another; when one fails, those
//            settled before it in the call are remembered, and the retry of
//            the group reports them as settled then, not as duplicates.
//   Peek     of queue.dead_letter reads the dead-letter file; of any other
//            queue, an error (the service cannot read without removing).
//   Release  the lease's unanswered messages become the next ones a Take
//            returns (in a Take of their own, before anything newer).
//   Reclaim  takes over leases older than older_than_ms, and claims whose
//            settling process died (the journal tells them from claims in
//            progress by a flock).
//   Depth    in_flight: messages in the journal (pulled, not answered);
//            waiting: -1, unknown (the service has no length endpoint).
// The guarantee is at-least-once, not exactly-once as on Redis: no
// transaction spans the service and the journal, so a sink that dies after
// push-n's 201 and before it removes the journal file (or a push-n whose
// answer is lost after the service applied it) publishes those outcomes
// again when the lease is reclaimed. A bridge killed while its pull-n is
// outstanding loses what the service pops for that pull afterwards (the
// service cannot give it back); a stopping bridge waits for the answer.
// Messages are JSON objects as the service keeps them: Push and Settle check
// that each is JSON before sending (the service checks that it is an object).
//
// The caller's thread uses an instance; its pull thread (started by the
// first Take) is internal. Destroying the instance waits for an outstanding
// pull (at most pull_wait_ms + http_timeout_ms) and journals its messages.
#ifndef SCOREPIPE_QUEUE_HTTP_MQ_QUEUE_H_
#define SCOREPIPE_QUEUE_HTTP_MQ_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "queue/http_client.h"
#include "queue/lease_journal.h"
#include "queue/queue.h"

namespace scorepipe {

class HttpMqQueue final : public Queue {
 public:
  explicit HttpMqQueue(QueueConfig config);
  ~HttpMqQueue() override;
  HttpMqQueue(const HttpMqQueue&) = delete;
  HttpMqQueue& operator=(const HttpMqQueue&) = delete;

  // POST /push-n to queue.input, retrying 409 for up to queue.push_retry_ms.
  Status Push(const std::vector<std::string>& messages) override;
  Status Append(const std::string& queue, const std::vector<std::string>& messages) override;
  Result<std::vector<std::string>> Peek(const std::string& queue, size_t max) override;
  Status Take(size_t max, int block_ms, Lease* lease) override;
  Result<Settlement> Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) override;
  Result<std::vector<Settlement>> SettleMany(std::span<const SettleRequest> requests) override;
  Status Release(const Lease& lease) override;
  Status Reclaim(int older_than_ms, size_t max, Lease* out) override;
  Result<QueueDepth> Depth() override;
  std::string Describe() const override;

 private:
  using Clock = std::chrono::steady_clock;

  // What became of pushing a list of messages to one queue.
  struct PushReport {
    size_t pushed = 0;                    // a prefix of the list, accepted (201)
    Status status;                        // a failure that may pass: 409 past the deadline, transport
    std::string refused;                  // a failure that will not: the service's 400, or not JSON
    std::optional<size_t> refused_index;  // with `refused`, when named: the message's index in the list
  };
  PushReport PushAll(const std::string& queue, const std::vector<std::string_view>& messages,
                     Clock::time_point deadline);

  // The pull thread: one GET /pull-n per request, its answer journalled.
  void PullLoop();
  // Journals what a pull brought when the journal failed at the time.
  Status JournalUnsaved();

  const QueueConfig config_;
  LeaseJournal journal_;
  HttpClient client_;  // the caller's thread: push-n
  std::minstd_rand jitter_;
  // Leases a failed SettleMany settled before its error: lease id -> what
  // the settlement was, for the retry of the group.
  std::map<std::string, Settlement> settled_before_error_;

  // Shared with the pull thread, under pull_mutex_.
  std::mutex pull_mutex_;
  std::condition_variable pull_cv_;
  std::thread puller_;
  bool pull_requested_ = false;  // a pull is asked for, not started yet
  size_t pull_count_ = 0;
  bool pull_in_flight_ = false;
  bool pull_answered_ = false;  // an answer no Take has looked at yet
  bool pull_brought_messages_ = false;
  Status pull_status_;
  bool stopping_ = false;
  std::vector<std::string> unsaved_;  // pulled, but the journal failed
};

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_HTTP_MQ_QUEUE_H_
