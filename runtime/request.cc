#include "runtime/request.h"

#include <cerrno>

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
    if (Status s = security.ConnectAsClient(socket, endpoint); !s.ok()) return s;
    if (!socket.send(zmq::buffer(request.data(), request.size()), zmq::send_flags::none)) {
      return Status::Error(no_answer);
    }
    zmq::message_t reply;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || (stoppable && StopRequested())) return Status::Error(no_answer);
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, left);
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
