// `scorepipe status`: what the cluster is doing right now, on one screen.
//
// Asks the ventilator's status endpoint (ventilator.status_connect, a REP
// socket) for its JSON snapshot (ventilator/ventilator.h StatusJson), the
// bridge's and the sink's /readyz (on the head's metrics ports) whether
// they can work, and the queue (queue.*) for its depth, and prints it all as
// a table, or as one JSON object for scripts. The parts are free functions so that the tests check
// the parsing and the formatting without a cluster:
//   QueryVentilator -> ParseStatusJson -> StatusReport -> FormatStatusTable
//                                                      -> FormatStatusJson
// RunStatus() is the command itself, for cli/main.cc.
//
// Value types and free functions; RunStatus runs on the main thread (it
// owns its ZeroMQ context and queue connection for the whole run).
#ifndef SCOREPIPE_CLI_STATUS_COMMAND_H_
#define SCOREPIPE_CLI_STATUS_COMMAND_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "cli/command.h"
#include "config/topology.h"
#include "proto/status.h"
#include "proto/status_snapshot.h"
#include "queue/queue.h"
#include "runtime/link_security.h"

namespace scorepipe {

// A head node's health, from its metrics port's /readyz
// (runtime/metrics_endpoint.h).
struct HeadNodeHealth {
  std::string role;     // "bridge", "sink"
  std::string url;      // http://host:port/readyz; empty when its metrics are off
  int http_status = 0;  // 200 ready, 503 not ready, 0 no answer
  std::string reason;   // what it does, why it is not ready, or why it did not answer
};

// What `scorepipe status` found out; either half may have failed.
struct StatusReport {
  std::vector<HeadNodeHealth> head;  // the bridge and the sink; empty when not asked
  std::string ventilator_endpoint;
  std::optional<StatusSnapshot> snapshot;  // empty when the ventilator failed
  std::string ventilator_error;            // why, when it did

  std::string queue_description;    // Queue::Describe(); empty when it could not be opened
  std::optional<QueueDepth> depth;  // empty when the queue failed
  std::string queue_error;          // why, when it did

  // One line per head node that is not ready or did not answer.
  std::vector<std::string> HeadProblems() const;
  bool ok() const { return snapshot.has_value() && depth.has_value() && HeadProblems().empty(); }
};

// The table: the header lines (ventilator, batches, a line per head node,
// queue), then one row per worker, then a line per failure, then (when any
// is linked) one row per gateway. Ends with a newline.
std::string FormatStatusTable(const StatusReport& report);

// One line of JSON: {"ventilator":{...}|null,"workers":[...],"gateways":[...],
// "head":[{"role","url","ready":true|false|null,"reason"}],
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

// Asks `role`'s /readyz at `host`:`port` (port 0: its metrics are off)
// within `timeout`.
HeadNodeHealth ProbeHeadNode(const std::string& role, const std::string& host, int port,
                             std::chrono::milliseconds timeout);

// Where the head's metrics ports answer: metrics.address when it names one
// interface, else the host of ventilator.status_connect (127.0.0.1 for ipc).
std::string HeadMetricsHost(const Topology& topology);

// Asks both; `queue` may be null when it could not be opened (the report then
// carries `queue_error` as given).
StatusReport CollectStatus(zmq::context_t& context, const std::string& endpoint,
                           std::chrono::milliseconds timeout, Queue* queue,
                           const LinkSecurity& security = {});

struct StatusOptions {
  std::string config_path;  // topology YAML
  int timeout_ms = 2000;    // wait for the ventilator's answer, 1..600000
  bool json = false;        // one JSON object (with --watch: one per line) instead of the table
  bool watch = false;       // refresh every second until Ctrl-C
};

// The command: prints the report on stdout and failures on stderr. Returns
// the exit code: 0 when the ventilator and the queue answered and the head
// nodes are ready, 1 otherwise, 2 for a topology that does not load. With `watch`, the code of the last
// refresh.
int RunStatus(const StatusOptions& options);

// Registers `scorepipe status`.
Command AddStatusCommand(CLI::App& app);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_STATUS_COMMAND_H_
