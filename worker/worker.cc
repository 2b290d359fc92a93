#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <string_view>
#include <utility>

#include "proto/codec.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReceiveSliceMs = 100;
// Batches waiting in this worker's pipe; small, so that work spreads evenly
// and a worker that joins gets its share at once.
constexpr int kReceiveHwm = 2;
constexpr int kDrainQuietMs = 300;
constexpr auto kDrainTimeout = std::chrono::seconds(5);

}  // namespace

std::string DefaultWorkerId() { return HostName() + "-" + std::to_string(getpid()); }

Worker::Worker(const Topology& topology, zmq::context_t& context, Scorer scorer, std::string id)
    : topology_(topology),
      scorer_(std::move(scorer)),
      id_(std::move(id)),
      from_ventilator_(context, zmq::socket_type::pull),
      to_sink_(context, zmq::socket_type::push) {
  from_ventilator_.set(zmq::sockopt::rcvhwm, kReceiveHwm);
  from_ventilator_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxFrameBytes));
  to_sink_.set(zmq::sockopt::linger, static_cast<int>(std::chrono::milliseconds(kDrainTimeout).count()));
  result_.worker_id = id_;
  result_.model_version = scorer_.model().version();
}

Status Worker::Connect() {
  if (Status s = ConnectSocket(from_ventilator_, topology_.ventilator.workers.connect); !s.ok()) return s;
  return ConnectSocket(to_sink_, topology_.sink.results.connect);
}

bool Worker::Handle(const zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  Result<TransactionBatch> batch =
      DecodeTransactionBatch(std::string_view(static_cast<const char*>(frame.data()), frame.size()));
  if (!batch.ok()) {
    ++stats_.frames_refused;
    uint64_t held_back = 0;
    if (refused_log_.ShouldLog(&held_back)) {
      spdlog::warn("refusing a {}-byte frame from the ventilator: {} ({} more since the last report)",
                   frame.size(), batch.status().message(), held_back);
    }
    return true;
  }
  result_.batch_id = batch->batch_id;
  Status scored = scorer_.Score(batch->transactions, &result_.results);
  if (!scored.ok()) {
    // The whole batch failed in the model: every transaction goes to the dead
    // letters with the reason rather than vanish.
    spdlog::error("batch {}: {}", batch->batch_id, scored.message());
    result_.results.assign(batch->transactions.size(), ScoreResult{});
    for (size_t i = 0; i < batch->transactions.size(); ++i) {
      result_.results[i].transaction_id = batch->transactions[i].id;
      result_.results[i].error = "model failed: " + scored.message();
    }
  }
  result_.scored_at_us = NowUnixMicros();
  std::string encoded = Encode(result_);
  zmq::message_t out(encoded.data(), encoded.size());
  if (!SendFrame(to_sink_, out, deadline)) return false;
  ++stats_.batches_scored;
  stats_.transactions_scored += batch->transactions.size();
  return true;
}

Status Worker::Run() {
  spdlog::info("worker {} scoring with model {} ({}): {} -> {}", id_, scorer_.model().version(),
               topology_.model.path, topology_.ventilator.workers.connect, topology_.sink.results.connect);
  while (!StopRequested()) {
    std::optional<zmq::message_t> frame = ReceiveFor(from_ventilator_, kReceiveSliceMs);
    if (frame && !Handle(*frame, std::nullopt)) {
      Handle(*frame, Clock::now() + kDrainTimeout);  // stopped while the sink was full
    }
  }
  // Score what already reached this worker's pipe.
  const auto deadline = Clock::now() + kDrainTimeout;
  while (Clock::now() < deadline) {
    std::optional<zmq::message_t> frame = ReceiveFor(from_ventilator_, kDrainQuietMs);
    if (!frame) break;
    if (!Handle(*frame, deadline)) break;
  }
  spdlog::info("worker {} stopped: scored {} transactions in {} batches, refused {} frames", id_,
               stats_.transactions_scored, stats_.batches_scored, stats_.frames_refused);
  return Status::Ok();
}

}  // namespace scorepipe
