// Queue: the external message queue that scorepipe drains and answers on.
//
// The bridge takes transactions from it; the sink publishes results and
// dead-letter entries to it. One implementation per `queue.kind`; all of them
// pass the same contract tests (tests/bridge/queue_contract_test.cc).
//
// An instance owns its connection; one thread uses one instance.
#ifndef SCOREPIPE_BRIDGE_QUEUE_H_
#define SCOREPIPE_BRIDGE_QUEUE_H_

#include <memory>
#include <string>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

class Queue {
 public:
  virtual ~Queue() = default;

  // Appends up to `max` input messages to `out`, oldest first, in one round
  // trip. When the input is empty, waits up to `block_ms` for one (0: does
  // not wait). Nothing appended means nothing arrived in time.
  virtual Status Take(size_t max, int block_ms, std::vector<std::string>* out) = 0;

  // Puts messages back so that they are taken next, in their order; used when
  // a node stops holding messages it could not hand on.
  virtual Status GiveBack(const std::vector<std::string>& messages) = 0;

  // Appends results to the output and entries to the dead-letter queue,
  // atomically and in one round trip; each list keeps the given order
  // (the first element is consumed first).
  virtual Status Publish(const std::vector<std::string>& results,
                         const std::vector<std::string>& dead_letters) = 0;

  // Where the queue lives, for log lines.
  virtual std::string Describe() const = 0;
};

// Opens the queue `config` names (connecting lazily: a Redis that is not up
// yet is an error of the first call, not of this one).
Result<std::unique_ptr<Queue>> OpenQueue(const QueueConfig& config);

}  // namespace scorepipe

#endif  // SCOREPIPE_BRIDGE_QUEUE_H_
