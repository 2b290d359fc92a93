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
// A stopping sink keeps writing results while they still arrive this often.
constexpr int kDrainQuietMs = 500;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

}  // namespace

void FormatResultBatch(const ResultBatch& batch, std::vector<std::string>* results,
                       std::vector<std::string>* dead_letters) {
  const std::string scored_at = FormatIso8601Millis(batch.scored_at_us);
  for (const ScoreResult& result : batch.results) {
    if (!result.error.empty()) {
      std::string original = "{\"id\":" + std::to_string(result.transaction_id) + "}";
      dead_letters->push_back(DeadLetterJson(result.error, "worker " + batch.worker_id, original,
                                             batch.scored_at_us));
      continue;
    }
    std::string text;
    AppendResultJson(result, scored_at, &text);
    results->push_back(std::move(text));
  }
}

Sink::Sink(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue)
    : config_(topology.sink), queue_(std::move(queue)), results_(context, zmq::socket_type::pull) {
  results_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxFrameBytes));
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
  result_texts_.clear();
  dead_letters_.clear();
  FormatResultBatch(batch.value(), &result_texts_, &dead_letters_);
  Backoff backoff;
  while (true) {
    Status s = queue_->Publish(result_texts_, dead_letters_);
    if (s.ok()) break;
    uint64_t held_back = 0;
    if (queue_error_log_.ShouldLog(&held_back)) spdlog::error("queue unavailable, retrying: {}", s.message());
    const bool out_of_time = deadline ? Clock::now() >= *deadline : StopRequested();
    if (out_of_time) {
      spdlog::error("stopping with batch {} unwritten ({} results): {}", batch->batch_id,
                    result_texts_.size(), s.message());
      return false;
    }
    SleepUnlessStopped(backoff.NextDelayMs());
  }
  if (backoff.attempts() > 0) spdlog::info("queue reachable again");
  ++stats_.batches;
  stats_.results += result_texts_.size();
  stats_.dead_lettered += dead_letters_.size();
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
  spdlog::info("sink stopped: {} results in {} batches, dead-lettered {}, refused {} frames", stats_.results,
               stats_.batches, stats_.dead_lettered, stats_.frames_refused);
  return status;
}

}  // namespace scorepipe
