#include "bridge/bridge.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "proto/codec.h"
#include "runtime/link_security.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

// How long a stopping bridge tries to hand its last batch to the ventilator
// before it releases the lease instead.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr int kIntakeSendHwm = 4;  // batches; small, so a full cluster stops the taking
// Metrics follow the stats this often; the queue's depth (a round trip) is
// read every kDepthEvery-th time.
constexpr auto kMetricsPeriod = std::chrono::seconds(1);
constexpr int kDepthEvery = 5;

// Batch ids are unique in the cluster: a random base per bridge run in the
// high 32 bits, a counter in the low 32.
uint64_t BatchIdBase() { return NewSession() & 0xffffffff00000000ull; }

// How often to look for stale leases: a quarter of the timeout, within bounds.
std::chrono::milliseconds ReclaimPeriod(int inflight_timeout_ms) {
  return std::chrono::milliseconds(std::clamp(inflight_timeout_ms / 4, 50, 5000));
}

}  // namespace

Bridge::Bridge(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue)
    : queue_config_(topology.queue),
      config_(topology.bridge),
      queue_(std::move(queue)),
      context_(context),
      intake_endpoint_(topology.ventilator.intake.connect),
      security_config_(topology.security),
      parser_(static_cast<size_t>(topology.bridge.max_message_bytes)),
      batch_id_base_(BatchIdBase()),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(*registry_) {
  StartBatch();
}

void Bridge::StartBatch() {
  lease_ = Lease{};
  parsed_ = 0;
  batch_ = TransactionBatch{};
  batch_.transactions.reserve(static_cast<size_t>(config_.batch_size));
}

namespace {

// Parses `messages[from..]` into `batch`: transactions, or rejects at their
// lease positions with the reason.
void ParseInto(TransactionParser& parser, const std::vector<std::string>& messages, size_t from,
               TransactionBatch* batch, BridgeStats* stats, RateLimitedLog& log) {
  for (size_t i = from; i < messages.size(); ++i) {
    Result<Transaction> parsed = parser.Parse(messages[i]);
    if (parsed.ok()) {
      batch->transactions.push_back(std::move(parsed.value()));
      continue;
    }
    ++stats->rejected_by_reason[static_cast<size_t>(ClassifyReject(parsed.status().message()))];
    uint64_t held_back = 0;
    if (log.ShouldLog(&held_back)) {
      spdlog::warn("dead-lettering a message: {} ({} more since the last report)", parsed.status().message(),
                   held_back);
    }
    batch->rejects.push_back(
        Reject{static_cast<uint32_t>(i),
               DeadLetterJson(parsed.status().message(), "bridge", messages[i], NowUnixMicros())});
  }
}

}  // namespace

void Bridge::Ingest() {
  if (parsed_ == 0 && !lease_.messages.empty()) batch_since_ = Clock::now();
  stats_.messages_taken += lease_.messages.size() - parsed_;
  ParseInto(parser_, lease_.messages, parsed_, &batch_, &stats_, bad_input_log_);
  parsed_ = lease_.messages.size();
}

namespace {

bool SendEncoded(ClientLink& socket, const TransactionBatch& batch,
                 std::optional<Clock::time_point> deadline) {
  std::string encoded = Encode(batch);
  zmq::message_t frame(encoded.data(), encoded.size());
  return SendFrame(socket, frame, deadline);
}

}  // namespace

bool Bridge::SendBatch(std::optional<Clock::time_point> deadline) {
  if (lease_.messages.empty()) return true;
  batch_.batch_id = batch_id_base_ + next_batch_;
  batch_.created_at_us = NowUnixMicros();
  batch_.lease = lease_.id;
  if (!SendEncoded(*intake_, batch_, deadline)) return false;
  ++next_batch_;
  ++stats_.batches_sent;
  stats_.transactions_sent += batch_.transactions.size();
  stats_.rejected += batch_.rejects.size();
  StartBatch();
  return true;
}

Status Bridge::ReclaimStale() {
  Lease stale;
  if (Status s =
          queue_->Reclaim(queue_config_.inflight_timeout_ms, static_cast<size_t>(config_.batch_size), &stale);
      !s.ok()) {
    return s.WithContext("reclaiming stale leases");
  }
  if (stale.messages.empty()) return Status::Ok();
  if (stale.deliveries > static_cast<uint32_t>(queue_config_.max_deliveries)) return GiveUp(stale);
  spdlog::warn(
      "reclaimed {} messages held in flight for over {} ms (their batch was lost with a node); "
      "sending them again",
      stale.messages.size(), queue_config_.inflight_timeout_ms);
  TransactionBatch batch;
  ParseInto(parser_, stale.messages, 0, &batch, &stats_, bad_input_log_);
  batch.batch_id = batch_id_base_ + next_batch_;
  batch.created_at_us = NowUnixMicros();
  batch.lease = stale.id;
  // Unsent at a stop, it stays in flight and is reclaimed again later.
  if (!SendEncoded(*intake_, batch, std::nullopt)) return Status::Ok();
  ++next_batch_;
  ++stats_.batches_sent;
  stats_.reclaimed += stale.messages.size();
  stats_.transactions_sent += batch.transactions.size();
  stats_.rejected += batch.rejects.size();
  return Status::Ok();
}

Status Bridge::GiveUp(const Lease& stale) {
  // Handed out more often than queue.max_deliveries: whatever makes the
  // cluster lose it (a node that dies on it, a batch no node can take) would
  // do it again. Its messages go to the dead letters from here, each with the
  // reason, and are never sent again.
  const std::string reason = "poison: delivered " + std::to_string(stale.deliveries) +
                             " times (queue.max_deliveries " + std::to_string(queue_config_.max_deliveries) +
                             ") without an outcome";
  std::vector<Outcome> outcomes;
  outcomes.reserve(stale.messages.size());
  const int64_t now_us = NowUnixMicros();
  for (const std::string& message : stale.messages) {
    outcomes.push_back(
        Outcome{Outcome::Route::kDeadLetter, DeadLetterJson(reason, "bridge", message, now_us)});
  }
  Result<Settlement> settled = queue_->Settle(stale.id, outcomes);
  if (!settled.ok()) return settled.status().WithContext("dead-lettering a poison lease");
  if (!settled->refused.empty()) {
    return Status::Error("dead-lettering a poison lease: the queue refused it: " + settled->refused);
  }
  stats_.poisoned += settled->published;
  spdlog::error("{} messages were handed out {} times without an outcome; dead-lettered them as poison",
                settled->published, stale.deliveries);
  return Status::Ok();
}

Status Bridge::Connect() {
  Result<LinkSecurity> security = LinkSecurity::Load(security_config_);
  if (!security.ok()) return security.status();
  security_ = std::move(security.value());
  intake_.emplace(context_, zmq::socket_type::push, security_, intake_endpoint_, "the ventilator's intake",
                  [](zmq::socket_t& socket) {
                    socket.set(zmq::sockopt::sndhwm, kIntakeSendHwm);
                    // Frames still queued at close get the drain time to leave.
                    socket.set(zmq::sockopt::linger,
                               static_cast<int>(std::chrono::milliseconds(kDrainTimeout).count()));
                  });
  return intake_->Open();
}

void Bridge::TendIntake() {
  intake_->Tend();
  const ClientLink::LinkState state = intake_->State();
  std::string status;
  if (state == ClientLink::LinkState::kRefused) {
    status = "links down: " + LinkProblem(*intake_);
  } else if (!NotifiedReady() && state != ClientLink::LinkState::kUp) {
    status = "waiting for its links: the ventilator's intake (" + intake_endpoint_ + ") has not answered yet";
  } else {
    status = "taking from " + queue_->Describe();
  }
  if (status == service_status_) return;
  ProcessHealth().SetProblem("links", state == ClientLink::LinkState::kRefused ? status : "");
  if (!NotifiedReady() && state == ClientLink::LinkState::kUp) {
    NotifyReady(status);
  } else {
    NotifyStatus(status);
  }
  service_status_ = status;
}

Status Bridge::Run() {
  spdlog::info(
      "bridge taking from {} in batches of up to {} (linger {} ms); leases older than {} ms are "
      "reclaimed",
      queue_->Describe(), config_.batch_size, config_.linger_ms, queue_config_.inflight_timeout_ms);
  Backoff backoff;
  const auto linger = std::chrono::milliseconds(config_.linger_ms);
  const auto reclaim_period = ReclaimPeriod(queue_config_.inflight_timeout_ms);
  next_reclaim_ = Clock::now();  // at start, then periodically
  while (!StopRequested()) {
    NotifyAlive();
    if (Clock::now() >= next_metrics_) UpdateMetrics();
    Status s = Status::Ok();
    if (Clock::now() >= next_reclaim_) {
      s = ReclaimStale();
      if (s.ok()) next_reclaim_ = Clock::now() + reclaim_period;
    }
    // A batch that is full, or old enough, goes first.
    const bool full = lease_.messages.size() >= static_cast<size_t>(config_.batch_size);
    const bool ripe = !lease_.messages.empty() && Clock::now() - batch_since_ >= linger;
    if (s.ok() && (full || ripe)) {
      if (!SendBatch(std::nullopt)) break;  // stop requested while the cluster was full
      continue;
    }
    if (s.ok()) {
      int block_ms = config_.block_timeout_ms;
      if (!lease_.messages.empty()) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(batch_since_ + linger - Clock::now());
        block_ms = std::max<int>(1, static_cast<int>(left.count()));
      }
      block_ms = std::min<int>(block_ms, static_cast<int>(reclaim_period.count()));
      const size_t room = static_cast<size_t>(config_.batch_size) - lease_.messages.size();
      s = queue_->Take(room, block_ms, &lease_);
      if (s.ok()) {
        Ingest();
      } else if (lease_.id.empty() && parsed_ > 0) {
        // The queue ended the open lease (this bridge stalled past the
        // in-flight timeout and it was reclaimed): its messages are someone
        // else's now, so the open batch is void.
        spdlog::warn(
            "the open batch's lease was reclaimed ({}); dropping its {} messages here, they go "
            "round again under another lease",
            s.message(), parsed_);
        StartBatch();
      }
    }
    if (!s.ok()) {
      ++stats_.queue_errors;
      uint64_t held_back = 0;
      if (queue_error_log_.ShouldLog(&held_back))
        spdlog::error("queue unavailable, retrying: {}", s.message());
      ProcessHealth().SetProblem("queue", "unavailable: " + s.message());
      SleepUnlessStopped(backoff.NextDelayMs());
      continue;
    }
    if (backoff.attempts() > 0) {
      spdlog::info("queue reachable again");
      ProcessHealth().SetProblem("queue", "");
    }
    backoff.Reset();
    TendIntake();
  }
  NotifyStopping();
  return Drain();
}

Status Bridge::Drain() {
  const auto deadline = Clock::now() + kDrainTimeout;
  Status status = Status::Ok();
  const size_t held = lease_.messages.size();
  if (!SendBatch(deadline) || (held == 0 && !lease_.id.empty())) {
    // Not taken by the cluster (or an empty open lease): the messages go back
    // to the queue, to be taken first.
    Status back = queue_->Release(lease_);
    if (back.ok()) {
      stats_.released += lease_.messages.size();
    } else {
      status =
          back.WithContext("releasing " + std::to_string(lease_.messages.size()) +
                           " messages at stop (their lease brings them back after the in-flight timeout)");
    }
  }
  UpdateMetrics();
  spdlog::info("bridge stopped: taken={} sent={} in {} batches, rejected={}, reclaimed={}, released={}",
               stats_.messages_taken, stats_.transactions_sent, stats_.batches_sent, stats_.rejected,
               stats_.reclaimed, stats_.released);
  return status;
}

void Bridge::UpdateMetrics() {
  metrics_.Update(stats_);
  if (++metrics_updates_ % kDepthEvery == 1) {
    if (Result<QueueDepth> depth = queue_->Depth(); depth.ok()) metrics_.SetDepth(depth.value());
  }
  next_metrics_ = Clock::now() + kMetricsPeriod;
}

}  // namespace scorepipe
