// Tests of config/topology.h: the shipped files, the defaults, the mapping of
// every key, and one test per way a topology can be wrong, each checking the
// whole one-line message (file:line:column, key, what is wrong, allowed).
#include "config/topology.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = SCOREPIPE_SOURCE_DIR;

// The required keys, appended after a test's own lines so that its line
// numbers stay as written.
const std::string kModel = "model: {path: m.json, features: f.yaml}\n";
// The other required key, appended by Load() to a text that lacks it.
const std::string kSecurity = "security: {mode: none}\n";

constexpr char kQueueNameAllowed[] =
    "a queue name (a Redis list, a stream for redis-stream, a queue of the service for http-mq), "
    "non-empty, no whitespace";

Result<Topology> LoadRaw(const std::string& text) { return LoadTopologyString(text, "t.yaml", "/base"); }

Result<Topology> Load(const std::string& text) {
  return LoadRaw(text.find("security:") == std::string::npos ? text + kSecurity : text);
}

Result<Topology> LoadWithModel(const std::string& text) { return Load(text + kModel); }

std::string ErrorOf(const Result<Topology>& result) {
  return result.ok() ? "(loaded without error)" : result.status().message();
}

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
      << t.queue.pull_wait_ms << " " << t.queue.http_timeout_ms << " " << t.queue.push_retry_ms << "\nbridge " << t.bridge.batch_size << " "
      << t.bridge.linger_ms << " " << t.bridge.block_timeout_ms << " " << t.bridge.max_message_bytes
      << "\nventilator " << t.ventilator.workers.bind << " " << t.ventilator.workers.connect << " "
      << t.ventilator.intake.bind << " " << t.ventilator.intake.connect << " "
      << t.ventilator.heartbeat.bind << " " << t.ventilator.heartbeat.connect << " "
      << t.ventilator.status.bind << " " << t.ventilator.status.connect << " "
      << t.ventilator.send_hwm << " " << t.ventilator.batch_timeout_ms << "\nheartbeat "
      << t.heartbeat.interval_ms << " " << t.heartbeat.liveness << "\nsink " << t.sink.results.bind
      << " " << t.sink.results.connect << " " << t.sink.publish.bind << " "
      << t.sink.publish.connect << " " << t.sink.status.bind << " " << t.sink.status.connect << "\nworkers " << t.workers.count << " " << t.workers.credit
      << "\nmetrics " << t.metrics.address << " " << t.metrics.bridge_port << " " << t.metrics.ventilator_port
      << " " << t.metrics.sink_port << " " << t.metrics.worker_port << "\nlogging " << t.logging.level << " "
      << static_cast<int>(t.logging.format) << "\n";
  return out.str();
}

// A topology built in code that passes validation.
Topology ValidTopology() {
  Topology t;
  t.model.path = "/models/m.json";
  t.model.features = "/models/f.yaml";
  // Assigned from a std::string: GCC 12 -O2 warns falsely (-Wrestrict) about
  // operator=(const char*) of a one-character literal here.
  t.model.version = std::string("m");
  return t;
}

// --- The shipped files --------------------------------------------------

TEST(ShippedTopology, LocalYamlLoadsTheDemoModel) {
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

TEST(ShippedTopology, LocalYamlSpellsOutTheDefaults) {
  auto topology = LoadTopologyFile(kSourceDir + "/config/local.yaml");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
}

TEST(ShippedTopology, ClusterExampleBindsOnTheHeadAndConnectsToIt) {
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

TEST(LoadTopology, OnlyTheModelKeysGiveTheDefaults) {
  auto topology = LoadWithModel("");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
  EXPECT_EQ(topology->source, "t.yaml");
  EXPECT_EQ(topology->model.format, ModelFormat::kXgboost);
  EXPECT_EQ(topology->model.threshold, 0.5);
}

TEST(LoadTopology, EmptySectionsKeepTheDefaults) {
  auto topology = LoadWithModel("queue:\n  redis:\nbridge:\nlogging:\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(Summary(*topology), Summary(defaults));
}

TEST(LoadTopology, ReadsEveryKeyIntoItsField) {
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

// Every key at its low end, then every key at its high end. The cross-field
// rules hold at both: block_timeout_ms 1 < 100 / 2, send_hwm 1 >= credit 1;
// 60000 < 86400000 / 2, 100000 >= 64.
TEST(LoadTopology, RangeEndsAreAccepted) {
  auto low = Load(
      "queue: {redis: {port: 1, db: 0, connect_timeout_ms: 1}, inflight_timeout_ms: 100}\n"
      "bridge: {batch_size: 1, linger_ms: 0, block_timeout_ms: 1, max_message_bytes: 64}\n"
      "ventilator: {send_hwm: 1, batch_timeout_ms: 100}\n"
      "heartbeat: {interval_ms: 10, liveness: 1}\nworkers: {count: 0, credit: 1}\n"
      "model: {path: m.json, features: f.yaml, threshold: 0}\n");
  ASSERT_TRUE(low.ok()) << ErrorOf(low);
  EXPECT_EQ(low->queue.inflight_timeout_ms, 100);
  EXPECT_EQ(low->ventilator.batch_timeout_ms, 100);
  EXPECT_EQ(low->heartbeat.interval_ms, 10);
  EXPECT_EQ(low->heartbeat.liveness, 1);
  EXPECT_EQ(low->workers.credit, 1);
  auto high = Load(
      "queue: {redis: {port: 65535, db: 15, connect_timeout_ms: 600000},"
      " inflight_timeout_ms: 86400000}\n"
      "bridge: {batch_size: 65536, linger_ms: 60000, block_timeout_ms: 60000,"
      " max_message_bytes: 16777216}\n"
      "ventilator: {send_hwm: 100000, batch_timeout_ms: 3600000}\n"
      "heartbeat: {interval_ms: 60000, liveness: 100}\nworkers: {count: 256, credit: 64}\n"
      "model: {path: m.json, features: f.yaml, threshold: 1.0}\n");
  ASSERT_TRUE(high.ok()) << ErrorOf(high);
  EXPECT_EQ(high->queue.inflight_timeout_ms, 86400000);
  EXPECT_EQ(high->ventilator.batch_timeout_ms, 3600000);
  EXPECT_EQ(high->heartbeat.interval_ms, 60000);
  EXPECT_EQ(high->heartbeat.liveness, 100);
  EXPECT_EQ(high->workers.credit, 64);
}

TEST(LoadTopology, RedisStreamQueueKindIsAccepted) {
  auto topology = LoadWithModel("queue:\n  kind: redis-stream\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.kind, QueueKind::kRedisStream);
  EXPECT_EQ(topology->queue.group, "scorepipe");
  EXPECT_EQ(topology->queue.stream_field, "message");
}

TEST(LoadTopology, VersionDefaultsToTheModelFileName) {
  auto topology = Load("model: {path: models/fraud-v3.json, features: f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.version, "fraud-v3");
}

TEST(LoadTopology, RelativeModelPathsResolveAgainstTheBaseDir) {
  auto topology = Load("model: {path: ../models/m.json, features: sub/./f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.path, "/models/m.json");
  EXPECT_EQ(topology->model.features, "/base/sub/f.yaml");
}

TEST(LoadTopology, AbsoluteModelPathsAreNormalised) {
  auto topology = Load("model: {path: /opt/x/../m.json, features: /opt//f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->model.path, "/opt/m.json");
  EXPECT_EQ(topology->model.features, "/opt/f.yaml");
}

TEST(LoadTopology, LiveFeedCanBeTurnedOff) {
  auto topology = LoadWithModel("sink: {publish_bind: \"\", publish_connect: \"\"}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->sink.publish.bind, "");
  EXPECT_EQ(topology->sink.publish.connect, "");
}

TEST(LoadTopology, IpcAndInprocEndpointsAreAccepted) {
  auto topology = LoadWithModel(
      "ventilator:\n"
      "  bind: ipc:///tmp/scorepipe-workers\n"
      "  connect: ipc:///tmp/scorepipe-workers\n"
      "  intake_bind: inproc://intake\n"
      "  intake_connect: inproc://intake\n"
      "  heartbeat_bind: ipc:///tmp/scorepipe-heartbeat\n"
      "  heartbeat_connect: ipc:///tmp/scorepipe-heartbeat\n"
      "  status_bind: inproc://status\n"
      "  status_connect: inproc://status\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopology, OneInterfaceMayReuseAPortAnotherInterfaceBinds) {
  auto topology = LoadWithModel(
      "ventilator:\n"
      "  bind: tcp://10.0.0.1:5557\n"
      "  connect: tcp://10.0.0.1:5557\n"
      "  intake_bind: tcp://10.0.0.2:5557\n"
      "  intake_connect: tcp://10.0.0.2:5557\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
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
    "queue, bridge, ventilator, heartbeat, sink, workers, model, metrics, logging, security";

TEST(LoadTopology, EmptyFileIsRejected) {
  EXPECT_EQ(ErrorOf(LoadRaw("")),
            std::string("t.yaml:1:1: the file is empty; allowed: a map of ") + kSections);
}

TEST(LoadTopology, FileWithOnlyCommentsIsEmpty) {
  EXPECT_EQ(ErrorOf(LoadRaw("# nothing yet\n")),
            std::string("t.yaml:1:1: the file is empty; allowed: a map of ") + kSections);
}

TEST(LoadTopology, TopLevelListIsRejected) {
  EXPECT_EQ(ErrorOf(LoadRaw("- queue\n")),
            std::string("t.yaml:1:1: a list is not a map; allowed: a map of ") + kSections);
}

TEST(LoadTopology, SecondDocumentIsRejected) {
  EXPECT_EQ(ErrorOf(Load(kModel + "---\n" + kModel)),
            "t.yaml:3:1: a second YAML document; allowed: one document");
}

TEST(LoadTopology, SyntaxErrorHasLineAndColumn) {
  const std::string error = ErrorOf(LoadRaw("workers: {count: 2}\nqueue: [a, b\n"));
  EXPECT_EQ(error.rfind("t.yaml:3:1: syntax error: ", 0), 0u) << error;
}

TEST(LoadTopology, DuplicateKeyIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers: {count: 1, count: 2}\n")),
            "t.yaml:1:21: workers.count: duplicate key; allowed: each key once");
}

// --- Unknown keys, at every level ---------------------------------------

struct Case {
  std::string name;
  std::string yaml;
  std::string message;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

// For failure messages: the case's name, not the bytes of the struct.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class UnknownKeyTest : public ::testing::TestWithParam<Case> {};

TEST_P(UnknownKeyTest, IsRejectedWithTheKeysAllowedThere) {
  EXPECT_EQ(ErrorOf(LoadWithModel(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, UnknownKeyTest,
    ::testing::Values(
        Case{"TopLevel", "quue: {}\n",
             std::string("t.yaml:1:1: quue: unknown key; allowed: ") + kSections},
        Case{"Queue", "queue:\n  kidn: x\n",
             "t.yaml:2:3: queue.kidn: unknown key; allowed: kind, redis, input, output, "
             "dead_letter, shadow, group, stream_field, inflight_timeout_ms, max_deliveries, url, journal_dir, pull_wait_ms, "
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
             "status_connect, send_hwm, batch_timeout_ms"},
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

TEST(LoadTopology, SectionThatIsAScalarIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue: redis\n")),
            "t.yaml:1:8: queue: 'redis' is not a map; allowed: a map of kind, redis, input, "
            "output, dead_letter, shadow, group, stream_field, inflight_timeout_ms, max_deliveries, url, journal_dir, "
            "pull_wait_ms, http_timeout_ms, push_retry_ms");
}

TEST(LoadTopology, SectionThatIsAListIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge: [1, 2]\n")),
            "t.yaml:1:9: bridge: a list is not a map; allowed: a map of batch_size, linger_ms, "
            "block_timeout_ms, max_message_bytes");
}

TEST(LoadTopology, HeartbeatSectionThatIsAScalarIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("heartbeat: 1000\n")),
            "t.yaml:1:12: heartbeat: '1000' is not a map; allowed: a map of interval_ms, liveness");
}

TEST(LoadTopology, NestedSectionThatIsNotAMapIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis: 127.0.0.1\n")),
            "t.yaml:2:10: queue.redis: '127.0.0.1' is not a map; allowed: a map of host, port, "
            "db, connect_timeout_ms, user, password_file, password_env");
}

TEST(LoadTopology, WordWhereAnIntegerBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    port: abc\n")),
            "t.yaml:3:11: queue.redis.port: 'abc' is not an integer; allowed: 1..65535");
}

TEST(LoadTopology, FloatWhereAnIntegerBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  batch_size: 1.5\n")),
            "t.yaml:2:15: bridge.batch_size: '1.5' is not an integer; allowed: 1..65536");
}

TEST(LoadTopology, QuotedNumberIsNotAnInteger) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers:\n  count: \"3\"\n")),
            "t.yaml:2:10: workers.count: '3' is quoted, so a string, not an integer; "
            "allowed: 0..256");
}

TEST(LoadTopology, IntegerBeyondIntIsOutOfRange) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  linger_ms: 99999999999\n")),
            "t.yaml:2:14: bridge.linger_ms: '99999999999' is out of range; allowed: 0..60000");
}

TEST(LoadTopology, KeyWithoutValueIsRejectedAtTheKey) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    port:\n")),
            "t.yaml:3:5: queue.redis.port: the value is missing; allowed: 1..65535");
}

TEST(LoadTopology, ListWhereAStringBelongsIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: [a]\n")),
            std::string("t.yaml:2:10: queue.input: a list is not a string; allowed: ") + kQueueNameAllowed);
}

TEST(LoadTopology, ThresholdThatIsNotANumberIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  features: f.yaml\n  threshold: high\n")),
            "t.yaml:4:14: model.threshold: 'high' is not a number; allowed: 0..1");
}

TEST(LoadTopology, UnsupportedQueueKindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: kafka\n")),
            "t.yaml:2:9: queue.kind: 'kafka' is not supported; allowed: redis-list, "
            "redis-stream, http-mq");
}

TEST(LoadTopology, UnsupportedModelFormatIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  format: onnx\n  features: f.yaml\n")),
            "t.yaml:3:11: model.format: 'onnx' is not supported; allowed: xgboost, linear");
}

// --- Required keys ------------------------------------------------------

constexpr char kModelFileAllowed[] =
    "a file path, absolute or relative to this file's directory; required unless model.registry is set";

TEST(LoadTopology, MissingModelPathIsReportedAtTheModelSection) {
  EXPECT_EQ(ErrorOf(Load("workers: {count: 1}\nmodel:\n  features: f.yaml\n")),
            std::string("t.yaml:2:1: model.path: required key is missing; allowed: ") +
                kModelFileAllowed);
}

TEST(LoadTopology, MissingModelFeaturesIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model: {path: m.json}\n")),
            std::string("t.yaml:1:1: model.features: required key is missing; allowed: ") +
                kModelFileAllowed);
}

TEST(LoadTopology, MissingModelSectionIsReportedAtTheTop) {
  EXPECT_EQ(ErrorOf(Load("workers: {count: 1}\n")),
            std::string("t.yaml:1:1: model.path: required key is missing; allowed: ") +
                kModelFileAllowed);
}

// --- Ranges -------------------------------------------------------------

class OutOfRangeTest : public ::testing::TestWithParam<Case> {};

TEST_P(OutOfRangeTest, IsRejectedAtTheValue) {
  const Case& c = GetParam();
  const bool has_model = c.yaml.find("model:") != std::string::npos;
  EXPECT_EQ(ErrorOf(has_model ? Load(c.yaml) : LoadWithModel(c.yaml)), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, OutOfRangeTest,
    ::testing::Values(
        Case{"PullWaitNegative", "queue:\n  pull_wait_ms: -1\n",
             "t.yaml:2:17: queue.pull_wait_ms: -1 is out of range; allowed: 0..600000"},
        Case{"HttpTimeoutBelow100", "queue:\n  http_timeout_ms: 99\n",
             "t.yaml:2:20: queue.http_timeout_ms: 99 is out of range; allowed: 100..600000"},
        Case{"PushRetryAboveAnHour", "queue:\n  push_retry_ms: 3600001\n",
             "t.yaml:2:18: queue.push_retry_ms: 3600001 is out of range; allowed: 100..3600000"},
        Case{"RedisPortZero", "queue:\n  redis:\n    port: 0\n",
             "t.yaml:3:11: queue.redis.port: 0 is out of range; allowed: 1..65535"},
        Case{"RedisPortAbove65535", "queue:\n  redis:\n    port: 70000\n",
             "t.yaml:3:11: queue.redis.port: 70000 is out of range; allowed: 1..65535"},
        Case{"RedisDbAbove15", "queue:\n  redis:\n    db: 16\n",
             "t.yaml:3:9: queue.redis.db: 16 is out of range; allowed: 0..15"},
        Case{"RedisDbNegative", "queue:\n  redis:\n    db: -1\n",
             "t.yaml:3:9: queue.redis.db: -1 is out of range; allowed: 0..15"},
        Case{"ConnectTimeoutZero", "queue:\n  redis:\n    connect_timeout_ms: 0\n",
             "t.yaml:3:25: queue.redis.connect_timeout_ms: 0 is out of range; "
             "allowed: 1..600000"},
        Case{"BatchSizeZero", "bridge:\n  batch_size: 0\n",
             "t.yaml:2:15: bridge.batch_size: 0 is out of range; allowed: 1..65536"},
        Case{"BatchSizeAbove65536", "bridge:\n  batch_size: 65537\n",
             "t.yaml:2:15: bridge.batch_size: 65537 is out of range; allowed: 1..65536"},
        Case{"LingerNegative", "bridge:\n  linger_ms: -1\n",
             "t.yaml:2:14: bridge.linger_ms: -1 is out of range; allowed: 0..60000"},
        Case{"BlockTimeoutAbove60000", "bridge:\n  block_timeout_ms: 60001\n",
             "t.yaml:2:21: bridge.block_timeout_ms: 60001 is out of range; allowed: 1..60000"},
        Case{"MaxMessageBytesBelow64", "bridge:\n  max_message_bytes: 63\n",
             "t.yaml:2:22: bridge.max_message_bytes: 63 is out of range; "
             "allowed: 64..16777216"},
        Case{"SendHwmZero", "ventilator:\n  send_hwm: 0\n",
             "t.yaml:2:13: ventilator.send_hwm: 0 is out of range; allowed: 1..100000"},
        Case{"InflightTimeoutBelow100", "queue:\n  inflight_timeout_ms: 99\n",
             "t.yaml:2:24: queue.inflight_timeout_ms: 99 is out of range; "
             "allowed: 100..86400000"},
        Case{"InflightTimeoutAbove86400000", "queue:\n  inflight_timeout_ms: 86400001\n",
             "t.yaml:2:24: queue.inflight_timeout_ms: 86400001 is out of range; "
             "allowed: 100..86400000"},
        Case{"SendHwmAbove100000", "ventilator:\n  send_hwm: 100001\n",
             "t.yaml:2:13: ventilator.send_hwm: 100001 is out of range; allowed: 1..100000"},
        Case{"BatchTimeoutBelow100", "ventilator:\n  batch_timeout_ms: 99\n",
             "t.yaml:2:21: ventilator.batch_timeout_ms: 99 is out of range; "
             "allowed: 100..3600000"},
        Case{"BatchTimeoutAbove3600000", "ventilator:\n  batch_timeout_ms: 3600001\n",
             "t.yaml:2:21: ventilator.batch_timeout_ms: 3600001 is out of range; "
             "allowed: 100..3600000"},
        Case{"HeartbeatIntervalBelow10", "heartbeat:\n  interval_ms: 9\n",
             "t.yaml:2:16: heartbeat.interval_ms: 9 is out of range; allowed: 10..60000"},
        Case{"HeartbeatIntervalAbove60000", "heartbeat:\n  interval_ms: 60001\n",
             "t.yaml:2:16: heartbeat.interval_ms: 60001 is out of range; allowed: 10..60000"},
        Case{"LivenessZero", "heartbeat:\n  liveness: 0\n",
             "t.yaml:2:13: heartbeat.liveness: 0 is out of range; allowed: 1..100"},
        Case{"LivenessAbove100", "heartbeat:\n  liveness: 101\n",
             "t.yaml:2:13: heartbeat.liveness: 101 is out of range; allowed: 1..100"},
        Case{"CreditZero", "workers:\n  credit: 0\n",
             "t.yaml:2:11: workers.credit: 0 is out of range; allowed: 1..64"},
        // Also above send_hwm; the key's own range is reported first.
        Case{"CreditAbove64", "workers:\n  credit: 65\n",
             "t.yaml:2:11: workers.credit: 65 is out of range; allowed: 1..64"},
        Case{"WorkersAbove256", "workers:\n  count: 257\n",
             "t.yaml:2:10: workers.count: 257 is out of range; allowed: 0..256"},
        Case{"WorkersNegative", "workers:\n  count: -1\n",
             "t.yaml:2:10: workers.count: -1 is out of range; allowed: 0..256"},
        Case{"ThresholdAboveOne", "model:\n  path: m\n  features: f\n  threshold: 1.5\n",
             "t.yaml:4:14: model.threshold: 1.5 is out of range; allowed: 0..1"},
        Case{"ThresholdNegative", "model:\n  path: m\n  features: f\n  threshold: -0.1\n",
             "t.yaml:4:14: model.threshold: -0.1 is out of range; allowed: 0..1"}),
    CaseName);

// --- http-mq ------------------------------------------------------------

TEST(LoadTopology, HttpMqKeysAreReadAndTheJournalDirResolvesAgainstTheBaseDir) {
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

TEST(LoadTopology, HttpMqDefaultsAreTheUpstreamsPortAndWait) {
  auto topology = LoadWithModel("queue: {kind: http-mq, journal_dir: /var/lib/scorepipe/journal}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->queue.url, "http://127.0.0.1:8003");
  EXPECT_EQ(topology->queue.pull_wait_ms, 30000);
  EXPECT_EQ(topology->queue.http_timeout_ms, 10000);
  EXPECT_EQ(topology->queue.push_retry_ms, 5000);
}

constexpr char kJournalDirAllowed[] =
    "a directory path, absolute or relative to this file's directory; required for queue.kind http-mq";

TEST(LoadTopology, HttpMqWithoutAJournalDirIsRejectedAtTheQueueSection) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: http-mq\n")),
            std::string("t.yaml:1:1: queue.journal_dir: '' is empty; allowed: ") + kJournalDirAllowed);
}

TEST(LoadTopology, HttpMqWithAnEmptyJournalDirIsRejectedAtTheKey) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: http-mq\n  journal_dir: \"\"\n")),
            std::string("t.yaml:3:16: queue.journal_dir: '' is empty; allowed: ") + kJournalDirAllowed);
}

// The Redis kinds ignore the http-mq keys.
TEST(LoadTopology, RedisKindsNeedNoJournalDir) {
  auto topology = LoadWithModel("queue:\n  kind: redis-stream\n  url: http://unused:1\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopology, HttpUrlsWithPortsPathsAndIpv6HostsAreAccepted) {
  for (const char* url : {"http://mq", "https://mq.example/api/v1/", "http://10.0.0.10:8003",
                          "http://[::1]:8003", "http://[fe80::1]"}) {
    auto topology = LoadWithModel(std::string("queue:\n  url: \"") + url + "\"\n");
    ASSERT_TRUE(topology.ok()) << url << ": " << ErrorOf(topology);
    EXPECT_EQ(topology->queue.url, url);
  }
}

constexpr char kUrlAllowed[] =
    "an http:// or https:// base URL with a host, an optional :port (1..65535) and path, "
    "no user info, query or fragment";

class BadUrlTest : public ::testing::TestWithParam<Case> {};

TEST_P(BadUrlTest, IsRejectedAtTheValue) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  url: \"" + GetParam().yaml + "\"\n")),
            "t.yaml:2:8: queue.url: '" + GetParam().yaml + "' " + GetParam().message + "; allowed: " +
                kUrlAllowed);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, BadUrlTest,
    ::testing::Values(Case{"Empty", "", "is empty"},
                      Case{"OtherScheme", "ftp://mq:8003", "is not an http:// or https:// URL"},
                      Case{"NoScheme", "mq:8003", "is not an http:// or https:// URL"},
                      Case{"NoHost", "http://", "has no host"},
                      Case{"OnlyAPort", "http://:8003", "has no host"},
                      Case{"PortZero", "http://mq:0", "has port '0', not 1..65535"},
                      Case{"PortTooLarge", "http://mq:70000", "has port '70000', not 1..65535"},
                      Case{"PortNotANumber", "http://mq:http", "has port 'http', not 1..65535"},
                      Case{"EmptyPort", "http://mq:/x", "has port '', not 1..65535"},
                      Case{"UserInfo", "http://user:secret@mq:8003", "has user info"},
                      Case{"Query", "http://mq:8003/?queue-name=x", "has a query or fragment"},
                      Case{"Whitespace", "http://mq :8003", "contains whitespace"}),
    CaseName);

// --- Strings ------------------------------------------------------------

constexpr char kQueueNames[] =
    "four different names for queue.input, queue.output, queue.dead_letter and queue.shadow";

TEST(LoadTopology, EmptyQueueNameIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: \"\"\n")),
            std::string("t.yaml:2:10: queue.input: '' is empty; allowed: ") + kQueueNameAllowed);
}

TEST(LoadTopology, QueueNameWithWhitespaceIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  output: results queue\n")),
            std::string("t.yaml:2:11: queue.output: 'results queue' contains whitespace; allowed: ") +
                kQueueNameAllowed);
}

TEST(LoadTopology, OutputEqualToInputIsRejectedAtOutput) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: q\n  output: q\n")),
            std::string("t.yaml:3:11: queue.output: 'q' is also queue.input ('q'); allowed: ") +
                kQueueNames);
}

TEST(LoadTopology, DeadLetterEqualToInputIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  dead_letter: transactions_queue\n")),
            std::string("t.yaml:2:16: queue.dead_letter: 'transactions_queue' is also "
                        "queue.input ('transactions_queue'); allowed: ") +
                kQueueNames);
}

TEST(LoadTopology, ShadowEqualToOutputIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  shadow: results_queue\n")),
            std::string("t.yaml:2:11: queue.shadow: 'results_queue' is also "
                        "queue.output ('results_queue'); allowed: ") +
                kQueueNames);
}

TEST(LoadTopology, ClashWithADefaultIsReportedAtTheKeyTheFileSets) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: results_queue\n")),
            std::string("t.yaml:2:10: queue.input: 'results_queue' is also queue.output "
                        "('results_queue'); allowed: ") +
                kQueueNames);
}

constexpr char kGroupAllowed[] = "; allowed: a consumer group name, non-empty, no whitespace";
constexpr char kFieldAllowed[] = "; allowed: a stream entry field name, non-empty, no whitespace";

TEST(LoadTopology, EmptyConsumerGroupIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  group: \"\"\n")),
            std::string("t.yaml:2:10: queue.group: '' is empty") + kGroupAllowed);
}

TEST(LoadTopology, ConsumerGroupWithWhitespaceIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  group: score pipe\n")),
            std::string("t.yaml:2:10: queue.group: 'score pipe' contains whitespace") + kGroupAllowed);
}

TEST(LoadTopology, EmptyStreamFieldIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  stream_field: \"\"\n")),
            std::string("t.yaml:2:17: queue.stream_field: '' is empty") + kFieldAllowed);
}

TEST(LoadTopology, StreamFieldWithWhitespaceIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  stream_field: \"the message\"\n")),
            std::string("t.yaml:2:17: queue.stream_field: 'the message' contains whitespace") +
                kFieldAllowed);
}

TEST(LoadTopology, EmptyRedisHostIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    host: \"\"\n")),
            "t.yaml:3:11: queue.redis.host: '' is empty; allowed: a host name or address, "
            "non-empty, no whitespace");
}

TEST(LoadTopology, UnknownLogLevelIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("logging:\n  level: verbose\n")),
            "t.yaml:2:10: logging.level: 'verbose' is not a log level; allowed: trace, debug, "
            "info, warn, error, off");
}

TEST(LoadTopology, EmptyModelPathIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: \"\"\n  features: f.yaml\n")),
            std::string("t.yaml:2:9: model.path: '' is empty; allowed: ") + kModelFileAllowed);
}

TEST(LoadTopology, ModelPathNamingADirectoryIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: ..\n  features: f.yaml\n")),
            std::string("t.yaml:2:9: model.path: '/' names a directory, not a file; allowed: ") +
                kModelFileAllowed);
}

TEST(LoadTopology, EmptyModelVersionIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  features: f.yaml\n  version: \"\"\n")),
            "t.yaml:4:12: model.version: '' is empty; allowed: a non-empty version label");
}

// --- Rules between keys -------------------------------------------------

constexpr char kBlockTimeoutRule[] = "bridge.block_timeout_ms < queue.inflight_timeout_ms / 2";
constexpr char kCreditRule[] = "ventilator.send_hwm >= workers.credit";

TEST(LoadTopology, BlockTimeoutAtHalfTheInflightTimeoutIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  inflight_timeout_ms: 1000\n"
                                  "bridge:\n  block_timeout_ms: 500\n")),
            std::string("t.yaml:4:21: bridge.block_timeout_ms: '500' is not below half of "
                        "queue.inflight_timeout_ms ('1000'); allowed: ") +
                kBlockTimeoutRule);
}

TEST(LoadTopology, BlockTimeoutJustBelowHalfTheInflightTimeoutIsAccepted) {
  auto topology = LoadWithModel("queue:\n  inflight_timeout_ms: 1001\n"
                                "bridge:\n  block_timeout_ms: 500\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopology, BlockTimeoutAgainstTheDefaultInflightTimeoutIsReportedAtBlockTimeout) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  block_timeout_ms: 15000\n")),
            std::string("t.yaml:2:21: bridge.block_timeout_ms: '15000' is not below half of "
                        "queue.inflight_timeout_ms ('30000'); allowed: ") +
                kBlockTimeoutRule);
}

// An order between two keys is worded from the side of the key the file set.
TEST(LoadTopology, InflightTimeoutAgainstTheDefaultBlockTimeoutIsBlamedOnIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  inflight_timeout_ms: 1000\n")),
            std::string("t.yaml:2:24: queue.inflight_timeout_ms: '1000' is not above twice "
                        "bridge.block_timeout_ms ('500'); allowed: ") +
                kBlockTimeoutRule);
}

TEST(LoadTopology, SendHwmBelowTheDefaultCreditIsRejectedAtSendHwm) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  send_hwm: 1\n")),
            std::string("t.yaml:2:13: ventilator.send_hwm: '1' is below workers.credit ('2'); "
                        "allowed: ") +
                kCreditRule);
}

TEST(LoadTopology, SendHwmBelowCreditIsRejectedWhenTheFileSetsBoth) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  send_hwm: 3\nworkers:\n  credit: 4\n")),
            std::string("t.yaml:2:13: ventilator.send_hwm: '3' is below workers.credit ('4'); "
                        "allowed: ") +
                kCreditRule);
}

TEST(LoadTopology, SendHwmEqualToCreditIsAccepted) {
  auto topology = LoadWithModel("ventilator:\n  send_hwm: 7\nworkers:\n  credit: 7\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopology, CreditAboveTheDefaultSendHwmIsReportedAtCredit) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers:\n  credit: 5\n")),
            std::string("t.yaml:2:11: workers.credit: '5' is above ventilator.send_hwm ('4'); "
                        "allowed: ") +
                kCreditRule);
}

// --- Endpoints ----------------------------------------------------------

constexpr char kBindAllowed[] =
    "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535";
constexpr char kConnectAllowed[] =
    "tcp://host:port with a concrete host (not *), ipc://path or inproc://name, port 1..65535";

class BadEndpointTest : public ::testing::TestWithParam<Case> {};

TEST_P(BadEndpointTest, IsRejectedAtTheValue) {
  EXPECT_EQ(ErrorOf(LoadWithModel(GetParam().yaml)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, BadEndpointTest,
    ::testing::Values(
        Case{"UnsupportedTransport", "ventilator:\n  bind: udp://*:5557\n",
             std::string("t.yaml:2:9: ventilator.bind: 'udp://*:5557' uses transport 'udp'; "
                         "allowed: ") +
                 kBindAllowed},
        Case{"NoScheme", "sink:\n  bind: localhost:5558\n",
             std::string("t.yaml:2:9: sink.bind: 'localhost:5558' is not an endpoint; "
                         "allowed: ") +
                 kBindAllowed},
        Case{"NoPort", "sink:\n  bind: tcp://*\n",
             std::string("t.yaml:2:9: sink.bind: 'tcp://*' has no port; allowed: ") +
                 kBindAllowed},
        Case{"NoHost", "sink:\n  bind: \"tcp://:5558\"\n",
             std::string("t.yaml:2:9: sink.bind: 'tcp://:5558' has no host; allowed: ") +
                 kBindAllowed},
        Case{"WildcardPort", "sink:\n  bind: \"tcp://127.0.0.1:*\"\n",
             std::string("t.yaml:2:9: sink.bind: 'tcp://127.0.0.1:*' has port '*', not a "
                         "number; allowed: ") +
                 kBindAllowed},
        Case{"PortZero", "ventilator:\n  intake_bind: \"tcp://*:0\"\n",
             std::string("t.yaml:2:16: ventilator.intake_bind: 'tcp://*:0' has port 0, out of "
                         "range; allowed: ") +
                 kBindAllowed},
        Case{"PortAbove65535", "ventilator:\n  bind: \"tcp://*:70000\"\n",
             std::string("t.yaml:2:9: ventilator.bind: 'tcp://*:70000' has port 70000, out of "
                         "range; allowed: ") +
                 kBindAllowed},
        Case{"Whitespace", "ventilator:\n  bind: \"tcp://head :5557\"\n",
             std::string("t.yaml:2:9: ventilator.bind: 'tcp://head :5557' contains whitespace; "
                         "allowed: ") +
                 kBindAllowed},
        Case{"IpcWithoutPath", "ventilator:\n  bind: \"ipc://\"\n",
             std::string("t.yaml:2:9: ventilator.bind: 'ipc://' names no path; allowed: ") +
                 kBindAllowed},
        Case{"InprocWithoutName", "ventilator:\n  bind: \"inproc://\"\n",
             std::string("t.yaml:2:9: ventilator.bind: 'inproc://' names no name; allowed: ") +
                 kBindAllowed},
        Case{"ConnectToEveryInterface", "ventilator:\n  connect: \"tcp://*:5557\"\n",
             std::string("t.yaml:2:12: ventilator.connect: 'tcp://*:5557' has host '*', which "
                         "only a bind may use; allowed: ") +
                 kConnectAllowed},
        Case{"HeartbeatConnectToEveryInterface",
             "ventilator:\n  heartbeat_connect: \"tcp://*:5560\"\n",
             std::string("t.yaml:2:22: ventilator.heartbeat_connect: 'tcp://*:5560' has host "
                         "'*', which only a bind may use; allowed: ") +
                 kConnectAllowed},
        Case{"HeartbeatBindWithBadPort", "ventilator:\n  heartbeat_bind: \"tcp://*:hb\"\n",
             std::string("t.yaml:2:19: ventilator.heartbeat_bind: 'tcp://*:hb' has port 'hb', "
                         "not a number; allowed: ") +
                 kBindAllowed},
        // Unlike the live feed, the status socket cannot be turned off.
        Case{"EmptyStatusBind", "ventilator:\n  status_bind: \"\"\n",
             std::string("t.yaml:2:16: ventilator.status_bind: '' is empty; allowed: ") +
                 kBindAllowed},
        Case{"StatusConnectWithoutPort", "ventilator:\n  status_connect: tcp://head\n",
             std::string("t.yaml:2:19: ventilator.status_connect: 'tcp://head' has no port; "
                         "allowed: ") +
                 kConnectAllowed},
        Case{"EmptyConnect", "sink:\n  connect: \"\"\n",
             std::string("t.yaml:2:12: sink.connect: '' is empty; allowed: ") + kConnectAllowed},
        Case{"EmptyRequiredBind", "sink:\n  bind: \"\"\n",
             std::string("t.yaml:2:9: sink.bind: '' is empty; allowed: ") + kBindAllowed},
        Case{"PublishBindWithBadPort", "sink:\n  publish_bind: \"tcp://*:x\"\n",
             std::string("t.yaml:2:17: sink.publish_bind: 'tcp://*:x' has port 'x', not a "
                         "number; allowed: ") +
                 kBindAllowed + "; or '' for no live feed"}),
    CaseName);

TEST(LoadTopology, BindEqualToAnotherRolesBindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n  bind: \"tcp://*:5557\"\n")),
            "t.yaml:2:9: sink.bind: 'tcp://*:5557' collides with ventilator.bind "
            "('tcp://*:5557'); allowed: an endpoint (a tcp port) that no other role binds");
}

TEST(LoadTopology, BindOnTheDefaultPortOfALaterRoleIsReportedWhereTheFileSetsIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  bind: \"tcp://*:5558\"\n")),
            "t.yaml:2:9: ventilator.bind: 'tcp://*:5558' collides with sink.bind "
            "('tcp://*:5558'); allowed: an endpoint (a tcp port) that no other role binds");
}

TEST(LoadTopology, PortBoundOnEveryInterfaceCannotBeBoundOnOne) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  intake_bind: \"tcp://127.0.0.1:5557\"\n"
                                  "  intake_connect: \"tcp://127.0.0.1:5557\"\n")),
            "t.yaml:2:16: ventilator.intake_bind: 'tcp://127.0.0.1:5557' collides with "
            "ventilator.bind ('tcp://*:5557'); allowed: an endpoint (a tcp port) that no other "
            "role binds");
}

TEST(LoadTopology, PublishBindEqualToResultsBindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  publish_bind: \"tcp://*:5558\"\n"
                                  "  publish_connect: \"tcp://127.0.0.1:5562\"\n")),
            "t.yaml:2:17: sink.publish_bind: 'tcp://*:5558' collides with sink.bind "
            "('tcp://*:5558'); allowed: an endpoint (a tcp port) that no other role binds");
}

constexpr char kBindsApart[] = "an endpoint (a tcp port) that no other role binds";
constexpr char kConnectsApart[] = "an endpoint that no other role connects to";

TEST(LoadTopology, HeartbeatBindOnTheWorkersPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  heartbeat_bind: \"tcp://*:5557\"\n")),
            std::string("t.yaml:2:19: ventilator.heartbeat_bind: 'tcp://*:5557' collides with "
                        "ventilator.bind ('tcp://*:5557'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopology, StatusBindOnTheDefaultPortOfTheSinkIsReportedWhereTheFileSetsIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  status_bind: \"tcp://*:5558\"\n")),
            std::string("t.yaml:2:16: ventilator.status_bind: 'tcp://*:5558' collides with "
                        "sink.bind ('tcp://*:5558'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopology, StatusBindOnOneInterfaceOfTheHeartbeatPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: \"tcp://127.0.0.1:5560\"\n"
                                  "  status_connect: \"tcp://127.0.0.1:5562\"\n")),
            std::string("t.yaml:2:16: ventilator.status_bind: 'tcp://127.0.0.1:5560' collides "
                        "with ventilator.heartbeat_bind ('tcp://*:5560'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopology, LiveFeedBindOnTheStatusPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  publish_bind: \"tcp://*:5561\"\n"
                                  "  publish_connect: \"tcp://127.0.0.1:5562\"\n")),
            std::string("t.yaml:2:17: sink.publish_bind: 'tcp://*:5561' collides with "
                        "ventilator.status_bind ('tcp://*:5561'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopology, HeartbeatConnectEqualToTheIntakeConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  heartbeat_bind: \"tcp://*:6000\"\n"
                                  "  heartbeat_connect: \"tcp://127.0.0.1:5556\"\n")),
            std::string("t.yaml:3:22: ventilator.heartbeat_connect: 'tcp://127.0.0.1:5556' is "
                        "also ventilator.intake_connect ('tcp://127.0.0.1:5556'); allowed: ") +
                kConnectsApart);
}

TEST(LoadTopology, StatusConnectEqualToTheHeartbeatConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: \"tcp://*:6000\"\n"
                                  "  status_connect: \"tcp://127.0.0.1:5560\"\n")),
            std::string("t.yaml:3:19: ventilator.status_connect: 'tcp://127.0.0.1:5560' is "
                        "also ventilator.heartbeat_connect ('tcp://127.0.0.1:5560'); allowed: ") +
                kConnectsApart);
}

TEST(LoadTopology, HeartbeatBindAndConnectOnDifferentTransportsAreRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  heartbeat_bind: ipc:///tmp/hb\n")),
            "t.yaml:2:19: ventilator.heartbeat_bind: 'ipc:///tmp/hb' uses another transport "
            "than ventilator.heartbeat_connect ('tcp://127.0.0.1:5560'); allowed: one transport "
            "for ventilator.heartbeat_bind and ventilator.heartbeat_connect");
}

TEST(LoadTopology, StatusIpcConnectToAnotherPathIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: ipc:///tmp/s\n"
                                  "  status_connect: ipc:///tmp/t\n")),
            "t.yaml:3:19: ventilator.status_connect: 'ipc:///tmp/t' is not the address of "
            "ventilator.status_bind ('ipc:///tmp/s'); allowed: for ipc and inproc, one endpoint "
            "for ventilator.status_bind and ventilator.status_connect");
}

TEST(LoadTopology, ConnectEqualToAnotherRolesConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  bind: \"tcp://*:6000\"\n"
                                  "  connect: \"tcp://127.0.0.1:5557\"\n")),
            "t.yaml:3:12: sink.connect: 'tcp://127.0.0.1:5557' is also ventilator.connect "
            "('tcp://127.0.0.1:5557'); allowed: an endpoint that no other role connects to");
}

TEST(LoadTopology, LiveFeedOffOnOneSideOnlyIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n  publish_bind: \"\"\n")),
            "t.yaml:2:17: sink.publish_bind: '' does not pair with sink.publish_connect "
            "('tcp://127.0.0.1:5559'); allowed: both empty (no live feed) or both set");
}

TEST(LoadTopology, BindAndConnectOnDifferentTransportsAreRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  bind: ipc:///tmp/v\n")),
            "t.yaml:2:9: ventilator.bind: 'ipc:///tmp/v' uses another transport than "
            "ventilator.connect ('tcp://127.0.0.1:5557'); allowed: one transport for "
            "ventilator.bind and ventilator.connect");
}

TEST(LoadTopology, IpcConnectToAnotherPathIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  bind: ipc:///tmp/v\n"
                                  "  connect: ipc:///tmp/w\n")),
            "t.yaml:3:12: ventilator.connect: 'ipc:///tmp/w' is not the address of "
            "ventilator.bind ('ipc:///tmp/v'); allowed: for ipc and inproc, one endpoint for "
            "ventilator.bind and ventilator.connect");
}

// --- Topologies built in code -------------------------------------------

TEST(ValidateTopology, CompleteTopologyIsValid) {
  EXPECT_TRUE(ValidateTopology(ValidTopology()).ok());
}

TEST(ValidateTopology, DefaultTopologyLacksAModel) {
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(ValidateTopology(defaults).message(),
            std::string("model.path: '' is empty; allowed: ") + kModelFileAllowed);
}

TEST(ValidateTopology, NamesKeyValueAndAllowedWithoutAPlace) {
  Topology t = ValidTopology();
  t.queue.redis.port = 70000;
  EXPECT_EQ(ValidateTopology(t).message(),
            "queue.redis.port: 70000 is out of range; allowed: 1..65535");
}

TEST(ValidateTopology, PrefixesTheSource) {
  Topology t = ValidTopology();
  t.source = "x.yaml";
  t.workers.count = 300;
  EXPECT_EQ(ValidateTopology(t).message(),
            "x.yaml: workers.count: 300 is out of range; allowed: 0..256");
}

TEST(ValidateTopology, NanThresholdIsRejected) {
  Topology t = ValidTopology();
  t.model.threshold = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ValidateTopology(t).message(), "model.threshold: nan is out of range; allowed: 0..1");
}

TEST(ValidateTopology, UnknownEnumValueIsRejected) {
  Topology t = ValidTopology();
  t.model.format = static_cast<ModelFormat>(7);
  EXPECT_EQ(ValidateTopology(t).message(),
            "model.format: 7 is not a known value; allowed: xgboost, linear");
}

TEST(ValidateTopology, BlockTimeoutNotBelowHalfTheInflightTimeoutIsRejected) {
  Topology t = ValidTopology();
  t.queue.inflight_timeout_ms = 1000;
  t.bridge.block_timeout_ms = 500;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("bridge.block_timeout_ms: '500' is not below half of "
                        "queue.inflight_timeout_ms ('1000'); allowed: ") +
                kBlockTimeoutRule);
}

TEST(ValidateTopology, SendHwmBelowCreditIsRejected) {
  Topology t = ValidTopology();
  t.ventilator.send_hwm = 2;
  t.workers.credit = 3;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("ventilator.send_hwm: '2' is below workers.credit ('3'); allowed: ") +
                kCreditRule);
}

TEST(ValidateTopology, StatusBindCollidingWithHeartbeatBindIsRejected) {
  Topology t = ValidTopology();
  t.ventilator.status.bind = t.ventilator.heartbeat.bind;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("ventilator.status_bind: 'tcp://*:5560' collides with "
                        "ventilator.heartbeat_bind ('tcp://*:5560'); allowed: ") +
                kBindsApart);
}

TEST(ValidateTopology, ConflictIsNamedAtTheLaterKey) {
  Topology t = ValidTopology();
  t.sink.results.bind = t.ventilator.workers.bind;
  EXPECT_EQ(ValidateTopology(t).message(),
            "sink.bind: 'tcp://*:5557' collides with ventilator.bind ('tcp://*:5557'); allowed: "
            "an endpoint (a tcp port) that no other role binds");
}

TEST(ValidateTopology, MetricsPortsDifferPerRoleUnlessOff) {
  Topology t = ValidTopology();
  t.metrics.sink_port = t.metrics.bridge_port;
  EXPECT_EQ(ValidateTopology(t).message(),
            "metrics.sink_port: '9101' is also metrics.bridge_port ('9101'); allowed: a different port per role "
            "(or 0: off)");
  t.metrics.sink_port = 0;
  t.metrics.bridge_port = 0;
  EXPECT_TRUE(ValidateTopology(t).ok()) << ValidateTopology(t).message();
}

TEST(ValidateTopology, AHeadRolesMetricsPortInTheWorkersRangeIsRejected) {
  Topology t = ValidTopology();
  t.metrics.ventilator_port = 9110;  // workers take 9104..9167
  EXPECT_EQ(ValidateTopology(t).message(),
            "metrics.ventilator_port: '9110' is in the workers' range 9104..9167 (metrics.worker_port); allowed: a "
            "port outside 9104..9167, or 0 (off)");
  t.metrics.worker_port = 0;
  EXPECT_TRUE(ValidateTopology(t).ok()) << ValidateTopology(t).message();
}

TEST(LoadTopology, MetricsAndLogFormatKeysLoad) {
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

TEST(LoadTopology, RedisCredentialsAreNamedNeverGiven) {
  auto topology = LoadWithModel("queue:\n  redis:\n    user: scorer\n    password_file: secrets/redis.pass\n");
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

constexpr char kKeyFileAllowed[] =
    "a key file path, absolute or relative to this file's directory; required for security.mode curve";

TEST(LoadTopology, SecurityModeMustBeStated) {
  EXPECT_EQ(ErrorOf(LoadRaw(kModel)), "t.yaml:1:1: security.mode: required key is missing; allowed: curve, none");
  EXPECT_EQ(ErrorOf(LoadRaw(kModel + "security: {}\n")),
            "t.yaml:2:1: security.mode: required key is missing; allowed: curve, none");
  EXPECT_EQ(ErrorOf(LoadRaw(kModel + "security: {mode: tls}\n")),
            "t.yaml:2:18: security.mode: 'tls' is not supported; allowed: curve, none");
  EXPECT_EQ(RequiredTopologyKeys(), (std::vector<std::string>{"security.mode"}));
  auto plain = LoadRaw(kModel + "security: {mode: none}\n");
  ASSERT_TRUE(plain.ok()) << ErrorOf(plain);
  EXPECT_EQ(plain->security.mode, SecurityMode::kNone);
}

TEST(LoadTopology, CurveNeedsItsThreeFiles) {
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n")),
            std::string("t.yaml:2:1: security.secret_key: '' is empty; allowed: ") + kKeyFileAllowed);
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n  secret_key: k/node.key_secret\n")),
            std::string("t.yaml:2:1: security.server_key: '' is empty; allowed: ") + kKeyFileAllowed);
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n  secret_key: a\n  server_key: b\n")),
            "t.yaml:2:1: security.authorized_keys: '' is empty; allowed: a folder path, absolute or relative "
            "to this file's directory; required for security.mode curve");
}

TEST(LoadTopology, CurveFilesResolveAgainstTheBaseDir) {
  auto t = Load(kModel +
                "security:\n  mode: curve\n  secret_key: keys/node.key_secret\n  server_key: /etc/k/../head.key\n"
                "  authorized_keys: keys/authorized\n");
  ASSERT_TRUE(t.ok()) << ErrorOf(t);
  EXPECT_EQ(t->security.mode, SecurityMode::kCurve);
  EXPECT_EQ(t->security.secret_key, "/base/keys/node.key_secret");
  EXPECT_EQ(t->security.server_key, "/etc/head.key");
  EXPECT_EQ(t->security.authorized_keys, "/base/keys/authorized");
}

TEST(ValidateTopology, CodeBuiltTopologiesArePlainUnlessToldAndCurveNeedsFiles) {
  Topology t = ValidTopology();
  EXPECT_EQ(t.security.mode, SecurityMode::kNone);
  t.security.mode = SecurityMode::kCurve;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("security.secret_key: '' is empty; allowed: ") + kKeyFileAllowed);
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
TEST(LoadTopology, StrayCommaWhereTheDocumentBeginsIsASyntaxError) {
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw(",")); }, "t.yaml:1:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw("# the fuzzer's shape\n,# note\n" + kModel)); },
                             "t.yaml:2:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw("--- ,\n")); },
                             "t.yaml:1:5: syntax error: unexpected ','");
}

TEST(LoadTopology, StrayCommaAfterTheDocumentIsASyntaxError) {
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw("{model: {path: m.json, features: f.yaml}}\n,\n")); },
                             "t.yaml:2:1: syntax error: unexpected ','");
  ExpectErrorInBoundedMemory([] { return ErrorOf(LoadRaw(kModel + "---\n- queue\n,")); },
                             "t.yaml:4:1: syntax error: unexpected ','");
}

TEST(LoadTopology, StrayCommaInsideACollectionIsStillAPlainSyntaxError) {
  EXPECT_EQ(ErrorOf(LoadRaw("workers:\n  ,\n")).rfind("t.yaml:2:3: syntax error: ", 0), 0u);
  EXPECT_EQ(ErrorOf(LoadRaw("- ,\n")), "t.yaml:1:3: syntax error: end of sequence not found");
}

TEST(LoadTopology, TextAboveOneMebibyteIsRefusedBeforeParsing) {
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

TEST(LoadTopology, RegistryModelNeedsNoFilesAndKeepsItsVersionOpen) {
  auto topology = Load("model: {registry: models, name: fraud, watch_ms: 250}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->model.registry, "/base/models");
  EXPECT_EQ(topology->model.name, "fraud");
  EXPECT_EQ(topology->model.watch_ms, 250);
  EXPECT_EQ(topology->model.path, "");
  EXPECT_EQ(topology->model.version, "");  // the live version, found by each worker
}

TEST(LoadTopology, RegistryModelNeedsAName) {
  EXPECT_EQ(ErrorOf(Load("model: {registry: models}\n")),
            "t.yaml:1:1: model.name: '' is empty; allowed: the model's name in model.registry; required with "
            "model.registry");
}

TEST(LoadTopology, RegistryAndModelFilesAreNotBothSet) {
  EXPECT_EQ(ErrorOf(Load("model: {path: m.json, features: f.yaml, registry: models, name: fraud}\n")),
            "t.yaml:1:51: model.registry: '/base/models' is set beside model.path ('/base/m.json'); allowed: "
            "either model.path and model.features, or model.registry and model.name");
  EXPECT_EQ(ErrorOf(Load("model: {registry: models, name: fraud, format: linear}\n")),
            "t.yaml:1:48: model.format: is set beside model.registry; allowed: no model.format with "
            "model.registry: each version's meta.yaml says its format");
  EXPECT_EQ(ErrorOf(Load("model: {registry: models, name: fraud, version: v1}\n")),
            "t.yaml:1:49: model.version: 'v1' is set beside model.registry; allowed: empty: the registry's live "
            "version");
}

TEST(LoadTopology, ModelNameDefaultsToTheModelFilesFolder) {
  auto topology = Load("model: {path: models/demo/model.json, features: f.yaml}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->model.name, "demo");
  auto named = Load("model: {path: models/demo/model.json, features: f.yaml, name: fraud}\n");
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(named->model.name, "fraud");
}

TEST(LoadTopology, WatchIntervalIsBounded) {
  EXPECT_EQ(ErrorOf(Load("model: {registry: models, name: fraud, watch_ms: 50}\n")),
            "t.yaml:1:50: model.watch_ms: 50 is out of range; allowed: 100..3600000");
}

TEST(LoadTopology, ResultModelFieldsCanBeOmitted) {
  auto topology = LoadWithModel("sink: {model_fields: omit}\n");
  ASSERT_TRUE(topology.ok()) << topology.status().message();
  EXPECT_EQ(topology->sink.model_fields, ModelFields::kOmit);
  EXPECT_EQ(LoadWithModel("")->sink.model_fields, ModelFields::kInclude);
  EXPECT_EQ(ErrorOf(LoadWithModel("sink: {model_fields: yes}\n")),
            "t.yaml:1:22: sink.model_fields: 'yes' is not supported; allowed: include, omit");
}

}  // namespace
}  // namespace scorepipe
