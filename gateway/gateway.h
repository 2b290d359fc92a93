// Gateway: online scoring over HTTP into the same cluster (docs/gateway.md,
// docs/architecture.md "Online scoring").
//
// One Gateway per event-loop thread (gateway.threads, resolved: 0 is one per
// core, see gateway_main.h), each on its own
// io_context, HTTP server (sharing the port through SO_REUSEPORT) and link
// to the head:
// - HTTP in (gateway/http_server.h): the API of gateway/api.h, with bearer
//   tokens when gateway.security is tls;
// - dynamic batching: the transactions (or feature rows) of concurrent
//   requests share a TransactionBatch marked online, sent when it holds
//   gateway.max_batch_size of them (at most bridge.batch_size) or
//   gateway.max_queue_delay_us after its first one; a request larger than a
//   batch spans several;
// - the head link (DEALER to ventilator.gateway_connect, CURVE like every
//   link): batches out, their ResultBatches back (the ventilator hands each
//   to the gateway that sent it), and a heartbeat every heartbeat.interval_ms
//   answered by a HeadStatus (live workers, the model's versions). The head
//   is down when its link drops or it is silent for heartbeat.liveness
//   intervals: every request waiting on it is answered 503 at once, and so
//   is every new one until it answers again;
// - every request is answered exactly once: its results, its errors, 503,
//   or 504 after gateway.request_timeout_ms;
// - model administration (gateway/model_admin.h) behind the admin tokens
//   of gateway.admin_tokens_file, on a thread of its own.
//
// Run() is called once, on the thread that built the Gateway; the Gateway
// owns its sockets, its io_context and every request it holds.
#ifndef SCOREPIPE_GATEWAY_GATEWAY_H_
#define SCOREPIPE_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>
#include <zmq.hpp>

#include "config/topology.h"
#include "gateway/gateway_metrics.h"
#include "gateway/http_server.h"
#include "proto/status.h"

namespace scorepipe {

struct GatewayStats {
  uint64_t requests = 0;  // handed to the API (after the server's own limits)
  uint64_t batches_sent = 0;
  uint64_t rows_sent = 0;     // transactions and feature rows
  uint64_t results = 0;       // ResultBatches taken back
  uint64_t timeouts = 0;      // requests answered 504
  uint64_t head_down = 0;     // requests answered 503 for want of a head
  uint64_t unauthorized = 0;  // 401
};

class Gateway {
 public:
  // `shard` numbers the event-loop threads (0..threads-1); `budget`
  // (gateway.max_connections) and `metrics` are shared by all of them and
  // outlive them. Shard 0 also keeps the process's readiness
  // (runtime/node_health.h) and the gauges.
  Gateway(const Topology& topology, zmq::context_t& context, std::string id, int shard,
          std::shared_ptr<ConnectionBudget> budget, GatewayMetrics& metrics);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Reads the token files and the feature spec, connects to the head and
  // starts listening; an error names the file or address and the reason.
  Status Start();
  // Serves until a stop is requested (runtime/node.h), then answers what it
  // holds with 503 and closes.
  Status Run();

  int port() const;
  const GatewayStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_GATEWAY_H_
