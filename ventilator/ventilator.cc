#include "ventilator/ventilator.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "proto/codec.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReceiveSliceMs = 100;
// A stopping ventilator forwards what reaches it for this long.
constexpr auto kDrainTimeout = std::chrono::seconds(5);

}  // namespace

Ventilator::Ventilator(const Topology& topology, zmq::context_t& context)
    : config_(topology.ventilator),
      intake_(context, zmq::socket_type::pull),
      workers_(context, zmq::socket_type::push) {
  intake_.set(zmq::sockopt::rcvhwm, config_.send_hwm);
  intake_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxFrameBytes));
  workers_.set(zmq::sockopt::sndhwm, config_.send_hwm);
  workers_.set(zmq::sockopt::linger, static_cast<int>(std::chrono::milliseconds(kDrainTimeout).count()));
}

Status Ventilator::Bind() {
  if (Status s = BindSocket(intake_, config_.intake.bind); !s.ok()) return s;
  return BindSocket(workers_, config_.workers.bind);
}

bool Ventilator::Forward(zmq::message_t& frame, std::optional<Clock::time_point> deadline) {
  Result<MessageKind> kind =
      PeekKind(std::string_view(static_cast<const char*>(frame.data()), frame.size()));
  if (!kind.ok() || kind.value() != MessageKind::kTransactionBatch) {
    ++stats_.frames_refused;
    uint64_t held_back = 0;
    if (refused_log_.ShouldLog(&held_back)) {
      spdlog::warn("refusing a {}-byte frame on the intake: {} ({} more since the last report)",
                   frame.size(), kind.ok() ? std::string("not a transaction batch") : kind.status().message(),
                   held_back);
    }
    return true;
  }
  if (!SendFrame(workers_, frame, deadline)) return false;
  ++stats_.batches_forwarded;
  return true;
}

Status Ventilator::Run() {
  spdlog::info("ventilator: intake {} -> workers {} (send_hwm {})", config_.intake.bind,
               config_.workers.bind, config_.send_hwm);
  while (!StopRequested()) {
    std::optional<zmq::message_t> frame = ReceiveFor(intake_, kReceiveSliceMs);
    if (frame && !Forward(*frame, std::nullopt)) {
      // Stopped while every worker was full: the drain below gets one more try.
      const auto deadline = Clock::now() + kDrainTimeout;
      if (!Forward(*frame, deadline)) spdlog::error("stopping with an undelivered batch: no worker took it");
    }
  }
  // Forward what the bridge sends while it drains.
  const auto deadline = Clock::now() + kDrainTimeout;
  while (Clock::now() < deadline) {
    std::optional<zmq::message_t> frame = ReceiveFor(intake_, kReceiveSliceMs);
    if (!frame) break;
    if (!Forward(*frame, deadline)) {
      spdlog::error("stopping with an undelivered batch: no worker took it");
      break;
    }
  }
  spdlog::info("ventilator stopped: forwarded {} batches, refused {} frames", stats_.batches_forwarded,
               stats_.frames_refused);
  return Status::Ok();
}

}  // namespace scorepipe
