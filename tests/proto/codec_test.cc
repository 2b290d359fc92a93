#include "proto/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <msgpack.hpp>
#include <random>
#include <string>
#include <vector>

#include "proto/archive_record.h"
#include "proto/evaluation_codec.h"
#include "tests/proto/codec_test_util.h"

namespace scorepipe {
namespace {

using testing::Decode;
using testing::ExpectRoundTrip;
using testing::Frame;
using testing::Packer;
using testing::PackStr;
using testing::SampleEvaluationReply;
using testing::SampleEvaluationRequest;

TransactionBatch SampleTransactionBatch() {
  TransactionBatch batch;
  batch.batch_id = 42;
  batch.created_at_us = 1'767'268'800'123'456;
  batch.lease = "17";
  batch.transactions.push_back({1, 2, 3, 100, "2023-01-01T12:00:00Z", 1672574400.0, "accepted", ""});
  batch.transactions.push_back({4, 5, 6, 12.75, "2023-01-01T12:00:00.5+01:00", 1672570800.5, "pending", ""});
  batch.rejects.push_back({1, "{\"reason\":\"bad\"}"});
  return batch;
}

ResultBatch SampleResultBatch() {
  ResultBatch batch;
  batch.batch_id = 42;
  batch.lease = "1700000000000-0 1700000000000-1 1700000000001-0";
  batch.worker_id = "worker-1";
  batch.model_version = "xgb-2026-01-01";
  batch.scored_at_us = 1'767'268'800'500'000;
  batch.results.push_back({1, 0.05, 0, 0.95, "", ""});
  batch.results.push_back({4, 0.0, 0, 0.0, "model rejected the features", ""});
  batch.rejects.push_back({2, "{\"reason\":\"bad\"}"});
  batch.created_at_us = 1'767'268'800'400'000;
  batch.model_name = "fraud";
  batch.shadow_version = "v3";
  batch.shadow_results.push_back({1, 0.25, 0, 0.75, "", ""});
  batch.shadow_results.push_back({4, 0.0, 0, 0.0, "model rejected the features", ""});
  return batch;
}

Heartbeat SampleHeartbeat() {
  Heartbeat heartbeat;
  heartbeat.sender = "worker-1";
  heartbeat.host = "node-a";
  heartbeat.pid = 4242;
  heartbeat.session = 0xfeedfacecafebeefull;
  heartbeat.sequence = 7;
  heartbeat.batches_held = 2;
  heartbeat.batches_scored = 100;
  heartbeat.transactions_scored = 51'200;
  heartbeat.sent_at_us = 1'767'268'800'000'000;
  heartbeat.known = false;
  heartbeat.model_name = "fraud";
  heartbeat.model_version = "v3";
  heartbeat.model_error = "v4: model.json: not an XGBoost model";
  heartbeat.shadow_version = "v5";
  heartbeat.link_error = "the sink: refused this host's CURVE key";
  return heartbeat;
}

WorkerReady SampleWorkerReady() {
  WorkerReady ready;
  ready.worker_id = "worker-1";
  ready.host = "node-a";
  ready.pid = 4242;
  ready.session = 99;
  ready.credit = 2;
  ready.state = WorkerState::kDraining;
  return ready;
}

BatchDone SampleBatchDone() { return BatchDone{0x1234567800000001ull, 99, {}}; }

EvaluationRows SampleEvaluationRows() { return EvaluationRows{0xfeedull << 40, 1'000'512, {1.0f, 0.0f}}; }

TransactionBatch SampleEvaluationBatch() {
  TransactionBatch batch = SampleTransactionBatch();
  batch.lease.clear();
  batch.rejects.clear();
  batch.evaluation = SampleEvaluationRows();
  return batch;
}

ResultBatch SampleEvaluationResultBatch() {
  ResultBatch batch = SampleResultBatch();
  batch.evaluation = SampleEvaluationRows();
  return batch;
}

// One valid frame of each kind.
// An online batch of transactions, as a gateway sends it.
TransactionBatch SampleOnlineBatch() {
  TransactionBatch batch = SampleTransactionBatch();
  batch.rejects.clear();
  batch.online = true;
  batch.lease = "g1:42";
  return batch;
}

// An online batch of three feature rows of width 4 (a KServe v2 tensor).
TransactionBatch SampleFeatureBatch() {
  TransactionBatch batch;
  batch.batch_id = 77;
  batch.created_at_us = 1700000000000000;
  batch.lease = "g1:43";
  batch.online = true;
  batch.feature_width = 4;
  batch.features = {1.5f, -2.0f, 0.0f, 3.25e9f, 7.0f, 1e-30f, -0.0f, 12.0f, 0.5f, 0.25f, 100.0f, -1.0f};
  return batch;
}

HeadStatus SampleHeadStatus() { return HeadStatus{0x1234567890ull, 3, 1, "fraud", {"v1", "v2"}}; }

std::vector<std::string> ValidFrames() {
  return {Encode(SampleTransactionBatch()),  Encode(SampleOnlineBatch()),
          Encode(SampleFeatureBatch()),      Encode(SampleHeadStatus()),
          Encode(SampleResultBatch()),       Encode(SampleHeartbeat()),
          Encode(SampleWorkerReady()),       Encode(SampleBatchDone()),
          Encode(SampleEvaluationBatch()),   Encode(SampleEvaluationResultBatch()),
          Encode(SampleEvaluationRequest()), Encode(SampleEvaluationReply())};
}

// Succeeds when `text` contains `part`, printing `text` when it does not.
::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

// A transaction batch body holding one transaction whose fields are packed by `pack_fields`.
std::string BatchWithOneTransaction(const std::function<void(Packer&)>& pack_fields) {
  return Frame([&](Packer& p) {
    p.pack_array(5);
    p.pack_uint64(1);
    p.pack_int64(2);
    PackStr(p, "lease");
    p.pack_array(1);
    pack_fields(p);
    p.pack_array(0);
  });
}

// A result batch body holding `count` results, each packed by `pack_result(p, index)`.
std::string ResultBatchFrame(int count, const std::function<void(Packer&, int)>& pack_result) {
  return Frame(
      [&](Packer& p) {
        p.pack_array(7);
        p.pack_uint64(1);
        PackStr(p, "lease");
        PackStr(p, "w");
        PackStr(p, "m");
        p.pack_int64(0);
        p.pack_array(static_cast<uint32_t>(count));
        for (int i = 0; i < count; ++i) pack_result(p, i);
        p.pack_array(0);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kResultBatch));
}

// The fields of a ResultBatch from a worker that predates the shadow fields
// (9), packed after `fields` (9 or more); `extra` packs the ones after the ninth.
std::string ResultBatchFrameOf(uint32_t fields, const std::function<void(Packer&)>& extra) {
  return Frame(
      [&](Packer& p) {
        p.pack_array(fields);
        p.pack_uint64(1);
        PackStr(p, "lease");
        PackStr(p, "w");
        PackStr(p, "m");
        p.pack_int64(0);
        p.pack_array(0);
        p.pack_array(0);
        p.pack_int64(5);
        PackStr(p, "fraud");
        extra(p);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kResultBatch));
}

// Every decoder, as a function returning the error (empty when it decoded).
std::vector<std::function<Status(std::string_view)>> AllDecoders() {
  return {
      [](std::string_view f) { return DecodeTransactionBatch(f).status(); },
      [](std::string_view f) { return DecodeResultBatch(f).status(); },
      [](std::string_view f) { return DecodeHeartbeat(f).status(); },
      [](std::string_view f) { return DecodeWorkerReady(f).status(); },
      [](std::string_view f) { return DecodeBatchDone(f).status(); },
      [](std::string_view f) { return DecodeHeadStatus(f).status(); },
      [](std::string_view f) { return DecodeEvaluationRequest(f).status(); },
      [](std::string_view f) { return DecodeEvaluationReply(f).status(); },
      [](std::string_view f) { return DecodeArchiveRecord(f).status(); },
      [](std::string_view f) { return PeekKind(f).status(); },
  };
}

// The number of fields of the body of `frame` (an encoded batch).
uint32_t BodyFields(const std::string& frame) {
  const msgpack::object_handle handle = msgpack::unpack(frame.data(), frame.size());
  return handle.get().via.array.ptr[3].via.array.size;
}

// ---------------------------------------------------------------------------
// Round trips

TEST(CodecTest, TransactionBatchRoundTrips) { ExpectRoundTrip(SampleTransactionBatch()); }

TEST(CodecTest, TransactionsWithNonIntegerIdsAndVendorsRoundTrip) {
  TransactionBatch batch = SampleTransactionBatch();
  batch.transactions[0].id = 0;
  batch.transactions[0].id_text = "5005.50";
  batch.transactions[0].vendor_id = 3.75;
  batch.transactions[1].customer_id = 1e22;
  ExpectRoundTrip(batch);
  ResultBatch results = SampleResultBatch();
  results.results[0].transaction_id = 0;
  results.results[0].transaction_id_text = "1e3";
  results.shadow_results[0].transaction_id = 0;
  results.shadow_results[0].transaction_id_text = "1e3";
  ExpectRoundTrip(results);
}

// Size of the msgpack array of the batch's first transaction (or result).
uint32_t FirstItemFields(const std::string& frame) {
  const msgpack::object_handle handle = msgpack::unpack(frame.data(), frame.size());
  return handle.get().via.array.ptr[3].via.array.ptr[3].via.array.ptr[0].via.array.size;
}

TEST(CodecTest, AnIntegerIdTravelsAsBeforeAndAnIdTextAsAnEighthField) {
  TransactionBatch batch = SampleTransactionBatch();
  EXPECT_EQ(FirstItemFields(Encode(batch)), 7u);
  batch.transactions[0].id = 0;
  batch.transactions[0].id_text = "1.0";
  EXPECT_EQ(FirstItemFields(Encode(batch)), 8u);
}

TEST(CodecTest, AWholeVendorIdIsPackedAsAnIntegerForOlderNodes) {
  const std::string frame = BatchWithOneTransaction([](Packer& p) {
    p.pack_array(7);
    p.pack_int64(1);
    p.pack_int64(2);
    p.pack_int64(3);
    p.pack_double(100);
    PackStr(p, "2023-01-01T12:00:00Z");
    p.pack_double(1672574400.0);
    PackStr(p, "accepted");
  });
  Result<TransactionBatch> decoded = DecodeTransactionBatch(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->transactions[0].customer_id, 2.0);
  EXPECT_EQ(decoded->transactions[0].vendor_id, 3.0);
  EXPECT_TRUE(decoded->transactions[0].id_text.empty());
  TransactionBatch batch;
  batch.transactions.push_back(decoded->transactions[0]);
  const std::string again = Encode(batch);
  const msgpack::object_handle handle = msgpack::unpack(again.data(), again.size());
  const msgpack::object& t = handle.get().via.array.ptr[3].via.array.ptr[3].via.array.ptr[0];
  EXPECT_EQ(t.via.array.ptr[2].type, msgpack::type::POSITIVE_INTEGER);
}

TEST(CodecTest, EmptyTransactionBatchRoundTrips) {
  TransactionBatch batch;
  batch.batch_id = 9;
  ExpectRoundTrip(batch);
}

TEST(CodecTest, ResultBatchRoundTrips) { ExpectRoundTrip(SampleResultBatch()); }

TEST(CodecTest, EmptyResultBatchRoundTrips) { ExpectRoundTrip(ResultBatch()); }

TEST(CodecTest, AResultBatchFromAnOlderWorkerWithoutCreatedAtDecodes) {
  Result<ResultBatch> older = DecodeResultBatch(ResultBatchFrame(0, [](Packer&, int) {}));  // 7 fields
  ASSERT_TRUE(older.ok()) << older.status().message();
  EXPECT_EQ(older->created_at_us, 0);
  EXPECT_EQ(older->model_name, "");
  // One field more than the newest (the archive's fields end at 20).
  const std::string twenty_one = ResultBatchFrameOf(21, [](Packer& p) {
    PackStr(p, "v2");
    p.pack_array(0);
    p.pack_uint64(6);
    p.pack_uint64(0);
    p.pack_array(0);
    p.pack_uint32(0);
    p.pack_uint32(1);
    p.pack_uint32(1);
    p.pack_array(0);
    p.pack_uint32(0);
    p.pack_array(0);
    p.pack_int64(6);
  });
  Result<ResultBatch> too_many = DecodeResultBatch(twenty_one);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("7 to 20 fields, got 21"), std::string::npos)
      << too_many.status().message();
}

TEST(CodecTest, AResultBatchFromAWorkerWithoutShadowFieldsDecodes) {
  Result<ResultBatch> nine = DecodeResultBatch(ResultBatchFrameOf(9, [](Packer&) {}));
  ASSERT_TRUE(nine.ok()) << nine.status().message();
  EXPECT_EQ(nine->model_name, "fraud");
  EXPECT_EQ(nine->shadow_version, "");
  EXPECT_TRUE(nine->shadow_results.empty());
}

TEST(CodecTest, AResultBatchWithoutShadowResultsRoundTrips) {
  ResultBatch batch = SampleResultBatch();
  batch.shadow_version.clear();
  batch.shadow_results.clear();
  ExpectRoundTrip(batch);
}

TEST(CodecTest, ABadShadowResultIsRefusedWithItsField) {
  const std::string frame = ResultBatchFrameOf(11, [](Packer& p) {
    PackStr(p, "v2");
    p.pack_array(1);
    p.pack_int64(7);
  });
  Result<ResultBatch> decoded = DecodeResultBatch(frame);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("expected an array of 5 to 6 fields"), std::string::npos)
      << decoded.status().message();
}

TEST(CodecTest, HeartbeatRoundTrips) { ExpectRoundTrip(SampleHeartbeat()); }

TEST(CodecTest, AHeartbeatFromAnOlderWorkerWithoutTheModelDecodes) {
  const std::string older = Frame(
      [](Packer& p) {
        p.pack_array(10);
        PackStr(p, "worker-1");
        PackStr(p, "node-a");
        p.pack_int64(4242);
        p.pack_uint64(1);
        p.pack_uint64(2);
        p.pack_uint32(0);
        p.pack_uint64(3);
        p.pack_uint64(4);
        p.pack_int64(5);
        p.pack(true);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kHeartbeat));
  Result<Heartbeat> decoded = DecodeHeartbeat(older);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->transactions_scored, 4u);
  EXPECT_EQ(decoded->model_version, "");
  EXPECT_EQ(decoded->link_error, "");
}

TEST(CodecTest, AHeartbeatFromAWorkerWithoutTheLinkErrorDecodes) {
  Heartbeat fourteen = SampleHeartbeat();
  fourteen.link_error.clear();
  std::string frame = Encode(fourteen);
  Result<Heartbeat> current = DecodeHeartbeat(frame);
  ASSERT_TRUE(current.ok());
  // The same heartbeat as a worker before link_error sent it: 14 fields.
  const std::string older = Frame(
      [&](Packer& p) {
        p.pack_array(14);
        PackStr(p, fourteen.sender);
        PackStr(p, fourteen.host);
        p.pack_int64(fourteen.pid);
        p.pack_uint64(fourteen.session);
        p.pack_uint64(fourteen.sequence);
        p.pack_uint32(fourteen.batches_held);
        p.pack_uint64(fourteen.batches_scored);
        p.pack_uint64(fourteen.transactions_scored);
        p.pack_int64(fourteen.sent_at_us);
        p.pack(fourteen.known);
        PackStr(p, fourteen.model_name);
        PackStr(p, fourteen.model_version);
        PackStr(p, fourteen.model_error);
        PackStr(p, fourteen.shadow_version);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kHeartbeat));
  Result<Heartbeat> decoded = DecodeHeartbeat(older);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded.value(), current.value());
}

TEST(CodecTest, WorkerReadyRoundTripsInEveryState) {
  WorkerReady ready = SampleWorkerReady();
  for (WorkerState state :
       {WorkerState::kActive, WorkerState::kDraining, WorkerState::kLeaving, WorkerState::kBlocked}) {
    ready.state = state;
    ExpectRoundTrip(ready);
  }
}

TEST(CodecTest, BatchDoneRoundTrips) { ExpectRoundTrip(SampleBatchDone()); }

TEST(CodecTest, EvaluationBatchesRoundTrip) {
  ExpectRoundTrip(SampleEvaluationBatch());
  ExpectRoundTrip(SampleEvaluationResultBatch());
  Result<uint64_t> id = PeekBatchId(Encode(SampleEvaluationBatch()));
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 42u);
}

TEST(CodecTest, ARegularBatchLeavesTheEvaluationFieldsOutForOlderNodes) {
  EXPECT_EQ(BodyFields(Encode(SampleTransactionBatch())), 5u);
  EXPECT_EQ(BodyFields(Encode(SampleResultBatch())), 11u);
  EXPECT_EQ(BodyFields(Encode(SampleEvaluationBatch())), 8u);
  EXPECT_EQ(BodyFields(Encode(SampleEvaluationResultBatch())), 14u);
}

TEST(CodecTest, EvaluationRowsThatDoNotFitTheBatchAreRefused) {
  TransactionBatch batch = SampleEvaluationBatch();
  batch.evaluation.labels.pop_back();
  EXPECT_EQ(DecodeTransactionBatch(Encode(batch)).status().message(),
            "field 'labels': 1 labels for 2 transactions");
  ResultBatch results = SampleEvaluationResultBatch();
  results.evaluation.labels.push_back(1.0f);
  EXPECT_EQ(DecodeResultBatch(Encode(results)).status().message(), "field 'labels': 3 labels for 2 results");
}

// An evaluation batch frame of one transaction (none when `label` is
// negative) in run `run`, its label packed as the integer `label`.
std::string EvaluationBatchFrame(uint64_t run, int label) {
  return Frame([&](Packer& p) {
    p.pack_array(8);
    p.pack_uint64(1);
    p.pack_int64(2);
    PackStr(p, "");
    const bool one = label >= 0;
    p.pack_array(one ? 1 : 0);
    if (one) {
      p.pack_array(7);
      p.pack_int64(1);
      p.pack_int64(2);
      p.pack_int64(3);
      p.pack_double(1);
      PackStr(p, "2023-01-01T12:00:00Z");
      p.pack_double(1672574400.0);
      PackStr(p, "accepted");
    }
    p.pack_array(0);
    p.pack_uint64(run);
    p.pack_uint64(0);
    p.pack_array(one ? 1 : 0);
    if (one) p.pack_uint64(static_cast<uint64_t>(label));
  });
}

TEST(CodecTest, ALabelOtherThanZeroOrOneIsRefused) {
  for (int label : {-1, 0, 1}) {
    Result<TransactionBatch> fine = DecodeTransactionBatch(EvaluationBatchFrame(7, label));
    EXPECT_TRUE(fine.ok()) << fine.status().message();
  }
  EXPECT_EQ(DecodeTransactionBatch(EvaluationBatchFrame(0, 1)).status().message(),
            "field 'evaluation_run': 0 is not a run");
  EXPECT_EQ(DecodeTransactionBatch(EvaluationBatchFrame(7, 2)).status().message(),
            "field 'labels[0]': expected 0 or 1, got 2");
}

TEST(CodecTest, PeekBatchIdReadsOnlyTheId) {
  TransactionBatch batch = SampleTransactionBatch();
  batch.batch_id = 0xabcdef0123456789ull;
  Result<uint64_t> id = PeekBatchId(Encode(batch));
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 0xabcdef0123456789ull);
  EXPECT_EQ(PeekBatchId(Encode(SampleHeartbeat())).status().message(),
            "expected a TransactionBatch or a ResultBatch, got a Heartbeat");
  // Online batches and results too: the ventilator routes both by their id.
  EXPECT_EQ(*PeekBatchId(Encode(SampleFeatureBatch())), 77u);
  ResultBatch result = SampleResultBatch();
  result.batch_id = 0xfedcba9876543210ull;
  EXPECT_EQ(*PeekBatchId(Encode(result)), 0xfedcba9876543210ull);
  result.part = LeasePart{0, static_cast<uint32_t>(result.results.size() + result.rejects.size()), 90};
  EXPECT_EQ(*PeekBatchId(Encode(result)), 0xfedcba9876543210ull);
  const std::string encoded = Encode(batch);
  for (size_t cut = 0; cut < 16; ++cut) {
    EXPECT_FALSE(PeekBatchId(encoded.substr(0, cut)).ok()) << cut;
  }
}

TEST(CodecTest, UnknownWorkerStateIsRejected) {
  const std::string frame = Frame(
      [](Packer& p) {
        p.pack_array(6);
        PackStr(p, "w");
        PackStr(p, "h");
        p.pack_int64(1);
        p.pack_uint64(2);
        p.pack_uint32(3);
        p.pack_uint8(9);
      },
      "SCPW", kWireVersion, static_cast<uint64_t>(MessageKind::kWorkerReady));
  EXPECT_EQ(DecodeWorkerReady(frame).status().message(),
            "field 'state': expected a worker state (0..3), got 9");
}

TEST(CodecTest, UnicodeAndEmbeddedNulStringsRoundTrip) {
  Heartbeat heartbeat = SampleHeartbeat();
  heartbeat.sender = "вәркер-😀-工人";
  heartbeat.host = std::string("a\0b\n\"c\"", 7);
  ExpectRoundTrip(heartbeat);
  TransactionBatch batch = SampleTransactionBatch();
  batch.transactions[0].status = "ñ\xe2\x80\xa8";
  ExpectRoundTrip(batch);
}

TEST(CodecTest, ExtremeIntegersAndDoublesRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  TransactionBatch batch;
  batch.batch_id = std::numeric_limits<uint64_t>::max();
  batch.created_at_us = kMin;
  const std::vector<double> doubles = {0.0,
                                       0.1,
                                       1e300,
                                       -1e300,
                                       std::numeric_limits<double>::max(),
                                       std::numeric_limits<double>::lowest(),
                                       std::numeric_limits<double>::denorm_min(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       9007199254740993.0,
                                       18446744073709551616.0,
                                       -9223372036854775808.0};
  for (size_t i = 0; i < doubles.size(); ++i) {
    batch.transactions.push_back({i % 2 ? kMin : kMax, static_cast<double>(kMax), static_cast<double>(kMin),
                                  doubles[i], "", doubles[i], "", ""});
  }
  ExpectRoundTrip(batch);

  Heartbeat heartbeat;
  heartbeat.pid = kMin;
  heartbeat.sequence = std::numeric_limits<uint64_t>::max();
  heartbeat.sent_at_us = kMax;
  ExpectRoundTrip(heartbeat);

  ResultBatch results;
  results.results.push_back({kMin, 0, std::numeric_limits<int32_t>::min(), 1, "", ""});
  results.results.push_back({kMax, 1, std::numeric_limits<int32_t>::max(), 0, "", ""});
  ExpectRoundTrip(results);
}

TEST(CodecTest, NanSurvivesTheWire) {
  ResultBatch batch;
  batch.results.push_back({1, std::nan(""), 1, 0.5, "", ""});
  Result<ResultBatch> decoded = DecodeResultBatch(Encode(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_TRUE(std::isnan(decoded->results[0].fraud_probability));
}

// Every double a field can hold, packed and read back: random bit patterns
// and the edges of msgpack-c's whole-double-as-integer packing (2^63, 2^64
// and their neighbours, where a conversion to an integer would overflow).
// Each comes back with the same bits, except that -0 may come back as +0 (a
// whole double travels as an integer) and a NaN as some NaN.
TEST(CodecTest, EveryDoubleRoundTripsInEveryDoubleField) {
  std::vector<double> values;
  for (double edge :
       {9223372036854775808.0, -9223372036854775808.0, 18446744073709551616.0, -18446744073709551616.0,
        9007199254740992.0, 4294967296.0, 1e300, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
        std::numeric_limits<double>::infinity(), 0.0}) {
    for (double v : {edge, -edge}) {
      values.push_back(v);
      values.push_back(std::nextafter(v, std::numeric_limits<double>::infinity()));
      values.push_back(std::nextafter(v, -std::numeric_limits<double>::infinity()));
    }
  }
  std::mt19937_64 rng(20261207);
  for (int i = 0; i < 20000; ++i) values.push_back(std::bit_cast<double>(rng()));
  std::uniform_real_distribution<double> whole_range(-4e19, 4e19);
  for (int i = 0; i < 20000; ++i) values.push_back(std::trunc(whole_range(rng)));

  const auto same = [](double sent, double got) {
    if (std::isnan(sent)) return std::isnan(got);
    if (sent == 0) return got == 0;
    return std::bit_cast<uint64_t>(sent) == std::bit_cast<uint64_t>(got);
  };
  constexpr size_t kPerBatch = 1000;
  for (size_t first = 0; first < values.size(); first += kPerBatch) {
    TransactionBatch batch;
    ResultBatch results;
    EvaluationRequest request = SampleEvaluationRequest();
    const size_t end = std::min(values.size(), first + kPerBatch);
    for (size_t i = first; i < end; ++i) {
      const double v = values[i];
      batch.transactions.push_back({static_cast<int64_t>(i), v, v, v, "", v, "", ""});
      results.results.push_back({static_cast<int64_t>(i), v, 0, v, "", ""});
    }
    Result<TransactionBatch> got = DecodeTransactionBatch(Encode(batch));
    ASSERT_TRUE(got.ok()) << got.status().message();
    Result<ResultBatch> got_results = DecodeResultBatch(Encode(results));
    ASSERT_TRUE(got_results.ok()) << got_results.status().message();
    for (size_t i = first; i < end; ++i) {
      const Transaction& t = got->transactions[i - first];
      const ScoreResult& r = got_results->results[i - first];
      const double v = values[i];
      ASSERT_TRUE(same(v, t.customer_id) && same(v, t.vendor_id) && same(v, t.amount) &&
                  same(v, t.timestamp_unix_s) && same(v, r.fraud_probability) && same(v, r.confidence))
          << "value " << v << " (bits " << std::hex << std::bit_cast<uint64_t>(v) << ")";
    }
    request.threshold = values[first];
    Result<EvaluationRequest> got_request = DecodeEvaluationRequest(Encode(request));
    ASSERT_TRUE(got_request.ok()) << got_request.status().message();
    ASSERT_TRUE(same(values[first], got_request->threshold)) << values[first];
  }
}

// 2^64 is a whole double that fits no msgpack integer: it goes out as float64.
TEST(CodecTest, ADoubleOfTwoToTheSixtyFourTravelsAsFloat64) {
  ResultBatch results;
  results.results.push_back({1, 18446744073709551616.0, 0, 0.5, "", ""});
  const std::string frame = Encode(results);
  const std::string float64 = std::string("\xcb\x43\xf0\x00\x00\x00\x00\x00\x00", 9);
  EXPECT_NE(frame.find(float64), std::string::npos);
}

TEST(CodecTest, PeekKindNamesEachKind) {
  EXPECT_EQ(*PeekKind(Encode(SampleTransactionBatch())), MessageKind::kTransactionBatch);
  EXPECT_EQ(*PeekKind(Encode(SampleResultBatch())), MessageKind::kResultBatch);
  EXPECT_EQ(*PeekKind(Encode(SampleHeartbeat())), MessageKind::kHeartbeat);
  EXPECT_EQ(*PeekKind(Encode(SampleEvaluationRequest())), MessageKind::kEvaluationRequest);
  EXPECT_EQ(*PeekKind(Encode(SampleEvaluationReply())), MessageKind::kEvaluationReply);
  EXPECT_STREQ(MessageKindName(MessageKind::kEvaluationReply), "EvaluationReply");
}

TEST(CodecTest, EnvelopeInWiderIntegerFormatsIsAccepted) {
  // Another msgpack implementation may pick wider formats than msgpack-c does.
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(4);
  const char magic[] = {'\xd9', 4, 'S', 'C', 'P', 'W'};  // str8
  buffer.write(magic, sizeof(magic));
  const char version[] = {'\xd3', 0, 0, 0, 0, 0, 0, 0, static_cast<char>(kWireVersion)};  // int64
  buffer.write(version, sizeof(version));
  const char kind[] = {'\xcd', 0, 3};  // uint16
  buffer.write(kind, sizeof(kind));
  p.pack_array(10);
  PackStr(p, "w");
  PackStr(p, "h");
  for (int i = 0; i < 7; ++i) p.pack_int8(1);
  p.pack_true();
  Result<Heartbeat> decoded = DecodeHeartbeat(std::string_view(buffer.data(), buffer.size()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->sender, "w");
  EXPECT_EQ(decoded->transactions_scored, 1u);
}

// ---------------------------------------------------------------------------
// Rejections: every one an error value, never a crash or an exception.

TEST(CodecTest, EmptyFrameIsRejected) {
  for (const auto& decode : AllDecoders()) {
    EXPECT_EQ(decode("").message(), "empty frame");
  }
}

TEST(CodecTest, EveryTruncationIsRejected) {
  for (const std::string& frame : ValidFrames()) {
    for (size_t length = 1; length < frame.size(); ++length) {
      const std::string_view cut(frame.data(), length);
      EXPECT_FALSE(DecodeTransactionBatch(cut).ok()) << length;
      EXPECT_FALSE(DecodeResultBatch(cut).ok()) << length;
      EXPECT_FALSE(DecodeHeartbeat(cut).ok()) << length;
      // PeekKind reads the envelope only (8 bytes as Encode writes it).
      EXPECT_EQ(PeekKind(cut).ok(), length >= 8) << length;
    }
  }
}

TEST(CodecTest, TruncationIsReportedAsTruncated) {
  const std::string frame = Encode(SampleTransactionBatch());
  EXPECT_EQ(DecodeTransactionBatch(frame.substr(0, frame.size() - 1)).status().message(), "truncated frame");
  EXPECT_EQ(PeekKind(frame.substr(0, 3)).status().message(), "truncated frame");
  EXPECT_EQ(PeekKind(frame.substr(0, 7)).status().message(), "truncated frame");
}

TEST(CodecTest, RandomGarbageIsRejected) {
  std::mt19937 random(20260101);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(1, 300);
  for (int i = 0; i < 3000; ++i) {
    std::string garbage(length(random), '\0');
    for (char& c : garbage) c = static_cast<char>(byte(random));
    for (const auto& decode : AllDecoders()) {
      EXPECT_FALSE(decode(garbage).ok()) << "iteration " << i;
    }
  }
}

// Decodes `frame` as `Message`: a value or an error, never a throw; a value
// encodes again, and that encoding decodes and encodes to the same bytes
// (bytes, not ==: a corrupted double may be a NaN).
template <typename Message>
void ExpectValueOrError(const std::string& frame, int i) {
  Result<Message> decoded = Status::Error("not decoded");
  ASSERT_NO_THROW(decoded = Decode(frame, static_cast<const Message*>(nullptr))) << i;
  if (!decoded.ok()) {
    EXPECT_FALSE(decoded.status().message().empty()) << i << ": an error says why";
    return;
  }
  const std::string again = Encode(decoded.value());
  Result<Message> round = Decode(again, static_cast<const Message*>(nullptr));
  ASSERT_TRUE(round.ok()) << i << ": " << round.status().message();
  EXPECT_EQ(Encode(round.value()), again) << i;
}

TEST(CodecTest, RandomlyCorruptedFramesDecodeToAValueThatEncodesAgainOrToAnError) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::vector<std::string> frames = ValidFrames();
  int values = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string frame = frames[static_cast<size_t>(i) % frames.size()];
    std::uniform_int_distribution<size_t> position(0, frame.size() - 1);
    for (int flips = 1 + i % 4; flips > 0; --flips) {
      frame[position(random)] = static_cast<char>(byte(random));
    }
    // A corruption may still decode (a changed digit, say): then it is a
    // value like any other.
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<TransactionBatch>(frame, i));
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<ResultBatch>(frame, i));
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<Heartbeat>(frame, i));
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<WorkerReady>(frame, i));
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<BatchDone>(frame, i));
    ASSERT_NO_FATAL_FAILURE(ExpectValueOrError<HeadStatus>(frame, i));
    for (const auto& decode : AllDecoders()) {
      Status status = Status::Ok();
      ASSERT_NO_THROW(status = decode(frame)) << i;
      if (status.ok()) ++values;
    }
  }
  // The corruption is not so mild that everything still decodes.
  EXPECT_LT(values, 3000 * static_cast<int>(AllDecoders().size()));
}

TEST(CodecTest, WrongMagicIsRejected) {
  const std::string frame = Frame([](Packer& p) { p.pack_array(0); }, "XXXX");
  for (const auto& decode : AllDecoders()) {
    EXPECT_EQ(decode(frame).message(), "frame is not a scorepipe message: bad magic");
  }
  const std::string longer = Frame([](Packer& p) { p.pack_array(0); }, "SCPWX");
  EXPECT_EQ(PeekKind(longer).status().message(), "frame is not a scorepipe message: bad magic");
}

TEST(CodecTest, FrameThatIsNotAnArrayIsRejected) {
  msgpack::sbuffer buffer;
  Packer(buffer).pack_uint32(5);
  for (const auto& decode : AllDecoders()) {
    EXPECT_EQ(decode(std::string_view(buffer.data(), buffer.size())).message(),
              "frame is not a scorepipe message: not a msgpack array");
  }
}

TEST(CodecTest, EnvelopeOfWrongLengthIsRejected) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(3);
  PackStr(p, "SCPW");
  EXPECT_TRUE(Contains(PeekKind(std::string_view(buffer.data(), buffer.size())).status().message(),
                       "an array of 3 elements, not 4"));
}

TEST(CodecTest, WrongVersionIsRejected) {
  const std::string frame = Frame([](Packer& p) { p.pack_array(0); }, "SCPW", 7);
  for (const auto& decode : AllDecoders()) {
    EXPECT_EQ(decode(frame).message(),
              "wire version 7 not supported (this node speaks " + std::to_string(kWireVersion) + ")");
  }
}

TEST(CodecTest, UnknownKindIsRejected) {
  for (uint64_t kind : {0u, 10u, 255u}) {
    const std::string frame = Frame([](Packer& p) { p.pack_array(0); }, "SCPW", kWireVersion, kind);
    for (const auto& decode : AllDecoders()) {
      EXPECT_EQ(decode(frame).message(), "unknown message kind " + std::to_string(kind));
    }
  }
}

TEST(CodecTest, DecoderRejectsAnotherKind) {
  EXPECT_EQ(DecodeTransactionBatch(Encode(SampleHeartbeat())).status().message(),
            "expected a TransactionBatch, got a Heartbeat");
  EXPECT_EQ(DecodeResultBatch(Encode(SampleTransactionBatch())).status().message(),
            "expected a ResultBatch, got a TransactionBatch");
  EXPECT_EQ(DecodeHeartbeat(Encode(SampleResultBatch())).status().message(),
            "expected a Heartbeat, got a ResultBatch");
}

TEST(CodecTest, OversizedDeclaredArrayIsRejectedWithoutReadingIt) {
  // Declares two million transactions and holds none.
  const std::string frame = Frame([](Packer& p) {
    p.pack_array(5);
    p.pack_uint64(1);
    p.pack_int64(2);
    PackStr(p, "");
    p.pack_array(2'000'000);
  });
  EXPECT_EQ(DecodeTransactionBatch(frame).status().message(),
            "frame declares an array of more than 1048576 items");
  EXPECT_EQ(*PeekKind(frame), MessageKind::kTransactionBatch);
}

TEST(CodecTest, StringOverTheLimitIsRejected) {
  Heartbeat heartbeat = SampleHeartbeat();
  heartbeat.host.assign((1u << 20) + 1, 'h');
  EXPECT_EQ(DecodeHeartbeat(Encode(heartbeat)).status().message(),
            "frame declares a string of more than 1048576 bytes");
  heartbeat.host.resize(1u << 20);
  EXPECT_TRUE(DecodeHeartbeat(Encode(heartbeat)).ok());
}

TEST(CodecTest, HugeDeclaredStringWithoutItsBytesIsTruncated) {
  const std::string frame = Frame(
      [](Packer& p) {
        p.pack_array(10);
        p.pack_str(100u << 20);
      },
      "SCPW", kWireVersion, 3);
  EXPECT_EQ(DecodeHeartbeat(frame).status().message(), "truncated frame");
}

TEST(CodecTest, BatchAtTheItemLimitDecodes) {
  TransactionBatch batch;
  batch.transactions.resize(kMaxBatchItems);
  Result<TransactionBatch> decoded = DecodeTransactionBatch(Encode(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->transactions.size(), kMaxBatchItems);
}

TEST(CodecTest, BatchOverTheItemLimitIsRejected) {
  TransactionBatch batch;
  batch.transactions.resize(kMaxBatchItems + 1);
  EXPECT_EQ(DecodeTransactionBatch(Encode(batch)).status().message(),
            "frame declares an array of more than 1048576 items");
}

TEST(CodecTest, FrameOverTheByteLimitIsRejectedBeforeDecoding) {
  std::string frame = Encode(SampleTransactionBatch());
  frame.resize(kMaxFrameBytes + 1);
  for (const auto& decode : {AllDecoders()[2], AllDecoders()[3], AllDecoders()[4], AllDecoders()[5],
                             AllDecoders()[6], AllDecoders()[7]}) {
    EXPECT_EQ(decode(frame).message(), "frame is 67108865 bytes; limit 67108864");
  }
}

TEST(CodecTest, BatchFramesAreBoundByTheLimitOfTheirBatchSize) {
  const size_t limit = MaxBatchFrameBytes(512);
  EXPECT_EQ(limit, kBatchFrameOverheadBytes + 512 * kMaxWireBytesPerMessage);
  EXPECT_EQ(MaxBatchFrameBytes(kMaxBatchSize), kMaxAnyBatchFrameBytes);
  EXPECT_EQ(MaxBatchFrameBytes(kMaxBatchSize + 1), kMaxAnyBatchFrameBytes);
  std::string frame = Encode(SampleTransactionBatch());
  frame.resize(limit + 1);
  const std::string over = "frame is " + std::to_string(limit + 1) + " bytes; limit " + std::to_string(limit);
  EXPECT_EQ(DecodeTransactionBatch(frame, limit).status().message(), over);
  EXPECT_EQ(DecodeResultBatch(frame, limit).status().message(), over);
  // At the limit the size passes (the padding then fails as trailing bytes).
  frame.resize(limit);
  EXPECT_NE(DecodeTransactionBatch(frame, limit).status().message().find("after the message"),
            std::string::npos);
}

TEST(CodecTest, APartOfALeaseRoundTripsInBothBatchKinds) {
  TransactionBatch batch = SampleTransactionBatch();
  const uint32_t held = static_cast<uint32_t>(batch.transactions.size() + batch.rejects.size());
  batch.rejects.clear();
  batch.part = LeasePart{10, 10 + static_cast<uint32_t>(batch.transactions.size()), 40};
  (void)held;
  ExpectRoundTrip(batch);
  ResultBatch result = SampleResultBatch();
  result.rejects.clear();
  result.part = LeasePart{0, static_cast<uint32_t>(result.results.size()), 7};
  ExpectRoundTrip(result);
}

TEST(CodecTest, APartThatDoesNotFitItsLeaseIsRefused) {
  TransactionBatch batch = SampleTransactionBatch();
  batch.rejects.clear();
  const auto n = static_cast<uint32_t>(batch.transactions.size());
  for (const LeasePart& bad : {LeasePart{5, 5, 10}, LeasePart{0, n, n - 1}, LeasePart{0, n + 1, 40}}) {
    batch.part = bad;
    Result<TransactionBatch> decoded = DecodeTransactionBatch(Encode(batch));
    ASSERT_FALSE(decoded.ok()) << bad.begin << " " << bad.end << " " << bad.lease_size;
    EXPECT_NE(decoded.status().message().find("field 'part'"), std::string::npos)
        << decoded.status().message();
  }
  batch.part = LeasePart{0, n + 1, 40};
  batch.rejects = {Reject{50, "{}"}};  // outside the part
  EXPECT_NE(DecodeTransactionBatch(Encode(batch)).status().message().find("outside it"), std::string::npos);
}

TEST(CodecTest, OnlineBatchesRoundTripWholeAndInParts) {
  ExpectRoundTrip(SampleOnlineBatch());
  ExpectRoundTrip(SampleFeatureBatch());
  ExpectRoundTrip(SampleHeadStatus());
  ExpectRoundTrip(HeadStatus{});
  // A part of an online batch, as the ventilator cuts a poison one.
  TransactionBatch part = SampleFeatureBatch();
  part.part = LeasePart{4, 7, 9};
  ExpectRoundTrip(part);
  TransactionBatch transactions = SampleOnlineBatch();
  transactions.part = LeasePart{1, 1 + static_cast<uint32_t>(transactions.transactions.size()), 60};
  ExpectRoundTrip(transactions);
  // A batch that is not online leaves the fields out, as before them.
  EXPECT_EQ(BodyFields(Encode(SampleTransactionBatch())), 5u);
  EXPECT_EQ(BodyFields(Encode(SampleOnlineBatch())), 14u);
}

TEST(CodecTest, GeneratedFeatureBatchesRoundTripBitForBit) {
  std::mt19937 random(20);
  std::uniform_int_distribution<uint32_t> bits;
  std::uniform_int_distribution<uint32_t> width(1, 64);
  std::uniform_int_distribution<uint32_t> rows(1, 40);
  for (int i = 0; i < 300; ++i) {
    TransactionBatch batch;
    batch.batch_id = bits(random);
    batch.online = true;
    batch.lease = "gw#" + std::to_string(i);
    batch.feature_width = i == 0 ? kMaxFeatureWidth : width(random);
    const uint32_t n = i == 0 ? 2 : rows(random);
    for (uint32_t k = 0; k < n * batch.feature_width; ++k) {
      // Any float that is not a NaN (NaN != NaN would fail the comparison;
      // NaNs are checked below): infinities, subnormals, -0.
      float value = 0;
      do {
        const uint32_t pattern = bits(random);
        std::memcpy(&value, &pattern, sizeof value);
      } while (std::isnan(value));
      batch.features.push_back(value);
    }
    Result<TransactionBatch> decoded = DecodeTransactionBatch(Encode(batch));
    ASSERT_TRUE(decoded.ok()) << i << ": " << decoded.status().message();
    ASSERT_EQ(decoded->features.size(), batch.features.size());
    ASSERT_EQ(
        std::memcmp(decoded->features.data(), batch.features.data(), batch.features.size() * sizeof(float)),
        0)
        << i;
    EXPECT_EQ(decoded->rows(), n);
  }
  TransactionBatch nan = SampleFeatureBatch();
  nan.features[0] = std::numeric_limits<float>::quiet_NaN();
  Result<TransactionBatch> decoded = DecodeTransactionBatch(Encode(nan));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_TRUE(std::isnan(decoded->features[0]));
}

TEST(CodecTest, FeatureRowsThatDoNotFitTheBatchAreRefused) {
  auto refusal = [](const TransactionBatch& batch) {
    return DecodeTransactionBatch(Encode(batch)).status().message();
  };
  TransactionBatch ragged = SampleFeatureBatch();
  ragged.features.pop_back();
  EXPECT_EQ(refusal(ragged), "field 'features': 11 floats are not whole rows of 4");
  TransactionBatch wide = SampleFeatureBatch();
  wide.feature_width = kMaxFeatureWidth + 1;
  wide.features.assign(kMaxFeatureWidth + 1, 1.0f);
  EXPECT_EQ(refusal(wide), "field 'feature_width': 4097 is over 4096");
  TransactionBatch mixed = SampleFeatureBatch();
  mixed.transactions = SampleTransactionBatch().transactions;
  EXPECT_EQ(refusal(mixed), "field 'features': a batch of feature rows with transactions or rejects");
  TransactionBatch widthless = SampleFeatureBatch();
  widthless.feature_width = 0;
  EXPECT_EQ(refusal(widthless), "field 'features': feature_width is 0 but there are features");
  TransactionBatch evaluation = SampleOnlineBatch();
  evaluation.evaluation = EvaluationRows{3, 0, std::vector<float>(evaluation.transactions.size(), 1.0f)};
  EXPECT_EQ(refusal(evaluation), "field 'online': an evaluation run's batch is not online");
  TransactionBatch part = SampleFeatureBatch();
  part.part = LeasePart{0, 2, 9};  // three rows in a part of two
  EXPECT_EQ(refusal(part), "field 'part': 3 messages for a part of 2");
}

TEST(CodecTest, ABatchDoneMaySayWhyTheBatchWasRefused) {
  ExpectRoundTrip(BatchDone{7, 9, "frame declares a string of more than 1048576 bytes"});
  // Without a reason it is the two fields older ventilators read.
  EXPECT_EQ(Encode(BatchDone{7, 9, {}}).size() + 1 + 6, Encode(BatchDone{7, 9, "reason"}).size());
}

TEST(CodecTest, DeepNestingIsRejected) {
  const std::string frame = Frame([](Packer& p) {
    for (int i = 0; i < 100; ++i) p.pack_array(1);
    p.pack_nil();
  });
  EXPECT_TRUE(Contains(DecodeTransactionBatch(frame).status().message(), "more than 4 deep"));
}

TEST(CodecTest, TrailingBytesAreRejected) {
  std::string frame = Encode(SampleHeartbeat());
  frame.push_back('\xc0');
  EXPECT_EQ(DecodeHeartbeat(frame).status().message(), "frame has 1 bytes after the message");
}

TEST(CodecTest, InvalidMsgpackByteIsRejected) {
  std::string frame = Frame([](Packer& p) { p.pack_array(7); });
  frame.push_back('\xc1');  // never used by msgpack
  EXPECT_TRUE(Contains(DecodeTransactionBatch(frame).status().message(), "not valid msgpack"));
}

TEST(CodecTest, WrongFieldTypeIsNamedWithItsPath) {
  const std::string frame = BatchWithOneTransaction([](Packer& p) {
    p.pack_array(7);
    p.pack_int64(1);
    p.pack_int64(2);
    p.pack_int64(3);
    PackStr(p, "100");  // amount
    PackStr(p, "2023-01-01T12:00:00Z");
    p.pack_double(1.0);
    PackStr(p, "accepted");
  });
  EXPECT_EQ(DecodeTransactionBatch(frame).status().message(),
            "field 'transactions[0].amount': expected a number, got a string");
}

TEST(CodecTest, PathNamesTheFailingItem) {
  const std::string frame = ResultBatchFrame(3, [](Packer& p, int i) {
    p.pack_array(5);
    if (i == 2) {
      PackStr(p, "7");  // transaction_id is an int64
    } else {
      p.pack_int64(i);
    }
    p.pack_double(0.5);
    p.pack_int32(0);
    p.pack_double(0.5);
    PackStr(p, "");
  });
  EXPECT_EQ(DecodeResultBatch(frame).status().message(),
            "field 'results[2].transaction_id': expected an int64, got a string");
}

TEST(CodecTest, IntegerOutOfFieldRangeIsRejected) {
  const std::string frame = BatchWithOneTransaction([](Packer& p) {
    p.pack_array(7);
    p.pack_uint64(std::numeric_limits<uint64_t>::max());  // id is an int64
    p.pack_int64(2);
    p.pack_int64(3);
    p.pack_double(1.5);
    PackStr(p, "2023-01-01T12:00:00Z");
    p.pack_double(1.0);
    PackStr(p, "accepted");
  });
  EXPECT_EQ(DecodeTransactionBatch(frame).status().message(),
            "field 'transactions[0].id': expected an int64, got 18446744073709551615");

  const std::string negative_batch_id = Frame([](Packer& p) {
    p.pack_array(5);
    p.pack_int64(-1);
    p.pack_int64(0);
    PackStr(p, "");
    p.pack_array(0);
    p.pack_array(0);
  });
  EXPECT_EQ(DecodeTransactionBatch(negative_batch_id).status().message(),
            "field 'batch_id': expected a uint64, got -1");

  const std::string wide_flag = ResultBatchFrame(1, [](Packer& p, int) {
    p.pack_array(5);
    p.pack_int64(1);
    p.pack_double(0.5);
    p.pack_int64(int64_t{1} << 40);  // is_fraudulent is an int32
    p.pack_double(0.5);
    PackStr(p, "");
  });
  EXPECT_EQ(DecodeResultBatch(wide_flag).status().message(),
            "field 'results[0].is_fraudulent': expected an int32, got 1099511627776");
}

TEST(CodecTest, WrongFieldCountIsRejected) {
  const std::string short_item = BatchWithOneTransaction([](Packer& p) {
    p.pack_array(6);
    for (int i = 0; i < 6; ++i) p.pack_int64(1);
  });
  EXPECT_EQ(DecodeTransactionBatch(short_item).status().message(),
            "field 'transactions[0]': expected an array of 7 to 8 fields, got 6");

  const std::string short_body = Frame([](Packer& p) {
    p.pack_array(2);
    p.pack_uint64(1);
    p.pack_int64(2);
  });
  EXPECT_EQ(DecodeTransactionBatch(short_body).status().message(),
            "message body: expected an array of 5 to 14 fields, got 2");

  const std::string body_not_array = Frame([](Packer& p) { p.pack_nil(); });
  EXPECT_EQ(DecodeTransactionBatch(body_not_array).status().message(),
            "message body: expected an array of 5 to 14 fields, got nil");
}

TEST(CodecTest, MapOrBinaryInPlaceOfAFieldIsATypeError) {
  const std::string with_map = BatchWithOneTransaction([](Packer& p) { p.pack_map(0); });
  EXPECT_EQ(DecodeTransactionBatch(with_map).status().message(),
            "field 'transactions[0]': expected an array of 7 to 8 fields, got a map");
  const std::string with_bin = Frame([](Packer& p) {
    p.pack_array(5);
    p.pack_bin(1);
    p.pack_bin_body("x", 1);
    p.pack_int64(0);
    PackStr(p, "");
    p.pack_array(0);
    p.pack_array(0);
  });
  EXPECT_EQ(DecodeTransactionBatch(with_bin).status().message(),
            "field 'batch_id': expected a uint64, got binary data");
}

TEST(CodecTest, VectorFieldOfWrongTypeIsRejected) {
  const std::string frame = Frame([](Packer& p) {
    p.pack_array(5);
    p.pack_uint64(1);
    p.pack_int64(2);
    PackStr(p, "");
    PackStr(p, "none");
    p.pack_array(0);
  });
  EXPECT_EQ(DecodeTransactionBatch(frame).status().message(),
            "field 'transactions': expected an array, got a string");
}

}  // namespace
}  // namespace scorepipe
