// The gateway's Prometheus metrics (scorepipe_gateway_*): requests by
// endpoint and status class, the time to answer a scoring request, batches
// and rows sent to the head, requests answered 504 (timeout) or 503 for want
// of a head, refused tokens, and gauges of the head's state, connections and
// requests in progress.
//
// One per process, shared by every event-loop thread: prometheus-cpp's
// counters and histograms take concurrent updates. Read by the metrics
// endpoint's threads.
#ifndef SCOREPIPE_GATEWAY_GATEWAY_METRICS_H_
#define SCOREPIPE_GATEWAY_GATEWAY_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>

namespace scorepipe {

enum class ApiEndpoint : uint8_t { kScore, kInfer, kMetadata, kHealth, kOther };
inline constexpr size_t kApiEndpoints = 5;

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);
  GatewayMetrics(const GatewayMetrics&) = delete;
  GatewayMetrics& operator=(const GatewayMetrics&) = delete;

  // An answered request: its endpoint, HTTP status, and seconds from its
  // arrival (the latency histogram covers the scoring endpoints).
  void Answered(ApiEndpoint endpoint, int status, double seconds);
  void BatchSent(size_t rows) {
    batches_.Increment();
    rows_.Increment(static_cast<double>(rows));
  }
  void TimedOut() { timeouts_.Increment(); }
  void HeadDown(size_t requests) { head_down_.Increment(static_cast<double>(requests)); }
  void Unauthorized() { unauthorized_.Increment(); }
  void HeadUp(bool up) { head_up_.Set(up ? 1 : 0); }
  void Connections(size_t open) { connections_.Set(static_cast<double>(open)); }

 private:
  // [endpoint][status class 2xx, 4xx, 5xx, other]
  std::array<std::array<prometheus::Counter*, 4>, kApiEndpoints> requests_{};
  prometheus::Histogram& score_seconds_;
  prometheus::Histogram& infer_seconds_;
  prometheus::Counter& batches_;
  prometheus::Counter& rows_;
  prometheus::Counter& timeouts_;
  prometheus::Counter& head_down_;
  prometheus::Counter& unauthorized_;
  prometheus::Gauge& head_up_;
  prometheus::Gauge& connections_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_GATEWAY_METRICS_H_
