// The messages that travel between scorepipe nodes.
//
// Plain value types, encoded by proto/codec.h. A TransactionBatch goes
// bridge -> ventilator -> worker; a ResultBatch goes worker -> sink (and out on
// the sink's live PUB feed); a Heartbeat goes worker -> ventilator.
// Transactions arrive already validated against the upstream schema by the
// bridge, so every field here is present and within its rules.
//
// Value types; any thread may use its own copy.
#ifndef SCOREPIPE_PROTO_MESSAGES_H_
#define SCOREPIPE_PROTO_MESSAGES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace scorepipe {

// One upstream transaction, parsed and validated by the bridge.
struct Transaction {
  int64_t id = 0;           // >= 1
  int64_t customer_id = 0;  // >= 1
  int64_t vendor_id = 0;    // >= 1
  double amount = 0;        // >= 0
  std::string timestamp;    // the original ISO-8601 text
  double timestamp_unix_s = 0;  // the same instant as Unix seconds (UTC)
  std::string status;       // accepted | rejected | pending

  bool operator==(const Transaction&) const = default;
};

struct TransactionBatch {
  uint64_t batch_id = 0;        // unique per bridge run (see bridge/)
  int64_t created_at_us = 0;    // Unix microseconds when the bridge sealed it
  std::vector<Transaction> transactions;

  bool operator==(const TransactionBatch&) const = default;
};

// The score of one transaction. A non-empty `error` means the worker could
// not score it; the sink then routes it to the dead-letter queue with that
// reason instead of publishing a result.
struct ScoreResult {
  int64_t transaction_id = 0;
  double fraud_probability = 0;  // P(fraud) from the model, in [0, 1]
  int32_t is_fraudulent = 0;     // fraud_probability >= threshold
  double confidence = 0;         // probability of the predicted class
  std::string error;             // empty when scored

  bool operator==(const ScoreResult&) const = default;
};

struct ResultBatch {
  uint64_t batch_id = 0;       // the TransactionBatch it answers
  std::string worker_id;       // who scored it
  std::string model_version;   // what scored it
  int64_t scored_at_us = 0;    // Unix microseconds when scoring finished
  std::vector<ScoreResult> results;  // same order as the transactions

  bool operator==(const ResultBatch&) const = default;
};

struct Heartbeat {
  std::string worker_id;
  std::string host;
  int64_t pid = 0;
  uint64_t sequence = 0;            // increases by one per heartbeat
  uint64_t batches_scored = 0;      // since the worker started
  uint64_t transactions_scored = 0; // since the worker started
  int64_t sent_at_us = 0;           // Unix microseconds

  bool operator==(const Heartbeat&) const = default;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_MESSAGES_H_
