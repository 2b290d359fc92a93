// Tests of reading a topology from YAML (config/topology.h's loaders,
// config/topology_yaml.cc): the shipped files, the defaults, the mapping of
// every key, paths, the file as a whole, unknown keys, shapes and types,
// required keys and hostile texts, each checking the whole one-line message
// (file:line:column, key, what is wrong, allowed).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "config/topology.h"
#include "tests/config/topology_test_util.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

using testing::Case;
using testing::CaseName;
using testing::ErrorOf;
using testing::kModel;
using testing::kModelFileAllowed;
using testing::kQueueNameAllowed;
using testing::kSecurity;
using testing::Load;
using testing::LoadRaw;
using testing::LoadWithModel;

const std::string kSourceDir = SCOREPIPE_SOURCE_DIR;

std::string Canonical(const fs::path& path) { return fs::weakly_canonical(path).string(); }

// Every field outside `model` and `source`, one per line, so that whole
// topologies compare with one EXPECT_EQ and a readable diff.
std::string Summary(const Topology& t) {
  std::ostringstream out;
  out << "queue.kind " << static_cast<int>(t.queue.kind) << "\nredis " << t.queue.redis.host << " "
      << t.queue.redis.port << " " << t.queue.redis.db << " " << t.queue.redis.connect_timeout_ms
      << "\nqueues " << t.queue.input << " " << t.queue.output << " " << t.queue.dead_letter << " "
      << t.queue.shadow << "\nstream " << t.queue.group << " " << t.queue.stream_field << " "
      << t.queue.inflight_timeout_ms << "\nhttp-mq " << t.queue.url << " [" << t.queue.journal_dir << "] "
      << t.queue.pull_wait_ms << " " << t.queue.http_timeout_ms << " " << t.queue.push_retry_ms << "\nbridge "
      << t.bridge.batch_size << " " << t.bridge.linger_ms << " " << t.bridge.block_timeout_ms << " "
      << t.bridge.max_message_bytes << "\nventilator " << t.ventilator.workers.bind << " "
      << t.ventilator.workers.connect << " " << t.ventilator.intake.bind << " " << t.ventilator.intake.connect
      << " " << t.ventilator.heartbeat.bind << " " << t.ventilator.heartbeat.connect << " "
      << t.ventilator.status.bind << " " << t.ventilator.status.connect << " " << t.ventilator.send_hwm << " "
      << t.ventilator.batch_timeout_ms << "\nheartbeat " << t.heartbeat.interval_ms << " "
      << t.heartbeat.liveness << "\nsink " << t.sink.results.bind << " " << t.sink.results.connect << " "
      << t.sink.publish.bind << " " << t.sink.publish.connect << " " << t.sink.status.bind << " "
      << t.sink.status.connect << "\nworkers " << t.workers.count << " " << t.workers.credit << "\nmetrics "
      << t.metrics.address << " " << t.metrics.bridge_port << " " << t.metrics.ventilator_port << " "
      << t.metrics.sink_port << " " << t.metrics.worker_port << "\nlogging " << t.logging.level << " "
      << static_cast<int>(t.logging.format) << "\n";
  return out.str();
}

// --- The shipped files --------------------------------------------------

TEST(ShippedTopologyTest, LocalYamlLoadsTheDemoModel) {
  const std::string file = kSourceDir + "/config/local.yaml";
  auto topology = LoadTopologyFile(file);
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->source, file);
  EXPECT_EQ(topology->model.path, Canonical(kSourceDir + "/models/demo/model.json"));
  EXPECT_EQ(topology->model.features, Canonical(kSourceDir + "/models/demo/features.yaml"));
  EXPECT_EQ(topology->model.format, ModelFormat::kXgboost);
  EXPECT_EQ(topology->model.threshold, 0.5);
  EXPECT_EQ(topology->model.version, "demo-1");
  EXPECT_EQ(topology->workers.count, 2);
}

TEST(ShippedTopologyTest, LocalYamlSpellsOutTheDefaults) {
  auto topology = LoadTopologyFile(kSourceDir + "/config/local.yaml");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
}

TEST(ShippedTopologyTest, ClusterExampleBindsOnTheHeadAndConnectsToIt) {
  auto topology = LoadTopologyFile(kSourceDir + "/config/cluster.example.yaml");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.redis.host, "10.0.0.10");
  EXPECT_EQ(topology->ventilator.workers.bind, "tcp://*:5557");
  EXPECT_EQ(topology->ventilator.workers.connect, "tcp://10.0.0.10:5557");
  EXPECT_EQ(topology->ventilator.intake.bind, "tcp://*:5556");
  EXPECT_EQ(topology->ventilator.intake.connect, "tcp://10.0.0.10:5556");
  EXPECT_EQ(topology->ventilator.heartbeat.bind, "tcp://*:5560");
  EXPECT_EQ(topology->ventilator.heartbeat.connect, "tcp://10.0.0.10:5560");
  EXPECT_EQ(topology->ventilator.status.bind, "tcp://*:5561");
  EXPECT_EQ(topology->ventilator.status.connect, "tcp://10.0.0.10:5561");
  EXPECT_EQ(topology->sink.results.bind, "tcp://*:5558");
  EXPECT_EQ(topology->sink.results.connect, "tcp://10.0.0.10:5558");
  EXPECT_EQ(topology->sink.publish.bind, "tcp://*:5559");
  EXPECT_EQ(topology->sink.publish.connect, "tcp://10.0.0.10:5559");
  EXPECT_EQ(topology->sink.status.bind, "tcp://*:5562");
  EXPECT_EQ(topology->sink.status.connect, "tcp://10.0.0.10:5562");
  EXPECT_EQ(topology->model.path, Canonical(kSourceDir + "/models/demo/model.json"));
  EXPECT_EQ(topology->model.version, "demo-1");
}

// --- What loads ---------------------------------------------------------

TEST(LoadTopologyTest, OnlyTheModelKeysGiveTheDefaults) {
  auto topology = LoadWithModel("");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
  EXPECT_EQ(topology->source, "t.yaml");
  EXPECT_EQ(topology->model.format, ModelFormat::kXgboost);
  EXPECT_EQ(topology->model.threshold, 0.5);
}

TEST(LoadTopologyTest, EmptySectionsKeepTheDefaults) {
  auto topology = LoadWithModel("queue:\n  redis:\nbridge:\nlogging:\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
}

TEST(LoadTopologyTest, ReadsEveryKeyIntoItsField) {
  auto topology = Load(R"(
queue:
  kind: redis-stream
  redis: {host: redis.example, port: 6380, db: 3, connect_timeout_ms: 100}
  input: in
  output: out
  dead_letter: dead
  shadow: shadowed
  group: scorers
  stream_field: payload
  inflight_timeout_ms: 45000
bridge: {batch_size: 7, linger_ms: 0, block_timeout_ms: 9, max_message_bytes: 64}
ventilator:
  bind: "tcp://*:6001"
  connect: "tcp://head:6001"
  intake_bind: "tcp://*:6002"
  intake_connect: "tcp://head:6002"
  heartbeat_bind: "tcp://*:6005"
  heartbeat_connect: "tcp://head:6005"
  status_bind: "tcp://*:6006"
  status_connect: "tcp://head:6006"
  send_hwm: 5
  batch_timeout_ms: 2500
heartbeat: {interval_ms: 250, liveness: 4}
sink:
  bind: "tcp://*:6003"
  connect: "tcp://head:6003"
  publish_bind: "tcp://*:6004"
  publish_connect: "tcp://head:6004"
  status_bind: "tcp://*:6007"
  status_connect: "tcp://head:6007"
workers: {count: 0, credit: 5}
model:
  path: /m/model.yaml
  format: linear
  features: /m/features.yaml
  threshold: 1
  version: v7
logging: {level: debug}
)");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology& t = *topology;
  EXPECT_EQ(t.queue.kind, QueueKind::kRedisStream);
  EXPECT_EQ(t.queue.redis.host, "redis.example");
  EXPECT_EQ(t.queue.redis.port, 6380);
  EXPECT_EQ(t.queue.redis.db, 3);
  EXPECT_EQ(t.queue.redis.connect_timeout_ms, 100);
  EXPECT_EQ(t.queue.input, "in");
  EXPECT_EQ(t.queue.output, "out");
  EXPECT_EQ(t.queue.dead_letter, "dead");
  EXPECT_EQ(t.queue.shadow, "shadowed");
  EXPECT_EQ(t.queue.group, "scorers");
  EXPECT_EQ(t.queue.stream_field, "payload");
  EXPECT_EQ(t.queue.inflight_timeout_ms, 45000);
  EXPECT_EQ(t.bridge.batch_size, 7);
  EXPECT_EQ(t.bridge.linger_ms, 0);
  EXPECT_EQ(t.bridge.block_timeout_ms, 9);
  EXPECT_EQ(t.bridge.max_message_bytes, 64);
  EXPECT_EQ(t.ventilator.workers.bind, "tcp://*:6001");
  EXPECT_EQ(t.ventilator.workers.connect, "tcp://head:6001");
  EXPECT_EQ(t.ventilator.intake.bind, "tcp://*:6002");
  EXPECT_EQ(t.ventilator.intake.connect, "tcp://head:6002");
  EXPECT_EQ(t.ventilator.heartbeat.bind, "tcp://*:6005");
  EXPECT_EQ(t.ventilator.heartbeat.connect, "tcp://head:6005");
  EXPECT_EQ(t.ventilator.status.bind, "tcp://*:6006");
  EXPECT_EQ(t.ventilator.status.connect, "tcp://head:6006");
  EXPECT_EQ(t.ventilator.send_hwm, 5);
  EXPECT_EQ(t.ventilator.batch_timeout_ms, 2500);
  EXPECT_EQ(t.heartbeat.interval_ms, 250);
  EXPECT_EQ(t.heartbeat.liveness, 4);
  EXPECT_EQ(t.sink.results.bind, "tcp://*:6003");
  EXPECT_EQ(t.sink.results.connect, "tcp://head:6003");
  EXPECT_EQ(t.sink.publish.bind, "tcp://*:6004");
  EXPECT_EQ(t.sink.publish.connect, "tcp://head:6004");
  EXPECT_EQ(t.sink.status.bind, "tcp://*:6007");
  EXPECT_EQ(t.sink.status.connect, "tcp://head:6007");
  EXPECT_EQ(t.workers.count, 0);
  EXPECT_EQ(t.workers.credit, 5);
  EXPECT_EQ(t.model.path, "/m/model.yaml");
  EXPECT_EQ(t.model.format, ModelFormat::kLinear);
  EXPECT_EQ(t.model.features, "/m/features.yaml");
  EXPECT_EQ(t.model.threshold, 1.0);
  EXPECT_EQ(t.model.version, "v7");
  EXPECT_EQ(t.logging.level, "debug");
}

TEST(LoadTopologyTest, RedisStreamQueueKindIsAccepted) {
  auto topology = LoadWithModel("queue:\n  kind: redis-stream\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.kind, QueueKind::kRedisStream);
  EXPECT_EQ(topology->queue.group, "scorepipe");
  EXPECT_EQ(topology->queue.stream_field, "message");
}

TEST(LoadTopologyTest, VersionDefaultsToTheModelFileName) {
  auto topology = Load("model: {path: models/fraud-v3.json, features: f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.version, "fraud-v3");
}

TEST(LoadTopologyTest, RelativeModelPathsResolveAgainstTheBaseDir) {
  auto topology = Load("model: {path: ../models/m.json, features: sub/./f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.path, "/models/m.json");
  EXPECT_EQ(topology->model.features, "/base/sub/f.yaml");
}

TEST(LoadTopologyTest, AbsoluteModelPathsAreNormalised) {
  auto topology = Load("model: {path: /opt/x/../m.json, features: /opt//f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.path, "/opt/m.json");
  EXPECT_EQ(topology->model.features, "/opt/f.yaml");
}

// --- Files --------------------------------------------------------------

class LoadTopologyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "config_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to `name` under the test's directory; returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(LoadTopologyFileTest, RelativePathsResolveAgainstTheFilesDirectory) {
  const std::string file = Write("conf/t.yaml", "model: {path: ../m.json, features: f.yaml}\n" + kSecurity);
  auto topology = LoadTopologyFile(file);
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.path, Canonical(dir_ / "m.json"));
  EXPECT_EQ(topology->model.features, Canonical(dir_ / "conf/f.yaml"));
}

TEST_F(LoadTopologyFileTest, ErrorsNameTheFileAsGiven) {
  const std::string file = Write("t.yaml", "queue:\n  redis:\n    port: 70000\n" + kModel + kSecurity);
  EXPECT_EQ(ErrorOf(LoadTopologyFile(file)),
            file + ":3:11: queue.redis.port: 70000 is out of range; allowed: 1..65535");
}

TEST_F(LoadTopologyFileTest, MissingFileNamesTheFileAndTheReason) {
  const std::string file = (dir_ / "x.yaml").string();
  EXPECT_EQ(ErrorOf(LoadTopologyFile(file)),
            "cannot read topology '" + file + "': No such file or directory");
}

TEST_F(LoadTopologyFileTest, DirectoryIsNotATopology) {
  EXPECT_EQ(ErrorOf(LoadTopologyFile(dir_.string())),
            "cannot read topology '" + dir_.string() + "': Is a directory");
}

// --- The file as a whole ------------------------------------------------

constexpr char kSections[] =
    "queue, bridge, ventilator, heartbeat, sink, workers, gateway, model, metrics, logging, security";

TEST(LoadTopologyTest, EmptyFileIsRejected) {
  EXPECT_EQ(ErrorOf(LoadRaw("")),
            std::string("t.yaml:1:1: the file is empty; allowed: a map of ") + kSections);
}

TEST(LoadTopologyTest, FileWithOnlyCommentsIsEmpty) {
  EXPECT_EQ(ErrorOf(LoadRaw("# nothing yet\n")),
            std::string("t.yaml:1:1: the file is empty; allowed: a map of ") + kSections);
}

TEST(LoadTopologyTest, TopLevelListIsRejected) {
  EXPECT_EQ(ErrorOf(LoadRaw("- queue\n")),
            std::string("t.yaml:1:1: a list is not a map; allowed: a map of ") + kSections);
}

TEST(LoadTopologyTest, SecondDocumentIsRejected) {
  EXPECT_EQ(ErrorOf(Load(kModel + "---\n" + kModel)),
            "t.yaml:3:1: a second YAML document; allowed: one document");
}

TEST(LoadTopologyTest, SyntaxErrorHasLineAndColumn) {
  const std::string error = ErrorOf(LoadRaw("workers: {count: 2}\nqueue: [a, b\n"));
  EXPECT_EQ(error.rfind("t.yaml:3:1: syntax error: ", 0), 0u) << error;
}

TEST(LoadTopologyTest, DuplicateKeyIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers: {count: 1, count: 2}\n")),
            "t.yaml:1:21: workers.count: duplicate key; allowed: each key once");
}

// --- Unknown keys, at every level ---------------------------------------

class UnknownKeyTest : public ::testing::TestWithParam<Case> {};

TEST_P(UnknownKeyTest, IsRejectedWithTheKeysAllowedThere) {
  EXPECT_EQ(ErrorOf(LoadWithModel(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, UnknownKeyTest,
    ::testing::Values(Case{"TopLevel", "quue: {}\n",
                           std::string("t.yaml:1:1: quue: unknown key; allowed: ") + kSections},
                      Case{"Queue", "queue:\n  kidn: x\n",
                           "t.yaml:2:3: queue.kidn: unknown key; allowed: kind, redis, input, output, "
                           "dead_letter, shadow, group, stream_field, inflight_timeout_ms, max_deliveries, "
                           "url, journal_dir, pull_wait_ms, "
                           "http_timeout_ms, push_retry_ms"},
                      Case{"Redis", "queue:\n  redis:\n    prot: 1\n",
                           "t.yaml:3:5: queue.redis.prot: unknown key; allowed: host, port, db, "
                           "connect_timeout_ms, user, password_file, password_env"},
                      Case{"Bridge", "bridge: {batch: 1}\n",
                           "t.yaml:1:10: bridge.batch: unknown key; allowed: batch_size, linger_ms, "
                           "block_timeout_ms, max_message_bytes"},
                      Case{"Ventilator", "ventilator:\n  workers_bind: x\n",
                           "t.yaml:2:3: ventilator.workers_bind: unknown key; allowed: bind, connect, "
                           "intake_bind, intake_connect, heartbeat_bind, heartbeat_connect, status_bind, "
                           "status_connect, gateway_bind, gateway_connect, send_hwm, batch_timeout_ms"},
                      Case{"Heartbeat", "heartbeat:\n  interval: 100\n",
                           "t.yaml:2:3: heartbeat.interval: unknown key; allowed: interval_ms, liveness"},
                      Case{"Sink", "sink:\n  publish: x\n",
                           "t.yaml:2:3: sink.publish: unknown key; allowed: bind, connect, publish_bind, "
                           "publish_connect, status_bind, status_connect, model_fields"},
                      Case{"Workers", "workers: {cnt: 1}\n",
                           "t.yaml:1:11: workers.cnt: unknown key; allowed: count, credit"},
                      Case{"Model", "model:\n  treshold: 0.4\n",
                           "t.yaml:2:3: model.treshold: unknown key; allowed: path, format, features, "
                           "threshold, version, registry, name, watch_ms"},
                      Case{"Logging", "logging: {lvl: x}\n",
                           "t.yaml:1:11: logging.lvl: unknown key; allowed: level, format"}),
    CaseName);

// --- Shapes and types ---------------------------------------------------

TEST(LoadTopologyTest, SectionThatIsAScalarIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue: redis\n")),
            "t.yaml:1:8: queue: 'redis' is not a map; allowed: a map of kind, redis, input, "
            "output, dead_letter, shadow, group, stream_field, inflight_timeout_ms, max_deliveries, url, "
            "journal_dir, "
            "pull_wait_ms, http_timeout_ms, push_retry_ms");
}

TEST(LoadTopologyTest, SectionThatIsAListIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge: [1, 2]\n")),
            "t.yaml:1:9: bridge: a list is not a map; allowed: a map of batch_size, linger_ms, "
            "block_timeout_ms, max_message_bytes");
}

TEST(LoadTopologyTest, HeartbeatSectionThatIsAScalarIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("heartbeat: 1000\n")),
            "t.yaml:1:12: heartbeat: '1000' is not a map; allowed: a map of interval_ms, liveness");
}

TEST(LoadTopologyTest, NestedSectionThatIsNotAMapIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis: 127.0.0.1\n")),
            "t.yaml:2:10: queue.redis: '127.0.0.1' is not a map; allowed: a map of host, port, "
            "db, connect_timeout_ms, user, password_file, password_env");
}

TEST(LoadTopologyTest, WordWhereAnIntegerBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    port: abc\n")),
            "t.yaml:3:11: queue.redis.port: 'abc' is not an integer; allowed: 1..65535");
}

TEST(LoadTopologyTest, FloatWhereAnIntegerBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  batch_size: 1.5\n")),
            "t.yaml:2:15: bridge.batch_size: '1.5' is not an integer; allowed: 1..65536");
}

TEST(LoadTopologyTest, QuotedNumberIsNotAnInteger) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers:\n  count: \"3\"\n")),
            "t.yaml:2:10: workers.count: '3' is quoted, so a string, not an integer; "
            "allowed: 0..256");
}

TEST(LoadTopologyTest, IntegerBeyondIntIsOutOfRange) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  linger_ms: 99999999999\n")),
            "t.yaml:2:14: bridge.linger_ms: '99999999999' is out of range; allowed: 0..60000");
}

TEST(LoadTopologyTest, KeyWithoutValueIsRejectedAtTheKey) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    port:\n")),
            "t.yaml:3:5: queue.redis.port: the value is missing; allowed: 1..65535");
}

TEST(LoadTopologyTest, ListWhereAStringBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: [a]\n")),
            std::string("t.yaml:2:10: queue.input: a list is not a string; allowed: ") + kQueueNameAllowed);
}

TEST(LoadTopologyTest, ThresholdThatIsNotANumberIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  features: f.yaml\n  threshold: high\n")),
            "t.yaml:4:14: model.threshold: 'high' is not a number; allowed: 0..1");
}

TEST(LoadTopologyTest, UnsupportedQueueKindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: kafka\n")),
            "t.yaml:2:9: queue.kind: 'kafka' is not supported; allowed: redis-list, "
            "redis-stream, http-mq");
}

TEST(LoadTopologyTest, UnsupportedModelFormatIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  format: onnx\n  features: f.yaml\n")),
            "t.yaml:3:11: model.format: 'onnx' is not supported; allowed: xgboost, linear");
}

// --- Required keys ------------------------------------------------------

TEST(LoadTopologyTest, MissingModelPathIsReportedAtTheModelSection) {
  EXPECT_EQ(ErrorOf(Load("workers: {count: 1}\nmodel:\n  features: f.yaml\n")),
            std::string("t.yaml:2:1: model.path: required key is missing; allowed: ") + kModelFileAllowed);
}

TEST(LoadTopologyTest, MissingModelFeaturesIsRejected) {
  EXPECT_EQ(
      ErrorOf(Load("model: {path: m.json}\n")),
      std::string("t.yaml:1:1: model.features: required key is missing; allowed: ") + kModelFileAllowed);
}

TEST(LoadTopologyTest, MissingModelSectionIsReportedAtTheTop) {
  EXPECT_EQ(ErrorOf(Load("workers: {count: 1}\n")),
            std::string("t.yaml:1:1: model.path: required key is missing; allowed: ") + kModelFileAllowed);
}

// --- http-mq ------------------------------------------------------------

TEST(LoadTopologyTest, HttpMqKeysAreReadAndTheJournalDirResolvesAgainstTheBaseDir) {
  auto topology = LoadWithModel(
      "queue:\n  kind: http-mq\n  url: https://mq.example:8443/api\n  journal_dir: ../var/./journal\n"
      "  pull_wait_ms: 0\n  http_timeout_ms: 100\n  push_retry_ms: 100\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.kind, QueueKind::kHttpMq);
  EXPECT_EQ(topology->queue.url, "https://mq.example:8443/api");
  EXPECT_EQ(topology->queue.journal_dir, "/var/journal");
  EXPECT_EQ(topology->queue.pull_wait_ms, 0);
  EXPECT_EQ(topology->queue.http_timeout_ms, 100);
  EXPECT_EQ(topology->queue.push_retry_ms, 100);
}

TEST(LoadTopologyTest, HttpMqDefaultsAreTheUpstreamsPortAndWait) {
  auto topology = LoadWithModel("queue: {kind: http-mq, journal_dir: /var/lib/scorepipe/journal}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.url, "http://127.0.0.1:8003");
  EXPECT_EQ(topology->queue.pull_wait_ms, 30000);
  EXPECT_EQ(topology->queue.http_timeout_ms, 10000);
  EXPECT_EQ(topology->queue.push_retry_ms, 5000);
}

// --- Metrics, logging and credentials -----------------------------------

TEST(LoadTopologyTest, MetricsAndLogFormatKeysLoad) {
  auto topology = LoadWithModel(
      "metrics:\n  address: 127.0.0.1\n  bridge_port: 0\n  worker_port: 9200\nlogging:\n  format: json\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->metrics.address, "127.0.0.1");
  EXPECT_EQ(topology->metrics.bridge_port, 0);
  EXPECT_EQ(topology->metrics.ventilator_port, 9102);
  EXPECT_EQ(topology->metrics.worker_port, 9200);
  EXPECT_EQ(topology->logging.format, LogFormat::kJson);
  auto bad = LoadWithModel("logging:\n  format: xml\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(ErrorOf(bad).find("logging.format"), std::string::npos) << ErrorOf(bad);
  EXPECT_NE(ErrorOf(bad).find("text, json"), std::string::npos) << ErrorOf(bad);
  auto high = LoadWithModel("metrics:\n  worker_port: 65500\n");
  ASSERT_FALSE(high.ok());
  EXPECT_NE(ErrorOf(high).find("metrics.worker_port"), std::string::npos) << ErrorOf(high);
}

TEST(LoadTopologyTest, RedisCredentialsAreNamedNeverGiven) {
  auto topology =
      LoadWithModel("queue:\n  redis:\n    user: scorer\n    password_file: secrets/redis.pass\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.redis.user, "scorer");
  EXPECT_TRUE(fs::path(topology->queue.redis.password_file).is_absolute()) << "relative to the file's folder";
  EXPECT_TRUE(topology->queue.redis.password_file.ends_with("/secrets/redis.pass"));
  auto both = LoadWithModel("queue:\n  redis:\n    password_file: p\n    password_env: REDIS_PASSWORD\n");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(ErrorOf(both).find("at most one of queue.redis.password_file and queue.redis.password_env"),
            std::string::npos)
      << ErrorOf(both);
  auto bad_env = LoadWithModel("queue:\n  redis:\n    password_env: 1-BAD\n");
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(ErrorOf(bad_env).find("queue.redis.password_env"), std::string::npos) << ErrorOf(bad_env);
  auto inline_password = LoadWithModel("queue:\n  redis:\n    password: hunter2\n");
  ASSERT_FALSE(inline_password.ok()) << "a password in the YAML itself is an unknown key";
  EXPECT_NE(ErrorOf(inline_password).find("queue.redis.password: unknown key"), std::string::npos)
      << ErrorOf(inline_password);
}

// --- security -------------------------------------------------------------

TEST(LoadTopologyTest, SecurityModeMustBeStated) {
  EXPECT_EQ(ErrorOf(LoadRaw(kModel)),
            "t.yaml:1:1: security.mode: required key is missing; allowed: curve, none");
  EXPECT_EQ(ErrorOf(LoadRaw(kModel + "security: {}\n")),
            "t.yaml:2:1: security.mode: required key is missing; allowed: curve, none");
  EXPECT_EQ(ErrorOf(LoadRaw(kModel + "security: {mode: tls}\n")),
            "t.yaml:2:18: security.mode: 'tls' is not supported; allowed: curve, none");
  EXPECT_EQ(RequiredTopologyKeys(), (std::vector<std::string>{"security.mode"}));
  auto plain = LoadRaw(kModel + "security: {mode: none}\n");
  ASSERT_TRUE(plain.ok()) << ErrorOf(plain);
  EXPECT_EQ(plain->security.mode, SecurityMode::kNone);
}

TEST(LoadTopologyTest, CurveFilesResolveAgainstTheBaseDir) {
  auto t =
      Load(kModel +
           "security:\n  mode: curve\n  secret_key: keys/node.key_secret\n  server_key: /etc/k/../head.key\n"
           "  authorized_keys: keys/authorized\n");
  ASSERT_TRUE(t.ok()) << ErrorOf(t);
  EXPECT_EQ(t->security.mode, SecurityMode::kCurve);
  EXPECT_EQ(t->security.secret_key, "/base/keys/node.key_secret");
  EXPECT_EQ(t->security.server_key, "/etc/head.key");
  EXPECT_EQ(t->security.authorized_keys, "/base/keys/authorized");
}

// --- Hostile texts (found by tests/fuzz/fuzz_topology) -------------------

// In a child process: caps the address space at 1 GiB above what it is now,
// runs `error_of_load()`, and exits 0 if that gives `expected`. A loader that
// allocates without end fails quickly (std::bad_alloc) instead of taking the
// machine's memory.
[[noreturn]] void ExitWithLoadInBoundedMemory(const std::function<std::string()>& error_of_load,
                                              const std::string& expected) {
  long pages = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  const rlim_t cap = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (rlim_t{1} << 30);
  const rlimit limit{cap, cap};
  if (pages == 0 || setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(2);
  const std::string error = error_of_load();
  std::fprintf(stderr, "got:      %s\nexpected: %s\n", error.c_str(), expected.c_str());
  std::_Exit(error == expected ? 0 : 1);
}

void ExpectErrorInBoundedMemory(const std::function<std::string()>& error_of_load,
                                const std::string& expected) {
  EXPECT_EXIT(ExitWithLoadInBoundedMemory(error_of_load, expected), ::testing::ExitedWithCode(0), "");
}

// yaml-cpp 0.7 reads a ',' where a document's value belongs as an empty
// document without consuming it, and its LoadAll() then appended empty
// documents until memory ran out (the fuzzer's 2 GB finding).
TEST(LoadTopologyTest, StrayCommaWhereTheDocumentBeginsIsASyntaxError) {
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw(",")); },
                             "t.yaml:1:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw("# the fuzzer's shape\n,# note\n" + kModel)); },
                             "t.yaml:2:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw("--- ,\n")); },
                             "t.yaml:1:5: syntax error: unexpected ','");
}

TEST(LoadTopologyTest, StrayCommaAfterTheDocumentIsASyntaxError) {
  ExpectErrorInBoundedMemory(
      [] { return ErrorOf(LoadRaw("{model: {path: m.json, features: f.yaml}}\n,\n")); },
      "t.yaml:2:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw(kModel + "---\n- queue\n,")); },
                             "t.yaml:4:1: syntax error: unexpected ','");
}

TEST(LoadTopologyTest, StrayCommaInsideACollectionIsStillAPlainSyntaxError) {
  EXPECT_EQ(ErrorOf(LoadRaw("workers:\n  ,\n")).rfind("t.yaml:2:3: syntax error: ", 0), 0u);
  EXPECT_EQ(ErrorOf(LoadRaw("- ,\n")), "t.yaml:1:3: syntax error: end of sequence not found");
}

TEST(LoadTopologyTest, TextAboveOneMebibyteIsRefusedBeforeParsing) {
  const std::string padding(kMaxTopologyBytes - kModel.size() - kSecurity.size() - 2, 'x');
  const std::string largest = kModel + kSecurity + "#" + padding + "\n";
  ASSERT_EQ(largest.size(), kMaxTopologyBytes);
  EXPECT_TRUE(LoadRaw(largest).ok()) << ErrorOf(LoadRaw(largest));
  EXPECT_EQ(ErrorOf(LoadRaw(largest + "\n")),
            "t.yaml: the file is larger than 1048576 bytes; allowed: at most 1048576 bytes");
}

TEST_F(LoadTopologyFileTest, FileAboveOneMebibyteIsRefused) {
  const std::string file = Write("big.yaml", kModel + "#" + std::string(kMaxTopologyBytes, 'x') + "\n");
  EXPECT_EQ(ErrorOf(LoadTopologyFile(file)),
            file + ": the file is larger than 1048576 bytes; allowed: at most 1048576 bytes");
}

TEST_F(LoadTopologyFileTest, EndlessFileIsRefusedAfterOneMebibyte) {
  ExpectErrorInBoundedMemory(
      [] { return ErrorOf(LoadTopologyFile("/dev/zero")); },
      "/dev/zero: the file is larger than 1048576 bytes; allowed: at most 1048576 bytes");
}

// --- A registry model ---------------------------------------------------

TEST(LoadTopologyTest, RegistryModelNeedsNoFilesAndKeepsItsVersionOpen) {
  auto topology = Load("model: {registry: models, name: fraud, watch_ms: 250}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->model.registry, "/base/models");
  EXPECT_EQ(topology->model.name, "fraud");
  EXPECT_EQ(topology->model.watch_ms, 250);
  EXPECT_EQ(topology->model.path, "");
  EXPECT_EQ(topology->model.version, "");  // the live version, found by each worker
}

TEST(LoadTopologyTest, ModelNameDefaultsToTheModelFilesFolder) {
  auto topology = Load("model: {path: models/demo/model.json, features: f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->model.name, "demo");
  auto named = Load("model: {path: models/demo/model.json, features: f.yaml, name: fraud}\n");
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(named->model.name, "fraud");
}

TEST(LoadTopologyTest, ResultModelFieldsCanBeOmitted) {
  auto topology = LoadWithModel("sink: {model_fields: omit}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->sink.model_fields, ModelFields::kOmit);
  EXPECT_EQ(LoadWithModel("")->sink.model_fields, ModelFields::kInclude);
  EXPECT_EQ(ErrorOf(LoadWithModel("sink: {model_fields: yes}\n")),
            "t.yaml:1:22: sink.model_fields: 'yes' is not supported; allowed: include, omit");
}

}  // namespace
}  // namespace scorepipe
