// Tests of the rules between a topology's fields (config/topology_checks.h):
// distinct queues and endpoints, timeouts in order, the files each mode
// needs, a model's files or a registry model; through the loader (the
// problem placed at the key the file set) and ValidateTopology() (topologies
// built in code).
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "config/topology.h"
#include "tests/config/topology_test_util.h"

namespace scorepipe {
namespace {

using testing::ErrorOf;
using testing::kModel;
using testing::kModelFileAllowed;
using testing::Load;
using testing::LoadWithModel;

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

// --- Queues -------------------------------------------------------------

constexpr char kQueueNames[] =
    "four different names for queue.input, queue.output, queue.dead_letter and queue.shadow";

TEST(LoadTopologyTest, OutputEqualToInputIsRejectedAtOutput) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: q\n  output: q\n")),
            std::string("t.yaml:3:11: queue.output: 'q' is also queue.input ('q'); allowed: ") + kQueueNames);
}

TEST(LoadTopologyTest, DeadLetterEqualToInputIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  dead_letter: transactions_queue\n")),
            std::string("t.yaml:2:16: queue.dead_letter: 'transactions_queue' is also "
                        "queue.input ('transactions_queue'); allowed: ") +
                kQueueNames);
}

TEST(LoadTopologyTest, ShadowEqualToOutputIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  shadow: results_queue\n")),
            std::string("t.yaml:2:11: queue.shadow: 'results_queue' is also "
                        "queue.output ('results_queue'); allowed: ") +
                kQueueNames);
}

TEST(LoadTopologyTest, ClashWithADefaultIsReportedAtTheKeyTheFileSets) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  input: results_queue\n")),
            std::string("t.yaml:2:10: queue.input: 'results_queue' is also queue.output "
                        "('results_queue'); allowed: ") +
                kQueueNames);
}

// --- http-mq ------------------------------------------------------------

constexpr char kJournalDirAllowed[] =
    "a directory path, absolute or relative to this file's directory; required for queue.kind http-mq";

TEST(LoadTopologyTest, HttpMqWithoutAJournalDirIsRejectedAtTheQueueSection) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: http-mq\n")),
            std::string("t.yaml:1:1: queue.journal_dir: '' is empty; allowed: ") + kJournalDirAllowed);
}

TEST(LoadTopologyTest, HttpMqWithAnEmptyJournalDirIsRejectedAtTheKey) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  kind: http-mq\n  journal_dir: \"\"\n")),
            std::string("t.yaml:3:16: queue.journal_dir: '' is empty; allowed: ") + kJournalDirAllowed);
}

// The Redis kinds ignore the http-mq keys.
TEST(LoadTopologyTest, RedisKindsNeedNoJournalDir) {
  auto topology = LoadWithModel("queue:\n  kind: redis-stream\n  url: http://unused:1\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

// --- Rules between keys -------------------------------------------------

constexpr char kBlockTimeoutRule[] = "bridge.block_timeout_ms < queue.inflight_timeout_ms / 2";
constexpr char kCreditRule[] = "ventilator.send_hwm >= workers.credit";

TEST(LoadTopologyTest, BlockTimeoutAtHalfTheInflightTimeoutIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  inflight_timeout_ms: 1000\n"
                                  "bridge:\n  block_timeout_ms: 500\n")),
            std::string("t.yaml:4:21: bridge.block_timeout_ms: '500' is not below half of "
                        "queue.inflight_timeout_ms ('1000'); allowed: ") +
                kBlockTimeoutRule);
}

TEST(LoadTopologyTest, BlockTimeoutJustBelowHalfTheInflightTimeoutIsAccepted) {
  auto topology = LoadWithModel(
      "queue:\n  inflight_timeout_ms: 1001\n"
      "bridge:\n  block_timeout_ms: 500\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopologyTest, BlockTimeoutAgainstTheDefaultInflightTimeoutIsReportedAtBlockTimeout) {
  EXPECT_EQ(ErrorOf(LoadWithModel("bridge:\n  block_timeout_ms: 15000\n")),
            std::string("t.yaml:2:21: bridge.block_timeout_ms: '15000' is not below half of "
                        "queue.inflight_timeout_ms ('30000'); allowed: ") +
                kBlockTimeoutRule);
}

// An order between two keys is worded from the side of the key the file set.
TEST(LoadTopologyTest, InflightTimeoutAgainstTheDefaultBlockTimeoutIsBlamedOnIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("queue:\n  inflight_timeout_ms: 1000\n")),
            std::string("t.yaml:2:24: queue.inflight_timeout_ms: '1000' is not above twice "
                        "bridge.block_timeout_ms ('500'); allowed: ") +
                kBlockTimeoutRule);
}

TEST(LoadTopologyTest, SendHwmBelowTheDefaultCreditIsRejectedAtSendHwm) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  send_hwm: 1\n")),
            std::string("t.yaml:2:13: ventilator.send_hwm: '1' is below workers.credit ('2'); "
                        "allowed: ") +
                kCreditRule);
}

TEST(LoadTopologyTest, SendHwmBelowCreditIsRejectedWhenTheFileSetsBoth) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  send_hwm: 3\nworkers:\n  credit: 4\n")),
            std::string("t.yaml:2:13: ventilator.send_hwm: '3' is below workers.credit ('4'); "
                        "allowed: ") +
                kCreditRule);
}

TEST(LoadTopologyTest, SendHwmEqualToCreditIsAccepted) {
  auto topology = LoadWithModel("ventilator:\n  send_hwm: 7\nworkers:\n  credit: 7\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopologyTest, CreditAboveTheDefaultSendHwmIsReportedAtCredit) {
  EXPECT_EQ(ErrorOf(LoadWithModel("workers:\n  credit: 5\n")),
            std::string("t.yaml:2:11: workers.credit: '5' is above ventilator.send_hwm ('4'); "
                        "allowed: ") +
                kCreditRule);
}

// --- Endpoints ----------------------------------------------------------

TEST(LoadTopologyTest, OneInterfaceMayReuseAPortAnotherInterfaceBinds) {
  auto topology = LoadWithModel(
      "ventilator:\n"
      "  bind: tcp://10.0.0.1:5557\n"
      "  connect: tcp://10.0.0.1:5557\n"
      "  intake_bind: tcp://10.0.0.2:5557\n"
      "  intake_connect: tcp://10.0.0.2:5557\n");
  EXPECT_TRUE(topology.ok()) << ErrorOf(topology);
}

TEST(LoadTopologyTest, BindEqualToAnotherRolesBindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n  bind: \"tcp://*:5557\"\n")),
            "t.yaml:2:9: sink.bind: 'tcp://*:5557' collides with ventilator.bind "
            "('tcp://*:5557'); allowed: an endpoint (a tcp port) that no other role binds");
}

TEST(LoadTopologyTest, BindOnTheDefaultPortOfALaterRoleIsReportedWhereTheFileSetsIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  bind: \"tcp://*:5558\"\n")),
            "t.yaml:2:9: ventilator.bind: 'tcp://*:5558' collides with sink.bind "
            "('tcp://*:5558'); allowed: an endpoint (a tcp port) that no other role binds");
}

TEST(LoadTopologyTest, PortBoundOnEveryInterfaceCannotBeBoundOnOne) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  intake_bind: \"tcp://127.0.0.1:5557\"\n"
                                  "  intake_connect: \"tcp://127.0.0.1:5557\"\n")),
            "t.yaml:2:16: ventilator.intake_bind: 'tcp://127.0.0.1:5557' collides with "
            "ventilator.bind ('tcp://*:5557'); allowed: an endpoint (a tcp port) that no other "
            "role binds");
}

TEST(LoadTopologyTest, PublishBindEqualToResultsBindIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  publish_bind: \"tcp://*:5558\"\n"
                                  "  publish_connect: \"tcp://127.0.0.1:5562\"\n")),
            "t.yaml:2:17: sink.publish_bind: 'tcp://*:5558' collides with sink.bind "
            "('tcp://*:5558'); allowed: an endpoint (a tcp port) that no other role binds");
}

constexpr char kBindsApart[] = "an endpoint (a tcp port) that no other role binds";
constexpr char kConnectsApart[] = "an endpoint that no other role connects to";

TEST(LoadTopologyTest, HeartbeatBindOnTheWorkersPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  heartbeat_bind: \"tcp://*:5557\"\n")),
            std::string("t.yaml:2:19: ventilator.heartbeat_bind: 'tcp://*:5557' collides with "
                        "ventilator.bind ('tcp://*:5557'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopologyTest, StatusBindOnTheDefaultPortOfTheSinkIsReportedWhereTheFileSetsIt) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  status_bind: \"tcp://*:5558\"\n")),
            std::string("t.yaml:2:16: ventilator.status_bind: 'tcp://*:5558' collides with "
                        "sink.bind ('tcp://*:5558'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopologyTest, StatusBindOnOneInterfaceOfTheHeartbeatPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: \"tcp://127.0.0.1:5560\"\n"
                                  "  status_connect: \"tcp://127.0.0.1:5562\"\n")),
            std::string("t.yaml:2:16: ventilator.status_bind: 'tcp://127.0.0.1:5560' collides "
                        "with ventilator.heartbeat_bind ('tcp://*:5560'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopologyTest, LiveFeedBindOnTheStatusPortIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  publish_bind: \"tcp://*:5561\"\n"
                                  "  publish_connect: \"tcp://127.0.0.1:5562\"\n")),
            std::string("t.yaml:2:17: sink.publish_bind: 'tcp://*:5561' collides with "
                        "ventilator.status_bind ('tcp://*:5561'); allowed: ") +
                kBindsApart);
}

TEST(LoadTopologyTest, HeartbeatConnectEqualToTheIntakeConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  heartbeat_bind: \"tcp://*:6000\"\n"
                                  "  heartbeat_connect: \"tcp://127.0.0.1:5556\"\n")),
            std::string("t.yaml:3:22: ventilator.heartbeat_connect: 'tcp://127.0.0.1:5556' is "
                        "also ventilator.intake_connect ('tcp://127.0.0.1:5556'); allowed: ") +
                kConnectsApart);
}

TEST(LoadTopologyTest, StatusConnectEqualToTheHeartbeatConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: \"tcp://*:6000\"\n"
                                  "  status_connect: \"tcp://127.0.0.1:5560\"\n")),
            std::string("t.yaml:3:19: ventilator.status_connect: 'tcp://127.0.0.1:5560' is "
                        "also ventilator.heartbeat_connect ('tcp://127.0.0.1:5560'); allowed: ") +
                kConnectsApart);
}

TEST(LoadTopologyTest, HeartbeatBindAndConnectOnDifferentTransportsAreRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  heartbeat_bind: ipc:///tmp/hb\n")),
            "t.yaml:2:19: ventilator.heartbeat_bind: 'ipc:///tmp/hb' uses another transport "
            "than ventilator.heartbeat_connect ('tcp://127.0.0.1:5560'); allowed: one transport "
            "for ventilator.heartbeat_bind and ventilator.heartbeat_connect");
}

TEST(LoadTopologyTest, StatusIpcConnectToAnotherPathIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  status_bind: ipc:///tmp/s\n"
                                  "  status_connect: ipc:///tmp/t\n")),
            "t.yaml:3:19: ventilator.status_connect: 'ipc:///tmp/t' is not the address of "
            "ventilator.status_bind ('ipc:///tmp/s'); allowed: for ipc and inproc, one endpoint "
            "for ventilator.status_bind and ventilator.status_connect");
}

TEST(LoadTopologyTest, ConnectEqualToAnotherRolesConnectIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n"
                                  "  bind: \"tcp://*:6000\"\n"
                                  "  connect: \"tcp://127.0.0.1:5557\"\n")),
            "t.yaml:3:12: sink.connect: 'tcp://127.0.0.1:5557' is also ventilator.connect "
            "('tcp://127.0.0.1:5557'); allowed: an endpoint that no other role connects to");
}

TEST(LoadTopologyTest, LiveFeedOffOnOneSideOnlyIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("sink:\n  publish_bind: \"\"\n")),
            "t.yaml:2:17: sink.publish_bind: '' does not pair with sink.publish_connect "
            "('tcp://127.0.0.1:5559'); allowed: both empty (no live feed) or both set");
}

TEST(LoadTopologyTest, BindAndConnectOnDifferentTransportsAreRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n  bind: ipc:///tmp/v\n")),
            "t.yaml:2:9: ventilator.bind: 'ipc:///tmp/v' uses another transport than "
            "ventilator.connect ('tcp://127.0.0.1:5557'); allowed: one transport for "
            "ventilator.bind and ventilator.connect");
}

TEST(LoadTopologyTest, IpcConnectToAnotherPathIsRejected) {
  EXPECT_EQ(ErrorOf(LoadWithModel("ventilator:\n"
                                  "  bind: ipc:///tmp/v\n"
                                  "  connect: ipc:///tmp/w\n")),
            "t.yaml:3:12: ventilator.connect: 'ipc:///tmp/w' is not the address of "
            "ventilator.bind ('ipc:///tmp/v'); allowed: for ipc and inproc, one endpoint for "
            "ventilator.bind and ventilator.connect");
}

// --- Topologies built in code -------------------------------------------

TEST(ValidateTopologyTest, CompleteTopologyIsValid) { EXPECT_TRUE(ValidateTopology(ValidTopology()).ok()); }

TEST(ValidateTopologyTest, DefaultTopologyLacksAModel) {
  const Topology defaults;  // named: GCC 12 -O2 warns falsely about a temporary's strings
  EXPECT_EQ(ValidateTopology(defaults).message(),
            std::string("model.path: '' is empty; allowed: ") + kModelFileAllowed);
}

TEST(ValidateTopologyTest, NamesKeyValueAndAllowedWithoutAPlace) {
  Topology t = ValidTopology();
  t.queue.redis.port = 70000;
  EXPECT_EQ(ValidateTopology(t).message(), "queue.redis.port: 70000 is out of range; allowed: 1..65535");
}

TEST(ValidateTopologyTest, PrefixesTheSource) {
  Topology t = ValidTopology();
  t.source = "x.yaml";
  t.workers.count = 300;
  EXPECT_EQ(ValidateTopology(t).message(), "x.yaml: workers.count: 300 is out of range; allowed: 0..256");
}

TEST(ValidateTopologyTest, NanThresholdIsRejected) {
  Topology t = ValidTopology();
  t.model.threshold = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ValidateTopology(t).message(), "model.threshold: nan is out of range; allowed: 0..1");
}

TEST(ValidateTopologyTest, UnknownEnumValueIsRejected) {
  Topology t = ValidTopology();
  t.model.format = static_cast<ModelFormat>(7);
  EXPECT_EQ(ValidateTopology(t).message(), "model.format: 7 is not a known value; allowed: xgboost, linear");
}

TEST(ValidateTopologyTest, BlockTimeoutNotBelowHalfTheInflightTimeoutIsRejected) {
  Topology t = ValidTopology();
  t.queue.inflight_timeout_ms = 1000;
  t.bridge.block_timeout_ms = 500;
  EXPECT_EQ(ValidateTopology(t).message(), std::string("bridge.block_timeout_ms: '500' is not below half of "
                                                       "queue.inflight_timeout_ms ('1000'); allowed: ") +
                                               kBlockTimeoutRule);
}

TEST(ValidateTopologyTest, SendHwmBelowCreditIsRejected) {
  Topology t = ValidTopology();
  t.ventilator.send_hwm = 2;
  t.workers.credit = 3;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("ventilator.send_hwm: '2' is below workers.credit ('3'); allowed: ") + kCreditRule);
}

TEST(ValidateTopologyTest, StatusBindCollidingWithHeartbeatBindIsRejected) {
  Topology t = ValidTopology();
  t.ventilator.status.bind = t.ventilator.heartbeat.bind;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("ventilator.status_bind: 'tcp://*:5560' collides with "
                        "ventilator.heartbeat_bind ('tcp://*:5560'); allowed: ") +
                kBindsApart);
}

TEST(ValidateTopologyTest, ConflictIsNamedAtTheLaterKey) {
  Topology t = ValidTopology();
  t.sink.results.bind = t.ventilator.workers.bind;
  EXPECT_EQ(ValidateTopology(t).message(),
            "sink.bind: 'tcp://*:5557' collides with ventilator.bind ('tcp://*:5557'); allowed: "
            "an endpoint (a tcp port) that no other role binds");
}

TEST(ValidateTopologyTest, MetricsPortsDifferPerRoleUnlessOff) {
  Topology t = ValidTopology();
  t.metrics.sink_port = t.metrics.bridge_port;
  EXPECT_EQ(
      ValidateTopology(t).message(),
      "metrics.sink_port: '9101' is also metrics.bridge_port ('9101'); allowed: a different port per role "
      "(or 0: off)");
  t.metrics.sink_port = 0;
  t.metrics.bridge_port = 0;
  EXPECT_TRUE(ValidateTopology(t).ok()) << ValidateTopology(t).message();
}

TEST(ValidateTopologyTest, AHeadRolesMetricsPortInTheWorkersRangeIsRejected) {
  Topology t = ValidTopology();
  t.metrics.ventilator_port = 9110;  // workers take 9104..9167
  EXPECT_EQ(
      ValidateTopology(t).message(),
      "metrics.ventilator_port: '9110' is in the workers' range 9104..9167 (metrics.worker_port); allowed: a "
      "port outside 9104..9167, or 0 (off)");
  t.metrics.worker_port = 0;
  EXPECT_TRUE(ValidateTopology(t).ok()) << ValidateTopology(t).message();
}

// --- security -----------------------------------------------------------

constexpr char kKeyFileAllowed[] =
    "a key file path, absolute or relative to this file's directory; required for security.mode curve";

TEST(LoadTopologyTest, CurveNeedsItsThreeFiles) {
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n")),
            std::string("t.yaml:2:1: security.secret_key: '' is empty; allowed: ") + kKeyFileAllowed);
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n  secret_key: k/node.key_secret\n")),
            std::string("t.yaml:2:1: security.server_key: '' is empty; allowed: ") + kKeyFileAllowed);
  EXPECT_EQ(ErrorOf(Load(kModel + "security:\n  mode: curve\n  secret_key: a\n  server_key: b\n")),
            "t.yaml:2:1: security.authorized_keys: '' is empty; allowed: a folder path, absolute or relative "
            "to this file's directory; required for security.mode curve");
}

TEST(ValidateTopologyTest, CodeBuiltTopologiesArePlainUnlessToldAndCurveNeedsFiles) {
  Topology t = ValidTopology();
  EXPECT_EQ(t.security.mode, SecurityMode::kNone);
  t.security.mode = SecurityMode::kCurve;
  EXPECT_EQ(ValidateTopology(t).message(),
            std::string("security.secret_key: '' is empty; allowed: ") + kKeyFileAllowed);
}

// --- A registry model ---------------------------------------------------

TEST(LoadTopologyTest, RegistryModelNeedsAName) {
  EXPECT_EQ(ErrorOf(Load("model: {registry: models}\n")),
            "t.yaml:1:1: model.name: '' is empty; allowed: the model's name in model.registry; required with "
            "model.registry");
}

TEST(LoadTopologyTest, RegistryAndModelFilesAreNotBothSet) {
  EXPECT_EQ(ErrorOf(Load("model: {path: m.json, features: f.yaml, registry: models, name: fraud}\n")),
            "t.yaml:1:51: model.registry: '/base/models' is set beside model.path ('/base/m.json'); allowed: "
            "either model.path and model.features, or model.registry and model.name");
  EXPECT_EQ(ErrorOf(Load("model: {registry: models, name: fraud, format: linear}\n")),
            "t.yaml:1:48: model.format: is set beside model.registry; allowed: no model.format with "
            "model.registry: each version's meta.yaml says its format");
  EXPECT_EQ(
      ErrorOf(Load("model: {registry: models, name: fraud, version: v1}\n")),
      "t.yaml:1:49: model.version: 'v1' is set beside model.registry; allowed: empty: the registry's live "
      "version");
}

}  // namespace
}  // namespace scorepipe
