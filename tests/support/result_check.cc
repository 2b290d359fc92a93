#include "tests/support/result_check.h"

#include <simdjson.h>

#include <cmath>
#include <unordered_map>

#include "config/topology.h"
#include "proto/timestamp.h"
#include "proto/upstream_json.h"
#include "scoring/model.h"
#include "training/synthetic.h"

namespace scorepipe::testing {

SyntheticInput MakeSyntheticInput(size_t count, int64_t first_id, uint64_t seed) {
  SyntheticTransactions generator(seed, first_id);
  SyntheticInput input;
  input.messages.reserve(count);
  input.parsed.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    LabelledTransaction t = generator.Next();
    input.messages.push_back(std::move(t.json));
    input.parsed.push_back(std::move(t.parsed));
  }
  return input;
}

Result<ParsedResult> ParseUpstreamResult(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return Status::Error("not JSON: " + json);
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return Status::Error("not an object: " + json);
  ParsedResult r;
  if (object.size() == 6) {
    std::string_view model, version;
    if (object["model"].get_string().get(model) != simdjson::SUCCESS ||
        object["model_version"].get_string().get(version) != simdjson::SUCCESS) {
      return Status::Error("expected the 4 upstream keys, model and model_version: " + json);
    }
    r.model = std::string(model);
    r.model_version = std::string(version);
  } else if (object.size() != 4) {
    return Status::Error("expected the 4 upstream keys (and model, model_version): " + json);
  }
  std::string_view timestamp;
  if (object["transaction_id"].get_int64().get(r.transaction_id) == simdjson::SUCCESS) {
    r.transaction_id_number = static_cast<double>(r.transaction_id);
  } else if (object["transaction_id"].get_double().get(r.transaction_id_number) == simdjson::SUCCESS &&
             r.transaction_id_number >= 1 && r.transaction_id_number < 9.2e18) {
    r.transaction_id = static_cast<int64_t>(r.transaction_id_number);  // an id written 5005.5 or 7e0
  } else {
    return Status::Error("bad field types: " + json);
  }
  if (object["timestamp"].get_string().get(timestamp) != simdjson::SUCCESS ||
      object["is_fraudulent"].get_int64().get(r.is_fraudulent) != simdjson::SUCCESS ||
      object["confidence"].get_double().get(r.confidence) != simdjson::SUCCESS) {
    // confidence may be written as an integer literal (0 or 1).
    int64_t whole = 0;
    if (object["confidence"].get_int64().get(whole) != simdjson::SUCCESS)
      return Status::Error("bad field types: " + json);
    r.confidence = static_cast<double>(whole);
  }
  r.timestamp = std::string(timestamp);
  if (r.transaction_id_number < 1) return Status::Error("transaction_id < 1: " + json);
  if (r.is_fraudulent != 0 && r.is_fraudulent != 1) return Status::Error("is_fraudulent not 0/1: " + json);
  if (!(r.confidence >= 0 && r.confidence <= 1)) return Status::Error("confidence outside [0,1]: " + json);
  if (r.timestamp.size() != 24 || r.timestamp.back() != 'Z' || !ParseTimestamp(r.timestamp).ok()) {
    return Status::Error("timestamp not ISO-8601 with ms in UTC: " + json);
  }
  return r;
}

Status CheckAgainstModel(const std::vector<std::string>& results, const std::vector<Transaction>& pushed,
                         const std::string& config_path) {
  auto topology = LoadTopologyFile(config_path);
  if (!topology.ok()) return topology.status();
  auto scorer = LoadScorer(topology->model);
  if (!scorer.ok()) return scorer.status();
  std::vector<ScoreResult> expected;
  if (Status s = scorer->Score(pushed, &expected); !s.ok()) return s;
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < pushed.size(); ++i) index[pushed[i].id] = i;
  std::unordered_map<int64_t, int> seen;
  for (const std::string& json : results) {
    auto r = ParseUpstreamResult(json);
    if (!r.ok()) return r.status();
    auto it = index.find(r->transaction_id);
    if (it == index.end()) return Status::Error("result for an id never pushed: " + json);
    if (++seen[r->transaction_id] > 1) return Status::Error("duplicate result: " + json);
    const ScoreResult& want = expected[it->second];
    if (r->is_fraudulent != want.is_fraudulent || std::fabs(r->confidence - want.confidence) > 1e-12) {
      return Status::Error("result differs from the model's prediction (is_fraudulent " +
                           std::to_string(want.is_fraudulent) + ", confidence " +
                           std::to_string(want.confidence) + "): " + json);
    }
  }
  return Status::Ok();
}

}  // namespace scorepipe::testing
