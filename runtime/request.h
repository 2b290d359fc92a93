// One request and its reply on a fresh REQ socket: how the `scorepipe`
// commands ask a node (the ventilator's status, the sink's evaluation runs).
//
// A fresh socket per request, linger 0 and closed afterwards: a REQ socket
// whose request got no answer cannot send again, and a node that never
// answers leaves nothing behind. A plain function; the caller's thread.
#ifndef SCOREPIPE_RUNTIME_REQUEST_H_
#define SCOREPIPE_RUNTIME_REQUEST_H_

#include <chrono>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "proto/status.h"
#include "runtime/link_security.h"

namespace scorepipe {

// Sends `request` to `endpoint` and returns the raw reply, or an error that
// says `peer` (e.g. "the ventilator") at `endpoint` did not answer within
// `timeout` (also when a stop is requested meanwhile, unless `stoppable` is
// false: a last word sent while the process stops). With CURVE `security`
// the request goes as its client: a refused handshake comes back at once as
// the error, saying which side refused (the server this host's key, or this
// host the server's); silence still asks whether this host's key is
// authorized on the head.
Result<std::string> AskOnce(zmq::context_t& context, const std::string& endpoint, std::string_view request,
                            std::chrono::milliseconds timeout, const LinkSecurity& security,
                            const std::string& peer, bool stoppable = true);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_REQUEST_H_
