// Prometheus metrics and health of a node: the HTTP endpoint (civetweb; it
// answers on its own threads) that serves
//   GET /metrics  the node's registry and the process's own metrics
//                 (runtime/process_metrics.h), as Prometheus text;
//   GET /livez    200 while the node's main loop turns, else 503;
//   GET /readyz   200 while the node can do its job now, else 503
//                 (runtime/node_health.h), the reason as the body;
// the latency buckets every node uses, and a way to make a Counter follow a
// cumulative count that a component already keeps.
//
// A MetricsEndpoint is owned by the node's main; prometheus metric objects
// may be updated from any thread, and are read by the endpoint's threads.
#ifndef SCOREPIPE_RUNTIME_METRICS_ENDPOINT_H_
#define SCOREPIPE_RUNTIME_METRICS_ENDPOINT_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>

#include "proto/status.h"

namespace scorepipe {

class MetricsEndpoint {
 public:
  // Serves `registry` at http://`address`:`port`/metrics; port 0 takes a
  // free one. The error names the address when it cannot listen there.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address, int port,
                                                        std::shared_ptr<prometheus::Registry> registry);
  // The same on the first free port of `first` .. `first` + `count` - 1
  // (several workers on one host).
  static Result<std::unique_ptr<MetricsEndpoint>> StartInRange(
      const std::string& address, int first, int count, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }
  // http://<address>:<port>/metrics
  std::string url() const;

 private:
  struct Server;
  MetricsEndpoint(std::unique_ptr<Server> server, std::string address, int port);

  std::unique_ptr<Server> server_;
  std::string address_;
  int port_;
};

// A new metric without labels in `registry`.
prometheus::Counter& AddCounter(prometheus::Registry& registry, const std::string& name,
                                const std::string& help);
prometheus::Gauge& AddGauge(prometheus::Registry& registry, const std::string& name, const std::string& help);
// A latency histogram in seconds, on LatencyBuckets().
prometheus::Histogram& AddLatencyHistogram(prometheus::Registry& registry, const std::string& name,
                                           const std::string& help);

// Latency buckets in seconds, 50 µs .. 10 s, for every latency histogram.
prometheus::Histogram::BucketBoundaries LatencyBuckets();

// Moves `counter` up to `total` (a cumulative count kept elsewhere, e.g. a
// component's stats); never down.
void FollowCount(prometheus::Counter& counter, uint64_t total);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_METRICS_ENDPOINT_H_
