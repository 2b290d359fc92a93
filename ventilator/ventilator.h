// Ventilator: spreads transaction batches over whatever workers are alive.
//
// Sockets (all bound; workers on any host connect at any time):
// - intake (PULL): batches from the bridge. Read only while some worker has
//   credit to spare, so a cluster without free workers stops the bridge
//   (back-pressure up to the queue) instead of buffering without bound.
// - work (ROUTER): batches out to workers that asked for them (WorkerReady
//   credits), BatchDone back. ZMQ_ROUTER_MANDATORY makes a send to a vanished
//   worker an error instead of a silent drop.
// - heartbeat (ROUTER): each worker's heartbeat is answered at once with the
//   ventilator's own, so both sides see the other alive; a separate socket,
//   so heartbeats never wait behind batch frames.
// - status (REP): answers `scorepipe status` with a JSON snapshot.
// - gateways (ROUTER): online batches from any number of gateways, sent
//   before the bridge's; a worker returns an online batch's ResultBatch on
//   the work channel and it goes back here to the gateway that sent it; each
//   gateway heartbeat is answered with a HeadStatus (docs/architecture.md,
//   "Online scoring"); the gateways heard from are in the status snapshot
//   (GatewayTable).
// - to the sink (PUSH, connects to sink.connect): a poison message goes there
//   as a ResultBatch whose transaction carries the reason, so it is
//   dead-lettered, not retried forever. A poison batch (taken back from
//   workers too often, or refused by one, see Dispatcher) of more than one
//   message is first cut in two parts of its lease (SplitBatch), each sent
//   again with kPartAttempts attempts, so that halving finds the messages
//   that fail while their neighbours are scored; the sink settles the lease
//   once all its parts have answered (sink/lease_parts.h).
// The decisions (who is alive, what is in flight where, what to re-dispatch)
// are the Dispatcher's (ventilator/dispatcher.h); this class moves frames.
//
// Run() is called once, on the thread that built the Ventilator.
#ifndef SCOREPIPE_VENTILATOR_VENTILATOR_H_
#define SCOREPIPE_VENTILATOR_VENTILATOR_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "runtime/client_link.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "ventilator/dispatcher.h"
#include "ventilator/gateway_table.h"
#include "ventilator/ventilator_metrics.h"

namespace scorepipe {

class Ventilator {
 public:
  Ventilator(const Topology& topology, zmq::context_t& context);
  Ventilator(const Ventilator&) = delete;
  Ventilator& operator=(const Ventilator&) = delete;

  // Secures (security.mode) and binds every endpoint; fails with the
  // endpoint and ZeroMQ's reason, or with the key file that is wrong.
  Status Bind();
  // Runs until a stop is requested, then hands out what it still holds and
  // waits (bounded) for the workers to finish it.
  Status Run();

  const VentilatorStats& stats() const { return stats_; }
  const Dispatcher& dispatcher() const { return dispatcher_; }
  const GatewayTable& gateways() const { return gateway_links_; }
  // Its metrics, for the node's /metrics endpoint (runtime/node_setup.h).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  void ReadIntake();
  void ReadWork(SteadyClock::time_point now);
  // Online batches and heartbeats from gateways.
  void ReadGateways(SteadyClock::time_point now);
  // Answers a gateway's heartbeat with a HeadStatus.
  void AnswerGateway(const zmq::message_t& identity);
  // False when that gateway is gone or its pipe is full.
  bool SendToGateway(std::string_view routing_id, zmq::message_t& frame);
  // A worker's results of online batch `batch_id`, to the gateway that sent it.
  void ForwardOnlineResult(uint64_t batch_id, zmq::message_t& body);
  void ReadHeartbeats(SteadyClock::time_point now);
  void AnswerStatus(SteadyClock::time_point now);
  void Dispatch(SteadyClock::time_point now);
  void Expire(SteadyClock::time_point now);
  // Splits or dead-letters what the dispatcher gave up on.
  void HandlePoisoned();
  void LogRequeue(const Requeue& requeue);
  void Refused(const char* where, size_t bytes, const std::string& why);
  // One pass of the loop: waits up to `timeout_ms` on the sockets, then
  // handles what arrived. `intake` says whether to read the bridge.
  void Step(int timeout_ms, bool intake);

  const Topology topology_;
  zmq::context_t& context_;
  std::unique_ptr<ZapAuthenticator> zap_;  // CURVE: lets only authorized workers in
  zmq::socket_t intake_;
  zmq::socket_t work_;
  zmq::socket_t heartbeat_;
  zmq::socket_t status_;
  zmq::socket_t gateways_;
  LinkSecurity security_;  // set by Bind()
  // Poison batches' dead letters go straight to the sink; made by Bind().
  std::optional<ClientLink> to_sink_;
  Dispatcher dispatcher_;
  GatewayTable gateway_links_;
  const SteadyClock::time_point started_;
  SteadyClock::time_point next_expire_;
  uint64_t heartbeat_sequence_ = 0;
  const uint64_t session_;
  VentilatorStats stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  VentilatorMetrics metrics_;
  SteadyClock::time_point next_metrics_;
  SteadyClock::time_point next_tend_;  // when Step next tends the sink link
  RateLimitedLog refused_log_;
  RateLimitedLog overdue_log_;
  RateLimitedLog gateway_log_;
  // Ids of the parts of split batches, made as the bridge makes batch ids: a
  // random base per run in the high 32 bits, a counter in the low 32.
  const uint64_t part_id_base_;
  // A batch frame's bound here: MaxBatchFrameBytes(bridge.batch_size).
  const size_t max_frame_bytes_;
  uint64_t next_part_ = 0;
};

// Attempts each part of a split poison batch gets before it is given up and
// split again (or dead-lettered, a single message).
inline constexpr uint32_t kPartAttempts = 2;

// Cuts `batch` (a poison batch) into two parts with half of its messages
// each, named `first_id` and `second_id`: a lease's batch into two parts of
// its lease (LeasePart; rejects go with their positions), an evaluation
// run's batch into two runs of rows. Nothing when it holds one message or
// none: that one is the poison.
std::optional<std::pair<TransactionBatch, TransactionBatch>> SplitBatch(const TransactionBatch& batch,
                                                                        uint64_t first_id,
                                                                        uint64_t second_id);

// What the sink gets for a poison batch: every transaction unscored with
// `reason` (so dead-lettered, or a failed row of an evaluation run), the
// lease, rejects and evaluation rows passed through.
ResultBatch PoisonedBatchResult(TransactionBatch batch, const std::string& reason, int64_t now_us);

// The status snapshot `scorepipe status` prints, as one JSON object:
// {"ventilator":{...},"workers":[{...}, ...],"gateways":[{...}, ...]} (see
// docs/operations.md); `gateways` from GatewayTable::Snapshot.
std::string StatusJson(const Dispatcher& dispatcher, const std::string& host, int64_t pid, double uptime_s,
                       SteadyClock::time_point now, std::vector<GatewaySnapshot> gateways = {});

}  // namespace scorepipe

#endif  // SCOREPIPE_VENTILATOR_VENTILATOR_H_
