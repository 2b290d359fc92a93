// The ventilator's status snapshot: what the cluster is doing right now.
//
// The ventilator writes it (StatusSnapshotJson) in answer to "status" on its
// status endpoint; `scorepipe status`, the benchmark and the tests read it
// (ParseStatusJson). One list of fields in status_snapshot.cc serves both, so
// the writer and the readers cannot drift apart. docs/operations.md
// describes each field.
//
// Value types and free functions.
#ifndef SCOREPIPE_PROTO_STATUS_SNAPSHOT_H_
#define SCOREPIPE_PROTO_STATUS_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/json_writer.h"
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
  int64_t poisoned = 0;  // batches cut down to single messages that still failed (0 from an older ventilator)
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

// A gateway process the ventilator hears from: its event-loop threads each
// have a link of their own (gateway.threads), counted together here.
struct GatewaySnapshot {
  std::string id;  // the gateway's node id
  std::string host;
  int64_t pid = 0;
  int64_t links = 0;              // its links heard within the heartbeat timeout
  int64_t last_heartbeat_ms = 0;  // how long ago the ventilator last heard from any of them
  int64_t in_flight_batches = 0;  // its online batches queued or at a worker, not yet answered
  int64_t batches_answered = 0;   // its online batches whose results went back to it
};

struct StatusSnapshot {
  VentilatorSnapshot ventilator;
  std::vector<WorkerSnapshot> workers;
  std::vector<GatewaySnapshot> gateways;  // empty from a ventilator before them
};

// Parses the ventilator's reply. Every field above is required but those a
// ventilator from before them leaves out (poisoned; a worker's model,
// model_version, model_error, shadow_version and link_error; the whole
// "gateways" list, whose entries then have every field); a missing or
// mistyped one is named, e.g. "workers[1].pid: missing". Fields it does not
// know are ignored. Never throws.
Result<StatusSnapshot> ParseStatusJson(std::string_view json);

// The snapshot as the ventilator sends it:
// {"ventilator":{...},"workers":[...],"gateways":[...]}, every field in the
// order above, rates and uptime with one decimal.
std::string StatusSnapshotJson(const StatusSnapshot& snapshot);

// One half of it, as a value in `json` (`scorepipe status --json` embeds them
// in its own report).
void WriteSnapshotJson(const VentilatorSnapshot& ventilator, JsonWriter& json);
void WriteSnapshotJson(const WorkerSnapshot& worker, JsonWriter& json);
void WriteSnapshotJson(const GatewaySnapshot& gateway, JsonWriter& json);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_STATUS_SNAPSHOT_H_
