// The gateway's HTTP API as values: what a request body asks for, and the
// JSON of each answer (docs/gateway.md). No sockets and no state: the
// Gateway (gateway.h) routes requests, batches what they ask scored and
// answers with these.
//
// Two shapes of input:
// - the upstream's (POST /v1/score, /v1/tasks): one transaction object, or
//   an array of them, each checked against the upstream schema exactly as
//   the bridge checks a queue message (TransactionParser); an item that
//   fails gets its own reason and status (422), the others are scored;
// - the Open Inference Protocol's (KServe v2, POST /v2/models/{name}/infer):
//   either one FP32/FP64 tensor [N, width] of feature rows in the model's
//   feature order, or one input per raw transaction field (id, customer_id,
//   vendor_id, amount: numbers; timestamp, status: BYTES), each [N], which
//   become transactions checked like the upstream's.
// A body that is not what the endpoint takes is an ApiError with its HTTP
// status (400; 413 for too many items) and a message for {"error": ...}.
//
// Free functions; a TransactionParser is one per thread.
#ifndef SCOREPIPE_GATEWAY_API_H_
#define SCOREPIPE_GATEWAY_API_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"
#include "proto/upstream_json.h"

namespace scorepipe {

// A request refused as a whole.
struct ApiError {
  int status = 400;
  std::string message;
};

// {"error":"<message>"}.
std::string ErrorJson(std::string_view message);

// The items of an upstream-format body.
struct ScoreItems {
  bool array = false;                     // the body was an array (answered with an array)
  size_t count = 0;                       // items in the body
  std::vector<Transaction> transactions;  // the valid items, in order
  std::vector<uint32_t> positions;        // each valid item's index in the body
  struct Invalid {
    uint32_t position = 0;
    std::string reason;  // as the dead-letter reason would say it
  };
  std::vector<Invalid> invalid;
};

// Parses a /v1/score or /v1/tasks body: one transaction object, or an
// array of 1..max_items of them.
std::optional<ApiError> ParseScoreBody(std::string_view body, size_t max_items, TransactionParser& parser,
                                       ScoreItems* items);

// One answered transaction of a request.
struct Answer {
  const ScoreResult* result = nullptr;  // null: the item was invalid (see ScoreItems::invalid)
  std::string_view model_version;       // the version that scored it
};

// The answer to a /v1/score request (and a task's results): an object for
// an object body, else an array in body order. Each scored item is the
// upstream result with "model" and "model_version"; an invalid item is
// {"error":..., "status":422}; an item the model failed on is
// {"error":..., "status":500}. `*status` becomes 200 when every item was
// scored, else 422 when some item was invalid, else 500.
std::string ScoreResponseJson(const ScoreItems& items, const std::vector<ScoreResult>& results,
                              const std::vector<std::string_view>& versions, std::string_view model_name,
                              std::string_view scored_at, int* status);

// ---------------------------------------------------------------------------
// Open Inference Protocol (KServe v2)

// The raw transaction fields the named-input form takes, in this order.
inline constexpr std::string_view kTransactionInputs[] = {"id",     "customer_id", "vendor_id",
                                                          "amount", "timestamp",   "status"};
// The outputs an infer response has (a request may ask for some of them).
inline constexpr std::string_view kInferOutputs[] = {"fraud_probability", "is_fraudulent", "confidence"};

struct InferRequest {
  std::optional<std::string> id;  // echoed in the response
  // Feature rows (the tensor form): feature_width floats a row; 0 in the
  // named-input form.
  uint32_t feature_width = 0;
  std::vector<float> features;
  std::vector<Transaction> transactions;  // the named-input form
  std::vector<std::string> outputs;       // asked for, in order; empty: all of kInferOutputs
  size_t rows() const { return feature_width == 0 ? transactions.size() : features.size() / feature_width; }
};

// Parses an infer request for a model of `feature_width` features; at most
// max_rows rows. A named-input row that breaks the upstream schema refuses
// the request (400) naming the row and the reason.
std::optional<ApiError> ParseInferRequest(std::string_view body, uint32_t feature_width, size_t max_rows,
                                          TransactionParser& parser, InferRequest* request);

// {"model_name","model_version","id"?,"outputs":[...]}: each output [N] in
// row order (FP64 fraud_probability and confidence, INT32 is_fraudulent).
std::string InferResponseJson(const InferRequest& request, const std::vector<ScoreResult>& results,
                              std::string_view model_name, std::string_view model_version);

// GET /v2: {"name":"scorepipe","version":...,"extensions":[]}.
std::string ServerMetadataJson(std::string_view version);

// GET /v2/models/{name}: the model's versions, its inputs (the feature
// tensor, and the named transaction fields) and outputs.
std::string ModelMetadataJson(std::string_view name, const std::vector<std::string>& versions,
                              const std::vector<std::string>& feature_names);

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_API_H_
