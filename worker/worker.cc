#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>

#include "config/topology_writer.h"
#include "proto/codec.h"
#include "proto/upstream_json.h"
#include "runtime/curve.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReceiveSliceMs = 100;
constexpr int kPollSliceMs = 50;  // how often a blocked send looks at the stop flag and the link
constexpr int kLinkCheckMs = 20;  // how often a busy worker looks at its links
// Result batches queued towards the sink; small, so a slow sink holds the
// worker back (no BatchDone, no new credit) instead of piling up leases.
constexpr int kResultsHwm = 4;
constexpr int kDrainQuietMs = 300;
constexpr auto kDrainTimeout = std::chrono::seconds(5);
// Control messages (BatchDone, WorkerReady) wait this long to leave at exit.
constexpr int kWorkLingerMs = 1000;

}  // namespace

std::string DefaultWorkerId() { return HostName() + "-" + std::to_string(getpid()); }

Worker::Worker(const Topology& topology, zmq::context_t& context, Scorer scorer, std::string id)
    : topology_(topology),
      context_(context),
      scorer_(std::move(scorer)),
      id_(std::move(id)),
      max_frame_bytes_(MaxBatchFrameBytes(static_cast<size_t>(topology.bridge.batch_size))),
      session_(NewSession()),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(*registry_, topology.model.name, scorer_.model().version(),
               ModelFormatName(topology.model.format)),
      running_version_(scorer_.model().version()) {
  result_.worker_id = id_;
  result_.model_version = scorer_.model().version();
  result_.model_name = topology_.model.name;
}

Worker::~Worker() {
  heartbeat_stop_ = true;
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

std::string Worker::RoutingId(uint32_t connection) const {
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "#%016" PRIx64 ".%" PRIu32, session_, connection);
  return id_ + suffix;
}

Status Worker::OpenWorkChannel() {
  work_.reset();  // drops what the old channel still queued: the ventilator takes it back
  work_.emplace(context_, zmq::socket_type::dealer);
  work_->set(zmq::sockopt::routing_id, zmq::buffer(RoutingId(connection_)));
  work_->set(zmq::sockopt::rcvhwm, topology_.workers.credit + 1);
  work_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
  work_->set(zmq::sockopt::linger, kWorkLingerMs);
  if (Status s = security_.ConnectAsClient(*work_, topology_.ventilator.workers.connect); !s.ok()) return s;
  announced_.reset();  // TendLinks announces it on the new channel
  return Status::Ok();
}

void Worker::SendReady(WorkerState state, uint32_t credit) {
  WorkerReady ready;
  ready.worker_id = id_;
  ready.host = HostName();
  ready.pid = getpid();
  ready.session = session_;
  ready.credit = credit;
  ready.state = state;
  const std::string encoded = Encode(ready);
  work_->send(zmq::buffer(encoded), zmq::send_flags::dontwait);
}

Status Worker::Connect() {
  Result<LinkSecurity> security = LinkSecurity::Load(topology_.security);
  if (!security.ok()) return security.status();
  security_ = std::move(security.value());
  sink_.emplace(context_, zmq::socket_type::push, security_, topology_.sink.results.connect, "the sink",
                [](zmq::socket_t& socket) {
                  socket.set(zmq::sockopt::sndhwm, kResultsHwm);
                  socket.set(zmq::sockopt::linger,
                             static_cast<int>(std::chrono::milliseconds(kDrainTimeout).count()));
                });
  if (Status s = sink_->Open(); !s.ok()) return s;
  if (Status s = OpenWorkChannel(); !s.ok()) return s;
  TendLinks(true);
  return Status::Ok();
}

std::string Worker::SinkProblem() {
  if (std::string refused = LinkProblem(*sink_); !refused.empty()) return refused;
  if (!sink_up_since_built_) return "the sink: not connected yet (" + topology_.sink.results.connect + ")";
  return "";
}

void Worker::TendLinks(bool now) {
  // Once per slice under load (a turn per batch), at once when told to.
  const auto at = Clock::now();
  if (!now && announced_ && at < next_link_check_) return;
  next_link_check_ = at + std::chrono::milliseconds(kLinkCheckMs);
  if (sink_->Tend()) sink_up_since_built_ = false;
  if (sink_->State() == ClientLink::LinkState::kUp) sink_up_since_built_ = true;
  const std::string problem = SinkProblem();
  {
    std::lock_guard<std::mutex> lock(link_mu_);
    sink_problem_ = problem;
  }
  // Blocked while the link is refused; active once a handshake completed on
  // the current socket; until then (just started or rebuilt) as announced.
  std::optional<WorkerState> want;
  if (sink_->State() == ClientLink::LinkState::kRefused) {
    want = WorkerState::kBlocked;
  } else if (sink_up_since_built_) {
    want = WorkerState::kActive;
  }
  if (want && announced_ != want) {
    if (want == WorkerState::kBlocked) {
      spdlog::warn(
          "cannot deliver results, so taking no work (the ventilator takes back what this worker "
          "holds): {}",
          problem);
    } else if (announced_ == WorkerState::kBlocked) {
      spdlog::info("the sink takes results again: taking work");
    }
    SendReady(*want, want == WorkerState::kActive ? static_cast<uint32_t>(topology_.workers.credit) : 0);
    announced_ = want;
  }
  // Ready, and what `systemctl status` shows: whether the links really are up.
  std::string ventilator_problem;
  {
    std::lock_guard<std::mutex> lock(link_mu_);
    ventilator_problem = ventilator_problem_;
  }
  if (ventilator_problem.empty() && !ventilator_answered_) {
    ventilator_problem = "the ventilator: no answer yet (" + topology_.ventilator.heartbeat.connect + ")";
  }
  std::string status;
  if (problem.empty() && ventilator_problem.empty()) {
    status = "scoring with model " + scorer_.model().version();
  } else {
    status = std::string(NotifiedReady() ? "links down, taking no work: " : "waiting for its links: ") +
             ventilator_problem + (ventilator_problem.empty() || problem.empty() ? "" : "; ") + problem;
  }
  if (status == service_status_) return;
  service_status_ = status;
  const bool links_up = problem.empty() && ventilator_problem.empty();
  ProcessHealth().SetProblem("links", links_up ? "" : status);
  if (links_up && !NotifiedReady()) {
    NotifyReady(status);
  } else {
    NotifyStatus(status);
  }
}

bool Worker::Handle(const zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  Result<TransactionBatch> batch = DecodeTransactionBatch(FrameView(frame), max_frame_bytes_);
  if (!batch.ok()) {
    ++stats_.frames_refused;
    metrics_.Refused();
    uint64_t held_back = 0;
    if (refused_log_.ShouldLog(&held_back)) {
      spdlog::warn("refusing a {}-byte frame from the ventilator: {} ({} more since the last report)",
                   frame.size(), batch.status().message(), held_back);
    }
    // Say so at once: the ventilator takes the batch back now (and splits
    // or dead-letters it) instead of after the batch's deadline.
    if (Result<uint64_t> id = PeekBatchId(FrameView(frame)); id.ok()) {
      BatchDone refused{id.value(), session_,
                        std::string(Utf8Prefix(batch.status().message(), kMaxErrorTextBytes))};
      const std::string encoded = Encode(refused);
      work_->send(zmq::buffer(encoded), zmq::send_flags::dontwait);
    }
    return true;
  }
  held_ = 1;
  result_.batch_id = batch->batch_id;
  result_.part = batch->part;
  result_.lease = std::move(batch->lease);
  result_.rejects = std::move(batch->rejects);
  result_.created_at_us = batch->created_at_us;
  // An evaluation run's rows and labels go back with the scores, for the sink.
  result_.evaluation = std::move(batch->evaluation);
  const auto scoring_started = Clock::now();
  const size_t rows = batch->rows();
  Status scored = batch->feature_width == 0 ? scorer_.Score(batch->transactions, &result_.results)
                                            : scorer_.ScoreRows(batch->features.data(), rows,
                                                                batch->feature_width, &result_.results);
  metrics_.Scored(rows, std::chrono::duration<double>(Clock::now() - scoring_started).count());
  if (!scored.ok()) {
    // The whole batch failed in the model: every transaction goes to the dead
    // letters with the reason rather than vanish.
    spdlog::error("batch {}: {}", batch->batch_id, scored.message());
    result_.results.assign(rows, ScoreResult{});
    for (size_t i = 0; i < rows; ++i) {
      if (batch->feature_width == 0) {
        result_.results[i].transaction_id = batch->transactions[i].id;
        result_.results[i].transaction_id_text = batch->transactions[i].id_text;
      }
      result_.results[i].error = "model failed: " + scored.message();
    }
  }
  // An evaluation run measures the live version, and an online caller waits:
  // the shadow would add time only.
  if (scored.ok() && result_.evaluation.run == 0 && !batch->online) {
    ScoreShadow(batch->transactions, batch->batch_id);
  } else {
    result_.shadow_results.clear();
    result_.shadow_version.clear();
  }
  result_.scored_at_us = NowUnixMicros();
  std::string encoded = Encode(result_);
  zmq::message_t out(encoded.data(), encoded.size());
  // An online batch's results go back to the ventilator, which hands them to
  // the gateway that asked (docs/architecture.md, "Online scoring").
  switch (batch->online ? SendOnline(out, deadline) : SendResult(out, deadline)) {
    case Delivery::kSent:
      break;
    case Delivery::kStopped:
      return false;
    case Delivery::kRefused:
      // No BatchDone: the ventilator takes the batch back when this worker
      // says it is blocked (TendLinks, next turn) and sends it elsewhere.
      held_ = 0;
      ++stats_.given_back;
      spdlog::warn("batch {}: the sink link is refused, giving the batch back: {}", batch->batch_id,
                   SinkProblem());
      TendLinks(true);
      return true;
  }
  // An online batch's results went on the work channel and are its
  // BatchDone as well; the others need one.
  if (!batch->online) {
    const std::string done = Encode(BatchDone{batch->batch_id, session_, {}});
    work_->send(zmq::buffer(done), zmq::send_flags::dontwait);
  }
  held_ = 0;
  ++stats_.batches_scored;
  stats_.transactions_scored += rows;
  batches_scored_ = stats_.batches_scored;
  transactions_scored_ = stats_.transactions_scored;
  return true;
}

Worker::Delivery Worker::SendResult(zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  while (true) {
    if (sink_->socket().send(frame, zmq::send_flags::dontwait)) return Delivery::kSent;
    if (deadline ? Clock::now() >= *deadline : StopRequested()) return Delivery::kStopped;
    // A refused link never takes it: not "held back by a full peer", so no
    // watchdog ping either.
    if (sink_->State() == ClientLink::LinkState::kRefused) return Delivery::kRefused;
    NotifyAlive();  // held back by a full peer is not hung
    PollFor(sink_->socket(), ZMQ_POLLOUT, kPollSliceMs);
  }
}

Worker::Delivery Worker::SendOnline(zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  while (true) {
    if (work_->send(frame, zmq::send_flags::dontwait)) return Delivery::kSent;
    if (deadline ? Clock::now() >= *deadline : StopRequested()) return Delivery::kStopped;
    NotifyAlive();  // held back by a full peer is not hung
    PollFor(*work_, ZMQ_POLLOUT, kPollSliceMs);
  }
}

void Worker::SwitchModel(LoadedModel next) {
  const std::string from = scorer_.model().version();
  scorer_ = std::move(next.scorer);
  result_.model_version = scorer_.model().version();
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    running_version_ = result_.model_version;
  }
  ++stats_.model_switches;
  metrics_.ModelSwitched(topology_.model.name, result_.model_version, ModelFormatName(next.config.format));
  spdlog::info("model {}: switched from version {} to {} between batches ({})", topology_.model.name, from,
               result_.model_version, scorer_.model().Describe());
}

void Worker::SwitchShadow(ModelWatcher::ShadowChange change) {
  const std::string from = shadow_ ? shadow_->model().version() : std::string("none");
  if (change.model) {
    shadow_.emplace(std::move(change.model->scorer));
  } else {
    shadow_.reset();
  }
  const std::string to = shadow_ ? shadow_->model().version() : std::string();
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    running_shadow_ = to;
  }
  metrics_.ShadowChanged(topology_.model.name, to);
  spdlog::info("model {}: in shadow from the next batch: {} (was {})", topology_.model.name,
               to.empty() ? std::string("none") : to, from);
}

void Worker::ScoreShadow(const std::vector<Transaction>& transactions, uint64_t batch_id) {
  result_.shadow_results.clear();
  result_.shadow_version.clear();
  if (!shadow_) return;
  Status scored = shadow_->Score(transactions, &result_.shadow_results);
  if (!scored.ok()) {
    result_.shadow_results.clear();
    metrics_.ShadowFailed();
    uint64_t held_back = 0;
    if (shadow_log_.ShouldLog(&held_back)) {
      spdlog::warn(
          "batch {}: the version in shadow ({}) failed, no shadow scores for it: {} ({} more since "
          "the last report)",
          batch_id, shadow_->model().version(), scored.message(), held_back);
    }
    return;
  }
  result_.shadow_version = shadow_->model().version();
  metrics_.ShadowScored(transactions.size());
}

std::string Worker::RunningVersion() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return running_version_;
}

std::string Worker::RunningShadow() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return running_shadow_;
}

void Worker::HeartbeatLoop() {
  const auto interval = std::chrono::milliseconds(topology_.heartbeat.interval_ms);
  const auto dead_after = interval * topology_.heartbeat.liveness;
  auto open = [&] {
    zmq::socket_t socket(context_, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::routing_id, zmq::buffer(RoutingId(connection_)));
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::sndhwm, 2);
    socket.set(zmq::sockopt::maxmsgsize, int64_t{1} << 16);
    // The keys were put on the work channel already: they cannot fail here.
    if (Status s = security_.Client(socket); !s.ok()) spdlog::error("heartbeat channel: {}", s.message());
    socket.connect(topology_.ventilator.heartbeat.connect);
    return socket;
  };
  zmq::socket_t socket = open();
  // With CURVE: why the ventilator stays silent, when a handshake is the reason.
  std::optional<HandshakeWatch> handshakes;
  auto watch = [&] {
    handshakes.reset();  // before the socket it watches goes
    if (!security_.curve()) return;
    handshakes.emplace();
    if (Status s = handshakes->Watch(socket, "the ventilator", security_.public_key()); !s.ok()) {
      spdlog::warn("{}", s.message());
      handshakes.reset();
    }
  };
  watch();
  Heartbeat beat;
  beat.sender = id_;
  beat.host = HostName();
  beat.pid = getpid();
  beat.session = session_;
  beat.model_name = topology_.model.name;
  auto last_heard = Clock::now();
  auto next_send = Clock::now();
  bool silent_reported = false;
  while (!heartbeat_stop_) {
    auto now = Clock::now();
    if (now >= next_send) {
      beat.sequence++;
      beat.batches_held = held_;
      beat.batches_scored = batches_scored_;
      beat.transactions_scored = transactions_scored_;
      beat.sent_at_us = NowUnixMicros();
      beat.model_version = RunningVersion();
      beat.model_error = watcher_ ? watcher_->LastError() : std::string();
      beat.shadow_version = RunningShadow();
      {
        std::lock_guard<std::mutex> lock(link_mu_);
        beat.link_error = sink_problem_;
      }
      const std::string encoded = Encode(beat);
      socket.send(zmq::buffer(encoded), zmq::send_flags::dontwait);
      next_send = now + interval;
    }
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_send - now);
    try {
      zmq::poll(&item, 1, std::min(wait, std::chrono::milliseconds(kReceiveSliceMs)));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    zmq::message_t reply;
    while (socket.recv(reply, zmq::recv_flags::dontwait)) {
      Result<Heartbeat> answer = DecodeHeartbeat(FrameView(reply));
      if (!answer.ok()) continue;
      last_heard = Clock::now();
      ventilator_answered_ = true;
      if (silent_reported) {
        spdlog::info("ventilator answers again");
        silent_reported = false;
        std::lock_guard<std::mutex> lock(link_mu_);
        ventilator_problem_.clear();
      }
      if (!answer->known) announce_ = true;
    }
    now = Clock::now();
    if (now - last_heard > dead_after) {
      const auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard);
      const std::optional<std::string> refused = handshakes ? handshakes->Failure() : std::nullopt;
      spdlog::warn("ventilator silent for {} ms (limit {} x {} ms): connecting again{}{}", quiet.count(),
                   topology_.heartbeat.liveness, topology_.heartbeat.interval_ms, refused ? "; " : "",
                   refused.value_or(""));
      silent_reported = true;
      {
        std::lock_guard<std::mutex> lock(link_mu_);
        ventilator_problem_ = "the ventilator: silent for " + std::to_string(quiet.count()) + " ms" +
                              (refused ? "; " + *refused : std::string());
      }
      ++connection_;  // both channels connect again under a new routing id
      handshakes.reset();
      socket = open();
      watch();
      reconnect_ = true;
      last_heard = now;
    }
  }
}

Status Worker::Run() {
  const char* following = topology_.model.registry.empty() ? "" : ", following the registry's live version";
  spdlog::info("worker {} scoring with model {} {} ({}{}): {} -> {}; heartbeat every {} ms", id_,
               topology_.model.name, scorer_.model().version(), topology_.model.path, following,
               topology_.ventilator.workers.connect, topology_.sink.results.connect,
               topology_.heartbeat.interval_ms);
  if (!topology_.model.registry.empty()) {
    watcher_ = std::make_unique<ModelWatcher>(topology_.model, scorer_.model().version(),
                                              [this](const Status&) { metrics_.LoadFailed(); });
    watcher_->Start();
  }
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  while (!StopRequested()) {
    NotifyAlive();
    if (reconnect_.exchange(false)) {
      ++stats_.reconnects;
      metrics_.Reconnected();
      announce_ = false;
      if (Status s = OpenWorkChannel(); !s.ok()) spdlog::error("{}", s.message());
    }
    if (announce_.exchange(false)) {
      spdlog::info("the ventilator does not know this worker (it restarted?): announcing again");
      announced_.reset();
    }
    TendLinks();
    if (watcher_) {
      if (std::optional<LoadedModel> next = watcher_->TakeLoaded()) SwitchModel(std::move(*next));
      if (auto shadow = watcher_->TakeShadowChange()) SwitchShadow(std::move(*shadow));
    }
    std::optional<zmq::message_t> frame = ReceiveFor(*work_, kReceiveSliceMs);
    if (frame && announced_ != WorkerState::kActive) {
      // Sent before the ventilator heard that this worker is blocked: it has
      // taken the batch back already.
      ++stats_.given_back;
      continue;
    }
    if (frame && !Handle(*frame, std::nullopt)) {
      Handle(*frame, Clock::now() + kDrainTimeout);  // stopped while the sink was full
    }
  }
  // Say so, score what already reached this worker, then leave.
  NotifyStopping();
  SendReady(WorkerState::kDraining, 0);
  const auto deadline = Clock::now() + kDrainTimeout;
  while (Clock::now() < deadline) {
    std::optional<zmq::message_t> frame = ReceiveFor(*work_, kDrainQuietMs);
    if (!frame) break;
    if (!Handle(*frame, deadline)) break;
  }
  SendReady(WorkerState::kLeaving, 0);
  heartbeat_stop_ = true;
  heartbeat_thread_.join();
  watcher_.reset();
  spdlog::info(
      "worker {} stopped: scored {} transactions in {} batches, refused {} frames, reconnected {} times, "
      "gave "
      "back {} batches, rebuilt the sink link {} times",
      id_, stats_.transactions_scored, stats_.batches_scored, stats_.frames_refused, stats_.reconnects,
      stats_.given_back, sink_->rebuilds());
  return Status::Ok();
}

}  // namespace scorepipe
