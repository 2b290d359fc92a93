#include "runtime/metrics_endpoint.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <utility>
#include <vector>

#include "runtime/node_health.h"
#include "runtime/process_metrics.h"

namespace scorepipe {
namespace {

void Reply(mg_connection* connection, int code, std::string_view content_type, const std::string& body) {
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            code, mg_get_response_code_text(connection, code), static_cast<int>(content_type.size()),
            content_type.data(), body.size());
  mg_write(connection, body.data(), body.size());
}

// GET /metrics: the node's registry and the process's own metrics, as
// Prometheus text.
class MetricsHandler : public CivetHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<prometheus::Registry> registry) : registry_(std::move(registry)) {}
  bool handleGet(CivetServer*, mg_connection* connection) override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    std::vector<prometheus::MetricFamily> process = process_.Collect();
    families.insert(families.end(), std::make_move_iterator(process.begin()),
                    std::make_move_iterator(process.end()));
    Reply(connection, 200, "text/plain; version=0.0.4; charset=utf-8",
          prometheus::TextSerializer().Serialize(families));
    return true;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  ProcessMetrics process_;
};

// GET /livez and /readyz: 200 or 503, with the reason as the body.
class HealthHandler : public CivetHandler {
 public:
  explicit HealthHandler(bool readiness) : readiness_(readiness) {}
  bool handleGet(CivetServer*, mg_connection* connection) override {
    const NodeHealth::Report report = ProcessHealth().Check();
    const bool ok = readiness_ ? report.ready : report.live;
    const std::string& reason = readiness_ ? report.ready_reason : report.live_reason;
    Reply(connection, ok ? 200 : 503, "text/plain; charset=utf-8",
          (ok ? "ok: " : "not ok: ") + reason + "\n");
    return true;
  }

 private:
  const bool readiness_;
};

std::string HostPort(const std::string& address, int port) {
  // IPv6 addresses go in brackets, as civetweb wants them.
  const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  return host + ":" + std::to_string(port);
}

}  // namespace

struct MetricsEndpoint::Server {
  Server(const std::string& where, std::shared_ptr<prometheus::Registry> registry)
      : civet({"listening_ports", where, "num_threads", "2"}), metrics(std::move(registry)) {
    civet.addHandler("/metrics", metrics);
    civet.addHandler("/livez", live);
    civet.addHandler("/readyz", ready);
  }
  CivetServer civet;
  MetricsHandler metrics;
  HealthHandler live{false};
  HealthHandler ready{true};
};

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Server> server, std::string address, int port)
    : server_(std::move(server)), address_(std::move(address)), port_(port) {}

MetricsEndpoint::~MetricsEndpoint() = default;

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, int port, std::shared_ptr<prometheus::Registry> registry) {
  const std::string where = HostPort(address, port);
  std::unique_ptr<Server> server;
  try {
    server = std::make_unique<Server>(where, std::move(registry));
  } catch (const std::exception& e) {
    return Status::Error("cannot serve metrics on " + where + ": " + e.what());
  }
  const std::vector<int> ports = server->civet.getListeningPorts();
  if (ports.empty()) return Status::Error("cannot serve metrics on " + where + ": no listening port");
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(server), address, ports[0]));
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

std::string MetricsEndpoint::url() const { return "http://" + HostPort(address_, port_) + "/metrics"; }

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
