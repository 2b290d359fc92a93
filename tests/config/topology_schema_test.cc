// Tests of the topology's field rules (config/topology_schema.h), through
// the loader: what each key accepts (ranges, URLs, strings, endpoints), each
// checking the whole one-line message (file:line:column, key, what is wrong,
// allowed).
#include <gtest/gtest.h>

#include <string>

#include "config/topology.h"
#include "tests/config/topology_test_util.h"

namespace scorepipe {
namespace {

using testing::Case;
using testing::CaseName;
using testing::ErrorOf;
using testing::kModelFileAllowed;
using testing::kQueueNameAllowed;
using testing::Load;
using testing::LoadWithModel;

// --- Ranges -------------------------------------------------------------

// Every key at its low end, then every key at its high end. The cross-field
// rules hold at both: block_timeout_ms 1 < 100 / 2, send_hwm 1 >= credit 1;
// 60000 < 86400000 / 2, 100000 >= 64.
TEST(LoadTopologyTest, RangeEndsAreAccepted) {
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

class OutOfRangeTest : public ::testing::TestWithParam<Case> {};

TEST_P(OutOfRangeTest, IsRejectedAtTheValue) {
  const Case& c = GetParam();
  const bool has_model = c.yaml.find("model:") != std::string::npos;
  EXPECT_EQ(ErrorOf(has_model ? Load(c.yaml) : LoadWithModel(c.yaml)), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    LoadTopology, OutOfRangeTest,
    ::testing::Values(Case{"PullWaitNegative", "queue:\n  pull_wait_ms: -1\n",
                           "t.yaml:2:17: queue.pull_wait_ms: -1 is out of range; allowed: 0..600000"},
                      Case{"HttpTimeoutBelow100", "queue:\n  http_timeout_ms: 99\n",
                           "t.yaml:2:20: queue.http_timeout_ms: 99 is out of range; allowed: 100..600000"},
                      Case{
                          "PushRetryAboveAnHour", "queue:\n  push_retry_ms: 3600001\n",
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

// --- http-mq URLs -------------------------------------------------------

TEST(LoadTopologyTest, HttpUrlsWithPortsPathsAndIpv6HostsAreAccepted) {
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
  EXPECT_EQ(
      ErrorOf(LoadWithModel("queue:\n  url: \"" + GetParam().yaml + "\"\n")),
      "t.yaml:2:8: queue.url: '" + GetParam().yaml + "' " + GetParam().message + "; allowed: " + kUrlAllowed);
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

TEST(LoadTopologyTest, EmptyQueueNameIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: \"\"\n")),
            std::string("t.yaml:2:10: queue.input: '' is empty; allowed: ") + kQueueNameAllowed);
}

TEST(LoadTopologyTest, QueueNameWithWhitespaceIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  output: results queue\n")),
            std::string("t.yaml:2:11: queue.output: 'results queue' contains whitespace; allowed: ") +
                kQueueNameAllowed);
}

constexpr char kGroupAllowed[] = "; allowed: a consumer group name, non-empty, no whitespace";
constexpr char kFieldAllowed[] = "; allowed: a stream entry field name, non-empty, no whitespace";

TEST(LoadTopologyTest, EmptyConsumerGroupIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  group: \"\"\n")),
            std::string("t.yaml:2:10: queue.group: '' is empty") + kGroupAllowed);
}

TEST(LoadTopologyTest, ConsumerGroupWithWhitespaceIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  group: score pipe\n")),
            std::string("t.yaml:2:10: queue.group: 'score pipe' contains whitespace") + kGroupAllowed);
}

TEST(LoadTopologyTest, EmptyStreamFieldIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  stream_field: \"\"\n")),
            std::string("t.yaml:2:17: queue.stream_field: '' is empty") + kFieldAllowed);
}

TEST(LoadTopologyTest, StreamFieldWithWhitespaceIsRejected) {
  EXPECT_EQ(
      ErrorOf(LoadWithModel("queue:\n  stream_field: \"the message\"\n")),
      std::string("t.yaml:2:17: queue.stream_field: 'the message' contains whitespace") + kFieldAllowed);
}

TEST(LoadTopologyTest, EmptyRedisHostIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  redis:\n    host: \"\"\n")),
            "t.yaml:3:11: queue.redis.host: '' is empty; allowed: a host name or address, "
            "non-empty, no whitespace");
}

TEST(LoadTopologyTest, UnknownLogLevelIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("logging:\n  level: verbose\n")),
            "t.yaml:2:10: logging.level: 'verbose' is not a log level; allowed: trace, debug, "
            "info, warn, error, off");
}

TEST(LoadTopologyTest, EmptyModelPathIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: \"\"\n  features: f.yaml\n")),
            std::string("t.yaml:2:9: model.path: '' is empty; allowed: ") + kModelFileAllowed);
}

TEST(LoadTopologyTest, ModelPathNamingADirectoryIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: ..\n  features: f.yaml\n")),
            std::string("t.yaml:2:9: model.path: '/' names a directory, not a file; allowed: ") +
                kModelFileAllowed);
}

TEST(LoadTopologyTest, EmptyModelVersionIsRejected) {
  EXPECT_EQ(ErrorOf(Load("model:\n  path: m.json\n  features: f.yaml\n  version: \"\"\n")),
            "t.yaml:4:12: model.version: '' is empty; allowed: a non-empty version label");
}

// --- Endpoints ----------------------------------------------------------

constexpr char kBindAllowed[] = "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535";
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
             std::string("t.yaml:2:9: sink.bind: 'tcp://*' has no port; allowed: ") + kBindAllowed},
        Case{"NoHost", "sink:\n  bind: \"tcp://:5558\"\n",
             std::string("t.yaml:2:9: sink.bind: 'tcp://:5558' has no host; allowed: ") + kBindAllowed},
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
             std::string("t.yaml:2:9: ventilator.bind: 'ipc://' names no path; allowed: ") + kBindAllowed},
        Case{"InprocWithoutName", "ventilator:\n  bind: \"inproc://\"\n",
             std::string("t.yaml:2:9: ventilator.bind: 'inproc://' names no name; allowed: ") + kBindAllowed},
        Case{"ConnectToEveryInterface", "ventilator:\n  connect: \"tcp://*:5557\"\n",
             std::string("t.yaml:2:12: ventilator.connect: 'tcp://*:5557' has host '*', which "
                         "only a bind may use; allowed: ") +
                 kConnectAllowed},
        Case{"HeartbeatConnectToEveryInterface", "ventilator:\n  heartbeat_connect: \"tcp://*:5560\"\n",
             std::string("t.yaml:2:22: ventilator.heartbeat_connect: 'tcp://*:5560' has host "
                         "'*', which only a bind may use; allowed: ") +
                 kConnectAllowed},
        Case{"HeartbeatBindWithBadPort", "ventilator:\n  heartbeat_bind: \"tcp://*:hb\"\n",
             std::string("t.yaml:2:19: ventilator.heartbeat_bind: 'tcp://*:hb' has port 'hb', "
                         "not a number; allowed: ") +
                 kBindAllowed},
        // Unlike the live feed, the status socket cannot be turned off.
        Case{"EmptyStatusBind", "ventilator:\n  status_bind: \"\"\n",
             std::string("t.yaml:2:16: ventilator.status_bind: '' is empty; allowed: ") + kBindAllowed},
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

TEST(LoadTopologyTest, LiveFeedCanBeTurnedOff) {
  auto topology = LoadWithModel("sink: {publish_bind: \"\", publish_connect: \"\"}\n");
  ASSERT_TRUE(topology.ok()) << ErrorOf(topology);
  EXPECT_EQ(topology->sink.publish.bind, "");
  EXPECT_EQ(topology->sink.publish.connect, "");
}

TEST(LoadTopologyTest, IpcAndInprocEndpointsAreAccepted) {
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

// --- A registry model ---------------------------------------------------

TEST(LoadTopologyTest, WatchIntervalIsBounded) {
  EXPECT_EQ(ErrorOf(Load("model: {registry: models, name: fraud, watch_ms: 50}\n")),
            "t.yaml:1:50: model.watch_ms: 50 is out of range; allowed: 100..3600000");
}

}  // namespace
}  // namespace scorepipe
