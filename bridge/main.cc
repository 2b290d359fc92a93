// scorepipe-bridge: drains the input queue into the cluster.
#include "bridge/bridge.h"
#include "queue/queue.h"
#include "runtime/node_main.h"
#include "runtime/node_setup.h"

int main(int argc, char** argv) {
  return scorepipe::NodeMain(
      argc, argv,
      {.role = "bridge",
       .about = "scorepipe bridge: takes transactions from the input queue (Redis) in batches,\n"
                "validates them against the upstream schema, dead-letters bad ones with the\n"
                "reason, and sends valid batches to the ventilator.",
       .id_help = "",
       .default_id = nullptr,
       .slot_help = "",
       .run = [](scorepipe::Topology& topology, const scorepipe::NodeIdentity&,
                 zmq::context_t& context) -> scorepipe::Status {
         auto queue = scorepipe::OpenQueue(topology.queue);
         if (!queue.ok()) return queue.status();
         scorepipe::Bridge bridge(topology, context, std::move(queue.value()));
         scorepipe::ServeNodeMetrics("bridge", topology, bridge.registry());
         if (scorepipe::Status s = bridge.Connect(); !s.ok()) return s;
         return bridge.Run();
       }});
}
