// The scorepipe-sink program, spoken to on its results and status endpoints:
// a run begun on its status endpoint gathers the evaluation batches pushed to
// its results endpoint and answers with their figures, writing nothing to the
// queue; a request that does not decode is answered with an error; regular
// batches still settle; a shadow append that fails loses the shadow entries,
// never the results. The real program, over CURVE, on a private Redis.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "proto/codec.h"
#include "proto/evaluation_codec.h"
#include "queue/queue.h"
#include "runtime/node.h"
#include "scoring/evaluation.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/wait.h"

namespace scorepipe {
namespace {

using std::chrono::milliseconds;
using testing::ClusterHarness;
using testing::WaitUntil;

constexpr milliseconds kPatience{20000};  // generous: the machine may be loaded

// Rows of the run: scores and labels, row i at index i.
const std::vector<double> kScores = {0.9, 0.2, 0.7, 0.4};
const std::vector<float> kLabels = {1, 0, 1, 1};

// A batch of run `run` with rows [first, first + count).
ResultBatch EvaluationBatch(uint64_t run, uint64_t first, size_t count) {
  ResultBatch batch;
  batch.batch_id = 500 + first;
  batch.worker_id = "w1";
  batch.model_name = "fraud";
  batch.model_version = "v1";
  batch.evaluation.run = run;
  batch.evaluation.first_row = first;
  for (size_t row = first; row < first + count; ++row) {
    const double p = kScores[row];
    batch.results.push_back({static_cast<int64_t>(row + 1), p, p >= 0.5, std::max(p, 1 - p), "", ""});
    batch.evaluation.labels.push_back(kLabels[row]);
  }
  return batch;
}

EvaluationRequest Request(EvaluationRequest::Kind kind, uint64_t run, uint64_t rows = 0) {
  EvaluationRequest request;
  request.kind = kind;
  request.run = run;
  request.rows = rows;
  return request;
}

class SinkProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = ClusterHarness::Create(0);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = std::move(cluster.value());
    Result<ChildProcess> sink = cluster_->StartRole("sink", {}, "sink");
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    sink_.emplace(std::move(sink.value()));
    Result<LinkSecurity> security = cluster_->security();
    ASSERT_TRUE(security.ok()) << security.status().message();
    security_.emplace(std::move(security.value()));
    results_.set(zmq::sockopt::linger, 0);
    ASSERT_TRUE(security_->Client(results_).ok());
    ASSERT_TRUE(ConnectSocket(results_, cluster_->topology().sink.results.connect).ok());
  }

  void TearDown() override {
    if (!sink_) return;
    sink_->Stop(kPatience);
    EXPECT_EQ(sink_->exit_code(), 0) << cluster_->LogTail("sink");
  }

  // Sends `frames` as one request on a fresh REQ to the sink's status
  // endpoint; its reply.
  Result<EvaluationReply> AskRaw(const std::vector<std::string>& frames) {
    zmq::socket_t request(context_, zmq::socket_type::req);
    request.set(zmq::sockopt::linger, 0);
    request.set(zmq::sockopt::rcvtimeo, static_cast<int>(kPatience.count()));
    if (Status s = security_->Client(request); !s.ok()) return s;
    if (Status s = ConnectSocket(request, cluster_->topology().sink.status.connect); !s.ok()) return s;
    for (size_t i = 0; i < frames.size(); ++i) {
      request.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    zmq::message_t reply;
    if (!request.recv(reply)) return Status::Error("no reply in time\n" + cluster_->LogTail("sink"));
    return DecodeEvaluationReply(std::string_view(static_cast<const char*>(reply.data()), reply.size()));
  }

  EvaluationReply Ask(const EvaluationRequest& request) {
    Result<EvaluationReply> reply = AskRaw({Encode(request)});
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    return reply.ok() ? reply.value() : EvaluationReply{};
  }

  void Push(const ResultBatch& batch) {
    const std::string encoded = Encode(batch);
    results_.send(zmq::buffer(encoded));
  }

  // The sink's sample `sample` once it equals `expected` (or the last one).
  double WaitForMetric(const std::string& sample, double expected) {
    double value = -1;
    WaitUntil(
        [&] {
          Result<std::string> scraped =
              testing::ScrapeMetrics("127.0.0.1", cluster_->topology().metrics.sink_port);
          value = scraped.ok() ? testing::SampleValue(scraped.value(), sample).value_or(-1) : -1;
          return value == expected;
        },
        kPatience, milliseconds(50));
    return value;
  }

  // Queries `run` until every row is answered; the last reply.
  EvaluationReply WaitForCompletion(uint64_t run) {
    EvaluationReply reply;
    const bool complete = WaitUntil(
        [&] {
          reply = Ask(Request(EvaluationRequest::Kind::kQuery, run));
          return !reply.error.empty() || (reply.rows > 0 && reply.scored + reply.failed == reply.rows);
        },
        kPatience, milliseconds(50));
    EXPECT_TRUE(complete) << "scored " << reply.scored << " of " << reply.rows << "\n"
                          << cluster_->LogTail("sink");
    return reply;
  }

  std::unique_ptr<ClusterHarness> cluster_;
  std::optional<ChildProcess> sink_;
  std::optional<LinkSecurity> security_;
  zmq::context_t context_;
  zmq::socket_t results_{context_, zmq::socket_type::push};
};

TEST_F(SinkProgramTest, ARunGathersItsBatchesAndWritesNothingToTheQueue) {
  EvaluationReply begun = Ask(Request(EvaluationRequest::Kind::kBegin, 42, 4));
  ASSERT_EQ(begun.error, "");
  EXPECT_EQ(begun.rows, 4u);
  Push(EvaluationBatch(42, 2, 2));
  Push(EvaluationBatch(42, 0, 2));
  Push(EvaluationBatch(42, 2, 2));  // a re-dispatched batch's second copy
  EvaluationReply reply = WaitForCompletion(42);
  ASSERT_EQ(reply.error, "");
  EXPECT_EQ(reply.scored, 4u);
  EXPECT_EQ(reply.models, (std::vector<ModelRows>{{"fraud", "v1", 4}}));
  ASSERT_TRUE(reply.evaluation.has_value()) << reply.evaluation_error;
  EXPECT_EQ(*reply.evaluation, Evaluate(kScores, kLabels).value());
  EXPECT_EQ(cluster_->Outputs(), 0);
  EXPECT_EQ(cluster_->Length(cluster_->topology().queue.shadow), 0);
  EXPECT_EQ(WaitForMetric("scorepipe_sink_evaluation_rows_total{outcome=\"scored\"}", 4), 4);
  EXPECT_EQ(WaitForMetric("scorepipe_sink_evaluation_rows_total{outcome=\"duplicate\"}", 2), 2);
  EXPECT_EQ(WaitForMetric("scorepipe_sink_batches_total", 0), 0) << "nothing settled";

  EXPECT_EQ(Ask(Request(EvaluationRequest::Kind::kEnd, 42)).run, 42u);
  EXPECT_NE(Ask(Request(EvaluationRequest::Kind::kQuery, 42)).error.find("is not held by this sink"),
            std::string::npos);
}

TEST_F(SinkProgramTest, ARequestThatDoesNotDecodeIsAnsweredWithAnError) {
  Result<EvaluationReply> reply = AskRaw({"not a request"});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply->error.rfind("the request did not decode: ", 0), 0u) << reply->error;
  EXPECT_NE(Ask(Request(EvaluationRequest::Kind::kQuery, 9)).error, "") << "still answering";
}

TEST_F(SinkProgramTest, ARequestOfSeveralFramesIsAnsweredWithAnError) {
  const std::string begin = Encode(Request(EvaluationRequest::Kind::kBegin, 5, 1));
  Result<EvaluationReply> reply = AskRaw({begin, begin});
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply->error, "a request is one frame; this one had more");
  EXPECT_NE(Ask(Request(EvaluationRequest::Kind::kQuery, 5)).error, "") << "the run was not begun";
}

TEST_F(SinkProgramTest, RegularBatchesStillSettleBesideARun) {
  Result<std::unique_ptr<Queue>> queue = OpenQueue(cluster_->topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  ASSERT_TRUE(queue.value()->Push({"{\"id\":7}"}).ok());
  Lease lease;
  ASSERT_TRUE(queue.value()->Take(1, 0, &lease).ok());
  ASSERT_EQ(lease.messages.size(), 1u);
  ASSERT_EQ(Ask(Request(EvaluationRequest::Kind::kBegin, 3, 1)).error, "");

  ResultBatch regular;
  regular.batch_id = 1;
  regular.lease = lease.id;
  regular.worker_id = "w1";
  regular.model_version = "v1";
  regular.results.push_back({7, 0.2, 0, 0.8, "", ""});
  Push(regular);
  Push(EvaluationBatch(3, 0, 1));
  Push(EvaluationBatch(77, 0, 1));  // no such run: refused

  EXPECT_EQ(WaitForCompletion(3).scored, 1u);
  ASSERT_TRUE(WaitUntil([&] { return cluster_->Outputs() >= 1; }, kPatience)) << cluster_->LogTail("sink");
  std::vector<std::string> written = cluster_->Entries(cluster_->topology().queue.output);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_NE(written[0].find("\"transaction_id\":7"), std::string::npos) << written[0];
  EXPECT_EQ(cluster_->Length(cluster_->topology().queue.dead_letter), 0);
  EXPECT_EQ(WaitForMetric("scorepipe_sink_frames_refused_total", 1), 1) << cluster_->LogTail("sink");
  EXPECT_NE(cluster_->ReadLog("sink").find("refusing an evaluation batch from w1: batch 500 of run 77"),
            std::string::npos)
      << cluster_->LogTail("sink");
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

TEST_F(SinkProgramTest, AFailedShadowAppendLosesTheShadowEntriesNeverTheResults) {
  Result<std::unique_ptr<Queue>> queue = OpenQueue(cluster_->topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  const std::string shadow_queue = cluster_->topology().queue.shadow;
  // queue.shadow is a string, not a list: every append to it fails (WRONGTYPE).
  ASSERT_TRUE(cluster_->redis().Command({"SET", shadow_queue, "not a list"}).ok());
  auto leased_batch = [&](int64_t id) {
    EXPECT_TRUE(queue.value()->Push({"{\"id\":" + std::to_string(id) + "}"}).ok());
    Lease lease;
    EXPECT_TRUE(queue.value()->Take(1, 0, &lease).ok());
    ResultBatch batch;
    batch.batch_id = static_cast<uint64_t>(id);
    batch.lease = lease.id;
    batch.worker_id = "w1";
    batch.model_name = "fraud";
    batch.model_version = "v1";
    batch.results.push_back({id, 0.2, 0, 0.8, "", ""});
    batch.shadow_version = "v2";
    batch.shadow_results.push_back({id, 0.7, 1, 0.7, "", ""});
    return batch;
  };

  Push(leased_batch(7));
  ASSERT_TRUE(WaitUntil([&] { return cluster_->Outputs() >= 1; }, kPatience)) << cluster_->LogTail("sink");
  EXPECT_EQ(WaitForMetric("scorepipe_sink_shadow_entries_lost_total", 1), 1) << cluster_->LogTail("sink");
  EXPECT_NE(cluster_->ReadLog("sink").find("dropping 1 shadow entries for " + shadow_queue),
            std::string::npos)
      << cluster_->LogTail("sink");

  // Once queue.shadow takes appends again, the next batch's entry lands.
  ASSERT_TRUE(cluster_->redis().Command({"DEL", shadow_queue}).ok());
  Push(leased_batch(8));
  EXPECT_EQ(WaitForMetric("scorepipe_sink_shadow_entries_total", 1), 1) << cluster_->LogTail("sink");
  std::vector<std::string> entries = cluster_->Entries(shadow_queue);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].find("\"transaction_id\":8"), std::string::npos) << entries[0];
  EXPECT_EQ(cluster_->Outputs(), 2);  // both results, the one whose shadow entry was lost too
  EXPECT_EQ(cluster_->Length(cluster_->topology().queue.dead_letter), 0);
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

// A result batch answering positions [begin, end) of a lease of `size`:
// results with ids 1 + position, a reject at each position in `rejects`.
ResultBatch PartOf(const std::string& lease, uint32_t begin, uint32_t end, uint32_t size,
                   const std::vector<uint32_t>& rejects) {
  ResultBatch part;
  part.batch_id = 900 + begin;
  part.lease = lease;
  part.worker_id = "w1";
  part.model_version = "v1";
  part.part = LeasePart{begin, end, size};
  for (uint32_t p = begin; p < end; ++p) {
    if (std::find(rejects.begin(), rejects.end(), p) != rejects.end()) {
      part.rejects.push_back(Reject{p, "{\"reason\":\"bad " + std::to_string(p) + "\"}"});
    } else {
      part.results.push_back({static_cast<int64_t>(p + 1), 0.2, 0, 0.8, "", ""});
    }
  }
  return part;
}

TEST_F(SinkProgramTest, ASplitLeaseSettlesOnceWhenEveryPartHasAnsweredInLeaseOrder) {
  Result<std::unique_ptr<Queue>> queue = OpenQueue(cluster_->topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  ASSERT_TRUE(queue.value()->Push({"m0", "m1", "m2", "m3", "m4", "m5"}).ok());
  Lease lease;
  ASSERT_TRUE(queue.value()->Take(6, 0, &lease).ok());
  ASSERT_EQ(lease.messages.size(), 6u);

  Push(PartOf(lease.id, 3, 6, 6, {4}));
  Push(PartOf(lease.id, 3, 6, 6, {4}));  // a re-dispatched part's second copy
  EXPECT_EQ(WaitForMetric("scorepipe_sink_duplicates_total", 3), 3) << cluster_->LogTail("sink");
  EXPECT_EQ(cluster_->Outputs(), 0) << "half a lease settles nothing";
  Push(PartOf(lease.id, 0, 3, 6, {}));
  ASSERT_TRUE(WaitUntil([&] { return cluster_->Outputs() >= 6; }, kPatience)) << cluster_->LogTail("sink");
  const std::vector<std::string> results = cluster_->Entries(cluster_->topology().queue.output);
  ASSERT_EQ(results.size(), 5u);
  const int expected_ids[] = {1, 2, 3, 4, 6};
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_NE(results[i].find("\"transaction_id\":" + std::to_string(expected_ids[i]) + ","),
              std::string::npos)
        << results[i];
  }
  EXPECT_EQ(cluster_->Entries(cluster_->topology().queue.dead_letter),
            std::vector<std::string>{"{\"reason\":\"bad 4\"}"});
  Result<QueueDepth> depth = queue.value()->Depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->in_flight, 0);
  EXPECT_EQ(WaitForMetric("scorepipe_sink_batches_total", 1), 1);
}

}  // namespace
}  // namespace scorepipe

namespace scorepipe {
namespace {

// On the upstream's HTTP service, a result that it refuses (400 for that
// message) is dead-lettered with the service's reason and the lease's other
// outcomes are written: one unwritable result never holds the rest.
TEST(SinkProgramHttpMqTest, AResultTheServiceRefusesIsDeadLetteredAndTheRestWritten) {
  testing::ClusterOptions options;
  options.workers = 0;
  options.queue_kind = QueueKind::kHttpMq;
  auto created = ClusterHarness::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& cluster = *created.value();
  Result<ChildProcess> sink = cluster.StartRole("sink", {}, "sink");
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  Result<LinkSecurity> security = cluster.security();
  ASSERT_TRUE(security.ok()) << security.status().message();
  zmq::context_t context;
  zmq::socket_t results(context, zmq::socket_type::push);
  results.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(security->Client(results).ok());
  ASSERT_TRUE(ConnectSocket(results, cluster.topology().sink.results.connect).ok());

  Result<std::unique_ptr<Queue>> queue = OpenQueue(cluster.topology().queue);
  ASSERT_TRUE(queue.ok()) << queue.status().message();
  const std::string tx =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1})";
  cluster.stand_in().Seed(cluster.topology().queue.input, {tx, tx, tx});
  Lease lease;
  ASSERT_TRUE(queue.value()->Take(3, 1000, &lease).ok());
  ASSERT_EQ(lease.messages.size(), 3u);
  ResultBatch batch;
  batch.batch_id = 1;
  batch.lease = lease.id;
  batch.worker_id = "w1";
  batch.model_version = "v1";
  batch.scored_at_us = NowUnixMicros();
  batch.results = {{1, 0.2, 0, 0.8, "", ""},
                   {0, 0.3, 0, 0.7, "", ""},
                   {3, 0.9, 1, 0.9, "", ""}};  // id 0: the service refuses it
  const std::string encoded = Encode(batch);
  results.send(zmq::buffer(encoded));

  std::vector<std::string> written;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (std::string& m : cluster.stand_in().Drain(cluster.topology().queue.output)) written.push_back(m);
        return written.size() >= 2;
      },
      kPatience))
      << cluster.LogTail("sink");
  ASSERT_EQ(written.size(), 2u);
  EXPECT_NE(written[0].find("\"transaction_id\":1,"), std::string::npos) << written[0];
  EXPECT_NE(written[1].find("\"transaction_id\":3,"), std::string::npos) << written[1];
  // The dead letters are written as the lease ends, right after the results.
  Result<std::vector<std::string>> dead = std::vector<std::string>{};
  ASSERT_TRUE(WaitUntil(
      [&] {
        dead = queue.value()->Peek(cluster.topology().queue.dead_letter, 10);
        return dead.ok() && !dead->empty();
      },
      kPatience))
      << cluster.LogTail("sink");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_NE(dead->front().find("the queue refused the result"), std::string::npos) << dead->front();
  EXPECT_NE(dead->front().find("transaction_id\\\":0"), std::string::npos) << dead->front();
  sink->Stop(kPatience);
  EXPECT_EQ(sink->exit_code(), 0) << cluster.LogTail("sink");
}

}  // namespace
}  // namespace scorepipe
