#include "sink/sink.h"

#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

#include "proto/codec.h"
#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReceiveSliceMs = 100;
constexpr int kResultsHwm = 4;
// A stopping sink keeps writing results while they still arrive this often.
constexpr int kDrainQuietMs = 500;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

}  // namespace

Status FormatOutcomes(const ResultBatch& batch, std::vector<Outcome>* outcomes) {
  outcomes->clear();
  const size_t total = batch.results.size() + batch.rejects.size();
  outcomes->reserve(total);
  const std::string scored_at = FormatIso8601Millis(batch.scored_at_us);
  size_t next_result = 0;
  size_t next_reject = 0;
  for (size_t position = 0; position < total; ++position) {
    if (next_reject < batch.rejects.size() && batch.rejects[next_reject].position == position) {
      outcomes->push_back({Outcome::Route::kDeadLetter, batch.rejects[next_reject].dead_letter});
      ++next_reject;
      continue;
    }
    if (next_result == batch.results.size()) break;
    const ScoreResult& result = batch.results[next_result++];
    Outcome outcome;
    if (!result.error.empty()) {
      std::string original = "{\"id\":" + std::to_string(result.transaction_id) + "}";
      outcome.route = Outcome::Route::kDeadLetter;
      outcome.text = DeadLetterJson(result.error, "worker " + batch.worker_id, original, batch.scored_at_us);
    } else {
      AppendResultJson(result, scored_at, &outcome.text);
    }
    outcomes->push_back(std::move(outcome));
  }
  if (outcomes->size() != total) {
    return Status::Error("batch " + std::to_string(batch.batch_id) + ": reject positions do not fit its " +
                         std::to_string(total) + " messages");
  }
  return Status::Ok();
}

Sink::Sink(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue)
    : config_(topology.sink), queue_(std::move(queue)), results_(context, zmq::socket_type::pull) {
  results_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxFrameBytes));
  // Few result batches wait per worker: a slow queue then holds the workers
  // back (and so the bridge) instead of letting leases pile up unsettled.
  results_.set(zmq::sockopt::rcvhwm, kResultsHwm);
  if (!config_.publish.bind.empty()) {
    publish_.emplace(context, zmq::socket_type::pub);
    publish_->set(zmq::sockopt::linger, 0);
  }
}

Status Sink::Bind() {
  if (Status s = BindSocket(results_, config_.results.bind); !s.ok()) return s;
  return publish_ ? BindSocket(*publish_, config_.publish.bind) : Status::Ok();
}

bool Sink::Handle(zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  std::string_view bytes(static_cast<const char*>(frame.data()), frame.size());
  Result<ResultBatch> batch = DecodeResultBatch(bytes);
  if (!batch.ok()) {
    ++stats_.frames_refused;
    uint64_t held_back = 0;
    if (refused_log_.ShouldLog(&held_back)) {
      spdlog::warn("refusing a {}-byte frame from a worker: {} ({} more since the last report)", frame.size(),
                   batch.status().message(), held_back);
    }
    return true;
  }
  if (Status formatted = FormatOutcomes(batch.value(), &outcomes_); !formatted.ok()) {
    ++stats_.frames_refused;
    spdlog::error("refusing a result batch: {}", formatted.message());
    return true;
  }
  Backoff backoff;
  Settlement settled;
  while (true) {
    Result<Settlement> s = queue_->Settle(batch->lease, outcomes_);
    if (s.ok()) {
      settled = s.value();
      break;
    }
    uint64_t held_back = 0;
    if (queue_error_log_.ShouldLog(&held_back)) {
      spdlog::error("queue unavailable, retrying: {}", s.status().message());
    }
    const bool out_of_time = deadline ? Clock::now() >= *deadline : StopRequested();
    if (out_of_time) {
      spdlog::error("stopping with batch {} unsettled ({} outcomes; its lease brings it back): {}",
                    batch->batch_id, outcomes_.size(), s.status().message());
      return false;
    }
    SleepUnlessStopped(backoff.NextDelayMs());
  }
  if (backoff.attempts() > 0) spdlog::info("queue reachable again");
  if (!settled.refused.empty()) {
    ++stats_.frames_refused;
    spdlog::error("refusing result batch {} from {}: {}", batch->batch_id, batch->worker_id, settled.refused);
    return true;
  }
  ++stats_.batches;
  stats_.duplicates += settled.duplicates;
  if (settled.duplicates > 0) {
    spdlog::debug("batch {} from {}: {} duplicate outcomes dropped", batch->batch_id, batch->worker_id,
                  settled.duplicates);
  }
  if (settled.published == 0) return true;
  if (settled.duplicates > 0) {
    stats_.results += settled.published;  // a partial settlement (streams): routes not told apart
  } else {
    for (const Outcome& o : outcomes_) {
      if (o.route == Outcome::Route::kResult) {
        ++stats_.results;
      } else {
        ++stats_.dead_lettered;
      }
    }
  }
  if (publish_) publish_->send(frame, zmq::send_flags::dontwait);
  return true;
}

Status Sink::Run() {
  spdlog::info("sink: results {} -> {}; live feed {}", config_.results.bind, queue_->Describe(),
               publish_ ? config_.publish.bind : std::string("off"));
  while (!StopRequested()) {
    std::optional<zmq::message_t> frame = ReceiveFor(results_, kReceiveSliceMs);
    if (frame) Handle(*frame, std::nullopt);
  }
  // Write what the stopping workers still send.
  Status status = Status::Ok();
  const auto deadline = Clock::now() + kDrainTimeout;
  while (Clock::now() < deadline) {
    std::optional<zmq::message_t> frame = ReceiveFor(results_, kDrainQuietMs);
    if (!frame) break;
    if (!Handle(*frame, deadline)) {
      status = Status::Error("stopped with unwritten results: the queue stayed unreachable");
      break;
    }
  }
  spdlog::info(
      "sink stopped: {} results in {} batches, dead-lettered {}, duplicates dropped {}, refused {} frames",
      stats_.results, stats_.batches, stats_.dead_lettered, stats_.duplicates, stats_.frames_refused);
  return status;
}

}  // namespace scorepipe
