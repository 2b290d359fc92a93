#include "gateway/gateway_metrics.h"

#include "runtime/metrics_endpoint.h"

namespace scorepipe {
namespace {

constexpr const char* kEndpointNames[kApiEndpoints] = {"score", "infer", "metadata", "health", "other"};
constexpr const char* kClassNames[4] = {"2xx", "4xx", "5xx", "other"};

prometheus::Family<prometheus::Histogram>& Seconds(prometheus::Registry& registry) {
  return prometheus::BuildHistogram()
      .Name("scorepipe_gateway_request_seconds")
      .Help(
          "From a scoring request's arrival to its answer, by endpoint (score: /v1/score; infer: KServe v2)")
      .Register(registry);
}

prometheus::Histogram& AddSeconds(prometheus::Registry& registry, const char* endpoint) {
  return Seconds(registry).Add({{"endpoint", endpoint}}, LatencyBuckets());
}

}  // namespace

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry)
    : score_seconds_(AddSeconds(registry, "score")),
      infer_seconds_(AddSeconds(registry, "infer")),
      batches_(AddCounter(registry, "scorepipe_gateway_batches_total",
                          "Online batches sent to the head (dynamic batching of concurrent requests)")),
      rows_(AddCounter(registry, "scorepipe_gateway_rows_total",
                       "Transactions and feature rows sent to the head in online batches")),
      timeouts_(AddCounter(registry, "scorepipe_gateway_timeouts_total",
                           "Requests answered 504: no answer within gateway.request_timeout_ms")),
      head_down_(AddCounter(registry, "scorepipe_gateway_head_down_total",
                            "Requests answered 503 because the head (the ventilator) did not answer")),
      unauthorized_(AddCounter(registry, "scorepipe_gateway_unauthorized_total",
                               "Requests answered 401: no bearer token, or an unknown one")),
      head_up_(AddGauge(registry, "scorepipe_gateway_head_up",
                        "1 while the head answers the gateway's heartbeats, else 0")),
      connections_(AddGauge(registry, "scorepipe_gateway_connections", "HTTP connections open now")) {
  auto& family = prometheus::BuildCounter()
                     .Name("scorepipe_gateway_requests_total")
                     .Help("HTTP requests answered, by endpoint and status class")
                     .Register(registry);
  for (size_t e = 0; e < kApiEndpoints; ++e) {
    for (size_t c = 0; c < 4; ++c) {
      requests_[e][c] = &family.Add({{"endpoint", kEndpointNames[e]}, {"code", kClassNames[c]}});
    }
  }
}

void GatewayMetrics::Answered(ApiEndpoint endpoint, int status, double seconds) {
  const size_t c = status >= 200 && status < 300   ? 0
                   : status >= 400 && status < 500 ? 1
                   : status >= 500                 ? 2
                                                   : 3;
  requests_[static_cast<size_t>(endpoint)][c]->Increment();
  if (endpoint == ApiEndpoint::kScore) score_seconds_.Observe(seconds);
  if (endpoint == ApiEndpoint::kInfer) infer_seconds_.Observe(seconds);
}

}  // namespace scorepipe
