// The hostile corpus' own tests: the same seed gives the same corpus, every
// kind shows up, the sizes keep to the limit, a hand-checked sample carries
// the labels the upstream's rules give, and the bridge's parser agrees with
// every label.
#include "tests/support/hostile_corpus.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "proto/upstream_json.h"

namespace scorepipe::testing {
namespace {

std::vector<CorpusMessage> Generate(const HostileCorpusOptions& options, size_t count) {
  HostileCorpus corpus(options);
  std::vector<CorpusMessage> out;
  for (size_t i = 0; i < count; ++i) out.push_back(corpus.Next());
  return out;
}

// The first message of `kind` whose variant is `variant` (within a bound).
CorpusMessage Find(HostileCorpus& corpus, HostileKind kind, const std::string& variant) {
  for (int i = 0; i < 20000; ++i) {
    CorpusMessage m = corpus.Next(kind);
    if (m.variant == variant) return m;
  }
  ADD_FAILURE() << "no " << HostileKindName(kind) << " message of variant '" << variant << "'";
  return {};
}

TEST(HostileCorpusTest, SameSeedGivesTheSameCorpus) {
  HostileCorpusOptions options;
  options.seed = 7;
  const std::vector<CorpusMessage> a = Generate(options, 600);
  const std::vector<CorpusMessage> b = Generate(options, 600);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text) << i;
    EXPECT_EQ(a[i].kind, b[i].kind) << i;
    EXPECT_EQ(a[i].expect, b[i].expect) << i;
    EXPECT_EQ(a[i].id, b[i].id) << i;
    EXPECT_EQ(a[i].variant, b[i].variant) << i;
  }
  options.seed = 8;
  const std::vector<CorpusMessage> c = Generate(options, 600);
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].text == c[i].text ? 1 : 0;
  EXPECT_LT(same, a.size() / 4) << "another seed gives another corpus";
}

TEST(HostileCorpusTest, EveryKindAndBothLabelsAppear) {
  HostileCorpusOptions options;
  options.seed = 3;
  std::map<HostileKind, size_t> kinds;
  std::map<Expect, size_t> labels;
  for (const CorpusMessage& m : Generate(options, 3000)) {
    ++kinds[m.kind];
    ++labels[m.expect];
  }
  for (size_t k = 0; k < kHostileKinds; ++k) {
    const auto kind = static_cast<HostileKind>(k);
    EXPECT_GT(kinds[kind], 50u) << HostileKindName(kind);
  }
  EXPECT_GT(labels[Expect::kValid], 300u);
  EXPECT_GT(labels[Expect::kInvalid], 1500u);

  options.include_upstream_forms = false;
  HostileCorpus without_forms(options);
  EXPECT_EQ(without_forms.kinds().size(), kHostileKinds - 1);
  options.include_upstream_forms = true;
  for (const CorpusMessage& m : Generate(options, 600)) {
    if (m.kind == HostileKind::kUpstreamForms) {
      EXPECT_EQ(m.expect, Expect::kValid) << m.text;
    }
  }
}

TEST(HostileCorpusTest, IdsAreUniqueAndSizesKeepToTheLimit) {
  HostileCorpusOptions options;
  options.seed = 11;
  options.first_id = 100;
  std::set<double> ids;
  size_t over_a_megabyte = 0;
  for (const CorpusMessage& m : Generate(options, 4000)) {
    if (m.id != 0) {
      EXPECT_TRUE(ids.insert(m.id).second) << "id " << m.id << " twice";
    }
    if (m.expect == Expect::kValid) {
      EXPECT_LE(m.text.size(), options.max_message_bytes) << HostileKindName(m.kind) << " " << m.variant;
      EXPECT_GE(m.id, 1) << m.variant;
    }
    if (m.kind == HostileKind::kOversize) {
      EXPECT_GT(m.text.size(), options.max_message_bytes);
      EXPECT_LE(m.text.size(), options.max_huge_bytes);
      over_a_megabyte += m.text.size() > (1u << 20) ? 1 : 0;
    }
  }
  EXPECT_GT(over_a_megabyte, 0u);
}

TEST(HostileCorpusTest, HandCheckedSampleCarriesTheUpstreamsLabels) {
  HostileCorpusOptions options;
  options.seed = 5;
  HostileCorpus corpus(options);
  struct Sample {
    HostileKind kind;
    std::string variant;
    Expect expect;
    std::string contains;  // a piece of the text
  };
  const std::vector<Sample> samples = {
      {HostileKind::kNumberLimits, "amount=1e308", Expect::kValid, "1e308"},
      {HostileKind::kNumberLimits, "amount=-1e-300", Expect::kInvalid, "-1e-300"},
      {HostileKind::kNumberLimits, "amount=-0", Expect::kValid, "-0"},
      {HostileKind::kNumberLimits, "id=1e309", Expect::kInvalid, "1e309"},
      {HostileKind::kNumberLimits, "id=0.999", Expect::kInvalid, "0.999"},
      {HostileKind::kNumberLimits, "amount=NaN", Expect::kInvalid, "NaN"},
      {HostileKind::kFieldBoundary, "id=0", Expect::kInvalid, "\"id\""},
      {HostileKind::kFieldBoundary, "amount=-0.0", Expect::kValid, "-0.0"},
      {HostileKind::kFieldBoundary, "amount=0", Expect::kValid, "\"amount\""},
      {HostileKind::kFieldBoundary, "vendor_id=0", Expect::kInvalid, "\"vendor_id\""},
      {HostileKind::kStatusCase, "status=Accepted", Expect::kInvalid, "\"Accepted\""},
      {HostileKind::kTimestamp, "yesterday", Expect::kInvalid, "\"yesterday\""},
      {HostileKind::kTimestamp, "empty", Expect::kInvalid, "\"\""},
      {HostileKind::kDuplicateKeys, "id twice, last counts", Expect::kValid, "\"id\""},
      {HostileKind::kDuplicateKeys, "amount good, then bad", Expect::kInvalid, "-5"},
      {HostileKind::kTrailingGarbage, "trailing whitespace", Expect::kValid, "} \t\r\n"},
      {HostileKind::kTrailingGarbage, "two objects", Expect::kInvalid, "}{"},
      {HostileKind::kBom, "UTF-8 BOM", Expect::kInvalid, "\xef\xbb\xbf{"},
      {HostileKind::kBom, "BOM inside a value", Expect::kValid,
       "\xef\xbb\xbf"
       "bom"},
      {HostileKind::kNotAnObject, "string holding a transaction", Expect::kInvalid, "\\\"id\\\""},
      {HostileKind::kDeepNesting, "nested unknown key", Expect::kValid, "[[[[[[[[[["},
      {HostileKind::kNulAndBadUtf8, "escaped NUL in status", Expect::kInvalid, "\\u0000"},
      {HostileKind::kEscapes, "escaped known keys", Expect::kValid, "\\u0069d"},
  };
  for (const Sample& s : samples) {
    const CorpusMessage m = Find(corpus, s.kind, s.variant);
    EXPECT_EQ(m.expect, s.expect) << s.variant;
    EXPECT_NE(m.text.find(s.contains), std::string::npos) << s.variant << ": " << m.text.substr(0, 200);
  }
  // The id of "id twice" is the last one in the text.
  const CorpusMessage twice = Find(corpus, HostileKind::kDuplicateKeys, "id twice, last counts");
  const std::string last_id = std::to_string(static_cast<int64_t>(twice.id));
  EXPECT_GT(twice.text.rfind(last_id), twice.text.find("\"id\"", twice.text.find("\"id\"") + 1))
      << twice.text;

  // Exactly at the limit is valid, one byte over is not; without "amount" never.
  const CorpusMessage at = corpus.Padded(options.max_message_bytes);
  EXPECT_EQ(at.text.size(), options.max_message_bytes);
  EXPECT_EQ(at.expect, Expect::kValid);
  const CorpusMessage over = corpus.Padded(options.max_message_bytes + 1);
  EXPECT_EQ(over.text.size(), options.max_message_bytes + 1);
  EXPECT_EQ(over.expect, Expect::kInvalid);
  EXPECT_EQ(corpus.Padded(1000, /*complete=*/false).expect, Expect::kInvalid);

  const CorpusMessage many = corpus.Next(HostileKind::kManyKeys);
  EXPECT_EQ(many.expect, Expect::kValid);
  EXPECT_LE(many.text.size(), options.max_message_bytes);
  EXPECT_GT(std::count(many.text.begin(), many.text.end(), ':'), 1000);
}

// The bridge's parser and the labels should say the same of every message;
// a difference is a wrong label or a parser that departs from the upstream.
TEST(HostileCorpusTest, TheBridgesParserAgreesWithEveryLabel) {
  HostileCorpusOptions options;
  options.seed = 21;
  TransactionParser parser(options.max_message_bytes);
  std::map<std::string, size_t> disagreements;
  std::string first;
  for (const CorpusMessage& m : Generate(options, 6000)) {
    Result<Transaction> parsed = parser.Parse(m.text);
    const bool valid = m.expect == Expect::kValid;
    bool agrees = parsed.ok() == valid;
    if (agrees && valid) {
      // An id that is not a plain integer travels as its text.
      const double id = parsed->id_text.empty() ? static_cast<double>(parsed->id)
                                                : std::strtod(parsed->id_text.c_str(), nullptr);
      agrees = id == m.id;
    }
    if (!agrees) {
      const std::string what = std::string(HostileKindName(m.kind)) + " / " + m.variant;
      if (disagreements[what]++ == 0 && first.size() < 4000) {
        first += "\n  " + what + ": labelled " + (valid ? "valid" : "invalid") + ", parser says " +
                 (parsed.ok() ? "valid" : parsed.status().message().substr(0, 120));
      }
    }
  }
  EXPECT_TRUE(disagreements.empty()) << disagreements.size() << " variants disagree:" << first;
}

}  // namespace
}  // namespace scorepipe::testing
