// GatewayTable: the gateways the ventilator hears from, for `scorepipe
// status`. Without sockets, as the Dispatcher is.
//
// A gateway process has one link per event-loop thread (gateway.threads),
// each with its own routing id on the gateways ROUTER. Each link is known
// from its first heartbeat (which names the gateway: id, host, pid) and is
// alive while any frame of it (a heartbeat or an online batch) arrives
// within `forget_after` (heartbeat interval x liveness, as for workers);
// Expire forgets the others. Snapshot groups the links of one process (same
// id, host and pid) into one GatewaySnapshot.
//
// What it does not know, the caller passes in: the online batches in flight
// per routing id are the Dispatcher's (Dispatcher::OnlineByGateway).
//
// Time is passed in, so tests drive it. One thread owns a GatewayTable.
#ifndef SCOREPIPE_VENTILATOR_GATEWAY_TABLE_H_
#define SCOREPIPE_VENTILATOR_GATEWAY_TABLE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/status_snapshot.h"
#include "ventilator/dispatcher.h"

namespace scorepipe {

class GatewayTable {
 public:
  explicit GatewayTable(std::chrono::milliseconds forget_after) : forget_after_(forget_after) {}

  // A heartbeat on the link `routing_id`: knows the link from now on (or
  // again), under the gateway the heartbeat names. True when the link was
  // not known.
  bool OnHeartbeat(const std::string& routing_id, const Heartbeat& heartbeat, SteadyClock::time_point now);
  // An online batch on `routing_id`: proof of life for a known link;
  // nothing for an unknown one (it heartbeats first).
  void OnBatch(const std::string& routing_id, SteadyClock::time_point now);
  // An online batch's results went back on `routing_id`.
  void OnAnswered(const std::string& routing_id);
  // Forgets the links not heard from for longer than `forget_after`; how many.
  size_t Expire(SteadyClock::time_point now);

  // One entry per gateway process, ordered by id, host and pid. `in_flight`:
  // online batches not yet answered, by routing id (links not in it have none).
  std::vector<GatewaySnapshot> Snapshot(SteadyClock::time_point now,
                                        const std::map<std::string, size_t>& in_flight) const;
  size_t links() const { return links_.size(); }

 private:
  struct Link {
    std::string gateway_id;
    std::string host;
    int64_t pid = 0;
    SteadyClock::time_point last_seen;
    uint64_t answered = 0;
  };

  const std::chrono::milliseconds forget_after_;
  std::map<std::string, Link> links_;  // by routing id
};

}  // namespace scorepipe

#endif  // SCOREPIPE_VENTILATOR_GATEWAY_TABLE_H_
