#include "runtime/request.h"

#include <algorithm>
#include <cerrno>

#include "runtime/curve.h"
#include "runtime/node.h"

namespace scorepipe {

Result<std::string> AskOnce(zmq::context_t& context, const std::string& endpoint, std::string_view request,
                            std::chrono::milliseconds timeout, const LinkSecurity& security,
                            const std::string& peer, bool stoppable) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const std::string no_answer =
      peer + " at " + endpoint + " did not answer within " + std::to_string(timeout.count()) +
      " ms \xe2\x80\x94 is it running?" +
      (security.curve() ? " Is this host's key (security.secret_key) authorized on the head?" : "");
  try {
    zmq::socket_t socket(context, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
    // With CURVE, a refused handshake says which side refused (the server
    // this host's key, or this host the server's) instead of "no answer".
    HandshakeWatch watch;
    if (security.curve()) {
      if (Status s = watch.Watch(socket, peer, security.public_key()); !s.ok()) return s;
    }
    const auto unanswered = [&] { return Status::Error(watch.Failure().value_or(no_answer)); };
    if (Status s = security.ConnectAsClient(socket, endpoint); !s.ok()) return s;
    if (!socket.send(zmq::buffer(request.data(), request.size()), zmq::send_flags::none)) {
      return unanswered();
    }
    zmq::message_t reply;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || (stoppable && StopRequested())) return unanswered();
      if (watch.Failure()) return unanswered();  // ZeroMQ does not retry a refused handshake
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      try {
        // In slices, so that a refused handshake is seen while waiting.
        zmq::poll(&item, 1, std::min(left, std::chrono::milliseconds(100)));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // a signal; StopRequested() decides
        throw;
      }
      if (socket.recv(reply, zmq::recv_flags::dontwait)) return reply.to_string();
    }
  } catch (const zmq::error_t& e) {
    return Status::Error("asking " + peer + " at " + endpoint + ": " + e.what());
  }
}

}  // namespace scorepipe
