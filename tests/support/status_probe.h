// StatusProbe: asks the ventilator's status endpoint (ventilator.status_*)
// what `scorepipe status` shows: which workers it counts as alive and what
// each has in flight. It reads the snapshot with the same parser as
// `scorepipe status` (ParseStatusJson).
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

#include "proto/status.h"
#include "proto/status_snapshot.h"
#include "runtime/link_security.h"

namespace scorepipe::testing {

// The snapshot `scorepipe status` reads (proto/status_snapshot.h), with
// lookups for the tests.
using WorkerStatus = WorkerSnapshot;

struct ClusterStatus : StatusSnapshot {
  const WorkerStatus* FindId(const std::string& id) const;
  const WorkerStatus* FindPid(int64_t pid) const;
};

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
