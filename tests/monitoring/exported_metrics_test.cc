// Every metric that monitoring/alerts.yml and monitoring/grafana-dashboard.json
// name is one the nodes export. The names come from the nodes themselves: a
// whole cluster (`scorepipe up`, real processes, a private redis-server, a
// registry model) whose every /metrics endpoint is scraped, not a list kept by
// hand. prometheus-cpp prints a labelled family only once it has a child, so
// the test first makes the events that create the late ones: live workers
// (scorepipe_worker_heartbeat_age_seconds, scorepipe_worker_in_flight_batches)
// and a version in shadow (scorepipe_model_shadow_info). The endpoint's own
// families (process_*, scorepipe_build_info, scorepipe_curve_refused_total
// with every reason) are there from the start. The names the files use come
// from tests/monitoring/monitoring_check.py (a PromQL lexer, tested by
// monitoring_check_test.py).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/registry_cluster.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/run_command.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace {

constexpr const char* kPython = SCOREPIPE_PYTHON3;  // Debian's (tests/CMakeLists.txt)

// Names a rule or a panel may use that no node exports: Prometheus makes `up`
// itself, for every target it scrapes.
const std::set<std::string> kPrometheusOwn = {"up"};

// The sample names an exposition holds: those of its samples, and for each
// `# TYPE` line the family's name with the samples its type adds (a histogram's
// _bucket, _sum and _count; a summary's _sum and _count).
std::set<std::string> ExportedNames(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      names.insert(name);
      if (type == "histogram") names.insert(name + "_bucket");
      if (type == "histogram" || type == "summary") {
        names.insert(name + "_sum");
        names.insert(name + "_count");
      }
    } else if (!line.empty() && line[0] != '#') {
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return names;
}

class ExportedMetricsTest : public RegistryClusterTest {
 protected:
  // name -> where the monitoring files use it ("monitoring/alerts.yml: alert ...").
  std::map<std::string, std::vector<std::string>> NamesTheFilesUse() {
    const std::string source = ClusterHarness::SourceDir();
    std::string out;
    const int code =
        RunCommand({kPython, source + "/tests/monitoring/monitoring_check.py", "names",
                    source + "/monitoring/alerts.yml", source + "/monitoring/grafana-dashboard.json"},
                   (h_->dir() / "monitoring-check.log").string(), &out);
    EXPECT_EQ(code, 0) << out;
    std::map<std::string, std::vector<std::string>> used;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      const size_t tab = line.find('\t');
      if (tab != std::string::npos) used[line.substr(0, tab)].push_back(line.substr(tab + 1));
    }
    return used;
  }

  // Every node's endpoint: the head's three, and each worker's from its log.
  std::vector<int> MetricsPorts() {
    const MetricsConfig& m = h_->topology().metrics;
    std::vector<int> ports = {m.bridge_port, m.ventilator_port, m.sink_port};
    for (const char* worker : {"worker-1", "worker-2"}) {
      int port = 0;
      EXPECT_TRUE(WaitUntil([&] { return (port = MetricsPortFromLog(h_->ReadLog(worker))) > 0; },
                            std::chrono::seconds(30)))
          << h_->LogTail(worker);
      ports.push_back(port);
    }
    return ports;
  }
};

TEST_F(ExportedMetricsTest, EveryMetricTheAlertsAndTheDashboardNameIsExportedByANode) {
  const std::map<std::string, std::vector<std::string>> used = NamesTheFilesUse();
  ASSERT_GT(used.size(), 40U) << "the lexer found too few names to be reading the files";

  ASSERT_TRUE(h_->StartUp().ok());
  const std::vector<int> ports = MetricsPorts();
  ASSERT_EQ(Model({"shadow", "fraud", "v2"}), 0);

  // The nodes update their metrics about once a second; wait until every
  // name is there (or the deadline passes, and the expectations below say
  // which are not).
  std::set<std::string> exported;
  auto every_name_exported = [&] {
    exported.clear();
    for (int port : ports) {
      auto metrics = ScrapeMetrics("127.0.0.1", port);
      if (!metrics.ok()) return false;
      exported.merge(ExportedNames(metrics.value()));
    }
    for (const auto& [name, where] : used) {
      if (!exported.contains(name) && !kPrometheusOwn.contains(name)) return false;
    }
    return true;
  };
  WaitUntil(every_name_exported, std::chrono::seconds(20), std::chrono::milliseconds(200));

  ASSERT_TRUE(exported.contains("scorepipe_sink_results_total")) << "no node answered its scrape";
  for (const auto& [name, where] : used) {
    std::string uses;
    for (const std::string& w : where) uses += "\n  " + w;
    EXPECT_TRUE(exported.contains(name) || kPrometheusOwn.contains(name))
        << name << " is exported by no node; used by:" << uses;
  }
  RecordProperty("names_checked", static_cast<int>(used.size()));
  RecordProperty("names_exported", static_cast<int>(exported.size()));
}

}  // namespace
}  // namespace scorepipe::testing
