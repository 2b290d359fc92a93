#include "ventilator/gateway_table.h"

#include <algorithm>
#include <tuple>

namespace scorepipe {

bool GatewayTable::OnHeartbeat(const std::string& routing_id, const Heartbeat& heartbeat,
                               SteadyClock::time_point now) {
  const auto [it, added] = links_.try_emplace(routing_id);
  Link& link = it->second;
  link.gateway_id = heartbeat.sender;
  link.host = heartbeat.host;
  link.pid = heartbeat.pid;
  link.last_seen = now;
  return added;
}

void GatewayTable::OnBatch(const std::string& routing_id, SteadyClock::time_point now) {
  if (auto it = links_.find(routing_id); it != links_.end()) it->second.last_seen = now;
}

void GatewayTable::OnAnswered(const std::string& routing_id) {
  if (auto it = links_.find(routing_id); it != links_.end()) ++it->second.answered;
}

size_t GatewayTable::Expire(SteadyClock::time_point now) {
  return std::erase_if(links_,
                       [&](const auto& entry) { return now - entry.second.last_seen > forget_after_; });
}

std::vector<GatewaySnapshot> GatewayTable::Snapshot(SteadyClock::time_point now,
                                                    const std::map<std::string, size_t>& in_flight) const {
  using Key = std::tuple<std::string, std::string, int64_t>;
  std::map<Key, GatewaySnapshot> gateways;
  for (const auto& [routing_id, link] : links_) {
    GatewaySnapshot& g = gateways[Key{link.gateway_id, link.host, link.pid}];
    const int64_t ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - link.last_seen).count();
    g.last_heartbeat_ms = g.links == 0 ? ago : std::min(g.last_heartbeat_ms, ago);
    g.id = link.gateway_id;
    g.host = link.host;
    g.pid = link.pid;
    ++g.links;
    g.batches_answered += static_cast<int64_t>(link.answered);
    if (auto it = in_flight.find(routing_id); it != in_flight.end()) {
      g.in_flight_batches += static_cast<int64_t>(it->second);
    }
  }
  std::vector<GatewaySnapshot> out;
  out.reserve(gateways.size());
  for (auto& [key, g] : gateways) out.push_back(std::move(g));
  return out;
}

}  // namespace scorepipe
