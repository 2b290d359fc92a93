// Ventilator: spreads transaction batches over whatever workers are
// connected.
//
// PULLs batches from the bridge on its intake endpoint and PUSHes them to the
// workers' endpoint, which workers on any host connect to at any time; ZeroMQ
// round-robins over the connected workers, and a worker that connects later
// is included from its first batch on. With no worker connected, or all of
// them full (`send_hwm` batches queued each), it stops reading its intake,
// which in turn stops the bridge: back-pressure instead of unbounded memory.
// Frames that are not TransactionBatches of this wire version are refused
// with a log line.
//
// Run() is called once, on the thread that built the Ventilator.
#ifndef SCOREPIPE_VENTILATOR_VENTILATOR_H_
#define SCOREPIPE_VENTILATOR_VENTILATOR_H_

#include <cstdint>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/node.h"
#include "proto/status.h"

namespace scorepipe {

struct VentilatorStats {
  uint64_t batches_forwarded = 0;
  uint64_t frames_refused = 0;
};

class Ventilator {
 public:
  Ventilator(const Topology& topology, zmq::context_t& context);
  Ventilator(const Ventilator&) = delete;
  Ventilator& operator=(const Ventilator&) = delete;

  // Binds both endpoints; fails with the endpoint and ZeroMQ's reason.
  Status Bind();
  // Runs until a stop is requested, then forwards what it still holds.
  Status Run();

  const VentilatorStats& stats() const { return stats_; }

 private:
  bool Forward(zmq::message_t& frame, std::optional<std::chrono::steady_clock::time_point> deadline);

  const VentilatorConfig config_;
  zmq::socket_t intake_;
  zmq::socket_t workers_;
  VentilatorStats stats_;
  RateLimitedLog refused_log_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_VENTILATOR_VENTILATOR_H_
