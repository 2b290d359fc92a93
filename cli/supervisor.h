// Supervisor: `scorepipe up`, a whole cluster on this host as child
// processes: sink, ventilator, `workers.count` workers and the bridge.
//
// Starts them in that order (the result path exists before work flows),
// restarts a child that dies (with back-off; a child that keeps failing right
// after its start stops the cluster with an error instead of a restart loop),
// and on a stop request stops them in the order that drains the pipeline:
// bridge, ventilator, workers, sink. Each gets a grace period before it is
// killed; a bridge on http-mq gets at least its pull-n's limit, since it
// waits for the answer of its outstanding pull (bridge/http_mq_queue.h).
//
// Run() is called once, from the main thread.
#ifndef SCOREPIPE_CLI_SUPERVISOR_H_
#define SCOREPIPE_CLI_SUPERVISOR_H_

#include <chrono>
#include <string>
#include <vector>

#include "cli/child_process.h"
#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

struct SupervisorOptions {
  std::string config_path;  // the topology every child loads
  std::string bin_dir;      // where the scorepipe-<role> programs are
  std::string log_dir;      // children's logs go to <log_dir>/<name>.log; empty: this stderr
  std::string log_level;    // passed on to the children when not empty
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, const Topology& topology);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs the cluster until a stop is requested or a child keeps failing.
  Status Run();

 private:
  struct Node {
    std::string name;  // "sink", "worker-2", ...
    std::vector<std::string> argv;
    std::optional<ChildProcess> process;
    std::chrono::steady_clock::time_point started_at{};
    std::chrono::steady_clock::time_point restart_at{};
    int quick_failures = 0;  // consecutive exits soon after start
    std::chrono::milliseconds stop_grace{};  // from SIGTERM to SIGKILL
  };

  Status StartNode(Node& node);
  // Restarts dead nodes; an error when one keeps failing at start.
  Status Tend();
  void StopAll();

  SupervisorOptions options_;
  std::vector<Node> nodes_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_SUPERVISOR_H_
