// A client socket's link to one server endpoint, kept usable: the socket is
// built with the node's link security (runtime/link_security.h), its
// connections and handshakes are watched (HandshakeWatch), and a socket whose
// handshake was refused is built anew after a back-off, since ZeroMQ never
// connects a refused socket again. So a key authorized on the head after this
// node started, or a head that changed its keys, works without a restart.
//
// A rebuilt socket loses what the old one still queued: the owner keeps
// anything it must not lose until a send succeeded (SendFrame returns only
// once the frame is queued) and gives back, or resends, what it cannot
// deliver. The link tells the owner which state it is in; what a refused link
// means for the node (give work back, stop claiming readiness) is the
// owner's call.
//
// Owned by one thread: the one that uses the socket.
#ifndef SCOREPIPE_RUNTIME_CLIENT_LINK_H_
#define SCOREPIPE_RUNTIME_CLIENT_LINK_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "proto/status.h"
#include "runtime/curve.h"
#include "runtime/link_security.h"
#include "runtime/node.h"

namespace scorepipe {

class ClientLink {
 public:
  using LinkState = HandshakeWatch::LinkState;
  // Socket options to set before the socket connects (high-water marks,
  // routing id, limits).
  using Setup = std::function<void(zmq::socket_t&)>;

  // `peer` names the server in log lines ("the sink"). Nothing is connected
  // until Open().
  ClientLink(zmq::context_t& context, zmq::socket_type type, const LinkSecurity& security,
             std::string endpoint, std::string peer, Setup setup);
  ClientLink(const ClientLink&) = delete;
  ClientLink& operator=(const ClientLink&) = delete;

  // Builds the socket and connects it; an error names the endpoint.
  Status Open();
  // Reads the link's events; a refused link is rebuilt once its back-off
  // (0.5 s, doubling to 5 s while it stays refused) has passed. True when it
  // built a new socket.
  bool Tend();
  LinkState State();
  // Why the last handshake failed; nothing while it is not refused.
  std::optional<std::string> Failure();
  // The socket; valid after a successful Open() (a Tend() may replace it).
  zmq::socket_t& socket() { return *socket_; }
  const std::string& peer() const { return peer_; }
  uint64_t rebuilds() const { return rebuilds_; }

 private:
  zmq::context_t& context_;
  const zmq::socket_type type_;
  const LinkSecurity& security_;
  const std::string endpoint_;
  const std::string peer_;
  const Setup setup_;
  std::optional<zmq::socket_t> socket_;
  std::optional<HandshakeWatch> watch_;  // declared after socket_: destroyed before it
  Backoff backoff_{500, 5000};
  std::optional<std::chrono::steady_clock::time_point> rebuild_at_;
  uint64_t rebuilds_ = 0;
};

// "the sink: <why>" for a refused link, "" otherwise.
std::string LinkProblem(ClientLink& link);

// SendFrame (runtime/node.h) over `link`, tending it while the frame waits: a
// refused socket is rebuilt and the frame goes out on the new one once its
// handshake succeeds. While the link is refused the service watchdog is not
// pinged: a node that cannot deliver what it holds is not alive. Main thread
// only.
bool SendFrame(ClientLink& link, zmq::message_t& frame,
               std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_CLIENT_LINK_H_
