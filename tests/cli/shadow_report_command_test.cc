// BuildShadowReport and friends: the figures of `scorepipe model
// shadow-report` on small cases computed by hand.
#include "cli/shadow_report_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An entry as the sink writes it: v1 live, v2 in shadow.
std::string Entry(int64_t id, double live, int live_fraud, double shadow, int shadow_fraud) {
  std::string out;
  AppendShadowJson(ScoreResult{id, live, live_fraud, 0, "", ""},
                   ScoreResult{id, shadow, shadow_fraud, 0, "", ""}, "2026-11-24T00:00:00.000Z",
                   ShadowScores{"fraud", "v1", "v2"}, &out);
  return out;
}

// Four entries: two agree on "not fraud", one only the shadow flags, one only the live.
std::vector<std::string> FourEntries() {
  return {Entry(1, 0.05, 0, 0.15, 0), Entry(2, 0.08, 0, 0.12, 0), Entry(3, 0.15, 0, 0.60, 1),
          Entry(4, 0.90, 1, 0.25, 0)};
}

TEST(ShadowReportTest, ParsesWhatTheSinkWrites) {
  Result<ShadowEntry> entry = ParseShadowEntry(Entry(7, 0.125, 0, 0.75, 1));
  ASSERT_TRUE(entry.ok()) << entry.status().message();
  EXPECT_EQ(entry->transaction_id, 7);
  EXPECT_EQ(entry->live_version, "v1");
  EXPECT_EQ(entry->shadow_version, "v2");
  EXPECT_EQ(entry->live_probability, 0.125);
  EXPECT_EQ(entry->shadow_probability, 0.75);
  EXPECT_FALSE(entry->live_fraudulent);
  EXPECT_TRUE(entry->shadow_fraudulent);
  EXPECT_THAT(ParseShadowEntry("{\"transaction_id\":1}").status().message(), HasSubstr("live_version"));
  EXPECT_FALSE(ParseShadowEntry("not json").ok());
}

TEST(ShadowReportTest, AgreementDecisionsDeltasAndMeans) {
  const ShadowReport report = BuildShadowReport(FourEntries());
  EXPECT_EQ(report.entries, 4u);
  EXPECT_EQ(report.unreadable, 0u);
  EXPECT_EQ(report.decisions[0][0], 2u);
  EXPECT_EQ(report.decisions[0][1], 1u);
  EXPECT_EQ(report.decisions[1][0], 1u);
  EXPECT_EQ(report.decisions[1][1], 0u);
  EXPECT_DOUBLE_EQ(report.agreement, 0.5);
  EXPECT_NEAR(report.mean_abs_delta, (0.10 + 0.04 + 0.45 + 0.65) / 4, 1e-12);
  EXPECT_NEAR(report.max_abs_delta, 0.65, 1e-12);
  EXPECT_NEAR(report.mean_live, (0.05 + 0.08 + 0.15 + 0.90) / 4, 1e-12);
  EXPECT_NEAR(report.mean_shadow, (0.15 + 0.12 + 0.60 + 0.25) / 4, 1e-12);
  EXPECT_THAT(report.live_versions, ElementsAre(std::pair<const std::string, uint64_t>("v1", 4)));
  EXPECT_THAT(report.shadow_versions, ElementsAre(std::pair<const std::string, uint64_t>("v2", 4)));
}

TEST(ShadowReportTest, HistogramsAndPsi) {
  const ShadowReport report = BuildShadowReport(FourEntries());
  EXPECT_THAT(report.live_histogram, ElementsAre(2, 1, 0, 0, 0, 0, 0, 0, 0, 1));
  EXPECT_THAT(report.shadow_histogram, ElementsAre(0, 2, 1, 0, 0, 0, 1, 0, 0, 0));
  // Shares live [.5 .25 0 0 0 0 0 0 0 .25], shadow [0 .5 .25 0 0 0 .25 0 0 0];
  // a share of 0 counts as 1e-4; bins where both are 0 add nothing.
  const double f = kPsiFloor;
  const double expected = (f - 0.5) * std::log(f / 0.5) + (0.5 - 0.25) * std::log(0.5 / 0.25) +
                          2 * (0.25 - f) * std::log(0.25 / f) + (f - 0.25) * std::log(f / 0.25);
  EXPECT_NEAR(report.psi, expected, 1e-12);
}

TEST(ShadowReportTest, TheSameDistributionHasAPsiOfZero) {
  ShadowHistogram histogram{5, 3, 0, 0, 0, 0, 0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(PopulationStabilityIndex(histogram, histogram), 0);
  ShadowHistogram doubled{};
  for (size_t i = 0; i < kShadowBins; ++i) doubled[i] = 2 * histogram[i];
  EXPECT_NEAR(PopulationStabilityIndex(histogram, doubled), 0, 1e-15) << "shares, not counts";
  EXPECT_EQ(PopulationStabilityIndex(histogram, ShadowHistogram{}), 0) << "nothing to compare";
}

TEST(ShadowReportTest, TheEdgesGoInTheOuterBins) {
  const ShadowReport report = BuildShadowReport({Entry(1, 0.0, 0, 1.0, 1), Entry(2, 0.1, 0, 0.999, 1)});
  EXPECT_THAT(report.live_histogram, ElementsAre(1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(report.shadow_histogram, ElementsAre(0, 0, 0, 0, 0, 0, 0, 0, 0, 2));
  EXPECT_DOUBLE_EQ(report.agreement, 0);
}

TEST(ShadowReportTest, UnreadableEntriesAreCountedAndLeftOut) {
  std::vector<std::string> messages = FourEntries();
  messages.push_back("{\"transaction_id\":5}");
  const ShadowReport report = BuildShadowReport(messages);
  EXPECT_EQ(report.entries, 4u);
  EXPECT_EQ(report.unreadable, 1u);
  EXPECT_DOUBLE_EQ(report.agreement, 0.5);
  EXPECT_THAT(FormatShadowReport(report), HasSubstr("4 (1 unreadable, left out)"));
}

TEST(ShadowReportTest, TextAndJsonCarryTheFigures) {
  const ShadowReport report = BuildShadowReport(FourEntries());
  const std::string text = FormatShadowReport(report);
  EXPECT_THAT(text, HasSubstr("agreement:        50.00% same is_fraudulent"));
  EXPECT_THAT(text, HasSubstr("live versions:    v1 (4)"));
  EXPECT_THAT(text, HasSubstr("|delta P(fraud)|: mean 0.3100, max 0.6500"));
  EXPECT_THAT(text, HasSubstr("PSI:"));
  const std::string json = ShadowReportJson(report);
  EXPECT_THAT(json, HasSubstr("\"entries\":4,"));
  EXPECT_THAT(json, HasSubstr("\"agreement\":0.5,"));
  EXPECT_THAT(json, HasSubstr("\"live_1_shadow_0\":1"));
  EXPECT_THAT(json, HasSubstr("\"live_histogram\":[2,1,0,0,0,0,0,0,0,1]"));
  EXPECT_THAT(FormatShadowReport(BuildShadowReport({})), HasSubstr("nothing to compare"));
}

TEST(ShadowReportTest, JsonWritesEveryFigureInItsFormatAndOrder) {
  ShadowReport report;
  report.entries = 3;
  report.unreadable = 1;
  report.live_versions = {{"v1", 2}, {"v\"2", 1}};
  report.shadow_versions = {{"v3", 3}};
  report.decisions[0][0] = 1;
  report.decisions[1][0] = 1;
  report.decisions[1][1] = 1;
  report.agreement = 2.0 / 3;
  report.mean_abs_delta = 0.125;
  report.max_abs_delta = 0.5;
  report.mean_live = 0.25;
  report.mean_shadow = 1e-7;
  report.live_histogram = {1, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  report.shadow_histogram = {0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
  report.psi = 12.3456789;
  EXPECT_EQ(
      ShadowReportJson(report),
      R"({"entries":3,"unreadable":1,"live_versions":{"v\"2":1,"v1":2},"shadow_versions":{"v3":3},)"
      R"("agreement":0.666667,"decisions":{"live_0_shadow_0":1,"live_0_shadow_1":0,"live_1_shadow_0":1,)"
      R"("live_1_shadow_1":1},"mean_abs_delta":0.125,"max_abs_delta":0.5,"mean_live":0.25,)"
      R"("mean_shadow":1e-07,"live_histogram":[1,0,0,0,0,0,0,0,0,2],)"
      R"("shadow_histogram":[0,0,0,0,0,0,0,0,0,3],"psi":12.3457})");
  EXPECT_EQ(
      ShadowReportJson(ShadowReport{}),
      R"({"entries":0,"unreadable":0,"live_versions":{},"shadow_versions":{},"agreement":0,)"
      R"("decisions":{"live_0_shadow_0":0,"live_0_shadow_1":0,"live_1_shadow_0":0,"live_1_shadow_1":0},)"
      R"("mean_abs_delta":0,"max_abs_delta":0,"mean_live":0,"mean_shadow":0,)"
      R"("live_histogram":[0,0,0,0,0,0,0,0,0,0],"shadow_histogram":[0,0,0,0,0,0,0,0,0,0],"psi":0})");
}

}  // namespace
}  // namespace scorepipe
