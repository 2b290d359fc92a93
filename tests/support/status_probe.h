// StatusProbe: asks the ventilator's status endpoint (ventilator.status_*)
// what `scorepipe status` shows: which workers it counts as alive and what
// each has in flight. Any request text gets the JSON snapshot
// {"ventilator":{...,"live_workers":N,...},"workers":[{"id","host","pid",...}]}.
//
// Owns its ZeroMQ context and REQ socket; one thread uses it.
#ifndef SCOREPIPE_TESTS_SUPPORT_STATUS_PROBE_H_
#define SCOREPIPE_TESTS_SUPPORT_STATUS_PROBE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/link_security.h"
#include "proto/status.h"

namespace scorepipe::testing {

struct WorkerStatus {
  std::string id;
  std::string host;
  int64_t pid = 0;
  std::string state;
  int64_t last_heartbeat_ms = 0;
  int64_t in_flight_batches = 0;
  int64_t batches_scored = 0;       // as of its last heartbeat
  int64_t transactions_scored = 0;  // as of its last heartbeat
  std::string model_version;        // as of its last heartbeat
  std::string model_error;          // why the live version did not load; empty: none failed
  std::string shadow_version;       // the version it scores in shadow; empty: none
  std::string link_error;           // why a link of it is refused; empty: none
};

struct ClusterStatus {
  int64_t live_workers = 0;
  int64_t queued_batches = 0;  // waiting in the ventilator for a worker
  int64_t redispatched = 0;  // batches the ventilator sent again
  int64_t overdue = 0;       // of which overdue
  std::vector<WorkerStatus> workers;

  const WorkerStatus* FindId(const std::string& id) const;
  const WorkerStatus* FindPid(int64_t pid) const;
};

// Parses the ventilator's status JSON.
Result<ClusterStatus> ParseClusterStatus(const std::string& json);

class StatusProbe {
 public:
  // With CURVE `security`, it asks as an authorized client would.
  explicit StatusProbe(std::string endpoint, LinkSecurity security = {});
  StatusProbe(const StatusProbe&) = delete;
  StatusProbe& operator=(const StatusProbe&) = delete;

  // One request and its answer; an error when none came within `timeout`
  // (the next query then starts on a fresh socket).
  Result<ClusterStatus> Query(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

 private:
  const std::string endpoint_;
  const LinkSecurity security_;
  zmq::context_t context_;
  std::optional<zmq::socket_t> socket_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_STATUS_PROBE_H_
