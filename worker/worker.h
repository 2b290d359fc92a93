// Worker: scores transaction batches.
//
// Connects to the ventilator twice and to the sink once (any number of
// workers, on any host, at any time):
// - work channel (DEALER): announces itself with a WorkerReady carrying its
//   credit (how many batches it may hold), receives batches, and reports each
//   finished batch with a BatchDone, which gives the credit back;
// - heartbeat channel (DEALER, its own thread): sends a heartbeat every
//   interval and reads the ventilator's answers. A ventilator silent for
//   `liveness` intervals is presumed gone: the worker drops both channels,
//   connects again and announces itself anew (the ZeroMQ guide's Paranoid
//   Pirate). Each connection has a routing id of its own,
//   "<id>#<session>.<connection>": a ROUTER ignores a peer that reuses the
//   routing id of a connection it still holds (a cut link leaves the old TCP
//   connection open on the ventilator's side for minutes), and a new id tells
//   the ventilator at once that batches sent on the old one are lost. An answer saying the ventilator does
//   not know this worker (it restarted) makes the worker announce itself again too. The heartbeat runs beside
//   the scoring, so a long batch does not look like a dead worker; a hung one still does through the
//   ventilator's batch timeout.
// - results (PUSH to the sink): one ResultBatch per batch, sent before the
//   BatchDone. An online batch's ResultBatch (from a gateway) goes on the
//   work channel instead, before its BatchDone: the ventilator hands it to
//   the gateway (docs/architecture.md, "Online scoring"). Online batches are
//   not scored in shadow: their caller waits.
// Every link recovers from a refused CURVE handshake (a key authorized on the
// head after the worker started, or keys changed there): the heartbeat
// channel by the Paranoid Pirate above, the results link by a ClientLink
// (runtime/client_link.h). A worker whose results link is refused, or has not
// come up since it was built, cannot deliver: it announces itself blocked
// (the ventilator takes back what it holds at once and sends nothing more),
// gives up a result it could not send, says why in its heartbeats (for
// `scorepipe status`) and in the service status, and announces itself active
// again once the link is up. It reports ready to the service manager only
// once the ventilator answered and the results link is up.
// Each batch becomes the model's feature rows and one model call (Scorer). A
// registry model (model.registry) is followed while the worker runs: a
// ModelWatcher loads each newly live version beside the scoring, and the
// worker switches to it between two batches (scoring/model_watcher.h); the
// heartbeats tell the ventilator which version runs and why a newly live
// one did not load, for `scorepipe status`. The version in shadow, if any,
// is followed the same way: each batch is scored by the live version (the
// results) and then by the shadow version, whose scores travel beside them
// in the ResultBatch (a shadow failure never touches the results). A
// frame that does not decode is counted and logged at a limited rate, never
// fatal. On a stop it says it is draining, scores what already reached it,
// and says it leaves, so the ventilator re-dispatches anything else at once.
//
// Run() is called once, on the thread that built the Worker; the Worker owns
// its sockets (the heartbeat socket lives on its own thread) and its Scorer.
#ifndef SCOREPIPE_WORKER_WORKER_H_
#define SCOREPIPE_WORKER_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "runtime/client_link.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "scoring/model.h"
#include "scoring/model_watcher.h"
#include "worker/worker_metrics.h"

namespace scorepipe {

struct WorkerStats {
  uint64_t batches_scored = 0;
  uint64_t transactions_scored = 0;
  uint64_t frames_refused = 0;
  uint64_t reconnects = 0;      // the ventilator went silent and the worker connected again
  uint64_t model_switches = 0;  // newly live registry versions switched to
  uint64_t given_back =
      0;  // batches dropped because the results link was refused (the ventilator re-sends them)
};

class Worker {
 public:
  // `topology.model` is resolved (ResolveModel): `scorer` was loaded from its files.
  Worker(const Topology& topology, zmq::context_t& context, Scorer scorer, std::string id);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects to the ventilator and the sink (as a CURVE client when
  // security.mode is curve) and announces itself (ZeroMQ reconnects by
  // itself when they are not up yet or restart). Fails on a bad key file.
  Status Connect();
  // Runs until a stop is requested, then scores what already reached it.
  // With a registry model, follows its live version meanwhile.
  Status Run();

  const WorkerStats& stats() const { return stats_; }
  const std::string& id() const { return id_; }
  // Its metrics, for the node's /metrics endpoint (runtime/node_setup.h).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  // The routing id of connection `connection` of this process.
  std::string RoutingId(uint32_t connection) const;
  Status OpenWorkChannel();
  void SendReady(WorkerState state, uint32_t credit);
  // Scores one frame and sends the result and the BatchDone; false if the
  // result could not be sent before the deadline (or the stop, without one).
  // A result the refused results link cannot take is given up (the
  // ventilator, told the worker is blocked, sends the batch elsewhere).
  bool Handle(const zmq::message_t& frame, std::optional<std::chrono::steady_clock::time_point> deadline);
  enum class Delivery { kSent, kStopped, kRefused };
  Delivery SendResult(zmq::message_t& frame, std::optional<std::chrono::steady_clock::time_point> deadline);
  // An online batch's results, on the work channel (never kRefused).
  Delivery SendOnline(zmq::message_t& frame, std::optional<std::chrono::steady_clock::time_point> deadline);
  // Rebuilds a refused results link, announces the worker active or blocked
  // as its links allow, and keeps readiness and the service status true.
  // At most every few milliseconds unless `now` (or nothing was announced yet).
  void TendLinks(bool now = false);
  // Why the worker cannot deliver now ("the sink: ..."); empty: it can.
  std::string SinkProblem();
  void HeartbeatLoop();
  // Scores with `next` from the next batch on.
  void SwitchModel(LoadedModel next);
  // The running version and the one in shadow (empty: none), for the
  // heartbeat thread.
  std::string RunningVersion() const;
  std::string RunningShadow() const;
  // Scores beside the live version with `change`'s model from the next batch
  // on (none: stops).
  void SwitchShadow(ModelWatcher::ShadowChange change);
  // result_.shadow_results for `transactions`, or none when the shadow model fails.
  void ScoreShadow(const std::vector<Transaction>& transactions, uint64_t batch_id);

  const Topology topology_;
  zmq::context_t& context_;
  Scorer scorer_;
  const std::string id_;
  // A batch frame's bound here: MaxBatchFrameBytes(bridge.batch_size).
  const size_t max_frame_bytes_;
  const uint64_t session_;
  LinkSecurity security_;  // set by Connect(), before the heartbeat thread starts
  std::optional<zmq::socket_t> work_;
  std::optional<ClientLink> sink_;    // the results link; made by Connect()
  bool sink_up_since_built_ = false;  // the current results socket completed a handshake
  // What the current work channel was last told: nothing yet, active or blocked.
  std::optional<WorkerState> announced_;
  std::string service_status_;  // the last STATUS= line sent
  std::chrono::steady_clock::time_point next_link_check_{};
  ResultBatch result_;
  WorkerStats stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  WorkerMetrics metrics_;
  RateLimitedLog refused_log_;
  std::optional<Scorer> shadow_;  // the version in shadow, if any
  RateLimitedLog shadow_log_;

  // Shared with the heartbeat thread.
  std::thread heartbeat_thread_;
  std::atomic<bool> heartbeat_stop_{false};
  std::atomic<bool> reconnect_{false};            // the ventilator went silent
  std::atomic<uint32_t> connection_{0};           // counts the heartbeat thread's connections
  std::atomic<bool> announce_{false};             // the ventilator does not know us
  std::atomic<bool> ventilator_answered_{false};  // on the current heartbeat connection
  mutable std::mutex link_mu_;
  std::string sink_problem_;        // guarded by link_mu_: for the heartbeats' link_error
  std::string ventilator_problem_;  // guarded by link_mu_: why the ventilator is silent; empty: it answers
  std::atomic<uint32_t> held_{0};
  std::atomic<uint64_t> batches_scored_{0};
  std::atomic<uint64_t> transactions_scored_{0};
  std::unique_ptr<ModelWatcher> watcher_;  // a registry model; lives while Run() does
  mutable std::mutex model_mu_;
  std::string running_version_;  // scorer_'s version, guarded by model_mu_
  std::string running_shadow_;   // shadow_'s version or empty, guarded by model_mu_
};

// "<host>-<pid>": unique per worker process in a cluster.
std::string DefaultWorkerId();

}  // namespace scorepipe

#endif  // SCOREPIPE_WORKER_WORKER_H_
