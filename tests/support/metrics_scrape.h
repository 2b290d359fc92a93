// Reading a node's Prometheus endpoint as Prometheus does: an HTTP GET of
// /metrics (cpp-httplib), and the value of one sample in the text format.
//
// Free functions; any thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_METRICS_SCRAPE_H_
#define SCOREPIPE_TESTS_SUPPORT_METRICS_SCRAPE_H_

#include <optional>
#include <string>
#include <string_view>

#include "proto/status.h"

namespace scorepipe::testing {

// The body of GET http://host:port/metrics; an error unless 200.
Result<std::string> ScrapeMetrics(const std::string& host, int port);

// GET http://host:port`path`: its status and body; an error when nothing answers.
struct HttpReply {
  int status = 0;
  std::string body;
};
Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path);

// The value of the sample named exactly `sample` ("name" or
// "name{label=\"value\",...}" as the endpoint writes it), if present.
std::optional<double> SampleValue(std::string_view exposition, std::string_view sample);

// The port a node's log says it serves metrics on ("metrics on
// http://host:PORT/metrics"), or 0.
int MetricsPortFromLog(std::string_view log);

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_METRICS_SCRAPE_H_
