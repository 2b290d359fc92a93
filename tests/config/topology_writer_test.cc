// Tests of config/topology_writer.h: the YAML written loads back to the same
// topology.
#include "config/topology_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

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

// RewriteTopologyValues on the shipped files and on generated ones (block
// and flow maps, plain and quoted values, comments after them): the chosen
// values change to any string, hostile ones included, and the rest of the
// text stays byte for byte.
TEST(RewriteTopologyValuesTest, ChangesOnlyTheChosenValuesInAnyLayout) {
  std::mt19937 rng(20261207);
  const std::string alphabet = "abcXYZ019 ./_-:#'\"\\{}[],&*!|>%@`\t";
  auto random_value = [&] {
    std::string v;
    const size_t n = rng() % 24;
    for (size_t i = 0; i < n; ++i) v += alphabet[rng() % alphabet.size()];
    return v;
  };
  const std::vector<std::string> layouts = {
      "model:\n  name: fraud\n  version: v1\n  path: m.json\n  features: f.yaml   # the spec\nsecurity:\n  "
      "mode: none\n",
      "model: {path: 'm.json', name: fraud, version: v1, features: \"f.yaml\"}  # flow\nsecurity: {mode: "
      "none}\n",
      "# head\nmodel:\n  path: \"m.json\" # c\n  features: 'f''s.yaml'\n  name: fraud\n  version: "
      "v1\nsecurity:\n  mode: none\n",
      "model: {features: f.yaml,path: m.json,name: fraud,version: v1}\nsecurity: {mode: none}\n",
  };
  for (int round = 0; round < 400; ++round) {
    const std::string& text = layouts[static_cast<size_t>(round) % layouts.size()];
    Result<Topology> loaded = LoadTopologyString(text, "t.yaml", "/base");
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    std::string path = "/new/" + random_value() + ".json";
    std::string features = random_value() + ".yaml";
    Result<std::string> rewritten =
        RewriteTopologyValues(text, loaded.value(), {{"model.path", path}, {"model.features", features}});
    ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
    Result<Topology> again = LoadTopologyString(rewritten.value(), "t.yaml", "/base");
    ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << rewritten.value();
    EXPECT_EQ(again->model.path, fs::path(path).lexically_normal().string()) << rewritten.value();
    EXPECT_EQ(again->model.features, (fs::path("/base") / features).lexically_normal().string())
        << rewritten.value();
    // Outside the two values, the text is the same: every comment and line.
    const size_t first_comment = text.find('#');
    if (first_comment != std::string::npos) {
      const std::string comment = text.substr(first_comment, text.find('\n', first_comment) - first_comment);
      EXPECT_NE(rewritten->find(comment), std::string::npos) << comment << " in\n" << rewritten.value();
    }
    EXPECT_EQ(std::count(rewritten->begin(), rewritten->end(), '\n'),
              std::count(text.begin(), text.end(), '\n'));
  }
}

TEST(RewriteTopologyValuesTest, KeepsEveryCommentOfTheShippedFiles) {
  for (const std::string name : {"local.yaml", "cluster.example.yaml"}) {
    const std::string path = std::string(SCOREPIPE_SOURCE_DIR) + "/config/" + name;
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<Topology> loaded = LoadTopologyFile(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    Result<std::string> rewritten = RewriteTopologyValues(
        text, loaded.value(), {{"model.path", "/x/m.json"}, {"queue.input", "in#put:'x'"}});
    ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
    Result<Topology> again = LoadTopologyString(rewritten.value(), path, "/");
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again->model.path, "/x/m.json");
    EXPECT_EQ(again->queue.input, "in#put:'x'");
    loaded->model.path = "/x/m.json";
    loaded->queue.input = "in#put:'x'";
    loaded->model.features = again->model.features;  // relative: resolved against another folder
    loaded->model.version = again->model.version;
    loaded->model.name = again->model.name;
    EXPECT_EQ(Describe(again.value()), Describe(loaded.value())) << name;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const size_t hash = line.find(" #");
      if (hash != std::string::npos) {
        EXPECT_NE(rewritten->find(line.substr(hash)), std::string::npos) << line;
      }
    }
  }
}

TEST(RewriteTopologyValuesTest, AKeyTheFileDoesNotSetIsAnError) {
  const std::string text = "model: {path: m.json, features: f.yaml}\nsecurity: {mode: none}\n";
  Result<Topology> loaded = LoadTopologyString(text, "t.yaml", "/base");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  Result<std::string> refused = RewriteTopologyValues(text, loaded.value(), {{"queue.input", "x"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "queue.input is not set in the file, so it cannot be rewritten");
  // The loader's places, for messages: the line of each key.
  EXPECT_EQ(KeyPlace(loaded.value(), "model.features"), "t.yaml:1: model.features");
  EXPECT_EQ(KeyPlace(loaded.value(), "queue.input"), "t.yaml: queue.input");
  EXPECT_EQ(KeyPlace(Topology{}, "queue.input"), "queue.input");
}

}  // namespace
}  // namespace scorepipe
