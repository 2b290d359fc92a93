#include "bridge/bridge.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "proto/codec.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

// How long a stopping bridge tries to hand its last batch to the ventilator
// before it gives the messages back to the queue instead.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr int kIntakeSendHwm = 4;  // batches; small, so a full cluster stops the taking

// Batch ids are unique across bridge runs: the start second in the high bits,
// a counter in the low 32.
uint64_t BatchIdBase() {
  return static_cast<uint64_t>(NowUnixMicros() / 1000000) << 32;
}

}  // namespace

Bridge::Bridge(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue)
    : config_(topology.bridge),
      queue_(std::move(queue)),
      intake_(context, zmq::socket_type::push),
      intake_endpoint_(topology.ventilator.intake.connect),
      parser_(static_cast<size_t>(topology.bridge.max_message_bytes)),
      batch_id_base_(BatchIdBase()) {
  intake_.set(zmq::sockopt::sndhwm, kIntakeSendHwm);
  // Frames still queued at close get the drain time to leave.
  intake_.set(zmq::sockopt::linger, static_cast<int>(std::chrono::milliseconds(kDrainTimeout).count()));
  pending_.transactions.reserve(static_cast<size_t>(config_.batch_size));
}

void Bridge::Ingest(std::vector<std::string>& messages) {
  stats_.messages_taken += messages.size();
  for (std::string& message : messages) {
    Result<Transaction> parsed = parser_.Parse(message);
    if (!parsed.ok()) {
      uint64_t held_back = 0;
      if (bad_input_log_.ShouldLog(&held_back)) {
        spdlog::warn("dead-lettering a message: {} ({} more since the last report)",
                     parsed.status().message(), held_back);
      }
      dead_letters_.push_back(
          DeadLetterJson(parsed.status().message(), "bridge", message, NowUnixMicros()));
      continue;
    }
    if (pending_.transactions.empty()) pending_since_ = Clock::now();
    pending_.transactions.push_back(std::move(parsed.value()));
    pending_raw_.push_back(std::move(message));
  }
}

Status Bridge::FlushDeadLetters() {
  if (dead_letters_.empty()) return Status::Ok();
  if (Status s = queue_->Publish({}, dead_letters_); !s.ok()) return s;
  stats_.dead_lettered += dead_letters_.size();
  dead_letters_.clear();
  return Status::Ok();
}

bool Bridge::SendBatch(std::optional<Clock::time_point> deadline) {
  if (pending_.transactions.empty()) return true;
  pending_.batch_id = batch_id_base_ + next_batch_;
  pending_.created_at_us = NowUnixMicros();
  std::string encoded = Encode(pending_);
  zmq::message_t frame(encoded.data(), encoded.size());
  if (!SendFrame(intake_, frame, deadline)) return false;
  ++next_batch_;
  ++stats_.batches_sent;
  stats_.transactions_sent += pending_.transactions.size();
  pending_.transactions.clear();
  pending_raw_.clear();
  return true;
}

Status Bridge::Connect() { return ConnectSocket(intake_, intake_endpoint_); }

Status Bridge::Run() {
  spdlog::info("bridge taking from {} in batches of up to {} (linger {} ms)", queue_->Describe(),
               config_.batch_size, config_.linger_ms);
  Backoff backoff;
  std::vector<std::string> taken;
  const auto linger = std::chrono::milliseconds(config_.linger_ms);
  while (!StopRequested()) {
    // A batch that is full, or old enough, goes first.
    const bool full = pending_.transactions.size() >= static_cast<size_t>(config_.batch_size);
    const bool ripe = !pending_.transactions.empty() && Clock::now() - pending_since_ >= linger;
    if (full || ripe) {
      if (!SendBatch(std::nullopt)) break;  // stop requested while the cluster was full
      continue;
    }
    int block_ms = config_.block_timeout_ms;
    if (!pending_.transactions.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(pending_since_ + linger - Clock::now());
      block_ms = std::max<int>(1, static_cast<int>(left.count()));
    }
    taken.clear();
    size_t room = static_cast<size_t>(config_.batch_size) - pending_.transactions.size();
    Status s = queue_->Take(room, block_ms, &taken);
    if (s.ok()) {
      Ingest(taken);
      s = FlushDeadLetters();
    }
    if (!s.ok()) {
      uint64_t held_back = 0;
      if (queue_error_log_.ShouldLog(&held_back)) {
        spdlog::error("queue unavailable, retrying: {}", s.message());
      }
      SleepUnlessStopped(backoff.NextDelayMs());
      continue;
    }
    if (backoff.attempts() > 0) spdlog::info("queue reachable again");
    backoff.Reset();
  }
  return Drain();
}

Status Bridge::Drain() {
  const auto deadline = Clock::now() + kDrainTimeout;
  Status status = Status::Ok();
  if (!SendBatch(deadline)) {
    // The cluster did not take it: the messages go back to the queue, in order.
    Status back = queue_->GiveBack(pending_raw_);
    if (back.ok()) {
      stats_.given_back += pending_raw_.size();
    } else {
      status = back.WithContext("giving back " + std::to_string(pending_raw_.size()) + " messages at stop");
    }
  }
  if (Status dl = FlushDeadLetters(); !dl.ok() && status.ok()) status = dl;
  spdlog::info("bridge stopped: taken={} sent={} in {} batches, dead-lettered={}, given back={}",
               stats_.messages_taken, stats_.transactions_sent, stats_.batches_sent,
               stats_.dead_lettered, stats_.given_back);
  return status;
}

}  // namespace scorepipe
