// Supervisor: `scorepipe up`, a whole cluster on this host as child
// processes: sink, ventilator, `workers.count` workers and the bridge, and
// when asked (SupervisorOptions::gateway) a gateway.
//
// Starts them in that order (the result path exists before work flows),
// restarts a child that dies, and on a stop request stops them in the order
// that drains the pipeline: gateway (its callers get their answers or a
// 503 first), bridge, ventilator, workers, sink. Each gets a
// grace period before it is killed; a bridge on http-mq gets at least its
// pull-n's limit, since it waits for the answer of its outstanding pull
// (queue/http_mq_queue.h).
//
// A slot that keeps dying backs off (RestartBackoff) and keeps trying while
// the rest of the cluster works on; one slot is never a reason to stop the
// others. `up` gives up only when nothing can work: a head node (sink,
// ventilator, bridge) or every worker slot has exited kGiveUpQuickExits
// times in a row within RestartBackoff::kQuickExit of its start without one
// of its children ever staying up longer since `up` started (a program or
// configuration that cannot start). The error names the node, its last exit
// code and its log. A gateway that keeps dying backs off and keeps trying,
// as a worker slot does: the queue's path works without it.
//
// A SIGHUP (runtime/node.h: `up` reopens its own log) is passed on to every
// running child, which reopens its <log_dir>/<name>.log; a child started
// later opens the path anew anyway.
//
// Run() is called once, from the main thread.
#ifndef SCOREPIPE_LOCAL_CLUSTER_SUPERVISOR_H_
#define SCOREPIPE_LOCAL_CLUSTER_SUPERVISOR_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/topology.h"
#include "local_cluster/child_process.h"
#include "proto/status.h"

namespace scorepipe {

// When a slot starts again after its child exited: kFirstDelay after a child
// that ran at least kQuickExit (and that resets the back-off), else double
// the delay for each quick exit in a row (200 ms, 400 ms, ...) up to
// kMaxDelay. Arithmetic only: the caller measures the time.
class RestartBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirstDelay{100};
  static constexpr std::chrono::milliseconds kMaxDelay{10000};
  static constexpr std::chrono::milliseconds kQuickExit{3000};

  // A child of the slot exited after running for `ran`; returns how long to
  // wait before starting the next.
  std::chrono::milliseconds OnExit(std::chrono::steady_clock::duration ran);
  // Quick exits in a row, the last one included; 0 after a long run.
  int quick_exits() const { return quick_exits_; }

 private:
  int quick_exits_ = 0;
};

// A head node or every worker slot failing this often in a row at start,
// never once staying up, means nothing can work: `up` stops.
inline constexpr int kGiveUpQuickExits = 5;

struct SupervisorOptions {
  std::string config_path;  // the topology every child loads
  std::string bin_dir;      // where the scorepipe-<role> programs are
  std::string log_dir;      // children's logs go to <log_dir>/<name>.log; empty: this stderr
  std::string log_level;    // passed on to the children when not empty
  bool gateway = false;     // also run scorepipe-gateway (node "gateway")
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, const Topology& topology);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs the cluster until a stop is requested or nothing can work (see
  // above); the error then says why.
  Status Run();

 private:
  struct Node {
    std::string name;  // "sink", "worker-2", "gateway", ...
    bool worker = false;
    bool gateway = false;
    std::vector<std::string> argv;
    std::optional<ChildProcess> process;
    std::chrono::steady_clock::time_point started_at{};
    std::chrono::steady_clock::time_point restart_at{};
    RestartBackoff backoff;
    bool stayed_up = false;                  // one of its children has run past kQuickExit
    int last_exit_code = 0;                  // -1: it could not be started
    std::chrono::milliseconds stop_grace{};  // from SIGTERM to SIGKILL
  };

  Status StartNode(Node& node);
  // Restarts dead nodes after their back-off; an error when nothing can work.
  Status Tend();
  // The child of `node` exited (or could not start, `code` -1): schedules its
  // next start.
  void ScheduleRestart(Node& node, int code, std::chrono::steady_clock::time_point now);
  // Why the cluster cannot work, when it cannot; else Ok.
  Status NothingCanWork() const;
  std::string LogPath(const Node& node) const;
  // Passes a SIGHUP on to every running child.
  void PassOnHangup();
  void StopAll();

  SupervisorOptions options_;
  std::vector<Node> nodes_;
  uint64_t reopens_seen_ = 0;  // LogReopenRequests() already passed on
};

}  // namespace scorepipe

#endif  // SCOREPIPE_LOCAL_CLUSTER_SUPERVISOR_H_
