// Tests of proto/archive_record.h: every generated record (hostile text,
// extreme numbers, features that are not numbers, optional fields present
// or not) comes back equal; every cut and every wrong-typed field of a
// record is refused with the field's name, never misread.
#include "proto/archive_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "proto/codec.h"
#include "proto/wire.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "a", "7", " ", "'", "\"", "\\", "\t", "\n", std::string(1, '\0'), "é", "😀", ":", "\xff"};
  std::uniform_int_distribution<size_t> length(0, 12);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string out;
  for (size_t n = length(rng); n > 0; --n) out += pieces[pick(rng)];
  return out;
}

ArchiveRecord RandomRecord(std::mt19937& rng, size_t i) {
  std::uniform_int_distribution<int64_t> any(std::numeric_limits<int64_t>::min(),
                                             std::numeric_limits<int64_t>::max());
  std::uniform_int_distribution<int> coin(0, 3);
  std::uniform_real_distribution<double> unit(0, 1);
  ArchiveRecord r;
  r.result_key = ArchiveResultKey(RandomText(rng), i);
  r.scored_at_us = any(rng);
  r.transaction_id = RandomText(rng);
  if (coin(rng) != 0) r.transaction_at_us = any(rng);
  r.timestamp_text = RandomText(rng);
  r.customer_id = static_cast<double>(any(rng));
  r.vendor_id = unit(rng) * 1e12;
  r.amount = coin(rng) == 0 ? std::numeric_limits<double>::max() : unit(rng) * 1e6;
  r.status = RandomText(rng);
  for (int n = coin(rng) * 5; n > 0; --n) {
    r.features.push_back(coin(rng) == 0 ? std::numeric_limits<float>::infinity()
                                        : static_cast<float>(unit(rng)));
  }
  r.score = unit(rng);
  r.is_fraud = coin(rng) == 0;
  r.model_name = RandomText(rng);
  r.model_version = RandomText(rng);
  if (coin(rng) == 0) {
    r.shadow_version = RandomText(rng);
    r.shadow_score = unit(rng);
  }
  return r;
}

TEST(ArchiveRecordTest, GeneratedRecordsComeBackEqual) {
  std::mt19937 rng(21);
  for (size_t i = 0; i < 2000; ++i) {
    const ArchiveRecord record = RandomRecord(rng, i);
    Result<ArchiveRecord> back = DecodeArchiveRecord(Encode(record));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back.value(), record) << i;
  }
}

TEST(ArchiveRecordTest, FeaturesThatAreNotNumbersComeBackAsSuch) {
  ArchiveRecord record;
  record.result_key = "l:0";
  record.features = {std::nanf(""), -std::numeric_limits<float>::infinity(), -0.0f};  // -0 reads back as 0
  Result<ArchiveRecord> back = DecodeArchiveRecord(Encode(record));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->features.size(), 3u);
  EXPECT_TRUE(std::isnan(back->features[0]));
  EXPECT_EQ(back->features[1], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(back->features[2], 0.0f);
}

TEST(ArchiveRecordTest, EveryCutOfARecordIsRefused) {
  std::mt19937 rng(3);
  const std::string frame = Encode(RandomRecord(rng, 1));
  for (size_t size = 0; size < frame.size(); ++size) {
    EXPECT_FALSE(DecodeArchiveRecord(frame.substr(0, size)).ok()) << size;
  }
}

TEST(ArchiveRecordTest, AWrongTypedFieldIsRefusedByName) {
  const auto frame = [](auto pack_field, size_t at) {
    return wire::EncodeFrame(MessageKind::kArchiveRecord, 64, [&](wire::Packer& p) {
      p.pack_array(16);
      for (size_t i = 0; i < 16; ++i) {
        if (i == at) {
          pack_field(p);
        } else if (i == 0) {
          wire::PackString(p, "lease:0");
        } else if (i == 2 || i == 4 || i == 8 || i == 12 || i == 13 || i == 14) {
          wire::PackString(p, "x");
        } else if (i == 9) {
          p.pack_array(0);
        } else if (i == 11) {
          p.pack(true);
        } else if (i == 3 || i == 15) {
          p.pack_nil();
        } else {
          p.pack_int64(1);
        }
      }
    });
  };
  const auto text = [](wire::Packer& p) { wire::PackString(p, "no"); };
  EXPECT_THAT(DecodeArchiveRecord(frame(text, 1)).status().message(), HasSubstr("'scored_at_us'"));
  EXPECT_THAT(DecodeArchiveRecord(frame(text, 3)).status().message(), HasSubstr("'transaction_at_us'"));
  EXPECT_THAT(DecodeArchiveRecord(frame(text, 9)).status().message(), HasSubstr("'features'"));
  EXPECT_THAT(DecodeArchiveRecord(frame(text, 15)).status().message(), HasSubstr("'shadow_score'"));
  const auto empty = [](wire::Packer& p) { wire::PackString(p, ""); };
  EXPECT_THAT(DecodeArchiveRecord(frame(empty, 0)).status().message(), HasSubstr("'result_key': empty"));
  const auto nil = [](wire::Packer& p) { p.pack_nil(); };
  EXPECT_TRUE(DecodeArchiveRecord(frame(nil, 3)).ok());
  // A record with a field more or less (another scorepipe's) is refused.
  const std::string short_frame = wire::EncodeFrame(MessageKind::kArchiveRecord, 32, [](wire::Packer& p) {
    p.pack_array(15);
    for (int i = 0; i < 15; ++i) p.pack_nil();
  });
  EXPECT_THAT(DecodeArchiveRecord(short_frame).status().message(),
              HasSubstr("expected an array of 16 fields"));
}

TEST(ArchiveResultKeyTest, NamesTheLeaseAndThePlace) {
  EXPECT_EQ(ArchiveResultKey("1700000000000-0", 3), "1700000000000-0:3");
  EXPECT_NE(ArchiveResultKey("a:1", 2), ArchiveResultKey("a", 12));
}

TEST(ArchiveRecordTest, AnotherKindOfFrameIsNotARecord) {
  EXPECT_THAT(DecodeArchiveRecord(Encode(BatchDone{1, 2, {}})).status().message(),
              HasSubstr("expected a ArchiveRecord, got a BatchDone"));
}

}  // namespace
}  // namespace scorepipe
