#include "runtime/metrics_endpoint.h"

#include <prometheus/exposer.h>

#include <exception>
#include <utility>

namespace scorepipe {

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, std::string address, int port,
                                 std::shared_ptr<prometheus::Registry> registry)
    : exposer_(std::move(exposer)),
      address_(std::move(address)),
      port_(port),
      registry_(std::move(registry)) {}

MetricsEndpoint::~MetricsEndpoint() = default;

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, int port, std::shared_ptr<prometheus::Registry> registry) {
  // IPv6 addresses go in brackets, as civetweb wants them.
  const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  const std::string where = host + ":" + std::to_string(port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(where, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return Status::Error("cannot serve metrics on " + where + ": " + e.what());
  }
  exposer->RegisterCollectable(registry);
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) return Status::Error("cannot serve metrics on " + where + ": no listening port");
  return std::unique_ptr<MetricsEndpoint>(
      new MetricsEndpoint(std::move(exposer), address, ports[0], std::move(registry)));
}

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::StartInRange(
    const std::string& address, int first, int count, std::shared_ptr<prometheus::Registry> registry) {
  Status last = Status::Error("no port to try");
  for (int port = first; port < first + count; ++port) {
    Result<std::unique_ptr<MetricsEndpoint>> started = Start(address, port, registry);
    if (started.ok()) return started;
    last = started.status();
  }
  return last.WithContext("every port of " + std::to_string(first) + ".." +
                          std::to_string(first + count - 1) + " is taken");
}

std::string MetricsEndpoint::url() const {
  const std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
  return "http://" + host + ":" + std::to_string(port_) + "/metrics";
}

prometheus::Counter& AddCounter(prometheus::Registry& registry, const std::string& name,
                                const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Gauge& AddGauge(prometheus::Registry& registry, const std::string& name,
                            const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Histogram& AddLatencyHistogram(prometheus::Registry& registry, const std::string& name,
                                           const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, LatencyBuckets());
}

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,     2.5,   10};
}

void FollowCount(prometheus::Counter& counter, uint64_t total) {
  const double now = counter.Value();
  if (static_cast<double>(total) > now) counter.Increment(static_cast<double>(total) - now);
}

}  // namespace scorepipe
