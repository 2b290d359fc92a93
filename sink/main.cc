// scorepipe-sink: writes the workers' results back to the queue.
#include "queue/queue.h"
#include "runtime/node_main.h"
#include "runtime/node_setup.h"
#include "sink/sink.h"

int main(int argc, char** argv) {
  return scorepipe::NodeMain(
      argc, argv,
      {.role = "sink",
       .about = "scorepipe sink: gathers results from every worker, writes them to the output\n"
                "queue in the upstream result format and republishes them on a live PUB feed.",
       .id_help = "",
       .default_id = nullptr,
       .slot_help = "",
       .run = [](scorepipe::Topology& topology, const scorepipe::NodeIdentity&,
                 zmq::context_t& context) -> scorepipe::Status {
         auto queue = scorepipe::OpenQueue(topology.queue);
         if (!queue.ok()) return queue.status();
         scorepipe::Sink sink(topology, context, std::move(queue.value()));
         if (scorepipe::Status s = sink.Bind(); !s.ok()) return s;
         scorepipe::ServeNodeMetrics("sink", topology, sink.registry());
         return sink.Run();
       }});
}
