// The parts of `scorepipe status` that need no cluster: reading the
// ventilator's snapshot (including what the real StatusJson writes) and the
// table and JSON it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>

#include "cli/status_command.h"
#include "proto/messages.h"
#include "ventilator/dispatcher.h"
#include "ventilator/gateway_table.h"
#include "ventilator/ventilator.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGood[] =
    R"({"ventilator":{"host":"head-1","pid":4242,"uptime_s":3723.4,"live_workers":2,"queued_batches":3,)"
    R"("in_flight_batches":4,"batches_received":100,"batches_sent":97,"batches_done":93,"redispatched":1,)"
    R"("overdue":0,"workers_joined":3,"workers_lost":1,"transactions_per_second":126976.4},)"
    R"("workers":[{"id":"head-1-worker-1","host":"head-1","pid":4250,"state":"active","last_heartbeat_ms":120,)"
    R"("in_flight_batches":2,"credit":0,"batches_scored":50,"transactions_scored":25600,)"
    R"("transactions_per_second":63488.2,"model":"fraud","model_version":"v3","model_error":""},)"
    // The second as a ventilator from before the model fields writes it.
    R"({"id":"gpu-box-worker-17","host":"gpu-box","pid":77,"state":"draining","last_heartbeat_ms":1540,)"
    R"("in_flight_batches":1,"credit":0,"batches_scored":43,"transactions_scored":1234567,)"
    R"("transactions_per_second":0.0}]})";

StatusReport GoodReport() {
  StatusReport report;
  report.ventilator_endpoint = "tcp://head-1:5561";
  report.snapshot = ParseStatusJson(kGood).value();
  report.queue_description = "redis-list 127.0.0.1:6379 input=transactions_queue";
  report.depth = QueueDepth{12345, 1024};
  return report;
}

// The error ParseStatusJson gives for `json`; fails the test when it parses.
std::string ParseError(const std::string& json) {
  Result<StatusSnapshot> parsed = ParseStatusJson(json);
  EXPECT_FALSE(parsed.ok()) << json;
  return parsed.ok() ? "" : parsed.status().message();
}

std::string Without(std::string json, const std::string& field) {
  json.replace(json.find(field), field.size(), "\"ignored\":0,");
  return json;
}

TEST(StatusJsonParseTest, ReadsEveryField) {
  Result<StatusSnapshot> parsed = ParseStatusJson(kGood);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const VentilatorSnapshot& v = parsed->ventilator;
  EXPECT_EQ(v.host, "head-1");
  EXPECT_EQ(v.pid, 4242);
  EXPECT_DOUBLE_EQ(v.uptime_s, 3723.4);
  EXPECT_EQ(v.live_workers, 2);
  EXPECT_EQ(v.queued_batches, 3);
  EXPECT_EQ(v.in_flight_batches, 4);
  EXPECT_EQ(v.batches_received, 100);
  EXPECT_EQ(v.batches_sent, 97);
  EXPECT_EQ(v.batches_done, 93);
  EXPECT_EQ(v.redispatched, 1);
  EXPECT_EQ(v.overdue, 0);
  EXPECT_EQ(v.workers_joined, 3);
  EXPECT_EQ(v.workers_lost, 1);
  EXPECT_DOUBLE_EQ(v.transactions_per_second, 126976.4);
  ASSERT_EQ(parsed->workers.size(), 2u);
  const WorkerSnapshot& w = parsed->workers[1];
  EXPECT_EQ(w.id, "gpu-box-worker-17");
  EXPECT_EQ(w.host, "gpu-box");
  EXPECT_EQ(w.pid, 77);
  EXPECT_EQ(w.state, "draining");
  EXPECT_EQ(w.last_heartbeat_ms, 1540);
  EXPECT_EQ(w.in_flight_batches, 1);
  EXPECT_EQ(w.credit, 0);
  EXPECT_EQ(w.batches_scored, 43);
  EXPECT_EQ(w.transactions_scored, 1234567);
  EXPECT_DOUBLE_EQ(w.transactions_per_second, 0.0);
}

TEST(StatusJsonParseTest, ReadsWhatTheVentilatorWrites) {
  Dispatcher dispatcher(2, std::chrono::seconds(10), std::chrono::seconds(3));
  const auto now = SteadyClock::now();
  WorkerReady ready;
  ready.worker_id = "edge \"7\"";
  ready.host = "edge";
  ready.pid = 1234;
  ready.session = 9;
  ready.credit = 2;
  (void)dispatcher.OnReady("edge-7#9", ready, now);
  Result<StatusSnapshot> parsed = ParseStatusJson(StatusJson(dispatcher, "head", 99, 12.5, now));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->ventilator.host, "head");
  EXPECT_EQ(parsed->ventilator.pid, 99);
  EXPECT_EQ(parsed->ventilator.live_workers, 1);
  ASSERT_EQ(parsed->workers.size(), 1u);
  EXPECT_EQ(parsed->workers[0].id, "edge \"7\"");
  EXPECT_EQ(parsed->workers[0].pid, 1234);
  EXPECT_EQ(parsed->workers[0].state, "active");
  EXPECT_EQ(parsed->workers[0].credit, 2);
}

// The gateways the ventilator heard from, through the real StatusJson.
TEST(StatusJsonParseTest, ReadsTheGatewaysTheVentilatorWrites) {
  Dispatcher dispatcher(2, std::chrono::seconds(10), std::chrono::seconds(3));
  GatewayTable gateways(std::chrono::seconds(3));
  const auto now = SteadyClock::now();
  Heartbeat beat;
  beat.sender = "edge-gw";
  beat.host = "edge";
  beat.pid = 31;
  gateways.OnHeartbeat("edge-gw/0#1", beat, now);
  gateways.OnHeartbeat("edge-gw/1#2", beat, now);
  dispatcher.EnqueueOnline(10, zmq::message_t(std::string("10")), "edge-gw/1#2",
                           now + std::chrono::seconds(5));
  Result<StatusSnapshot> parsed = ParseStatusJson(
      StatusJson(dispatcher, "head", 99, 12.5, now, gateways.Snapshot(now, dispatcher.OnlineByGateway())));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->gateways.size(), 1u);
  EXPECT_EQ(parsed->gateways[0].id, "edge-gw");
  EXPECT_EQ(parsed->gateways[0].host, "edge");
  EXPECT_EQ(parsed->gateways[0].pid, 31);
  EXPECT_EQ(parsed->gateways[0].links, 2);
  EXPECT_EQ(parsed->gateways[0].in_flight_batches, 1);
}

TEST(StatusJsonParseTest, ReadsAVentilatorWithoutWorkers) {
  Dispatcher dispatcher(2, std::chrono::seconds(10), std::chrono::seconds(3));
  Result<StatusSnapshot> parsed = ParseStatusJson(StatusJson(dispatcher, "head", 1, 0.0, SteadyClock::now()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->workers.empty());
}

TEST(StatusJsonParseTest, IgnoresFieldsItDoesNotKnow) {
  std::string json = kGood;
  json.replace(json.find("\"host\""), 0, "\"future\":{\"x\":[1,2]},");
  EXPECT_TRUE(ParseStatusJson(json).ok());
}

TEST(StatusJsonParseTest, NamesAMissingVentilatorField) {
  EXPECT_EQ(ParseError(Without(kGood, "\"live_workers\":2,")), "ventilator.live_workers: missing");
}

TEST(StatusJsonParseTest, NamesAMissingWorkerFieldWithItsIndex) {
  std::string json = kGood;
  const size_t second = json.find("\"pid\":77,");
  json.replace(second, std::string("\"pid\":77,").size(), "");
  EXPECT_EQ(ParseError(json), "workers[1].pid: missing");
}

TEST(StatusJsonParseTest, NamesAFieldOfTheWrongType) {
  std::string json = kGood;
  json.replace(json.find("\"pid\":4242"), std::string("\"pid\":4242").size(), "\"pid\":\"4242\"");
  EXPECT_EQ(ParseError(json), "ventilator.pid: not an integer");
  EXPECT_EQ(ParseError(R"({"ventilator":{},"workers":[]})"), "ventilator.host: missing");
  EXPECT_EQ(ParseError(R"({"ventilator":{"host":1},"workers":[]})"), "ventilator.host: not a string");
}

TEST(StatusJsonParseTest, NamesAMissingSection) {
  EXPECT_EQ(ParseError(R"({"workers":[]})"), "ventilator: missing or not an object");
  EXPECT_EQ(ParseError(R"({"ventilator":[],"workers":[]})"), "ventilator: missing or not an object");
  std::string json = kGood;
  json.replace(json.find("\"workers\""), std::string("\"workers\"").size(), "\"minions\"");
  EXPECT_EQ(ParseError(json), "workers: missing or not an array");
  json = kGood;
  json.replace(json.find("[{"), 1, "[7,");
  EXPECT_EQ(ParseError(json), "workers[0]: not an object");
}

TEST(StatusJsonParseTest, GarbageIsAClearErrorNotACrash) {
  EXPECT_THAT(ParseError(""), HasSubstr("not JSON"));
  EXPECT_THAT(ParseError("status"), HasSubstr("not JSON"));
  EXPECT_THAT(ParseError("status"), HasSubstr("\"status\""));
  EXPECT_THAT(ParseError(std::string("\x00\xff\x01{", 4)), HasSubstr("not JSON"));
  EXPECT_THAT(ParseError("[1,2,3]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseError("42"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseError(std::string(5000, '{')), HasSubstr("..."));
}

TEST(StatusJsonParseTest, EveryTruncationOfAGoodReplyIsAnError) {
  const std::string good = kGood;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseStatusJson(good.substr(0, n)).ok()) << n;
  }
}

TEST(StatusTableTest, HeaderSaysWhatTheClusterIsDoing) {
  const std::string table = FormatStatusTable(GoodReport());
  EXPECT_THAT(table, HasSubstr("ventilator  head-1 pid 4242, up 1h 02m, 2 live workers, 126,976 tx/s\n"));
  EXPECT_THAT(table, HasSubstr("batches     3 queued, 4 in flight, 1 re-dispatched, 0 overdue; "
                               "workers joined 3, lost 1\n"));
  EXPECT_THAT(table, HasSubstr("queue       12,345 waiting, 1,024 in flight  "
                               "(redis-list 127.0.0.1:6379 input=transactions_queue)\n"));
}

// A line per head node, from its /readyz: ready with what it does, not
// ready with why (which side refused a key, a queue that does not answer),
// no answer, or no endpoint; any but ready makes the report fail.
TEST(StatusTableTest, SaysWhetherTheBridgeAndTheSinkCanWork) {
  StatusReport report = GoodReport();
  report.head = {{"bridge", "http://head-1:9101/readyz", 200, "taking from redis-list 127.0.0.1:6379"},
                 {"sink", "http://head-1:9103/readyz", 200, "writing results to redis-list 127.0.0.1:6379"}};
  EXPECT_TRUE(report.ok());
  std::string table = FormatStatusTable(report);
  EXPECT_THAT(table, HasSubstr("lost 1\nbridge      ready: taking from redis-list 127.0.0.1:6379\n"
                               "sink        ready: writing results to redis-list 127.0.0.1:6379\nqueue  "));

  report.head[0] = {"bridge", "http://head-1:9101/readyz", 503,
                    "links: links down: the ventilator at tcp://head-1:5560 refused this host's CURVE key K"};
  report.head[1] = {"sink", "http://head-1:9103/readyz", 0, "Could not establish connection"};
  EXPECT_FALSE(report.ok());
  table = FormatStatusTable(report);
  EXPECT_THAT(table,
              HasSubstr("bridge      (!) not ready: links: links down: the ventilator at tcp://head-1:5560 "
                        "refused this host's CURVE key K\n"));
  EXPECT_THAT(table, HasSubstr("sink        (!) no answer at http://head-1:9103/readyz: Could not establish "
                               "connection\n"));
  EXPECT_THAT(
      report.HeadProblems(),
      ::testing::ElementsAre(HasSubstr("the bridge is not ready: links:"),
                             "the sink did not answer at http://head-1:9103/readyz: Could not establish "
                             "connection"));

  report.head = {{"bridge", "", 0, ""}};
  EXPECT_TRUE(report.ok()) << "metrics off: nothing to ask";
  EXPECT_THAT(FormatStatusTable(report),
              HasSubstr("bridge      no health endpoint (metrics.bridge_port is 0)\n"));
}

TEST(StatusJsonOutputTest, CarriesTheHeadNodesHealth) {
  StatusReport report = GoodReport();
  report.head = {{"bridge", "http://head-1:9101/readyz", 200, "taking"},
                 {"sink", "http://head-1:9103/readyz", 503, "queue: unavailable"},
                 {"bridge", "http://head-2:9101/readyz", 0, "timeout"}};
  const std::string json = FormatStatusJson(report);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::array head = doc["head"];
  ASSERT_EQ(head.size(), 3u);
  EXPECT_TRUE(bool(head.at(0)["ready"]));
  EXPECT_FALSE(bool(head.at(1)["ready"]));
  EXPECT_TRUE(head.at(2)["ready"].is_null());
  EXPECT_EQ(std::string_view(head.at(1)["reason"]), "queue: unavailable");
  EXPECT_EQ(std::string_view(head.at(2)["url"]), "http://head-2:9101/readyz");
  EXPECT_EQ(simdjson::dom::array(doc["errors"]).size(), 2u);
}

TEST(StatusHeadHostTest, AsksTheMetricsAddressOrElseTheVentilatorsHost) {
  Topology t;
  t.metrics.address = "0.0.0.0";
  t.ventilator.status.connect = "tcp://head-1.example:5561";
  EXPECT_EQ(HeadMetricsHost(t), "head-1.example");
  t.metrics.address = "10.0.0.5";
  EXPECT_EQ(HeadMetricsHost(t), "10.0.0.5");
  t.metrics.address = "::";
  t.ventilator.status.connect = "ipc:///run/scorepipe/status.ipc";
  EXPECT_EQ(HeadMetricsHost(t), "127.0.0.1");
}

TEST(StatusTableTest, OneAlignedRowPerWorker) {
  const std::string table = FormatStatusTable(GoodReport());
  const std::string rows = table.substr(table.find("WORKER"));
  EXPECT_EQ(
      rows,
      "WORKER             HOST      PID  STATE     MODEL        HEARTBEAT  IN FLIGHT  SCORED TX    TX/S\n"
      "head-1-worker-1    head-1   4250  active    fraud v3    120 ms ago          2     25,600  63,488\n"
      "gpu-box-worker-17  gpu-box    77  draining  -         1,540 ms ago          1  1,234,567       0\n");
}

StatusReport WithGateways(StatusReport report) {
  GatewaySnapshot a;
  a.id = "gw-a";
  a.host = "edge-1";
  a.pid = 501;
  a.links = 2;
  a.last_heartbeat_ms = 310;
  a.in_flight_batches = 3;
  a.batches_answered = 120456;
  GatewaySnapshot b;
  b.id = "gw-b";
  b.host = "edge-22";
  b.pid = 77;
  b.links = 16;
  b.last_heartbeat_ms = 1200;
  report.snapshot->gateways = {a, b};
  return report;
}

TEST(StatusTableTest, OneAlignedRowPerGatewayAfterTheWorkers) {
  const std::string table = FormatStatusTable(WithGateways(GoodReport()));
  ASSERT_NE(table.find("GATEWAY"), std::string::npos) << table;
  EXPECT_LT(table.find("gpu-box-worker-17"), table.find("GATEWAY"));
  EXPECT_EQ(table.substr(table.find("GATEWAY")),
            "GATEWAY  HOST     PID  LINKS     HEARTBEAT  IN FLIGHT  ANSWERED\n"
            "gw-a     edge-1   501      2    310 ms ago          3   120,456\n"
            "gw-b     edge-22   77     16  1,200 ms ago          0         0\n");
  EXPECT_THAT(table, HasSubstr("0\n\nGATEWAY")) << "a blank line after the workers";
}

TEST(StatusTableTest, NoGatewayNoGatewayRows) {
  EXPECT_THAT(FormatStatusTable(GoodReport()), Not(HasSubstr("GATEWAY")));
}

TEST(StatusTableTest, GatewaysAreShownWithoutWorkersToo) {
  StatusReport report = WithGateways(GoodReport());
  report.snapshot->workers.clear();
  const std::string table = FormatStatusTable(report);
  EXPECT_THAT(table, HasSubstr("no workers connected\n\nGATEWAY"));
  EXPECT_THAT(table, HasSubstr("gw-b     edge-22"));
}

TEST(StatusTableTest, ShowsTheVersionInShadowBesideTheLiveOne) {
  StatusReport report = GoodReport();
  report.snapshot->workers[0].shadow_version = "v4";
  EXPECT_THAT(FormatStatusTable(report), HasSubstr("fraud v3 +shadow v4 "));
}

TEST(StatusTableTest, SaysWhichWorkerKeptItsVersionAndWhy) {
  StatusReport report = GoodReport();
  report.snapshot->workers[0].model_error = "version v4: model.json: not an XGBoost model";
  const std::string table = FormatStatusTable(report);
  EXPECT_THAT(table, HasSubstr("fraud v3 (!)"));
  EXPECT_THAT(table, HasSubstr("(!) head-1-worker-1 keeps v3: the live version did not load: version v4: "
                               "model.json: not an XGBoost model\n"));
}

TEST(StatusTableTest, ShowsControlCharactersAsQuestionMarks) {
  StatusReport report = GoodReport();
  report.snapshot->workers[0].id = "evil\x1b[2Jworker";
  report.snapshot->ventilator.host = "head\r";
  const std::string table = FormatStatusTable(report);
  EXPECT_THAT(table, HasSubstr("evil?[2Jworker"));
  EXPECT_THAT(table, HasSubstr("ventilator  head? pid"));
  EXPECT_THAT(table, Not(HasSubstr("\x1b")));
}

TEST(StatusTableTest, SaysWhenNoWorkerIsConnected) {
  StatusReport report = GoodReport();
  report.snapshot->workers.clear();
  report.snapshot->ventilator.live_workers = 1;
  const std::string table = FormatStatusTable(report);
  EXPECT_THAT(table, HasSubstr("1 live worker, "));
  EXPECT_THAT(table, HasSubstr("no workers connected\n"));
  EXPECT_THAT(table, Not(HasSubstr("WORKER")));
}

TEST(StatusTableTest, ShowsTheQueueWhenTheVentilatorDidNotAnswer) {
  StatusReport report = GoodReport();
  report.snapshot.reset();
  report.ventilator_error = "the ventilator at tcp://head-1:5561 did not answer within 2000 ms";
  EXPECT_EQ(
      FormatStatusTable(report),
      "ventilator  the ventilator at tcp://head-1:5561 did not answer within 2000 ms\n"
      "queue       12,345 waiting, 1,024 in flight  (redis-list 127.0.0.1:6379 input=transactions_queue)\n");
}

TEST(StatusTableTest, ShowsTheWorkersWhenTheQueueIsUnreachable) {
  StatusReport report = GoodReport();
  report.depth.reset();
  report.queue_error = "measuring transactions_queue: connection refused";
  const std::string table = FormatStatusTable(report);
  EXPECT_THAT(
      table,
      HasSubstr("queue       unreachable: measuring transactions_queue: connection refused  (redis-list"));
  EXPECT_THAT(table, HasSubstr("gpu-box-worker-17"));
  EXPECT_FALSE(report.ok());
}

// http-mq's service has no length to ask: its Depth says -1 waiting.
TEST(StatusTableTest, AWaitingCountTheQueueCannotTellIsUnknown) {
  StatusReport report = GoodReport();
  report.depth->waiting = -1;
  report.queue_description = "http-mq http://127.0.0.1:8003 input=transactions_queue";
  EXPECT_THAT(FormatStatusTable(report),
              HasSubstr("queue       unknown waiting, 1,024 in flight  (http-mq http://127.0.0.1:8003"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = FormatStatusJson(report);
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_TRUE(doc["queue"]["waiting"].is_null());
  EXPECT_EQ(int64_t(doc["queue"]["in_flight"]), 1024);
}

TEST(StatusTableTest, FormatsUptimeAndCounts) {
  StatusReport report = GoodReport();
  for (const auto& [seconds, text] : std::vector<std::pair<double, std::string>>{
           {0.4, "up 0s,"}, {59.9, "up 59s,"}, {61, "up 1m 01s,"}, {90061, "up 1d 01h,"}}) {
    report.snapshot->ventilator.uptime_s = seconds;
    EXPECT_THAT(FormatStatusTable(report), HasSubstr(text));
  }
}

TEST(StatusJsonOutputTest, CarriesTheSnapshotAndTheQueue) {
  const std::string json = FormatStatusJson(GoodReport());
  // The ventilator's half reads back as it came.
  Result<StatusSnapshot> again = ParseStatusJson(json);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->workers.size(), 2u);
  EXPECT_EQ(again->workers[1].transactions_scored, 1234567);
  EXPECT_EQ(again->ventilator.host, "head-1");

  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(int64_t(doc["queue"]["waiting"]), 12345);
  EXPECT_EQ(int64_t(doc["queue"]["in_flight"]), 1024);
  EXPECT_EQ(std::string_view(doc["queue"]["description"]),
            "redis-list 127.0.0.1:6379 input=transactions_queue");
  EXPECT_EQ(simdjson::dom::array(doc["errors"]).size(), 0u);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(StatusJsonOutputTest, CarriesTheGateways) {
  const std::string json = FormatStatusJson(WithGateways(GoodReport()));
  Result<StatusSnapshot> again = ParseStatusJson(json);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->gateways.size(), 2u);
  EXPECT_EQ(again->gateways[0].batches_answered, 120456);
  EXPECT_EQ(again->gateways[1].links, 16);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string_view(doc["gateways"].at(1)["host"]), "edge-22");
}

TEST(StatusJsonOutputTest, NullForWhatDidNotAnswerAndTheReasons) {
  StatusReport report = GoodReport();
  report.snapshot.reset();
  report.ventilator_error = "the ventilator at x did not answer \xe2\x80\x94 is it running?";
  report.depth.reset();
  report.queue_error = "connection \"refused\"";
  const std::string json = FormatStatusJson(report);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_TRUE(doc["ventilator"].is_null());
  EXPECT_EQ(simdjson::dom::array(doc["workers"]).size(), 0u);
  EXPECT_EQ(simdjson::dom::array(doc["gateways"]).size(), 0u);
  EXPECT_TRUE(doc["queue"]["waiting"].is_null());
  EXPECT_TRUE(doc["queue"]["in_flight"].is_null());
  simdjson::dom::array errors = doc["errors"];
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(std::string_view(errors.at(0)), report.ventilator_error);
  EXPECT_EQ(std::string_view(errors.at(1)), report.queue_error);
}

}  // namespace
}  // namespace scorepipe
