// Tests of the archive's fields of a ResultBatch (proto/codec.h): with them
// a batch round-trips whole, as a part of a lease and as an evaluation run's;
// they must match the results (one transaction and one feature row each);
// a batch without them is byte for byte what older nodes read; and the
// widest archived row still fits the frame bound of its batch size.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "proto/codec.h"
#include "proto/messages.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

ResultBatch ArchivedBatch(size_t rows, uint32_t width, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  ResultBatch batch;
  batch.batch_id = 7;
  batch.lease = "1700000000000-0";
  batch.worker_id = "w";
  batch.model_version = "v1";
  batch.model_name = "fraud";
  batch.scored_at_us = 1'767'268'800'500'000;
  for (size_t i = 0; i < rows; ++i) {
    batch.results.push_back({static_cast<int64_t>(i + 1), unit(rng), 0, 0.5, "", ""});
    batch.archive_inputs.push_back({static_cast<int64_t>(i + 1), 1 + unit(rng) * 100, 3, unit(rng) * 500,
                                    "2026-01-01T12:00:00Z", 1'767'268'800, "accepted", ""});
    for (uint32_t c = 0; c < width; ++c) batch.archive_features.push_back(static_cast<float>(unit(rng)));
  }
  batch.archive_feature_width = width;
  return batch;
}

TEST(ResultBatchArchiveTest, GeneratedArchivedBatchesRoundTripWholePartAndEvaluation) {
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    const size_t rows = std::uniform_int_distribution<size_t>(1, 40)(rng);
    const uint32_t width = std::uniform_int_distribution<uint32_t>(0, 30)(rng);
    ResultBatch batch = ArchivedBatch(rows, width, rng);
    const int shape = i % 3;
    if (shape == 1)
      batch.part = LeasePart{2, static_cast<uint32_t>(2 + rows), static_cast<uint32_t>(rows + 5)};
    if (shape == 2) batch.evaluation = EvaluationRows{4, 100, std::vector<float>(rows, 1.0f)};
    Result<ResultBatch> back = DecodeResultBatch(Encode(batch));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back.value(), batch) << i;
    EXPECT_EQ(PeekBatchId(Encode(batch)).value(), 7u);
  }
}

TEST(ResultBatchArchiveTest, TheArchivesFieldsMustMatchTheResults) {
  std::mt19937 rng(2);
  ResultBatch fewer = ArchivedBatch(3, 4, rng);
  fewer.archive_inputs.pop_back();
  EXPECT_THAT(DecodeResultBatch(Encode(fewer)).status().message(),
              HasSubstr("'archive_inputs': 2 transactions for 3 results"));
  ResultBatch ragged = ArchivedBatch(3, 4, rng);
  ragged.archive_features.pop_back();
  EXPECT_THAT(DecodeResultBatch(Encode(ragged)).status().message(),
              HasSubstr("'archive_features': 11 floats are not 3 rows of 4"));
  ResultBatch wide = ArchivedBatch(1, 0, rng);
  wide.archive_feature_width = kMaxFeatureWidth + 1;
  wide.archive_features.assign(kMaxFeatureWidth + 1, 0.5f);
  EXPECT_THAT(DecodeResultBatch(Encode(wide)).status().message(),
              HasSubstr("'archive_feature_width': 4097 is over 4096"));
}

TEST(ResultBatchArchiveTest, ABatchWithoutTheArchiveIsEncodedAsBefore) {
  std::mt19937 rng(4);
  ResultBatch batch = ArchivedBatch(3, 2, rng);
  const size_t with = Encode(batch).size();
  batch.archive_inputs.clear();
  batch.archive_features.clear();
  batch.archive_feature_width = 0;
  const std::string without = Encode(batch);
  EXPECT_LT(without.size(), with);
  // 11 fields, as a node before the archive wrote and reads them.
  EXPECT_EQ(static_cast<unsigned char>(without[without.find("SCPW") + 6]), 0x9b);
  Result<ResultBatch> back = DecodeResultBatch(without);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->archive_inputs.empty());
}

TEST(ResultBatchArchiveTest, TheWidestArchivedRowsFitTheFrameBoundOfTheirBatchSize) {
  constexpr size_t kRows = 64;
  ResultBatch batch;
  batch.lease = std::string(200, 'l');
  batch.model_version = std::string(100, 'v');
  batch.shadow_version = std::string(100, 's');
  batch.archive_feature_width = kMaxFeatureWidth;
  for (size_t i = 0; i < kRows; ++i) {
    const std::string error(kMaxErrorTextBytes, 'e');
    batch.results.push_back({1, 0.5, 1, 0.5, error, std::string(40, '9')});
    batch.shadow_results.push_back({1, 0.5, 1, 0.5, error, std::string(40, '9')});
    batch.archive_inputs.push_back({0, 1e300, 1e300, 1e300, std::string(kMaxTimestampTextBytes, 't'), 1e300,
                                    "accepted", std::string(40, '9')});
    for (uint32_t c = 0; c < kMaxFeatureWidth; ++c)
      batch.archive_features.push_back(0.123456f + static_cast<float>(c));
  }
  const std::string frame = Encode(batch);
  EXPECT_LE(frame.size(), MaxBatchFrameBytes(kRows));
  EXPECT_TRUE(DecodeResultBatch(frame, MaxBatchFrameBytes(kRows)).ok());
}

}  // namespace
}  // namespace scorepipe
