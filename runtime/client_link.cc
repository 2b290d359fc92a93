#include "runtime/client_link.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "runtime/service_notify.h"

namespace scorepipe {

ClientLink::ClientLink(zmq::context_t& context, zmq::socket_type type, const LinkSecurity& security,
                       std::string endpoint, std::string peer, Setup setup)
    : context_(context),
      type_(type),
      security_(security),
      endpoint_(std::move(endpoint)),
      peer_(std::move(peer)),
      setup_(std::move(setup)) {}

Status ClientLink::Open() {
  watch_.reset();  // before the socket it watches goes
  socket_.reset();
  socket_.emplace(context_, type_);
  if (setup_) setup_(*socket_);
  watch_.emplace();
  if (Status s = watch_->Watch(*socket_, peer_, security_.public_key()); !s.ok()) {
    watch_.reset();
    spdlog::warn("{}", s.message());
  }
  return security_.ConnectAsClient(*socket_, endpoint_);
}

HandshakeWatch::LinkState ClientLink::State() {
  return watch_ ? watch_->State() : (socket_ ? LinkState::kUp : LinkState::kConnecting);
}

std::optional<std::string> ClientLink::Failure() { return watch_ ? watch_->Failure() : std::nullopt; }

bool ClientLink::Tend() {
  const LinkState state = State();
  if (state != LinkState::kRefused) {
    if (state == LinkState::kUp) backoff_.Reset();
    rebuild_at_.reset();
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!rebuild_at_) {
    const int delay_ms = backoff_.NextDelayMs();
    rebuild_at_ = now + std::chrono::milliseconds(delay_ms);
    if (backoff_.attempts() == 1) {
      spdlog::warn("link to {} refused, building it anew in {} ms (and on, while it is refused): {}", peer_,
                   delay_ms, Failure().value_or(""));
    }
    return false;
  }
  if (now < *rebuild_at_) return false;
  rebuild_at_.reset();
  if (Status s = Open(); !s.ok()) {
    spdlog::error("link to {}: {}", peer_, s.message());
    return false;
  }
  ++rebuilds_;
  return true;
}

std::string LinkProblem(ClientLink& link) {
  std::optional<std::string> failure = link.Failure();
  return failure ? link.peer() + ": " + *failure : std::string();
}

bool SendFrame(ClientLink& link, zmq::message_t& frame,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  constexpr int kSliceMs = 50;  // how often it looks at the stop flag and the link
  while (true) {
    if (link.socket().send(frame, zmq::send_flags::dontwait)) return true;
    if (deadline ? std::chrono::steady_clock::now() >= *deadline : StopRequested()) return false;
    link.Tend();
    if (link.State() != ClientLink::LinkState::kRefused)
      NotifyAlive();  // held back by a full peer is not hung
    PollFor(link.socket(), ZMQ_POLLOUT, kSliceMs);
  }
}

}  // namespace scorepipe
