// scorepipe-worker: scores batches from the ventilator; start as many as you
// like, on any host that reaches the ventilator and the sink.
#include "runtime/node_main.h"
#include "runtime/node_setup.h"
#include "scoring/model_watcher.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  return scorepipe::NodeMain(
      argc, argv,
      {.role = "worker",
       .about = "scorepipe worker: connects to the ventilator, turns each transaction into the\n"
                "model's features, scores whole batches with the model and sends results to the sink.\n"
                "Start more of them, on any host, at any time, to scale out.",
       .id_help = "worker id shown in logs and results feed (default: host-pid)",
       .default_id = scorepipe::DefaultWorkerId,
       .slot_help = "1..64: serve metrics on metrics.worker_port + SLOT - 1, the same port at every "
                    "restart (scorepipe-worker@N passes N); default: the first free port of the range",
       .run = [](scorepipe::Topology& topology, const scorepipe::NodeIdentity& node,
                 zmq::context_t& context) -> scorepipe::Status {
         // A registry model: its live version now, or the newest before it
         // that loads (logged); the worker follows the live version from here.
         auto model = scorepipe::LoadModelOf(topology.model);
         if (!model.ok()) {
           const char* key = topology.model.registry.empty() ? "model.path" : "model.registry";
           return model.status().WithContext(scorepipe::KeyPlace(topology, key) + ": cannot load the model");
         }
         topology.model = model->loaded.config;
         scorepipe::Worker worker(topology, context, std::move(model->loaded.scorer), node.id);
         if (scorepipe::Status s = worker.Connect(); !s.ok()) return s;
         scorepipe::ServeNodeMetrics("worker", topology, worker.registry(), node.slot);
         return worker.Run();
       }});
}
