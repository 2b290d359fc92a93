// The one shape of every node program's main (scorepipe-bridge,
// -ventilator, -worker, -sink): the command line (-c/--config, --log-level,
// and --id where the role takes one), SetUpNode, a ZeroMQ context, then the
// role's own part, and the exit code.
//
// A role's main is one call:
//   int main(int argc, char** argv) { return NodeMain(argc, argv, kSinkProgram); }
// where its NodeProgram says what the role is and how it runs.
//
// Exit codes: 0 the node stopped cleanly; 1 it could not start or its run
// failed (the reason is logged as critical); 2 bad usage (an unknown or
// missing flag, a bad value) or a topology that does not load (the reason on
// stderr, since there is no logger yet).
// Call from main, once.
#ifndef SCOREPIPE_RUNTIME_NODE_MAIN_H_
#define SCOREPIPE_RUNTIME_NODE_MAIN_H_

#include <functional>
#include <string>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

// Who this node is, from its command line.
struct NodeIdentity {
  std::string id;
  // --slot (workers): 1..kWorkerMetricsPorts fixes the metrics port at
  // metrics.worker_port + slot - 1 (scorepipe-worker@N passes N); 0: the
  // first free port of the range.
  int slot = 0;
};

struct NodeProgram {
  std::string role;   // "bridge": the logger's role and the program's name (scorepipe-bridge)
  std::string about;  // --help's first lines: what the node does
  // The node's id in logs: --id when `id_help` is not empty (a worker: many
  // per host), else this host's name. `default_id` gives the default (empty:
  // the host's name).
  std::string id_help;
  std::function<std::string()> default_id;
  // --slot's help when the role takes one (a worker), else empty.
  std::string slot_help;
  // Builds the node on the loaded topology, binds or connects its sockets,
  // serves its metrics and runs it until it is asked to stop. An error
  // before or during the run comes back as the Status.
  std::function<Status(Topology& topology, const NodeIdentity& node, zmq::context_t& context)> run;
};

int NodeMain(int argc, char** argv, const NodeProgram& program);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_NODE_MAIN_H_
