#include "scoring/feature_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "tests/scoring/model_test_util.h"

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kUpstreamYaml = R"(features:
  - {name: timestamp, field: timestamp, transform: unix_seconds}
  - name: status
    field: status
    transform: index
    values: [submitted, accepted, rejected]
    default: -1
  - {name: vendor_id, field: vendor_id, transform: number}
  - {name: amount, field: amount, transform: number}
)";

// The upstream's example transaction, as the bridge parses it.
Transaction UpstreamExample() {
  Transaction tx;
  tx.id = 1;
  tx.customer_id = 1;
  tx.vendor_id = 1;
  tx.timestamp = "2023-01-01T12:00:00Z";
  tx.timestamp_unix_s = 1672574400;
  tx.status = "accepted";
  tx.amount = 100;
  return tx;
}

Status LoadError(const std::string& yaml) {
  Result<FeatureSpec> spec = LoadFeatureSpecString(yaml, "f.yaml");
  EXPECT_FALSE(spec.ok()) << "accepted:\n" << yaml;
  return spec.status();
}

// A one-feature spec around the given feature body lines (indented by 4).
std::string OneFeature(const std::string& body) { return "features:\n  - " + body; }

TEST(FeatureSpecTest, LoadsUpstreamFeaturesInOrder) {
  Result<FeatureSpec> spec = LoadFeatureSpecString(kUpstreamYaml, "f.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_EQ(spec->features.size(), 4u);
  EXPECT_EQ(spec->source, "f.yaml");
  const FeatureDef& status = spec->features[1];
  EXPECT_EQ(spec->features[0].name, "timestamp");
  EXPECT_EQ(spec->features[0].transform, FeatureTransform::kUnixSeconds);
  EXPECT_EQ(status.field, FeatureField::kStatus);
  EXPECT_EQ(status.transform, FeatureTransform::kIndex);
  EXPECT_THAT(status.values, ElementsAre("submitted", "accepted", "rejected"));
  EXPECT_EQ(status.default_value, -1);
  EXPECT_EQ(spec->features[2].field, FeatureField::kVendorId);
  EXPECT_EQ(spec->features[3].field, FeatureField::kAmount);
}

TEST(FeatureSpecTest, IndexDefaultIsMinusOneWhenOmitted) {
  Result<FeatureSpec> spec =
      LoadFeatureSpecString(OneFeature("{name: s, field: status, transform: index, values: [a]}"), "f.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->features[0].default_value, -1);
}

TEST(FeatureSpecTest, UpstreamSpecRoundTripsThroughYaml) {
  const FeatureSpec upstream = UpstreamFeatureSpec();
  Result<FeatureSpec> reloaded = LoadFeatureSpecString(FeatureSpecToYaml(upstream), "f.yaml");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().message();
  ASSERT_EQ(reloaded->features.size(), upstream.features.size());
  for (size_t i = 0; i < upstream.features.size(); ++i) {
    EXPECT_EQ(reloaded->features[i].name, upstream.features[i].name);
    EXPECT_EQ(reloaded->features[i].field, upstream.features[i].field);
    EXPECT_EQ(reloaded->features[i].transform, upstream.features[i].transform);
    EXPECT_EQ(reloaded->features[i].values, upstream.features[i].values);
    EXPECT_EQ(reloaded->features[i].default_value, upstream.features[i].default_value);
  }
}

TEST(FeatureSpecTest, LoadsFromFileAndNamesItInErrors) {
  testing::ScratchDir dir;
  Result<FeatureSpec> spec = LoadFeatureSpecFile(dir.Write("features.yaml", kUpstreamYaml));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->source, dir.File("features.yaml"));

  const std::string bad = dir.Write("bad.yaml", "features: []\n");
  EXPECT_THAT(LoadFeatureSpecFile(bad).status().message(), HasSubstr(bad + ":1:11: "));
}

TEST(FeatureSpecTest, MissingFileIsError) {
  Result<FeatureSpec> spec = LoadFeatureSpecFile("/nonexistent/features.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "/nonexistent/features.yaml: cannot open: No such file or directory");
}

TEST(FeatureSpecTest, ErrorsCarryFileLineColumnKeyAndAllowedValues) {
  const std::string yaml = R"(features:
  - name: timestamp
    field: timestamp
    transform: log
)";
  EXPECT_EQ(LoadError(yaml).message(),
            "f.yaml:4:16: features[0].transform: 'log' is not a transform; allowed: number, "
            "unix_seconds, index");
}

// Every way a features.yaml can be wrong, with what the message must say.
struct BadSpec {
  const char* name;
  std::string yaml;
  std::vector<std::string> message_parts;
};

void PrintTo(const BadSpec& bad, std::ostream* os) { *os << bad.name; }

class FeatureSpecErrorTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(FeatureSpecErrorTest, IsRejectedWithLocatedMessage) {
  const Status status = LoadError(GetParam().yaml);
  for (const std::string& part : GetParam().message_parts) {
    EXPECT_THAT(status.message(), HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(
    FeatureSpec, FeatureSpecErrorTest,
    ::testing::Values(
        BadSpec{"InvalidYaml", "features: [\n", {"f.yaml:", "invalid YAML"}},
        BadSpec{"EmptyFile", "", {"f.yaml: the file is empty"}},
        BadSpec{"RootIsAList", "- a\n", {"f.yaml:1:1: expected a mapping with keys features"}},
        BadSpec{"UnknownTopLevelKey",
                std::string(kUpstreamYaml) + "version: 2\n",
                {"f.yaml:10:1: unknown key 'version'; allowed: features"}},
        BadSpec{"FeaturesTwice",
                "features: [{name: a, field: id, transform: number}]\nfeatures: []\n",
                {"f.yaml:2:1: key 'features' appears twice"}},
        BadSpec{"MissingFeatures", "{}\n", {"f.yaml:1:1: missing key 'features'"}},
        BadSpec{"FeaturesNotAList",
                "features: 3\n",
                {"f.yaml:1:11: features: expected a non-empty list of features"}},
        BadSpec{"FeaturesEmpty", "features: []\n", {"f.yaml:1:11: features: expected a non-empty list"}},
        BadSpec{"FeatureNotAMapping",
                "features:\n  - timestamp\n",
                {"f.yaml:2:5: features[0]: expected a mapping with keys name, field, transform, "
                 "values, default"}},
        BadSpec{"UnknownFeatureKey",
                OneFeature("name: a\n    field: amount\n    transform: number\n    scale: 2\n"),
                {"f.yaml:5:5: features[0]: unknown key 'scale'; allowed: name, field, "
                 "transform, values, default"}},
        BadSpec{"FeatureKeyTwice",
                OneFeature("name: a\n    field: amount\n    transform: number\n    name: b\n"),
                {"f.yaml:5:5: features[0]: key 'name' appears twice"}},
        BadSpec{"MissingName",
                OneFeature("{field: amount, transform: number}\n"),
                {"f.yaml:2:5: features[0]: missing key 'name'"}},
        BadSpec{"MissingField",
                OneFeature("{name: a, transform: number}\n"),
                {"features[0]: missing key 'field'"}},
        BadSpec{"MissingTransform",
                OneFeature("{name: a, field: amount}\n"),
                {"features[0]: missing key 'transform'"}},
        BadSpec{"EmptyName",
                OneFeature("{name: '', field: amount, transform: number}\n"),
                {"f.yaml:2:12: features[0].name: expected a non-empty string"}},
        BadSpec{"NameNotAString",
                OneFeature("{name: [a], field: amount, transform: number}\n"),
                {"features[0].name: expected a non-empty string"}},
        BadSpec{"DuplicateName",
                "features:\n  - {name: a, field: amount, transform: number}\n"
                "  - {name: a, field: id, transform: number}\n",
                {"f.yaml:3:12: features[1].name: 'a' is already the name of a feature"}},
        BadSpec{"UnknownField",
                OneFeature("{name: a, field: merchant, transform: number}\n"),
                {"f.yaml:2:22: features[0].field: 'merchant' is not a transaction field; "
                 "allowed: id, customer_id, vendor_id, amount, timestamp, status"}},
        BadSpec{"UnknownTransform",
                OneFeature("{name: a, field: amount, transform: log}\n"),
                {"features[0].transform: 'log' is not a transform; allowed: number, "
                 "unix_seconds, index"}},
        BadSpec{"NumberOnStatus",
                OneFeature("{name: a, field: status, transform: number}\n"),
                {"f.yaml:2:41: features[0].transform: 'number' does not fit field 'status' (a "
                 "string); allowed fields for 'number': id, customer_id, vendor_id, amount"}},
        BadSpec{"NumberOnTimestamp",
                OneFeature("{name: a, field: timestamp, transform: number}\n"),
                {"'number' does not fit field 'timestamp' (a date-time)"}},
        BadSpec{"UnixSecondsOnAmount",
                OneFeature("{name: a, field: amount, transform: unix_seconds}\n"),
                {"'unix_seconds' does not fit field 'amount' (a number); allowed fields for "
                 "'unix_seconds': timestamp"}},
        BadSpec{"IndexOnVendorId",
                OneFeature("{name: a, field: vendor_id, transform: index, values: [x]}\n"),
                {"'index' does not fit field 'vendor_id' (an integer); allowed fields for "
                 "'index': status"}},
        BadSpec{"ValuesWithoutIndex",
                OneFeature("{name: a, field: amount, transform: number, values: [x]}\n"),
                {"features[0].values: only allowed with transform 'index'"}},
        BadSpec{"DefaultWithoutIndex",
                OneFeature("{name: a, field: amount, transform: number, default: 0}\n"),
                {"features[0].default: only allowed with transform 'index'"}},
        BadSpec{"IndexWithoutValues",
                OneFeature("{name: a, field: status, transform: index}\n"),
                {"f.yaml:2:5: features[0]: missing key 'values' (transform 'index')"}},
        BadSpec{"ValuesNotAList",
                OneFeature("{name: a, field: status, transform: index, values: accepted}\n"),
                {"features[0].values: expected a non-empty list of strings"}},
        BadSpec{"ValuesEmpty",
                OneFeature("{name: a, field: status, transform: index, values: []}\n"),
                {"features[0].values: expected a non-empty list of strings"}},
        BadSpec{"ValueNotAString",
                OneFeature("{name: a, field: status, transform: index, values: [a, [b]]}\n"),
                {"features[0].values[1]: expected a non-empty string"}},
        BadSpec{"ValueTwice",
                OneFeature("{name: a, field: status, transform: index, values: [a, b, a]}\n"),
                {"features[0].values[2]: 'a' is listed twice"}},
        BadSpec{"DefaultNotANumber",
                OneFeature("{name: a, field: status, transform: index, values: [a], default: none}\n"),
                {"features[0].default: expected a finite number"}},
        BadSpec{"DefaultNotFinite",
                OneFeature("{name: a, field: status, transform: index, values: [a], default: .nan}\n"),
                {"features[0].default: expected a finite number"}}),
    [](const ::testing::TestParamInfo<BadSpec>& info) { return std::string(info.param.name); });

class FeatureExtractorTest : public ::testing::Test {
 protected:
  FeatureExtractor upstream_{UpstreamFeatureSpec()};
};

TEST_F(FeatureExtractorTest, UpstreamExampleBecomesTimestampStatusVendorAmount) {
  std::vector<float> rows;
  upstream_.Extract({UpstreamExample()}, &rows);
  EXPECT_EQ(upstream_.width(), 4u);
  EXPECT_THAT(rows, ElementsAre(1672574400.0f, 1.0f, 1.0f, 100.0f));
}

TEST_F(FeatureExtractorTest, StatusIsIndexInSubmittedAcceptedRejectedElseMinusOne) {
  std::vector<Transaction> txs(4, UpstreamExample());
  txs[0].status = "submitted";
  txs[1].status = "accepted";
  txs[2].status = "rejected";
  txs[3].status = "pending";
  std::vector<float> rows;
  upstream_.Extract(txs, &rows);
  ASSERT_EQ(rows.size(), 16u);
  EXPECT_EQ(rows[0 * 4 + 1], 0.0f);
  EXPECT_EQ(rows[1 * 4 + 1], 1.0f);
  EXPECT_EQ(rows[2 * 4 + 1], 2.0f);
  EXPECT_EQ(rows[3 * 4 + 1], -1.0f);
}

TEST_F(FeatureExtractorTest, RowsAreRowMajorInTransactionOrder) {
  std::vector<Transaction> txs(3, UpstreamExample());
  txs[1].vendor_id = 7;
  txs[1].amount = 12.5;
  txs[2].timestamp_unix_s = 1767225600;
  std::vector<float> rows;
  upstream_.Extract(txs, &rows);
  EXPECT_THAT(rows,
              ElementsAre(1672574400.0f, 1, 1, 100, 1672574400.0f, 1, 7, 12.5f, 1767225600.0f, 1, 1, 100));
}

TEST_F(FeatureExtractorTest, NumberTransformReadsEveryNumericField) {
  Result<FeatureSpec> spec = LoadFeatureSpecString(R"(features:
  - {name: i, field: id, transform: number}
  - {name: c, field: customer_id, transform: number}
  - {name: v, field: vendor_id, transform: number}
  - {name: a, field: amount, transform: number}
  - {name: s, field: status, transform: index, values: [pending], default: 9}
)",
                                                   "f.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  FeatureExtractor extractor(*spec);
  Transaction tx = UpstreamExample();
  tx.id = 11;
  tx.customer_id = 22;
  tx.vendor_id = 33;
  tx.amount = 44.25;
  std::vector<float> rows;
  extractor.Extract({tx}, &rows);
  EXPECT_THAT(rows, ElementsAre(11, 22, 33, 44.25f, 9));
}

TEST_F(FeatureExtractorTest, NonIntegerIdsAreFedAsTheirValues) {
  Result<FeatureSpec> spec = LoadFeatureSpecString(R"(features:
  - {name: i, field: id, transform: number}
  - {name: v, field: vendor_id, transform: number}
)",
                                                   "f.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  FeatureExtractor extractor(*spec);
  Transaction tx = UpstreamExample();
  tx.id = 0;
  tx.id_text = "5005.50";
  tx.vendor_id = 3.75;
  std::vector<float> rows;
  extractor.Extract({tx}, &rows);
  EXPECT_THAT(rows, ElementsAre(5005.5f, 3.75f));
  upstream_.Extract({tx}, &rows);
  EXPECT_EQ(rows[2], 3.75f) << "vendor_id in the upstream features";
}

TEST_F(FeatureExtractorTest, ReusesOutputCapacity) {
  std::vector<float> rows;
  upstream_.Extract(std::vector<Transaction>(100, UpstreamExample()), &rows);
  const float* data = rows.data();
  const size_t capacity = rows.capacity();
  upstream_.Extract(std::vector<Transaction>(10, UpstreamExample()), &rows);
  EXPECT_EQ(rows.size(), 40u);
  EXPECT_EQ(rows.data(), data);
  EXPECT_EQ(rows.capacity(), capacity);
}

TEST_F(FeatureExtractorTest, EmptyBatchGivesNoRows) {
  std::vector<float> rows(8, 1.0f);
  upstream_.Extract({}, &rows);
  EXPECT_TRUE(rows.empty());
}

}  // namespace
}  // namespace scorepipe
