// scorepipe-ventilator: spreads batches from the bridge over the workers.
#include "runtime/node_main.h"
#include "runtime/node_setup.h"
#include "ventilator/ventilator.h"

int main(int argc, char** argv) {
  return scorepipe::NodeMain(
      argc, argv,
      {.role = "ventilator",
       .about = "scorepipe ventilator: receives transaction batches from the bridge and hands\n"
                "them to live workers as they ask for them (workers may join at any time).\n"
                "Tracks every worker by heartbeats and every batch until its worker is done;\n"
                "a dead worker's batches go to the others. Answers `scorepipe status`.",
       .id_help = "",
       .default_id = nullptr,
       .slot_help = "",
       .run = [](scorepipe::Topology& topology, const scorepipe::NodeIdentity&,
                 zmq::context_t& context) -> scorepipe::Status {
         scorepipe::Ventilator ventilator(topology, context);
         if (scorepipe::Status s = ventilator.Bind(); !s.ok()) return s;
         scorepipe::ServeNodeMetrics("ventilator", topology, ventilator.registry());
         return ventilator.Run();
       }});
}
