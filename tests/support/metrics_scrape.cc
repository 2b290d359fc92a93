#include "tests/support/metrics_scrape.h"

#include <httplib.h>

#include <cstdlib>

namespace scorepipe::testing {

Result<std::string> ScrapeMetrics(const std::string& host, int port) {
  httplib::Client client(host, port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result response = client.Get("/metrics");
  const std::string where = "http://" + host + ":" + std::to_string(port) + "/metrics";
  if (!response) return Status::Error("GET " + where + ": " + httplib::to_string(response.error()));
  if (response->status != 200)
    return Status::Error("GET " + where + ": status " + std::to_string(response->status));
  return response->body;
}

Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path) {
  httplib::Client client(host, port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result response = client.Get(path);
  if (!response) {
    return Status::Error("GET http://" + host + ":" + std::to_string(port) + path + ": " +
                         httplib::to_string(response.error()));
  }
  return HttpReply{response->status, response->body};
}

std::optional<double> SampleValue(std::string_view exposition, std::string_view sample) {
  size_t at = 0;
  while (at < exposition.size()) {
    size_t end = exposition.find('\n', at);
    if (end == std::string_view::npos) end = exposition.size();
    const std::string_view line = exposition.substr(at, end - at);
    at = end + 1;
    if (line.size() > sample.size() && line.substr(0, sample.size()) == sample &&
        line[sample.size()] == ' ') {
      return std::strtod(std::string(line.substr(sample.size() + 1)).c_str(), nullptr);
    }
  }
  return std::nullopt;
}

int MetricsPortFromLog(std::string_view log) {
  constexpr std::string_view kMarker = "metrics on http://";
  const size_t at = log.rfind(kMarker);
  if (at == std::string_view::npos) return 0;
  const size_t slash = log.find("/metrics", at + kMarker.size());
  const size_t colon = log.rfind(':', slash);
  if (slash == std::string_view::npos || colon == std::string_view::npos || colon < at) return 0;
  return std::atoi(std::string(log.substr(colon + 1, slash - colon - 1)).c_str());
}

}  // namespace scorepipe::testing
