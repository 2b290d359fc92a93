// The formats that moved onto JsonWriter (the upstream result, the shadow
// entry, the dead letter, the evaluation figures) write, byte for byte, what
// their hand-built writers wrote, on generated inputs of every kind. Those
// writers are kept here, as they were (with the string escaper and base64
// spelt apart from the code under test), as the reference.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "proto/evaluation.h"
#include "proto/upstream_json.h"
#include "tests/proto/json_property_support.h"

namespace scorepipe {
namespace {

using testing::RandomDouble;
using testing::RandomJsonText;
using testing::ReferenceJsonString;

// ---------------------------------------------------------------------------
// The former writers

namespace former {

template <typename Number>
void AppendNumber(Number value, std::string* out) {
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, r.ptr);
}

void AppendTransactionId(int64_t id, std::string_view id_text, std::string* out) {
  if (id_text.empty()) {
    AppendNumber(id, out);
  } else {
    out->append(id_text);
  }
}

void AppendResultOpening(const ScoreResult& result, std::string_view timestamp, std::string* out) {
  out->append("{\"transaction_id\":");
  AppendTransactionId(result.transaction_id, result.transaction_id_text, out);
  out->append(",\"timestamp\":");
  ReferenceJsonString(timestamp, out);
}

void AppendProbability(double value, std::string* out) {
  if (std::isfinite(value)) {
    AppendNumber(value, out);
  } else {
    out->append("null");
  }
}

void AppendResultJson(const ScoreResult& result, std::string_view timestamp, const ResultModel* model,
                      std::string* out) {
  AppendResultOpening(result, timestamp, out);
  out->append(",\"is_fraudulent\":");
  AppendNumber(result.is_fraudulent, out);
  out->append(",\"confidence\":");
  AppendProbability(result.confidence, out);
  if (model != nullptr && !model->name.empty()) {
    out->append(",\"model\":");
    ReferenceJsonString(model->name, out);
  }
  if (model != nullptr && !model->version.empty()) {
    out->append(",\"model_version\":");
    ReferenceJsonString(model->version, out);
  }
  out->push_back('}');
}

void AppendShadowJson(const ScoreResult& live, const ScoreResult& shadow, std::string_view timestamp,
                      const ShadowScores& versions, std::string* out) {
  auto append_side = [out](std::string_view side, std::string_view version, const ScoreResult& result) {
    out->append(",\"").append(side).append("_version\":");
    ReferenceJsonString(version, out);
    out->append(",\"").append(side).append("_probability\":");
    AppendProbability(result.fraud_probability, out);
    out->append(",\"").append(side).append("_is_fraudulent\":");
    AppendNumber(result.is_fraudulent, out);
  };
  AppendResultOpening(live, timestamp, out);
  out->append(",\"model\":");
  ReferenceJsonString(versions.model, out);
  append_side("live", versions.live_version, live);
  append_side("shadow", versions.shadow_version, shadow);
  out->push_back('}');
}

// Standard base64 with padding, spelt as a bit accumulator.
std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int held = 0;
  for (const char c : bytes) {
    bits = (bits << 8) | static_cast<uint8_t>(c);
    for (held += 8; held >= 6; held -= 6) out.push_back(kAlphabet[(bits >> (held - 6)) & 63]);
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string DeadLetterJson(std::string_view reason, std::string_view stage, std::string_view original,
                           int64_t failed_at_us) {
  const bool valid_utf8 = simdjson::validate_utf8(original.data(), original.size());
  const std::string_view kept = valid_utf8 ? Utf8Prefix(original, kDeadLetterMessageBytes)
                                           : original.substr(0, kDeadLetterMessageBytes);
  const std::string_view why = Utf8Prefix(reason, kDeadLetterReasonBytes);
  std::string out;
  out.append("{\"reason\":");
  ReferenceJsonString(why, &out);
  out.append(",\"stage\":");
  ReferenceJsonString(stage, &out);
  out.append(",\"failed_at\":\"");
  out.append(FormatIso8601Millis(failed_at_us));
  if (valid_utf8) {
    out.append("\",\"message\":");
    ReferenceJsonString(kept, &out);
  } else {
    out.append("\",\"message_base64\":\"");
    out.append(Base64(kept));
    out.push_back('"');
  }
  if (kept.size() < original.size()) {
    out.append(",\"message_bytes\":");
    out.append(std::to_string(original.size()));
    out.append(",\"message_truncated\":true");
  }
  out.push_back('}');
  return out;
}

void AppendDouble(double value, std::string* out) { AppendNumber(value, out); }

void AppendKey(const char* key, std::string* out) {
  if (out->back() != '{') *out += ',';
  ReferenceJsonString(key, out);
  *out += ':';
}

void AppendField(const char* key, double value, std::string* out) {
  AppendKey(key, out);
  AppendDouble(value, out);
}

void AppendField(const char* key, size_t value, std::string* out) {
  AppendKey(key, out);
  *out += std::to_string(value);
}

void AppendOptionalField(const char* key, const std::optional<double>& value, const std::string& why_not,
                         std::string* out) {
  AppendKey(key, out);
  if (value) {
    AppendDouble(*value, out);
    return;
  }
  *out += "null";
  if (why_not.empty()) return;
  AppendKey((std::string(key) + "_undefined").c_str(), out);
  ReferenceJsonString(why_not, out);
}

std::string EvaluationToJson(const Evaluation& e) {
  std::string out = "{";
  AppendField("rows", e.rows, &out);
  AppendField("positives", e.positives, &out);
  AppendField("negatives", e.negatives, &out);
  AppendField("threshold", e.threshold, &out);
  AppendOptionalField("roc_auc", e.roc_auc, e.roc_auc_undefined, &out);
  AppendOptionalField("average_precision", e.average_precision, e.average_precision_undefined, &out);
  AppendField("precision", e.precision, &out);
  AppendField("recall", e.recall, &out);
  AppendField("f1", e.f1, &out);
  AppendField("accuracy", e.accuracy, &out);
  AppendField("log_loss", e.log_loss, &out);
  AppendField("brier", e.brier, &out);
  AppendKey("confusion", &out);
  out += '{';
  AppendField("true_positives", e.confusion.true_positives, &out);
  AppendField("false_positives", e.confusion.false_positives, &out);
  AppendField("true_negatives", e.confusion.true_negatives, &out);
  AppendField("false_negatives", e.confusion.false_negatives, &out);
  out += '}';
  AppendKey("calibration", &out);
  out += '[';
  for (const CalibrationBin& bin : e.calibration) {
    if (out.back() != '[') out += ',';
    out += '{';
    AppendField("lower", bin.lower, &out);
    AppendField("upper", bin.upper, &out);
    AppendField("count", bin.count, &out);
    const std::optional<double> mean = bin.count > 0 ? std::optional(bin.mean_predicted) : std::nullopt;
    const std::optional<double> rate = bin.count > 0 ? std::optional(bin.observed_rate) : std::nullopt;
    AppendOptionalField("mean_predicted", mean, "", &out);
    AppendOptionalField("observed_rate", rate, "", &out);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace former

// ---------------------------------------------------------------------------
// Inputs

// An id token as a message may spell it (TransactionParser keeps any JSON
// number >= 1 as written), or now and then any text: the writers copy it as
// it is either way.
std::string RandomIdText(std::mt19937_64& rng) {
  static constexpr const char* kTokens[] = {"5005.50", "1.0", "1e3", "1E+22", "18446744073709551615",
                                            "0.5e-3"};
  switch (rng() % 4) {
    case 0:
      return "";
    case 1:
      return kTokens[rng() % std::size(kTokens)];
    case 2:
      return std::to_string(rng()) + "." + std::to_string(rng() % 1000);
    default:
      return RandomJsonText(rng, 3);
  }
}

ScoreResult RandomResult(std::mt19937_64& rng) {
  ScoreResult r;
  r.transaction_id = static_cast<int64_t>(rng());
  r.transaction_id_text = RandomIdText(rng);
  r.fraud_probability = RandomDouble(rng);
  r.confidence = RandomDouble(rng);
  r.is_fraudulent = rng() % 2 == 0 ? static_cast<int32_t>(rng() % 2) : static_cast<int32_t>(rng());
  return r;
}

std::string RandomTimestamp(std::mt19937_64& rng) {
  return rng() % 2 == 0 ? FormatIso8601Millis(static_cast<int64_t>(rng())) : RandomJsonText(rng, 4);
}

// Text from empty to past `limit` bytes (limit-ish lengths the most, so that
// the cut at a character's edge meets every kind of character): valid UTF-8
// half the time.
std::string RandomLongText(std::mt19937_64& rng, size_t limit) {
  std::string text;
  const size_t length = rng() % 3 == 0 ? rng() % 64 : limit - 16 + rng() % 40;
  while (text.size() < length) text += RandomJsonText(rng, 4);
  return rng() % 2 == 0 ? testing::WithInvalidUtf8Replaced(text) : text;
}

// ---------------------------------------------------------------------------

TEST(JsonFormatsUnchangedTest, ResultJsonIsByteForByteWhatTheFormerWriterWrote) {
  std::mt19937_64 rng(1807);
  for (int round = 0; round < 400000; ++round) {
    const ScoreResult result = RandomResult(rng);
    const std::string timestamp = RandomTimestamp(rng);
    const std::string name = rng() % 3 == 0 ? "" : RandomJsonText(rng, 3);
    const std::string version = rng() % 3 == 0 ? "" : RandomJsonText(rng, 3);
    const ResultModel model{name, version};
    const ResultModel* named = rng() % 4 == 0 ? nullptr : &model;
    std::string out = round % 2 == 0 ? "" : "[";  // appended after what is there
    std::string expected = out;
    AppendResultJson(result, timestamp, named, &out);
    former::AppendResultJson(result, timestamp, named, &expected);
    ASSERT_EQ(out, expected) << round;
  }
}

TEST(JsonFormatsUnchangedTest, ShadowJsonIsByteForByteWhatTheFormerWriterWrote) {
  std::mt19937_64 rng(1808);
  for (int round = 0; round < 200000; ++round) {
    const ScoreResult live = RandomResult(rng);
    ScoreResult shadow = RandomResult(rng);
    shadow.transaction_id = live.transaction_id;
    const std::string timestamp = RandomTimestamp(rng);
    const std::string model = RandomJsonText(rng, 3);
    const std::string live_version = RandomJsonText(rng, 3);
    const std::string shadow_version = RandomJsonText(rng, 3);
    const ShadowScores versions{model, live_version, shadow_version};
    std::string out;
    std::string expected;
    AppendShadowJson(live, shadow, timestamp, versions, &out);
    former::AppendShadowJson(live, shadow, timestamp, versions, &expected);
    ASSERT_EQ(out, expected) << round;
  }
}

TEST(JsonFormatsUnchangedTest, DeadLetterJsonIsByteForByteWhatTheFormerWriterWrote) {
  std::mt19937_64 rng(1809);
  simdjson::dom::parser parser;
  size_t kinds[2][2] = {};  // entries by [original not UTF-8][original cut]: every kind is met
  for (int round = 0; round < 20000; ++round) {
    const std::string reason = RandomLongText(rng, kDeadLetterReasonBytes);
    const std::string stage = rng() % 2 == 0 ? "bridge" : RandomJsonText(rng, 3);
    const std::string original = RandomLongText(rng, kDeadLetterMessageBytes);
    const auto failed_at_us = static_cast<int64_t>(rng());
    const std::string out = DeadLetterJson(reason, stage, original, failed_at_us);
    ASSERT_EQ(out, former::DeadLetterJson(reason, stage, original, failed_at_us)) << round;
    ASSERT_LE(out.size(), kMaxDeadLetterJsonBytes);
    simdjson::dom::element parsed;
    ASSERT_EQ(parser.parse(out).get(parsed), simdjson::SUCCESS) << out;
    ++kinds[out.find("\"message_base64\"") != std::string::npos]
           [out.find("\"message_truncated\"") != std::string::npos];
  }
  for (const auto& by_cut : kinds) {
    for (const size_t entries : by_cut) EXPECT_GT(entries, 1000u);
  }
}

// Finite figures (a NaN or infinite one was written as nan or inf, which is
// not JSON; JsonWriter writes null: EvaluationJson.NonFiniteFiguresAreNull).
TEST(JsonFormatsUnchangedTest, EvaluationJsonIsByteForByteWhatTheFormerWriterWrote) {
  std::mt19937_64 rng(1810);
  const auto figure = [&rng] {
    double d = RandomDouble(rng);
    while (!std::isfinite(d)) d = RandomDouble(rng);
    return d;
  };
  const auto optional_figure = [&](std::string* why_not) -> std::optional<double> {
    if (rng() % 3 != 0) return figure();
    *why_not = rng() % 2 == 0 ? "" : RandomJsonText(rng, 4);
    return std::nullopt;
  };
  for (int round = 0; round < 30000; ++round) {
    Evaluation e;
    e.rows = rng();
    e.positives = rng();
    e.negatives = rng() >> (rng() % 64);
    e.threshold = figure();
    e.roc_auc = optional_figure(&e.roc_auc_undefined);
    e.average_precision = optional_figure(&e.average_precision_undefined);
    e.precision = figure();
    e.recall = figure();
    e.f1 = figure();
    e.accuracy = figure();
    e.log_loss = figure();
    e.brier = figure();
    e.confusion = {rng(), rng() % 1000, rng(), rng() >> 40};
    e.calibration.resize(rng() % 12);
    for (CalibrationBin& bin : e.calibration) {
      bin = {figure(), figure(), rng() % 3 == 0 ? 0 : rng() >> (rng() % 64), figure(), figure()};
    }
    ASSERT_EQ(EvaluationToJson(e), former::EvaluationToJson(e)) << round;
  }
}

TEST(EvaluationJsonTest, NonFiniteFiguresAreNull) {
  Evaluation e;
  e.threshold = std::numeric_limits<double>::quiet_NaN();
  e.roc_auc = std::numeric_limits<double>::infinity();
  e.calibration.push_back({0, 1, 2, -std::numeric_limits<double>::infinity(), 0.5});
  const std::string json = EvaluationToJson(e);
  EXPECT_NE(json.find("\"threshold\":null,\"roc_auc\":null,\"average_precision\":null,"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"count\":2,\"mean_predicted\":null,\"observed_rate\":0.5}"), std::string::npos)
      << json;
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  EXPECT_EQ(parser.parse(json).get(parsed), simdjson::SUCCESS) << json;
}

}  // namespace
}  // namespace scorepipe
