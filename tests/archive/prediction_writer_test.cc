// Tests of archive/prediction_writer.h against a real PostgreSQL server:
// generated rows (hostile text, features that are not numbers, times from
// 1900 to 2200, optional fields missing) read back exactly; the same rows
// written again add nothing, overlapping ones add only the new; a write
// that fails leaves nothing behind and succeeds whole when done again.
#include "archive/prediction_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "archive/schema.h"
#include "tests/archive/archive_database.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

std::string RandomText(std::mt19937& rng, size_t most) {
  static const std::vector<std::string> pieces = {"a",  "7", " ", "'", "\"", "\\", "\\N",  "\t", "\n",
                                                  "\r", ",", "{", "}", "é",  "😀",  "NULL", ":"};
  std::uniform_int_distribution<size_t> length(0, most);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string out;
  for (size_t n = length(rng); n > 0; --n) out += pieces[pick(rng)];
  return out;
}

ArchiveRecord RandomRow(std::mt19937& rng, size_t index) {
  std::uniform_int_distribution<int64_t> micros(-2'208'988'800'000'000, 7'258'118'400'000'000);  // 1900..2200
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> coin(0, 3);
  ArchiveRecord r;
  r.result_key = ArchiveResultKey(RandomText(rng, 6), index);
  r.scored_at_us = micros(rng);
  r.transaction_id = RandomText(rng, 12);
  if (coin(rng) != 0) r.transaction_at_us = micros(rng);
  r.timestamp_text = RandomText(rng, 10);
  r.customer_id =
      coin(rng) == 0 ? 1e300 : static_cast<double>(std::uniform_int_distribution<int64_t>(1, 1LL << 53)(rng));
  r.vendor_id = static_cast<double>(index) + 0.5;
  r.amount = coin(rng) == 0 ? -0.0 : unit(rng) * 1e9;
  r.status = RandomText(rng, 8);
  const size_t width = std::uniform_int_distribution<size_t>(0, 12)(rng);
  for (size_t i = 0; i < width; ++i) {
    const int kind = coin(rng);
    r.features.push_back(kind == 0   ? std::nanf("")
                         : kind == 1 ? (unit(rng) < 0.5 ? INFINITY : -INFINITY)
                                     : static_cast<float>((unit(rng) - 0.5) * 1e6));
  }
  r.score = unit(rng);
  r.is_fraud = r.score >= 0.5;
  r.model_name = "fraud";
  r.model_version = RandomText(rng, 5);
  if (coin(rng) == 0) {
    r.shadow_version = "v-" + RandomText(rng, 3);
    r.shadow_score = unit(rng);
  }
  return r;
}

// PostgreSQL's text of a real[] back to floats.
std::vector<float> Floats(const std::string& text) {
  std::vector<float> out;
  std::string inner = text.substr(1, text.size() - 2);
  size_t at = 0;
  while (!inner.empty() && at <= inner.size()) {
    const size_t comma = inner.find(',', at);
    const std::string item = inner.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    out.push_back(item == "NaN" ? std::nanf("") : std::strtof(item.c_str(), nullptr));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

class PredictionWriterTest : public testing::ArchiveDatabaseTest {
 protected:
  void SetUp() override {
    ArchiveDatabaseTest::SetUp();
    ASSERT_TRUE(Migrate(*db_).ok());
  }
  std::string Count() { return db_->Run("SELECT count(*) FROM predictions")->Scalar(); }

  // Every row as stored, by result key.
  std::map<std::string, ArchiveRecord> ReadBack() {
    Result<PgRows> rows = db_->Run(
        "SELECT result_key, (extract(epoch FROM scored_at) * 1000000)::bigint, transaction_id, "
        "(extract(epoch FROM transaction_at) * 1000000)::bigint, timestamp_text, customer_id, vendor_id, "
        "amount, status, features, score, is_fraud, model_name, model_version, shadow_version, shadow_score "
        "FROM predictions");
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    std::map<std::string, ArchiveRecord> out;
    if (!rows.ok()) return out;
    for (const auto& v : rows->rows) {
      ArchiveRecord r;
      r.result_key = *v[0];
      r.scored_at_us = std::stoll(*v[1]);
      r.transaction_id = *v[2];
      if (v[3]) r.transaction_at_us = std::stoll(*v[3]);
      r.timestamp_text = *v[4];
      r.customer_id = std::strtod(v[5]->c_str(), nullptr);
      r.vendor_id = std::strtod(v[6]->c_str(), nullptr);
      r.amount = std::strtod(v[7]->c_str(), nullptr);
      r.status = *v[8];
      r.features = Floats(*v[9]);
      r.score = std::strtod(v[10]->c_str(), nullptr);
      r.is_fraud = *v[11] == "t";
      r.model_name = *v[12];
      r.model_version = *v[13];
      r.shadow_version = v[14].value_or("");
      if (v[15]) r.shadow_score = std::strtod(v[15]->c_str(), nullptr);
      out[r.result_key] = r;
    }
    return out;
  }
};

void ExpectSame(const ArchiveRecord& got, const ArchiveRecord& want) {
  EXPECT_EQ(got.scored_at_us, want.scored_at_us);
  EXPECT_EQ(got.transaction_id, want.transaction_id);
  EXPECT_EQ(got.transaction_at_us, want.transaction_at_us);
  EXPECT_EQ(got.timestamp_text, want.timestamp_text);
  EXPECT_EQ(got.customer_id, want.customer_id);
  EXPECT_EQ(got.vendor_id, want.vendor_id);
  EXPECT_EQ(got.amount, want.amount);
  EXPECT_EQ(got.status, want.status);
  ASSERT_EQ(got.features.size(), want.features.size());
  for (size_t i = 0; i < want.features.size(); ++i) {
    if (std::isnan(want.features[i])) {
      EXPECT_TRUE(std::isnan(got.features[i]));
    } else {
      EXPECT_EQ(got.features[i], want.features[i]) << i;
    }
  }
  EXPECT_EQ(got.score, want.score);
  EXPECT_EQ(got.is_fraud, want.is_fraud);
  EXPECT_EQ(got.model_version, want.model_version);
  EXPECT_EQ(got.shadow_version, want.shadow_version);
  EXPECT_EQ(got.shadow_score, want.shadow_score);
}

TEST_F(PredictionWriterTest, GeneratedRowsReadBackExactlyInTheirDaysPartitions) {
  std::mt19937 rng(42);
  std::vector<ArchiveRecord> rows;
  for (size_t i = 0; i < 400; ++i) rows.push_back(RandomRow(rng, i));
  PredictionWriter writer;
  Result<uint64_t> wrote = writer.Write(*db_, rows);
  ASSERT_TRUE(wrote.ok()) << wrote.status().message();
  EXPECT_EQ(wrote.value(), rows.size());
  const std::map<std::string, ArchiveRecord> back = ReadBack();
  ASSERT_EQ(back.size(), rows.size());
  for (const ArchiveRecord& want : rows) {
    auto it = back.find(want.result_key);
    ASSERT_NE(it, back.end()) << want.result_key;
    ExpectSame(it->second, want);
  }
  // Each row sits in the partition of its UTC day.
  Result<PgRows> misplaced = db_->Run(
      "SELECT count(*) FROM predictions WHERE tableoid::regclass::text <> "
      "'predictions_' || to_char(scored_at AT TIME ZONE 'UTC', 'YYYYMMDD')");
  ASSERT_TRUE(misplaced.ok()) << misplaced.status().message();
  EXPECT_EQ(misplaced->Scalar(), "0");
}

TEST_F(PredictionWriterTest, RowsWrittenAgainAddNothingAndOverlappingOnesOnlyTheNew) {
  std::mt19937 rng(5);
  std::vector<ArchiveRecord> rows;
  for (size_t i = 0; i < 200; ++i) rows.push_back(RandomRow(rng, i));
  const std::vector<ArchiveRecord> first(rows.begin(), rows.begin() + 120);
  const std::vector<ArchiveRecord> overlap(rows.begin() + 80, rows.end());
  PredictionWriter writer;
  EXPECT_EQ(writer.Write(*db_, first).value(), 120u);
  EXPECT_EQ(writer.Write(*db_, first).value(), 0u);
  PredictionWriter another;  // another archiver, after a restart
  EXPECT_EQ(another.Write(*db_, overlap).value(), 80u);
  EXPECT_EQ(Count(), "200");
  // A retried row keeps what was stored first.
  std::vector<ArchiveRecord> changed = {rows[0]};
  changed[0].score = 0.123;
  EXPECT_EQ(writer.Write(*db_, changed).value(), 0u);
  EXPECT_EQ(ReadBack()[rows[0].result_key].score, rows[0].score);
}

TEST_F(PredictionWriterTest, AFailedWriteLeavesNothingAndTheSameWriteLaterStoresAll) {
  std::mt19937 rng(9);
  std::vector<ArchiveRecord> rows;
  for (size_t i = 0; i < 50; ++i) rows.push_back(RandomRow(rng, i));
  PredictionWriter writer;
  // The connection is cut before the write (a server restart, a network drop).
  const std::string pid = db_->Run("SELECT pg_backend_pid()")->Scalar();
  {
    auto other = PgConnection::Connect(conninfo_);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other->Run("SELECT pg_terminate_backend($1::int)", {pid}).ok());
    Result<uint64_t> failed = writer.Write(*db_, rows);
    EXPECT_FALSE(failed.ok());
    EXPECT_EQ(other->Run("SELECT count(*) FROM predictions")->Scalar(), "0");
  }
  auto again = PgConnection::Connect(conninfo_);
  ASSERT_TRUE(again.ok());
  db_.emplace(std::move(again).value());
  writer.Forget();
  Result<uint64_t> wrote = writer.Write(*db_, rows);
  ASSERT_TRUE(wrote.ok()) << wrote.status().message();
  EXPECT_EQ(wrote.value(), 50u);
  EXPECT_EQ(Count(), "50");
}

TEST_F(PredictionWriterTest, NothingToWriteIsNoTransaction) {
  PredictionWriter writer;
  EXPECT_EQ(writer.Write(*db_, {}).value(), 0u);
  EXPECT_EQ(Count(), "0");
}

}  // namespace
}  // namespace scorepipe
