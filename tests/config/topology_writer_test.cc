// Tests of config/topology_writer.h: the YAML written loads back to the same
// topology.
#include "config/topology_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>

#include "config/topology.h"
#include "tests/config/topology_test_util.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

using testing::ErrorOf;
using testing::LocalTopology;

// Every field but `source`, one per line, so that topologies compare with one
// EXPECT_EQ and a readable diff.
std::string Describe(const Topology& t) {
  std::ostringstream out;
  out << std::setprecision(std::numeric_limits<double>::max_digits10);
  out << "queue.kind " << static_cast<int>(t.queue.kind) << "\nredis " << t.queue.redis.host << " "
      << t.queue.redis.port << " " << t.queue.redis.db << " " << t.queue.redis.connect_timeout_ms << " ["
      << t.queue.redis.user << "] [" << t.queue.redis.password_file << "] [" << t.queue.redis.password_env
      << "]"
      << "\nqueues " << t.queue.input << " " << t.queue.output << " " << t.queue.dead_letter << " "
      << t.queue.shadow << "\nstream [" << t.queue.group << "] [" << t.queue.stream_field << "] "
      << t.queue.inflight_timeout_ms << "\nhttp-mq [" << t.queue.url << "] [" << t.queue.journal_dir << "] "
      << t.queue.pull_wait_ms << " " << t.queue.http_timeout_ms << " " << t.queue.push_retry_ms << "\nbridge "
      << t.bridge.batch_size << " " << t.bridge.linger_ms << " " << t.bridge.block_timeout_ms << " "
      << t.bridge.max_message_bytes << "\nventilator [" << t.ventilator.workers.bind << "] ["
      << t.ventilator.workers.connect << "] [" << t.ventilator.intake.bind << "] ["
      << t.ventilator.intake.connect << "] [" << t.ventilator.heartbeat.bind << "] ["
      << t.ventilator.heartbeat.connect << "] [" << t.ventilator.status.bind << "] ["
      << t.ventilator.status.connect << "] " << t.ventilator.send_hwm << " " << t.ventilator.batch_timeout_ms
      << "\nheartbeat " << t.heartbeat.interval_ms << " " << t.heartbeat.liveness << "\nsink ["
      << t.sink.results.bind << "] [" << t.sink.results.connect << "] [" << t.sink.publish.bind << "] ["
      << t.sink.publish.connect << "] [" << t.sink.status.bind << "] [" << t.sink.status.connect << "] "
      << static_cast<int>(t.sink.model_fields) << "\nworkers " << t.workers.count << " " << t.workers.credit
      << "\nmodel [" << t.model.path << "] " << static_cast<int>(t.model.format) << " [" << t.model.features
      << "] " << t.model.threshold << " [" << t.model.version << "] [" << t.model.registry << "] ["
      << t.model.name << "] " << t.model.watch_ms << "\nmetrics [" << t.metrics.address << "] "
      << t.metrics.bridge_port << " " << t.metrics.ventilator_port << " " << t.metrics.sink_port << " "
      << t.metrics.worker_port << "\nlogging " << t.logging.level << " " << static_cast<int>(t.logging.format)
      << "\nsecurity " << static_cast<int>(t.security.mode) << " [" << t.security.secret_key << "] ["
      << t.security.server_key << "] [" << t.security.authorized_keys << "]\n";
  return out.str();
}

// Writes `topology` and loads the YAML back (from another base directory:
// the written model paths are absolute).
Result<Topology> RoundTrip(const Topology& topology) {
  return LoadTopologyString(TopologyToYaml(topology), "written.yaml", "/somewhere/else");
}

// A valid topology with every field changed from local.yaml's value (the
// cross-field rules hold: 250 < 1234 / 2, send_hwm 3 >= credit 3, 500 + 700 <
// 1234).
Topology EveryFieldChanged() {
  Topology t = LocalTopology();
  t.queue.kind = QueueKind::kHttpMq;
  t.queue.url = "https://mq.internal:8443/queues";
  t.queue.journal_dir = "/var/lib/scorepipe/journal";
  t.queue.pull_wait_ms = 2000;
  t.queue.http_timeout_ms = 700;
  t.queue.push_retry_ms = 500;
  t.queue.redis = {"redis.internal", 6380, 7, 1500, "scorer", "/etc/scorepipe/redis.password", ""};
  t.queue.input = "in_q";
  t.queue.output = "out_q";
  t.queue.dead_letter = "dead_q";
  t.queue.shadow = "shadow_q";
  t.queue.group = "scorers-eu";
  t.queue.stream_field = "payload";
  t.queue.inflight_timeout_ms = 1234;
  t.bridge = {1000, 0, 250, 1 << 20};
  t.ventilator.workers = {"ipc:///run/scorepipe/workers.ipc", "ipc:///run/scorepipe/workers.ipc"};
  t.ventilator.intake = {"ipc:///run/scorepipe/intake.ipc", "ipc:///run/scorepipe/intake.ipc"};
  t.ventilator.heartbeat = {"tcp://10.1.2.3:6001", "tcp://10.1.2.3:6001"};
  t.ventilator.status = {"inproc://status", "inproc://status"};
  t.ventilator.send_hwm = 3;
  t.ventilator.batch_timeout_ms = 4321;
  t.heartbeat = {20, 9};
  t.sink.results = {"tcp://10.1.2.3:6000", "tcp://10.1.2.3:6000"};
  t.sink.publish = {"", ""};
  t.sink.model_fields = ModelFields::kOmit;
  t.workers.count = 0;
  t.workers.credit = 3;
  t.model.path = "/models/lr/weights.yaml";
  t.model.format = ModelFormat::kLinear;
  t.model.features = "/models/lr/features.yaml";
  t.model.threshold = 0.1;
  t.model.version = "lr-2024.06";
  t.model.name = "fraud-lr";
  t.model.watch_ms = 5000;
  t.metrics = {"10.1.2.3", 0, 9202, 9203, 9300};
  t.logging.level = "debug";
  t.logging.format = LogFormat::kJson;
  t.security = {SecurityMode::kCurve, "/etc/scorepipe/keys/node.key_secret", "/etc/scorepipe/keys/head.key",
                "/etc/scorepipe/keys/authorized"};
  return t;
}

// --- TopologyToYaml -----------------------------------------------------------

TEST(TopologyToYamlTest, LocalYamlWritesYamlThatLoadsBackAndWritesTheSame) {
  const std::string written = TopologyToYaml(LocalTopology());
  auto loaded = LoadTopologyString(written, "written.yaml", "/somewhere/else");
  ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded) << "\n" << written;
  EXPECT_EQ(TopologyToYaml(loaded.value()), written);
  EXPECT_EQ(Describe(loaded.value()), Describe(LocalTopology()));
}

TEST(TopologyToYamlTest, EveryChangedFieldSurvivesTheRoundTrip) {
  const Topology changed = EveryFieldChanged();
  ASSERT_TRUE(ValidateTopology(changed).ok()) << ValidateTopology(changed).message();
  ASSERT_NE(Describe(changed), Describe(LocalTopology()));
  auto loaded = RoundTrip(changed);
  ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded) << "\n" << TopologyToYaml(changed);
  EXPECT_EQ(Describe(loaded.value()), Describe(changed));
}

TEST(TopologyToYamlTest, RegistryModelSurvivesTheRoundTrip) {
  Topology t = LocalTopology();
  t.model = ModelConfig{};
  t.model.registry = "/var/lib/scorepipe/models";
  t.model.name = "fraud";
  t.model.watch_ms = 300;
  t.model.threshold = 0.7;
  ASSERT_TRUE(ValidateTopology(t).ok()) << ValidateTopology(t).message();
  auto loaded = RoundTrip(t);
  ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded) << "\n" << TopologyToYaml(t);
  EXPECT_EQ(Describe(loaded.value()), Describe(t));
}

TEST(TopologyToYamlTest, EveryQueueKindSurvivesTheRoundTrip) {
  Topology t = LocalTopology();
  t.queue.journal_dir = "/var/lib/scorepipe/journal";  // http-mq requires one; the others ignore it
  for (QueueKind kind : {QueueKind::kRedisList, QueueKind::kRedisStream, QueueKind::kHttpMq}) {
    t.queue.kind = kind;
    auto loaded = RoundTrip(t);
    ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded);
    EXPECT_EQ(loaded->queue.kind, kind) << QueueKindName(kind);
  }
}

TEST(TopologyToYamlTest, ThresholdKeepsEveryBit) {
  Topology t = LocalTopology();
  for (double threshold : {0.1, 0.0, 1.0, 1.0 / 3.0, 0.7000000000000001, 0.9999999999999999}) {
    t.model.threshold = threshold;
    auto loaded = RoundTrip(t);
    ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded);
    EXPECT_EQ(loaded->model.threshold, threshold);
  }
}

TEST(TopologyToYamlTest, EndsWithANewline) {
  const std::string written = TopologyToYaml(LocalTopology());
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(written.back(), '\n');
}

// Strings that YAML would read as another type, or that need quoting.
class TopologyToYamlStringTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TopologyToYamlStringTest, VersionComesBackAsTheSameString) {
  Topology t = LocalTopology();
  t.model.version = GetParam();
  auto loaded = RoundTrip(t);
  ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded) << "\n" << TopologyToYaml(t);
  EXPECT_EQ(loaded->model.version, GetParam());
}

TEST_P(TopologyToYamlStringTest, ModelPathComesBackAsTheSamePath) {
  Topology t = LocalTopology();
  t.model.path = "/models/" + GetParam() + "/m.json";
  auto loaded = RoundTrip(t);
  ASSERT_TRUE(loaded.ok()) << ErrorOf(loaded) << "\n" << TopologyToYaml(t);
  EXPECT_EQ(loaded->model.path, t.model.path);
}

INSTANTIATE_TEST_SUITE_P(TrickyStrings, TopologyToYamlStringTest,
                         ::testing::Values("null", "~", "true", "1.0", "007", "#hash", "a: b", "[x]", "*star",
                                           "!tag", "'single'", "\"double\"", " leading", "trailing ",
                                           "caf\xc3\xa9"));

}  // namespace
}  // namespace scorepipe
