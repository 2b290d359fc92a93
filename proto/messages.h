// The messages that travel between scorepipe nodes.
//
// Plain value types, encoded by proto/codec.h (the evaluation run's request
// and reply by proto/evaluation_codec.h). A TransactionBatch goes
// bridge -> ventilator -> worker; a ResultBatch goes worker -> sink (and out on
// the sink's live PUB feed); Heartbeats go both ways between worker and
// ventilator; WorkerReady and BatchDone go worker -> ventilator (credits).
// Transactions arrive already validated against the upstream schema by the
// bridge, so every field here is present and within its rules.
//
// An evaluation run of `scorepipe evaluate --cluster` (docs/models.md) sends
// its labelled rows as TransactionBatches marked with EvaluationRows; they
// travel the same way, and the sink gathers their scores instead of settling
// a lease; the command asks the sink about the run with an EvaluationRequest
// on the sink's status endpoint and gets an EvaluationReply.
//
// Value types; any thread may use its own copy.
#ifndef SCOREPIPE_PROTO_MESSAGES_H_
#define SCOREPIPE_PROTO_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/evaluation.h"

namespace scorepipe {

// One upstream transaction, parsed and validated by the bridge.
// The upstream takes any JSON number >= 1 as an id (5005.5, 1e3, 1.0), and a
// result must give the id back as it came, so an id is kept two ways:
// `id` holds an integer id written in plain decimal (the usual case, with no
// allocation); any other id keeps its number token as written in `id_text`
// ("5005.50", "1e3") and `id` is 0. AppendTransactionId()
// (proto/upstream_json.h) writes either.
struct Transaction {
  int64_t id = 0;               // >= 1, or 0 when id_text holds the id
  double customer_id = 0;       // >= 1
  double vendor_id = 0;         // >= 1 (a model feature)
  double amount = 0;            // >= 0
  std::string timestamp;        // the original text (proto/timestamp.h reads it)
  double timestamp_unix_s = 0;  // the same instant as Unix seconds (UTC)
  std::string status;           // accepted | rejected | pending
  std::string id_text;          // empty, or the id's JSON number token as written

  bool operator==(const Transaction&) const = default;
};

// A queue message the bridge could not turn into a Transaction: it still
// belongs to the batch's lease, so it travels with the batch and the sink
// settles it as a dead-letter entry together with the batch's results.
struct Reject {
  uint32_t position = 0;    // index of the message in the lease
  std::string dead_letter;  // the dead-letter entry JSON (reason + original)

  bool operator==(const Reject&) const = default;
};

// Marks the rows of an evaluation run: the batch holds rows first_row,
// first_row + 1, ... of the run's labelled file, whose labels the sink
// compares with their scores. run 0: a regular batch (and no labels).
struct EvaluationRows {
  uint64_t run = 0;
  uint64_t first_row = 0;     // 0-based row of the batch's first transaction
  std::vector<float> labels;  // 0 or 1, one per transaction

  bool operator==(const EvaluationRows&) const = default;
};

// Marks a batch that carries only some of its lease's messages: those at
// positions [begin, end) of the lease's `lease_size` messages. The ventilator
// cuts a poison batch into such parts to find the messages that fail
// (docs/architecture.md, "Poison"); the sink settles the lease once every
// position has its outcome. lease_size 0: the batch is the whole lease (every
// batch the bridge sends).
struct LeasePart {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t lease_size = 0;

  bool whole() const { return lease_size == 0; }
  bool operator==(const LeasePart&) const = default;
};

// A batch of transactions and the lease that holds their queue messages in
// flight (an evaluation run's batch has no lease and no rejects). The lease's
// messages are, in order, the transactions and the rejects merged by position
// (transactions fill the positions rejects leave); a part of a lease holds
// positions [part.begin, part.end) only, and its rejects keep their positions
// in the whole lease.
struct TransactionBatch {
  uint64_t batch_id = 0;      // unique in the cluster (random bridge base + counter)
  int64_t created_at_us = 0;  // Unix microseconds when the bridge sealed it
  std::string lease;          // opaque queue lease (queue/queue.h)
  std::vector<Transaction> transactions;
  std::vector<Reject> rejects;  // by increasing position
  EvaluationRows evaluation;    // run 0 unless an evaluation run's batch
  LeasePart part;               // whole unless the ventilator split the batch
  // An online batch, from a gateway (docs/architecture.md, "Online
  // scoring"): its lease is the gateway's own name for the batch, its
  // results go back on the work channel to the ventilator, which hands them
  // to the gateway that sent it, and nothing of it touches the queue.
  bool online = false;
  // An online batch of feature rows instead of transactions (a KServe v2
  // tensor): feature_width > 0 floats per row, row-major, in the model's
  // feature order; `transactions` is then empty and each row is one message
  // of the lease. 0: a batch of transactions.
  uint32_t feature_width = 0;
  std::vector<float> features;

  // The messages of the batch: its transactions, or its feature rows.
  size_t rows() const { return feature_width == 0 ? transactions.size() : features.size() / feature_width; }
  bool operator==(const TransactionBatch&) const = default;
};

// The score of one transaction. A non-empty `error` means the worker could
// not score it; the sink then routes it to the dead-letter queue with that
// reason instead of publishing a result.
struct ScoreResult {
  int64_t transaction_id = 0;       // the Transaction's id
  double fraud_probability = 0;     // P(fraud) from the model, in [0, 1]
  int32_t is_fraudulent = 0;        // fraud_probability >= threshold
  double confidence = 0;            // probability of the predicted class
  std::string error;                // empty when scored
  std::string transaction_id_text;  // the Transaction's id_text

  bool operator==(const ScoreResult&) const = default;
};

// ResultBatch::worker_id of a batch the ventilator dead-letters itself (a
// poisoned batch that no worker could finish); also its heartbeats' sender.
inline constexpr const char* kVentilatorSender = "ventilator";

struct ResultBatch {
  uint64_t batch_id = 0;             // the TransactionBatch it answers
  std::string lease;                 // that batch's lease
  std::string worker_id;             // who scored it
  std::string model_version;         // what scored it
  int64_t scored_at_us = 0;          // Unix microseconds when scoring finished
  std::vector<ScoreResult> results;  // same order as the transactions
  std::vector<Reject> rejects;       // the batch's rejects, passed through
  // The TransactionBatch's created_at_us, passed through (end-to-end
  // latency at the sink); 0 from a worker that predates the field.
  int64_t created_at_us = 0;
  // The name of the model that scored it (model_version is its version);
  // empty from a worker that predates the field.
  std::string model_name;
  // Shadow scoring (docs/models.md): the candidate version that scored the
  // same transactions beside the live one, and its scores, in the order of
  // `results`. Empty when no version is in shadow, when the shadow model
  // failed on this batch, and from a worker that predates the fields.
  std::string shadow_version;
  std::vector<ScoreResult> shadow_results;
  // The TransactionBatch's evaluation rows, passed through.
  EvaluationRows evaluation;
  // The TransactionBatch's part of its lease, passed through.
  LeasePart part;
  // The archive's part (docs/architecture.md, "The prediction archive"):
  // with the archive on, the worker adds each result's transaction and its
  // feature row (archive_feature_width floats a result, in the results'
  // order), for the sink's ArchiveRecords. Empty otherwise, and from a
  // worker that predates the fields.
  std::vector<Transaction> archive_inputs;
  uint32_t archive_feature_width = 0;
  std::vector<float> archive_features;

  bool operator==(const ResultBatch&) const = default;
};

// Liveness, both ways on the heartbeat channel: a worker sends one every
// interval; the ventilator answers each with its own (`known` tells the
// worker whether the ventilator has its session on record; when not, the
// worker announces itself again with a WorkerReady).
struct Heartbeat {
  std::string sender;  // worker id, or "ventilator"
  std::string host;
  int64_t pid = 0;
  uint64_t session = 0;              // random per process start
  uint64_t sequence = 0;             // increases by one per heartbeat
  uint32_t batches_held = 0;         // worker: received and not yet done
  uint64_t batches_scored = 0;       // since the sender started
  uint64_t transactions_scored = 0;  // since the sender started
  int64_t sent_at_us = 0;            // Unix microseconds
  bool known = true;                 // ventilator -> worker, see above
  // Worker -> ventilator, for `scorepipe status` (empty from the ventilator
  // and from a worker that predates them): the model it scores with, and why
  // the live version it should run did not load (empty when none failed).
  std::string model_name;
  std::string model_version;
  std::string model_error;
  std::string shadow_version;  // the version it scores in shadow; empty: none
  // Worker -> ventilator: why a link of the worker is refused ("the sink:
  // ..."), so that it cannot work; empty: its links are fine (or an older worker).
  std::string link_error;

  bool operator==(const Heartbeat&) const = default;
};

enum class WorkerState : uint8_t {
  kActive = 0,    // send me up to `credit` batches
  kDraining = 1,  // stopping: send nothing more; I finish what I hold
  kLeaving = 2,   // gone: whatever is still assigned to me goes elsewhere now
  // A link of mine is refused (my heartbeats' link_error says which and why):
  // I cannot deliver results, so whatever is assigned to me goes elsewhere
  // now and nothing more comes until I announce kActive again.
  kBlocked = 3,
};

// Worker -> ventilator on the work channel: announces the worker (at connect,
// reconnect, or when the ventilator does not know it) and how many batches
// it can take now; every later BatchDone gives one more.
struct WorkerReady {
  std::string worker_id;
  std::string host;
  int64_t pid = 0;
  uint64_t session = 0;
  uint32_t credit = 0;
  WorkerState state = WorkerState::kActive;

  bool operator==(const WorkerReady&) const = default;
};

// Worker -> ventilator: a batch's results are on their way to the sink; the
// ventilator forgets the batch and gives the worker one more credit.
struct BatchDone {
  uint64_t batch_id = 0;
  uint64_t session = 0;
  // Non-empty: the worker could not decode the batch and says why, so that the
  // ventilator acts at once instead of waiting for the batch's deadline.
  std::string refused;

  bool operator==(const BatchDone&) const = default;
};

// Ventilator -> gateway, the answer to each of the gateway's heartbeats
// (docs/architecture.md, "Online scoring"): the head is alive, and whether
// anything can score now.
struct HeadStatus {
  uint64_t session = 0;       // the ventilator's, random per process start
  uint32_t live_workers = 0;  // active workers (Dispatcher::live_workers)
  uint32_t queued = 0;        // batches waiting for a worker's credit
  std::string model_name;     // the model the live workers run (empty: none reported yet)
  // The versions the live workers score with, sorted, without repeats
  // (more than one while a roll-out reaches every worker).
  std::vector<std::string> model_versions;

  bool operator==(const HeadStatus&) const = default;
};

// `scorepipe evaluate --cluster` -> sink (REQ/REP on sink.status).
struct EvaluationRequest {
  enum class Kind : uint8_t {
    kBegin = 0,  // hold a run of `rows` rows (again from scratch if it exists)
    kQuery = 1,  // how far is the run; its figures once every row is answered
    kEnd = 2,    // forget the run
  };
  Kind kind = Kind::kQuery;
  uint64_t run = 0;   // never 0
  uint64_t rows = 0;  // kBegin: the rows the run's file has, >= 1
  // kQuery: the figures' options (EvaluationOptions, scoring/evaluation.h).
  double threshold = 0.5;
  int32_t calibration_bins = 10;
  // kQuery: also list the rows no result has answered yet (pending_rows).
  bool list_pending = false;

  bool operator==(const EvaluationRequest&) const = default;
};

// How many rows of a run one model version scored.
struct ModelRows {
  std::string name;
  std::string version;
  uint64_t rows = 0;

  bool operator==(const ModelRows&) const = default;
};

// A half-open range of rows, [first, end).
struct RowRange {
  uint64_t first = 0;
  uint64_t end = 0;

  bool operator==(const RowRange&) const = default;
};

// Sink -> `scorepipe evaluate --cluster`.
struct EvaluationReply {
  uint64_t run = 0;
  // Why the request was refused (unknown run, no room, bad options); the
  // other fields are then empty.
  std::string error;
  uint64_t rows = 0;                   // the run's rows
  uint64_t scored = 0;                 // answered with a score
  uint64_t failed = 0;                 // answered with an error (not scored)
  std::vector<std::string> failures;   // the first few: "row 7 (id 8): reason"
  std::vector<ModelRows> models;       // who scored the scored rows
  std::vector<RowRange> pending_rows;  // list_pending: rows not answered yet (the first ranges)
  // Once every row is answered and some were scored: the figures over the
  // scored rows, in row order (what `scorepipe evaluate` computes locally).
  std::optional<Evaluation> evaluation;
  std::string evaluation_error;  // why there are no figures although every row is answered

  bool operator==(const EvaluationReply&) const = default;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_MESSAGES_H_
