#include "ventilator/ventilator.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <string_view>
#include <vector>

#include "proto/codec.h"
#include "proto/status_snapshot.h"
#include "proto/upstream_json.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

// The metrics follow the dispatcher this often.
constexpr auto kMetricsPeriod = std::chrono::seconds(1);
// How often Step tends the sink link (a refused link is rebuilt after its backoff).
constexpr auto kTendPeriod = std::chrono::milliseconds(50);

constexpr int kSliceMs = 100;
// A stopping ventilator keeps handing out and collecting batches this long.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr int kDrainQuietMs = 300;
constexpr int kControlHwm = 1000;

const char* StateName(WorkerState state) {
  switch (state) {
    case WorkerState::kActive:
      return "active";
    case WorkerState::kDraining:
      return "draining";
    case WorkerState::kLeaving:
      return "leaving";
    case WorkerState::kBlocked:
      return "blocked";
  }
  return "?";
}

}  // namespace

std::string StatusJson(const Dispatcher& dispatcher, const std::string& host, int64_t pid, double uptime_s,
                       SteadyClock::time_point now, std::vector<GatewaySnapshot> gateways) {
  const DispatcherStats& s = dispatcher.stats();
  const std::vector<WorkerView> workers = dispatcher.Workers();
  StatusSnapshot snapshot;
  VentilatorSnapshot& v = snapshot.ventilator;
  v.host = host;
  v.pid = pid;
  v.uptime_s = uptime_s;
  v.live_workers = static_cast<int64_t>(dispatcher.live_workers());
  v.queued_batches = static_cast<int64_t>(dispatcher.queued());
  v.in_flight_batches = static_cast<int64_t>(dispatcher.in_flight());
  v.batches_received = static_cast<int64_t>(s.batches_received);
  v.batches_sent = static_cast<int64_t>(s.batches_sent);
  v.batches_done = static_cast<int64_t>(s.batches_done);
  v.redispatched = static_cast<int64_t>(s.redispatched);
  v.overdue = static_cast<int64_t>(s.overdue);
  v.workers_joined = static_cast<int64_t>(s.workers_joined);
  v.workers_lost = static_cast<int64_t>(s.workers_lost);
  v.poisoned = static_cast<int64_t>(s.poisoned);
  for (const WorkerView& w : workers) {
    v.transactions_per_second += w.transactions_per_second;
    WorkerSnapshot& out = snapshot.workers.emplace_back();
    out.id = w.worker_id;
    out.host = w.host;
    out.pid = static_cast<int64_t>(w.pid);
    out.state = StateName(w.state);
    // Any message proves life; the heartbeat is only the one sent when idle.
    out.last_heartbeat_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - w.last_seen).count();
    out.in_flight_batches = static_cast<int64_t>(w.in_flight);
    out.credit = static_cast<int64_t>(w.credit);
    out.batches_scored = static_cast<int64_t>(w.batches_scored);
    out.transactions_scored = static_cast<int64_t>(w.transactions_scored);
    out.transactions_per_second = w.transactions_per_second;
    out.model = w.model_name;
    out.model_version = w.model_version;
    out.model_error = w.model_error;
    out.shadow_version = w.shadow_version;
    out.link_error = w.link_error;
  }
  snapshot.gateways = std::move(gateways);
  return StatusSnapshotJson(snapshot);
}

Ventilator::Ventilator(const Topology& topology, zmq::context_t& context)
    : topology_(topology),
      context_(context),
      intake_(context, zmq::socket_type::pull),
      work_(context, zmq::socket_type::router),
      heartbeat_(context, zmq::socket_type::router),
      status_(context, zmq::socket_type::rep),
      gateways_(context, zmq::socket_type::router),
      dispatcher_(static_cast<uint32_t>(topology.workers.credit),
                  std::chrono::milliseconds(topology.ventilator.batch_timeout_ms),
                  std::chrono::milliseconds(static_cast<int64_t>(topology.heartbeat.interval_ms) *
                                            topology.heartbeat.liveness)),
      gateway_links_(std::chrono::milliseconds(static_cast<int64_t>(topology.heartbeat.interval_ms) *
                                               topology.heartbeat.liveness)),
      started_(SteadyClock::now()),
      next_expire_(started_),
      session_(NewSession()),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(*registry_),
      part_id_base_(NewSession() & 0xffffffff00000000ull),
      max_frame_bytes_(MaxBatchFrameBytes(static_cast<size_t>(topology.bridge.batch_size))) {
  intake_.set(zmq::sockopt::rcvhwm, topology.ventilator.send_hwm);
  intake_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
  work_.set(zmq::sockopt::sndhwm, topology.ventilator.send_hwm);
  work_.set(zmq::sockopt::rcvhwm, kControlHwm);
  work_.set(zmq::sockopt::router_mandatory, true);
  // Control messages, and online batches' results (a batch frame at most).
  work_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
  work_.set(zmq::sockopt::linger, 0);  // whatever is unsent at exit is in the queue's leases
  heartbeat_.set(zmq::sockopt::router_mandatory, false);
  heartbeat_.set(zmq::sockopt::maxmsgsize, int64_t{1} << 16);
  heartbeat_.set(zmq::sockopt::linger, 0);
  status_.set(zmq::sockopt::maxmsgsize, int64_t{1} << 12);
  status_.set(zmq::sockopt::linger, 0);
  // A send to a gateway that is gone fails at once instead of queueing.
  gateways_.set(zmq::sockopt::router_mandatory, true);
  gateways_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
  gateways_.set(zmq::sockopt::sndhwm, kControlHwm);
  gateways_.set(zmq::sockopt::rcvhwm, kControlHwm);
  gateways_.set(zmq::sockopt::linger, 0);
}

Status Ventilator::Bind() {
  Result<LinkSecurity> security = LoadServerSecurity(topology_.security, context_, &zap_);
  if (!security.ok()) return security.status();
  const VentilatorConfig& c = topology_.ventilator;
  for (auto [socket, endpoint] :
       {std::pair{&intake_, &c.intake.bind}, std::pair{&work_, &c.workers.bind},
        std::pair{&heartbeat_, &c.heartbeat.bind}, std::pair{&status_, &c.status.bind},
        std::pair{&gateways_, &c.gateways.bind}}) {
    if (Status s = security->BindAsServer(*socket, *endpoint); !s.ok()) return s;
  }
  security_ = std::move(security.value());
  to_sink_.emplace(context_, zmq::socket_type::push, security_, topology_.sink.results.connect, "the sink",
                   [](zmq::socket_t& socket) { socket.set(zmq::sockopt::linger, 1000); });
  return to_sink_->Open();
}

void Ventilator::Refused(const char* where, size_t bytes, const std::string& why) {
  ++stats_.frames_refused;
  uint64_t held_back = 0;
  if (refused_log_.ShouldLog(&held_back)) {
    spdlog::warn("refusing a {}-byte frame on the {}: {} ({} more since the last report)", bytes, where, why,
                 held_back);
  }
}

void Ventilator::LogRequeue(const Requeue& r) {
  if (r.batches == 0 && r.worker_id.empty()) return;
  if (r.reason.rfind("not done", 0) == 0) {
    uint64_t held_back = 0;
    if (!overdue_log_.ShouldLog(&held_back)) return;
    spdlog::warn("worker {} ({} pid {}): {} batches {}; sending them to other workers", r.worker_id, r.host,
                 r.pid, r.batches, r.reason);
    return;
  }
  if (r.reason == "left") {
    spdlog::info("worker {} ({} pid {}) left; {} batches it still held go to other workers", r.worker_id,
                 r.host, r.pid, r.batches);
    return;
  }
  spdlog::warn("worker {} ({} pid {}) is dead: {}; re-dispatching its {} batches", r.worker_id, r.host, r.pid,
               r.reason, r.batches);
}

void Ventilator::ReadIntake() {
  // A few frames per pass, and only while workers have credit to spare.
  for (int i = 0; i < 16 && dispatcher_.WantsMore(); ++i) {
    zmq::message_t frame;
    if (!intake_.recv(frame, zmq::recv_flags::dontwait)) return;
    Result<uint64_t> batch_id = PeekBatchId(FrameView(frame));
    if (!batch_id.ok()) {
      Refused("intake", frame.size(), batch_id.status().message());
      continue;
    }
    dispatcher_.Enqueue(batch_id.value(), std::move(frame));
  }
}

void Ventilator::ReadGateways(SteadyClock::time_point now) {
  for (int i = 0; i < 256; ++i) {
    zmq::message_t identity;
    if (!gateways_.recv(identity, zmq::recv_flags::dontwait)) return;
    zmq::message_t body;
    if (!identity.more() || !gateways_.recv(body, zmq::recv_flags::dontwait)) continue;
    while (body.more()) {  // a gateway sends one frame; drop extra parts
      zmq::message_t extra;
      if (!gateways_.recv(extra, zmq::recv_flags::dontwait)) break;
      body.swap(extra);
      if (!body.more()) break;
    }
    Result<MessageKind> kind = PeekKind(FrameView(body));
    if (!kind.ok()) {
      Refused("gateway link", body.size(), kind.status().message());
      continue;
    }
    if (kind.value() == MessageKind::kHeartbeat) {
      Result<Heartbeat> heartbeat = DecodeHeartbeat(FrameView(body));
      if (!heartbeat.ok()) {
        Refused("gateway link", body.size(), heartbeat.status().message());
        continue;
      }
      if (gateway_links_.OnHeartbeat(std::string(FrameView(identity)), heartbeat.value(), now)) {
        spdlog::info("gateway {} ({} pid {}) linked; {} gateway link{}", heartbeat->sender, heartbeat->host,
                     heartbeat->pid, gateway_links_.links(), gateway_links_.links() == 1 ? "" : "s");
      }
      AnswerGateway(identity);
      continue;
    }
    Result<uint64_t> batch_id = PeekBatchId(FrameView(body));
    if (!batch_id.ok() || kind.value() != MessageKind::kTransactionBatch) {
      Refused("gateway link", body.size(),
              batch_id.ok() ? std::string("unexpected ") + MessageKindName(kind.value())
                            : batch_id.status().message());
      continue;
    }
    std::string routing_id(FrameView(identity));
    gateway_links_.OnBatch(routing_id, now);
    dispatcher_.EnqueueOnline(batch_id.value(), std::move(body), std::move(routing_id),
                              now + std::chrono::milliseconds(topology_.gateway.request_timeout_ms));
  }
}

void Ventilator::AnswerGateway(const zmq::message_t& identity) {
  HeadStatus status;
  status.session = session_;
  status.live_workers = static_cast<uint32_t>(dispatcher_.live_workers());
  status.queued = static_cast<uint32_t>(dispatcher_.queued());
  for (const WorkerView& w : dispatcher_.Workers()) {
    if (w.state != WorkerState::kActive) continue;
    if (status.model_name.empty()) status.model_name = w.model_name;
    if (!w.model_version.empty()) status.model_versions.push_back(w.model_version);
  }
  std::sort(status.model_versions.begin(), status.model_versions.end());
  status.model_versions.erase(std::unique(status.model_versions.begin(), status.model_versions.end()),
                              status.model_versions.end());
  const std::string encoded = Encode(status);
  zmq::message_t frame(encoded.data(), encoded.size());
  SendToGateway(FrameView(identity), frame);
}

bool Ventilator::SendToGateway(std::string_view routing_id, zmq::message_t& frame) {
  try {
    if (!gateways_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    return gateways_.send(frame, zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) throw;
    return false;  // that gateway is gone: its callers had their answer from it already
  }
}

void Ventilator::ForwardOnlineResult(uint64_t batch_id, zmq::message_t& body) {
  std::optional<std::string> gateway = dispatcher_.TakeReturnAddress(batch_id);
  if (!gateway) return;  // answered already (a re-dispatched copy), or not online
  if (SendToGateway(*gateway, body)) {
    gateway_links_.OnAnswered(*gateway);
  } else {
    uint64_t held_back = 0;
    if (gateway_log_.ShouldLog(&held_back)) {
      spdlog::warn(
          "the gateway of online batch {} is gone or full: its results are dropped ({} more since "
          "the last report)",
          batch_id, held_back);
    }
  }
}

void Ventilator::ReadWork(SteadyClock::time_point now) {
  for (int i = 0; i < 256; ++i) {
    zmq::message_t identity;
    if (!work_.recv(identity, zmq::recv_flags::dontwait)) return;
    zmq::message_t body;
    if (!identity.more() || !work_.recv(body, zmq::recv_flags::dontwait)) continue;
    while (body.more()) {  // a well-behaved worker sends one frame; drop extra parts
      zmq::message_t extra;
      if (!work_.recv(extra, zmq::recv_flags::dontwait)) break;
      body.swap(extra);
      if (!body.more()) break;
    }
    const std::string routing_id(FrameView(identity));
    Result<MessageKind> kind = PeekKind(FrameView(body));
    if (!kind.ok()) {
      Refused("work channel", body.size(), kind.status().message());
      continue;
    }
    if (kind.value() == MessageKind::kBatchDone) {
      Result<BatchDone> done = DecodeBatchDone(FrameView(body));
      if (!done.ok()) {
        Refused("work channel", body.size(), done.status().message());
        continue;
      }
      dispatcher_.OnDone(routing_id, done.value(), now);
    } else if (kind.value() == MessageKind::kResultBatch) {
      // An online batch's results are also its BatchDone (the worker sends
      // no other): one message less a batch on the gateway's path.
      Result<uint64_t> batch_id = PeekBatchId(FrameView(body));
      if (!batch_id.ok()) {
        Refused("work channel", body.size(), batch_id.status().message());
        continue;
      }
      ForwardOnlineResult(batch_id.value(), body);
      dispatcher_.OnDone(routing_id, BatchDone{batch_id.value(), 0, {}}, now);
    } else if (kind.value() == MessageKind::kWorkerReady) {
      Result<WorkerReady> ready = DecodeWorkerReady(FrameView(body));
      if (!ready.ok()) {
        Refused("work channel", body.size(), ready.status().message());
        continue;
      }
      const std::optional<WorkerState> before = [&]() -> std::optional<WorkerState> {
        for (const WorkerView& w : dispatcher_.Workers()) {
          if (w.routing_id == routing_id) return w.state;
        }
        return std::nullopt;
      }();
      const bool known = before.has_value();
      std::optional<Requeue> requeue = dispatcher_.OnReady(routing_id, ready.value(), now);
      if (requeue) LogRequeue(*requeue);
      if (!known && ready->state == WorkerState::kActive) {
        spdlog::info("worker {} ({} pid {}) joined with credit {}; {} live", ready->worker_id, ready->host,
                     ready->pid, ready->credit, dispatcher_.live_workers());
      } else if (before == WorkerState::kBlocked && ready->state == WorkerState::kActive) {
        spdlog::info("worker {} ({} pid {}) can deliver results again: credit {}; {} live", ready->worker_id,
                     ready->host, ready->pid, ready->credit, dispatcher_.live_workers());
      } else if (ready->state == WorkerState::kDraining) {
        spdlog::info("worker {} is stopping: no more batches for it", ready->worker_id);
      } else if (ready->state == WorkerState::kBlocked) {
        spdlog::warn("worker {} ({} pid {}) cannot deliver results: no batches for it until it says it can",
                     ready->worker_id, ready->host, ready->pid);
      }
    } else {
      Refused("work channel", body.size(), std::string("unexpected ") + MessageKindName(kind.value()));
    }
  }
}

void Ventilator::ReadHeartbeats(SteadyClock::time_point now) {
  for (int i = 0; i < 256; ++i) {
    zmq::message_t identity;
    if (!heartbeat_.recv(identity, zmq::recv_flags::dontwait)) return;
    zmq::message_t body;
    if (!identity.more() || !heartbeat_.recv(body, zmq::recv_flags::dontwait)) continue;
    Result<Heartbeat> heartbeat = DecodeHeartbeat(FrameView(body));
    if (!heartbeat.ok()) {
      Refused("heartbeat channel", body.size(), heartbeat.status().message());
      continue;
    }
    ++stats_.heartbeats;
    Heartbeat reply;
    reply.sender = kVentilatorSender;
    reply.host = HostName();
    reply.pid = getpid();
    reply.session = session_;
    reply.sequence = ++heartbeat_sequence_;
    reply.sent_at_us = NowUnixMicros();
    reply.known = dispatcher_.OnHeartbeat(std::string(FrameView(identity)), heartbeat.value(), now);
    const std::string encoded = Encode(reply);
    // Best effort: a full or vanished peer just misses this one.
    heartbeat_.send(identity, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    heartbeat_.send(zmq::buffer(encoded), zmq::send_flags::dontwait);
  }
}

void Ventilator::AnswerStatus(SteadyClock::time_point now) {
  zmq::message_t request;
  if (!status_.recv(request, zmq::recv_flags::dontwait)) return;
  while (request.more()) {
    if (!status_.recv(request, zmq::recv_flags::dontwait)) break;
  }
  const double uptime = std::chrono::duration<double>(now - started_).count();
  const std::string json = StatusJson(dispatcher_, HostName(), getpid(), uptime, now,
                                      gateway_links_.Snapshot(now, dispatcher_.OnlineByGateway()));
  status_.send(zmq::buffer(json), zmq::send_flags::dontwait);
}

void Ventilator::Dispatch(SteadyClock::time_point now) {
  while (std::optional<Dispatcher::Assignment> a = dispatcher_.Next()) {
    zmq::message_t copy;
    copy.copy(const_cast<zmq::message_t&>(*a->frame));  // shares the buffer, no byte copy
    try {
      if (!work_.send(zmq::buffer(a->routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        dispatcher_.SendFailed(a->routing_id, /*gone=*/false, now);  // its pipe is full
        continue;
      }
      work_.send(copy, zmq::send_flags::dontwait);
      dispatcher_.Sent(*a, now);
    } catch (const zmq::error_t& e) {
      if (e.num() != EHOSTUNREACH) throw;
      std::optional<Requeue> requeue = dispatcher_.SendFailed(a->routing_id, /*gone=*/true, now);
      if (requeue) LogRequeue(*requeue);
    }
  }
}

void Ventilator::Expire(SteadyClock::time_point now) {
  if (now < next_expire_) return;
  next_expire_ = now + std::chrono::milliseconds(std::min(kSliceMs, topology_.heartbeat.interval_ms));
  for (const Requeue& r : dispatcher_.Expire(now)) LogRequeue(r);
  if (const size_t forgotten = gateway_links_.Expire(now); forgotten > 0) {
    spdlog::info("{} gateway link{} not heard from within the heartbeat timeout: forgotten; {} left",
                 forgotten, forgotten == 1 ? "" : "s", gateway_links_.links());
  }
  HandlePoisoned();
}

ResultBatch PoisonedBatchResult(TransactionBatch batch, const std::string& reason, int64_t now_us) {
  ResultBatch result;
  result.batch_id = batch.batch_id;
  result.lease = std::move(batch.lease);
  result.worker_id = kVentilatorSender;
  result.scored_at_us = now_us;
  result.created_at_us = batch.created_at_us;
  result.rejects = std::move(batch.rejects);
  result.evaluation = std::move(batch.evaluation);
  result.part = batch.part;
  for (const Transaction& t : batch.transactions) {
    ScoreResult r;
    r.transaction_id = t.id;
    r.transaction_id_text = t.id_text;
    r.error = reason;
    result.results.push_back(std::move(r));
  }
  return result;
}

std::optional<std::pair<TransactionBatch, TransactionBatch>> SplitBatch(const TransactionBatch& batch,
                                                                        uint64_t first_id,
                                                                        uint64_t second_id) {
  const size_t messages = batch.transactions.size() + batch.rejects.size();
  if (messages < 2) return std::nullopt;
  std::pair<TransactionBatch, TransactionBatch> parts;
  for (auto [part, id] : {std::pair{&parts.first, first_id}, std::pair{&parts.second, second_id}}) {
    part->batch_id = id;
    part->created_at_us = batch.created_at_us;
    part->lease = batch.lease;
    part->evaluation.run = batch.evaluation.run;
  }
  if (batch.evaluation.run != 0) {
    // An evaluation run's rows: no lease, no rejects; each half keeps its rows.
    const size_t half = batch.transactions.size() / 2;
    const auto middle = static_cast<std::ptrdiff_t>(half);
    parts.first.transactions.assign(batch.transactions.begin(), batch.transactions.begin() + middle);
    parts.second.transactions.assign(batch.transactions.begin() + middle, batch.transactions.end());
    parts.first.evaluation.first_row = batch.evaluation.first_row;
    parts.second.evaluation.first_row = batch.evaluation.first_row + half;
    const auto labels_middle = std::min(batch.evaluation.labels.size(), half);
    parts.first.evaluation.labels.assign(
        batch.evaluation.labels.begin(),
        batch.evaluation.labels.begin() + static_cast<std::ptrdiff_t>(labels_middle));
    parts.second.evaluation.labels.assign(
        batch.evaluation.labels.begin() + static_cast<std::ptrdiff_t>(labels_middle),
        batch.evaluation.labels.end());
    return parts;
  }
  const bool whole = batch.part.whole();
  const auto begin = whole ? 0u : batch.part.begin;
  const auto end = whole ? static_cast<uint32_t>(messages) : batch.part.end;
  const auto lease_size = whole ? static_cast<uint32_t>(messages) : batch.part.lease_size;
  const uint32_t middle = begin + (end - begin) / 2;
  parts.first.part = LeasePart{begin, middle, lease_size};
  parts.second.part = LeasePart{middle, end, lease_size};
  size_t next_transaction = 0;
  size_t next_reject = 0;
  for (uint32_t position = begin; position < end; ++position) {
    TransactionBatch& to = position < middle ? parts.first : parts.second;
    if (next_reject < batch.rejects.size() && batch.rejects[next_reject].position == position) {
      to.rejects.push_back(batch.rejects[next_reject++]);
    } else if (next_transaction < batch.transactions.size()) {
      to.transactions.push_back(batch.transactions[next_transaction++]);
    }
  }
  return parts;
}

void Ventilator::HandlePoisoned() {
  for (Dispatcher::Poisoned& p : dispatcher_.TakePoisoned()) {
    Result<TransactionBatch> batch = DecodeTransactionBatch(FrameView(p.frame), max_frame_bytes_);
    if (!batch.ok()) {
      // Nothing here can read its messages: its lease comes back after
      // queue.inflight_timeout_ms, and past queue.max_deliveries the bridge
      // dead-letters them.
      spdlog::error(
          "batch {} was given up ({}) and does not decode here either ({}); its lease comes back after "
          "queue.inflight_timeout_ms",
          p.batch_id, p.reason, batch.status().message());
      continue;
    }
    const size_t messages = batch->transactions.size() + batch->rejects.size();
    if (auto parts = SplitBatch(batch.value(), part_id_base_ + next_part_, part_id_base_ + next_part_ + 1)) {
      next_part_ += 2;
      spdlog::warn("batch {} ({} messages): {}; cutting it in two parts to find the messages that fail",
                   p.batch_id, messages, p.reason);
      // The first part goes first: push the second to the front, then the first.
      for (const TransactionBatch* part : {&parts->second, &parts->first}) {
        const std::string encoded = Encode(*part);
        dispatcher_.EnqueueFront(part->batch_id, zmq::message_t(encoded.data(), encoded.size()),
                                 kPartAttempts, p.return_to, p.expires);
      }
      continue;
    }
    const std::string reason = "poison: " + p.reason;
    spdlog::error("batch {} ({} message{}) {}; dead-lettering it", p.batch_id, messages,
                  messages == 1 ? "" : "s", reason);
    const std::string encoded =
        Encode(PoisonedBatchResult(std::move(batch.value()), reason, NowUnixMicros()));
    zmq::message_t frame(encoded.data(), encoded.size());
    if (!p.return_to.empty()) {
      // An online batch's caller hears of it from its gateway.
      if (!SendToGateway(p.return_to, frame)) {
        spdlog::warn("the gateway of poison online batch {} is gone: nothing more to do", p.batch_id);
      }
      continue;
    }
    if (!SendFrame(*to_sink_, frame, SteadyClock::now() + std::chrono::seconds(1))) {
      spdlog::error("the sink did not take poison batch {}: its lease brings it back later", p.batch_id);
    }
  }
}

void Ventilator::Step(int timeout_ms, bool intake) {
  // Only the sockets that have something are read: a read that finds
  // nothing costs ZeroMQ two system calls (it looks at its mailbox), and at
  // thousands of online batches a second every pass counts.
  enum : size_t { kWork, kHeartbeat, kStatus, kGateways, kIntake, kItems };
  std::array<zmq::pollitem_t, kItems> items = {{
      {work_.handle(), 0, ZMQ_POLLIN, 0},
      {heartbeat_.handle(), 0, ZMQ_POLLIN, 0},
      {status_.handle(), 0, ZMQ_POLLIN, 0},
      {gateways_.handle(), 0, ZMQ_POLLIN, 0},
      {intake_.handle(), 0, ZMQ_POLLIN, 0},
  }};
  const bool read_intake = intake && dispatcher_.WantsMore();
  try {
    zmq::poll(items.data(), read_intake ? kItems : kItems - 1, std::chrono::milliseconds(timeout_ms));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
  }
  const auto has = [&items](size_t i) { return (items[i].revents & ZMQ_POLLIN) != 0; };
  const auto now = SteadyClock::now();
  if (to_sink_ && now >= next_tend_) {  // reads the link's handshake events: a few system calls
    to_sink_->Tend();
    next_tend_ = now + kTendPeriod;
  }
  if (has(kHeartbeat)) ReadHeartbeats(now);
  if (has(kWork)) ReadWork(now);
  if (has(kGateways)) ReadGateways(now);
  if (has(kStatus)) AnswerStatus(now);
  if (read_intake && has(kIntake)) ReadIntake();
  Expire(now);
  Dispatch(now);
  if (now >= next_metrics_) {
    metrics_.Update(dispatcher_, stats_, now);
    next_metrics_ = now + kMetricsPeriod;
  }
}

Status Ventilator::Run() {
  spdlog::info(
      "ventilator: intake {} -> workers {} (heartbeats {}, status {}); credit {} per worker, "
      "dead after {} x {} ms, batch timeout {} ms",
      topology_.ventilator.intake.bind, topology_.ventilator.workers.bind,
      topology_.ventilator.heartbeat.bind, topology_.ventilator.status.bind, topology_.workers.credit,
      topology_.heartbeat.liveness, topology_.heartbeat.interval_ms, topology_.ventilator.batch_timeout_ms);
  NotifyReady("handing batches to workers at " + topology_.ventilator.workers.bind);
  while (!StopRequested()) {
    NotifyAlive();
    Step(kSliceMs, /*intake=*/true);
  }
  NotifyStopping();

  // Hand out what is queued and what the stopping bridge still sends, and
  // collect the workers' BatchDones, until all is quiet or time is up.
  const auto deadline = SteadyClock::now() + kDrainTimeout;
  auto last_activity = SteadyClock::now();
  uint64_t seen = dispatcher_.stats().batches_received + dispatcher_.stats().batches_done;
  while (SteadyClock::now() < deadline) {
    Step(50, /*intake=*/true);
    const uint64_t now_seen = dispatcher_.stats().batches_received + dispatcher_.stats().batches_done;
    if (now_seen != seen) {
      seen = now_seen;
      last_activity = SteadyClock::now();
    }
    const bool idle = dispatcher_.queued() == 0 && dispatcher_.in_flight() == 0;
    if (idle && SteadyClock::now() - last_activity > std::chrono::milliseconds(kDrainQuietMs)) break;
    if (dispatcher_.live_workers() == 0 &&
        SteadyClock::now() - last_activity > std::chrono::milliseconds(kDrainQuietMs)) {
      break;  // nobody left to hand anything to
    }
  }
  const DispatcherStats& s = dispatcher_.stats();
  if (dispatcher_.queued() + dispatcher_.in_flight() > 0) {
    spdlog::warn(
        "stopping with {} batches queued and {} in flight: their leases bring them back after "
        "queue.inflight_timeout_ms",
        dispatcher_.queued(), dispatcher_.in_flight());
  }
  spdlog::info(
      "ventilator stopped: received {} batches, sent {} ({} re-dispatched), done {}, workers joined {}, "
      "lost {}, refused {} frames",
      s.batches_received, s.batches_sent, s.redispatched, s.batches_done, s.workers_joined, s.workers_lost,
      stats_.frames_refused);
  return Status::Ok();
}

}  // namespace scorepipe
