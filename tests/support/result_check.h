// Checks of what the cluster wrote to Redis, shared by the integration and
// fault tests: upstream result schema and equality with the model's own
// prediction.
#ifndef SCOREPIPE_TESTS_SUPPORT_RESULT_CHECK_H_
#define SCOREPIPE_TESTS_SUPPORT_RESULT_CHECK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe::testing {

struct ParsedResult {
  int64_t transaction_id = 0;        // an id that is no integer: its whole part
  double transaction_id_number = 0;  // the id as a number (5005.5 stays 5005.5)
  std::string timestamp;
  int64_t is_fraudulent = 0;
  double confidence = 0;
  std::string model;          // empty when the result does not name it
  std::string model_version;  // likewise
};

// Parses one result and checks it against the upstream result schema: the
// four keys (and, from a sink with sink.model_fields include, the strings
// "model" and "model_version", nothing else), transaction_id a number >= 1
// (as the upstream's z.number().min(1): 5005.5 and 7e0 too), is_fraudulent 0 or 1,
// confidence in [0, 1], an ISO-8601 timestamp with milliseconds in UTC.
Result<ParsedResult> ParseUpstreamResult(const std::string& json);

// `count` synthetic transactions (training/synthetic.h, from `seed`, ids from
// `first_id` up): the messages a test pushes, and the same transactions
// parsed, for CheckAgainstModel.
struct SyntheticInput {
  std::vector<std::string> messages;
  std::vector<Transaction> parsed;
};
SyntheticInput MakeSyntheticInput(size_t count, int64_t first_id, uint64_t seed);

// Compares each result with the model's direct prediction for its
// transaction; returns the first mismatch (or duplicate/unknown id) as an error.
Status CheckAgainstModel(const std::vector<std::string>& results, const std::vector<Transaction>& pushed,
                         const std::string& config_path);

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_RESULT_CHECK_H_
