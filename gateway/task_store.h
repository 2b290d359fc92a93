// TaskStore: the gateway's asynchronous tasks (POST /v1/tasks) in Redis, so
// that a task answered 202 is never lost, whatever node is killed after
// (docs/gateway.md, "Asynchronous tasks"). It keeps the queue's own rules:
// - Create records the task (its body, status PENDING) and leases it to
//   the caller in one script: a hash `<prefix>task:<id>` and the task's id in
//   the sorted set `<prefix>pending`, scored by its lease's deadline. Only
//   then is the 202 sent.
// - Whoever holds the lease scores the task and settles it with Complete
//   (or Fail): a script that sets SUCCESS (or FAILURE) only while the task
//   is PENDING, so a task settles once however many gateways scored it; the
//   results are then kept for task_ttl_s.
// - A task whose lease ran out (its gateway died, or the head was down) is
//   taken over by any gateway: Reclaim leases it again and gives its body
//   back; past max_attempts leases it becomes FAILURE ("poison").
//
// Blocking calls on its own RedisClient: use it from one thread (the
// gateway's task thread), never an event loop.
#ifndef SCOREPIPE_GATEWAY_TASK_STORE_H_
#define SCOREPIPE_GATEWAY_TASK_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"
#include "queue/redis_client.h"

namespace scorepipe {

struct TaskStoreOptions {
  RedisConfig redis;
  std::string prefix = "scorepipe:";  // keys: <prefix>task:<id>, <prefix>pending
  int64_t lease_ms = 30000;           // queue.inflight_timeout_ms
  int max_attempts = 5;               // queue.max_deliveries
  int64_t ttl_s = 3600;               // gateway.task_ttl_s
};

class TaskStore {
 public:
  explicit TaskStore(TaskStoreOptions options);

  // Records a task of `body` leased until now + lease_ms; its new id (32 hex
  // digits).
  Result<std::string> Create(std::string_view body, int64_t now_ms);

  struct Leased {
    std::string id;
    std::string body;
  };
  // Leases again up to `most` tasks whose lease ran out by `now_ms`; tasks
  // past max_attempts become FAILURE instead, and ids whose task is gone or
  // settled leave the pending set.
  Result<std::vector<Leased>> Reclaim(int64_t now_ms, size_t most);

  // Settles a pending task: SUCCESS with `results` (a JSON text), or FAILURE
  // with `reason`. False when it was settled already (or is gone).
  Result<bool> Complete(std::string_view id, std::string_view results, int64_t now_ms);
  Result<bool> Fail(std::string_view id, std::string_view reason, int64_t now_ms);

  struct View {
    enum class State { kUnknown, kPending, kSuccess, kFailure };
    State state = State::kUnknown;
    std::string results;  // kSuccess: the JSON text
    std::string reason;   // kFailure
  };
  Result<View> Get(std::string_view id);

  const TaskStoreOptions& options() const { return options_; }

 private:
  Result<bool> Settle(std::string_view id, std::string_view state, std::string_view field,
                      std::string_view value, int64_t now_ms);
  std::string TaskKey(std::string_view id) const { return options_.prefix + "task:" + std::string(id); }

  const TaskStoreOptions options_;
  const std::string pending_key_;
  RedisClient redis_;
  RedisScript create_;
  RedisScript reclaim_;
  RedisScript settle_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_TASK_STORE_H_
