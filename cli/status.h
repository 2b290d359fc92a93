// `scorepipe status`: what the cluster is doing right now, on one screen.
//
// Asks the ventilator's status endpoint (ventilator.status_connect, a REP
// socket) for its JSON snapshot (ventilator/ventilator.h StatusJson) and the
// queue (queue.*) for its depth, and prints both as a table, or as one JSON
// object for scripts. The parts are free functions so that the tests check
// the parsing and the formatting without a cluster:
//   QueryVentilator -> ParseStatusJson -> StatusReport -> FormatStatusTable
//                                                      -> FormatStatusJson
// RunStatus() is the command itself, for cli/main.cc.
//
// Value types and free functions; RunStatus runs on the main thread (it
// owns its ZeroMQ context and queue connection for the whole run).
#ifndef SCOREPIPE_CLI_STATUS_H_
#define SCOREPIPE_CLI_STATUS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "bridge/queue.h"
#include "config/link_security.h"
#include "proto/status.h"

namespace scorepipe {

// The ventilator's half of the snapshot, field for field as it sends it.
struct VentilatorSnapshot {
  std::string host;
  int64_t pid = 0;
  double uptime_s = 0;
  int64_t live_workers = 0;
  int64_t queued_batches = 0;     // received from the bridge, not yet sent to a worker
  int64_t in_flight_batches = 0;  // sent to a worker, not yet done
  int64_t batches_received = 0;
  int64_t batches_sent = 0;
  int64_t batches_done = 0;
  int64_t redispatched = 0;  // batches sent again after their worker died or ran over time
  int64_t overdue = 0;
  int64_t workers_joined = 0;
  int64_t workers_lost = 0;
  double transactions_per_second = 0;  // the sum over the workers
};

struct WorkerSnapshot {
  std::string id;
  std::string host;
  int64_t pid = 0;
  std::string state;              // active | draining | leaving | blocked
  int64_t last_heartbeat_ms = 0;  // how long ago the ventilator last heard from it
  int64_t in_flight_batches = 0;
  int64_t credit = 0;
  int64_t batches_scored = 0;       // as of its last heartbeat
  int64_t transactions_scored = 0;  // as of its last heartbeat
  double transactions_per_second = 0;
  // The model it runs, as of its last heartbeat (empty from an older
  // ventilator or worker), and why a newly live registry version did not
  // load (empty: none failed).
  std::string model;
  std::string model_version;
  std::string model_error;
  std::string shadow_version;  // the version it scores in shadow (empty: none)
  // Why it is blocked: which of its links is refused, and why (empty: none).
  std::string link_error;
};

struct StatusSnapshot {
  VentilatorSnapshot ventilator;
  std::vector<WorkerSnapshot> workers;
};

// Parses the ventilator's reply. Every field above is required (a missing or
// mistyped one is named, e.g. "workers[1].pid: missing or not an integer");
// fields it does not know are ignored. Never throws.
Result<StatusSnapshot> ParseStatusJson(std::string_view json);

// What `scorepipe status` found out; either half may have failed.
struct StatusReport {
  std::string ventilator_endpoint;
  std::optional<StatusSnapshot> snapshot;  // empty when the ventilator failed
  std::string ventilator_error;            // why, when it did

  std::string queue_description;    // Queue::Describe(); empty when it could not be opened
  std::optional<QueueDepth> depth;  // empty when the queue failed
  std::string queue_error;          // why, when it did

  bool ok() const { return snapshot.has_value() && depth.has_value(); }
};

// The table: three header lines (ventilator, batches, queue), then one row per
// worker, then a line per failure. Ends with a newline.
std::string FormatStatusTable(const StatusReport& report);

// One line of JSON: {"ventilator":{...}|null,"workers":[...],
// "queue":{"description","waiting","in_flight"},"errors":[...]} with null for
// what did not answer (and for a waiting count the queue cannot tell) and the
// reasons in "errors" (empty when all is well).
std::string FormatStatusJson(const StatusReport& report);

// One request to the ventilator's status endpoint on a fresh REQ socket
// (linger 0, closed afterwards, so a ventilator that never answers leaves
// nothing behind): its raw reply, or an error that says the ventilator at
// `endpoint` did not answer within `timeout`. With CURVE `security`, the
// request goes as its client (the head must authorize this host's key).
Result<std::string> QueryVentilator(zmq::context_t& context, const std::string& endpoint,
                                    std::chrono::milliseconds timeout, const LinkSecurity& security = {});

// Asks both; `queue` may be null when it could not be opened (the report then
// carries `queue_error` as given).
StatusReport CollectStatus(zmq::context_t& context, const std::string& endpoint,
                           std::chrono::milliseconds timeout, Queue* queue, const LinkSecurity& security = {});

struct StatusOptions {
  std::string config_path;  // topology YAML
  int timeout_ms = 2000;    // wait for the ventilator's answer, 1..600000
  bool json = false;        // one JSON object (with --watch: one per line) instead of the table
  bool watch = false;       // refresh every second until Ctrl-C
};

// The command: prints the report on stdout and failures on stderr. Returns
// the exit code: 0 when both answered, 1 when either did not, 2 for a
// topology that does not load. With `watch`, the code of the last refresh.
int RunStatus(const StatusOptions& options);

// 1234567 -> "1,234,567": the cli's reports print counts and rates this way.
std::string WithThousands(int64_t n);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_STATUS_H_
