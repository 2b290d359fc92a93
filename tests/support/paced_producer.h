// PacedProducer: an upstream producer that keeps pushing while a cluster
// runs, so that faults strike a stream that is flowing rather than a backlog
// that drains in a second. It pushes `total` synthetic transactions (ids
// 1..total) into the input queue (Queue::Push: a Redis list or stream, as
// `queue` says) in chunks of `chunk` spread evenly over `duration`, on a
// thread and a Redis connection of its own.
//
// Owned by one test. Start, Pause, Resume, Cancel and Join are called from
// the test's thread; pushed() from any thread. The destructor cancels.
#ifndef SCOREPIPE_TESTS_SUPPORT_PACED_PRODUCER_H_
#define SCOREPIPE_TESTS_SUPPORT_PACED_PRODUCER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe::testing {

class PacedProducer {
 public:
  PacedProducer(QueueConfig queue, uint64_t seed, size_t total, std::chrono::milliseconds duration,
                size_t chunk = 1000);
  ~PacedProducer();
  PacedProducer(const PacedProducer&) = delete;
  PacedProducer& operator=(const PacedProducer&) = delete;

  void Start();
  // Returns once no push is under way, and holds the producer until Resume():
  // a Redis the test is about to stop sees no half-sent push (which a retry
  // could only double).
  void Pause();
  void Resume();
  // Pushes nothing more (a test that failed half-way need not wait for the
  // rest of the stream).
  void Cancel();
  // Waits for the last push. The first push that failed stops the producer
  // and is the error returned.
  Status Join();

  // Transactions pushed so far.
  size_t pushed() const { return pushed_; }
  bool done() const { return done_; }
  // When the last push returned; valid once done().
  std::chrono::steady_clock::time_point finished_at() const { return finished_at_; }
  // Every transaction pushed, in order; complete after Join().
  const std::vector<Transaction>& transactions() const { return transactions_; }

 private:
  void Run();

  const QueueConfig queue_;
  const uint64_t seed_;
  const size_t total_;
  const std::chrono::milliseconds duration_;
  const size_t chunk_;  // transactions per push
  std::vector<Transaction> transactions_;
  std::atomic<size_t> pushed_{0};
  std::chrono::steady_clock::time_point finished_at_;  // written before done_
  std::atomic<bool> done_{false};
  Status status_ = Status::Ok();

  std::mutex mutex_;  // held for each push; guards paused_ and cancelled_
  std::condition_variable changed_;
  bool paused_ = false;
  bool cancelled_ = false;
  std::thread thread_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_PACED_PRODUCER_H_
