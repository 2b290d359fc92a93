// Whether this node process is alive and ready, as its metrics port answers
// GET /livez and GET /readyz (runtime/metrics_endpoint.h).
//
// Live: the node's main loop has turned within kStallAfter (or the loop has
// not started yet: the node is starting). A hung loop is not live, and a
// probe may restart the node.
// Ready: the node can do its job now. It has started (its role said so, as
// it tells systemd READY=1) and none of its problems is open: a link down, a
// queue that does not answer. Each problem has a name (`links`, `queue`), so
// that one part clearing its own does not clear another's. A stopping node
// is not ready.
//
// The process-wide NodeHealth is set from the node's threads and read by
// the endpoint's HTTP threads: every member is thread-safe.
#ifndef SCOREPIPE_RUNTIME_NODE_HEALTH_H_
#define SCOREPIPE_RUNTIME_NODE_HEALTH_H_

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace scorepipe {

class NodeHealth {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kStallAfter{15};

  struct Report {
    bool live = true;
    bool ready = false;
    // Why not ready ("starting", "stopping", "links: ...; queue: ..."), or
    // what the node does when ready; why not live.
    std::string ready_reason;
    std::string live_reason;
  };

  // The main loop turned (cheap: one atomic store, for every turn).
  void Beat(Clock::time_point now = Clock::now()) {
    const Clock::rep ticks = now.time_since_epoch().count();
    last_beat_ticks_.store(ticks == 0 ? 1 : ticks, std::memory_order_relaxed);
  }
  // The node started: it is ready unless a problem is open. `doing` says
  // what it does (the /readyz body when ready).
  void Started(std::string_view doing);
  // `problem` empty clears the problem `name`; else opens or updates it.
  void SetProblem(std::string_view name, std::string_view problem);
  void Stopping();

  Report Check(Clock::time_point now = Clock::now()) const;

 private:
  std::atomic<Clock::rep> last_beat_ticks_{0};  // 0: the loop has not turned yet
  mutable std::mutex mu_;
  bool started_ = false;
  bool stopping_ = false;
  std::string doing_;
  std::map<std::string, std::string, std::less<>> problems_;
};

NodeHealth& ProcessHealth();

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_NODE_HEALTH_H_
