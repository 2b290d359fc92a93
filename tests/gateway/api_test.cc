// The gateway's API as values (gateway/api.h): the upstream-format bodies of
// /v1/score, the Open Inference Protocol's infer requests and the JSON of
// every answer, on examples, generated bodies and hostile ones.
#include "gateway/api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <random>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

constexpr size_t kMaxMessage = 65536;

std::string Tx(const std::string& id, double amount = 100, const std::string& status = "accepted") {
  return R"({"id":)" + id +
         R"(,"customer_id":1,"vendor_id":2,"timestamp":"2023-01-01T12:00:00Z","status":")" + status +
         R"(","amount":)" + std::to_string(amount) + "}";
}

TEST(ParseScoreBodyTest, OneObjectIsOneItemAndItsIdIsKeptAsWritten) {
  TransactionParser parser(kMaxMessage);
  ScoreItems items;
  ASSERT_FALSE(ParseScoreBody(Tx("5005.50"), 10, parser, &items).has_value());
  EXPECT_FALSE(items.array);
  ASSERT_EQ(items.count, 1u);
  ASSERT_EQ(items.transactions.size(), 1u);
  EXPECT_EQ(items.transactions[0].id_text, "5005.50");
}

TEST(ParseScoreBodyTest, AnArrayKeepsItsOrderAndEachInvalidItemHasTheBridgesReason) {
  TransactionParser parser(kMaxMessage);
  ScoreItems items;
  const std::string body = "[" + Tx("1") + R"(,{"id":2},7,"text",[1,2],)" + Tx("3", -5) + "," + Tx("4") + "]";
  ASSERT_FALSE(ParseScoreBody(body, 10, parser, &items).has_value());
  EXPECT_TRUE(items.array);
  EXPECT_EQ(items.count, 7u);
  EXPECT_THAT(items.positions, ::testing::ElementsAre(0u, 6u));
  ASSERT_EQ(items.invalid.size(), 5u);
  TransactionParser bridge(kMaxMessage);
  const std::vector<std::string> alone = {R"({"id":2})", "7", R"("text")", "[1,2]", Tx("3", -5)};
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_EQ(items.invalid[i].position, i + 1);
    EXPECT_EQ(items.invalid[i].reason, bridge.Parse(alone[i]).status().message()) << alone[i];
  }
}

TEST(ParseScoreBodyTest, BodiesThatAreNotARequestAreRefusedWithTheirStatus) {
  TransactionParser parser(kMaxMessage);
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", 400, "not valid JSON"},
      {"{", 400, "not valid JSON"},
      {"[" + Tx("1") + "] x", 400, "not valid JSON"},
      {"[]", 400, "empty array"},
      {"7", 400, "neither a transaction object nor an array"},
      {"\"x\"", 400, "neither"},
      {"[" + Tx("1") + "," + Tx("2") + "," + Tx("3") + "]", 413, "over 2"},
      // A number no double holds makes the whole body invalid JSON (the
      // bridge says the same of such a message alone).
      {"[" + Tx("1") + R"(,{"id":1e400}])", 400, "not valid JSON"},
  };
  for (const Case& c : cases) {
    ScoreItems items;
    std::optional<ApiError> error = ParseScoreBody(c.body, 2, parser, &items);
    ASSERT_TRUE(error.has_value()) << c.body;
    EXPECT_EQ(error->status, c.status) << c.body;
    EXPECT_THAT(error->message, HasSubstr(c.says)) << c.body;
  }
}

// Generated arrays of valid and broken items: each item's verdict is the
// bridge's verdict on the same message alone.
TEST(ParseScoreBodyTest, GeneratedArraysGetTheBridgesVerdictOnEveryItem) {
  std::mt19937 random(2020);
  const std::vector<std::string> broken = {
      R"({"id":0,"customer_id":1,"vendor_id":2,"timestamp":"2023-01-01","status":"accepted","amount":1})",
      R"({"id":1,"customer_id":1,"vendor_id":2,"timestamp":"nope","status":"accepted","amount":1})",
      R"({"id":1,"customer_id":1,"vendor_id":2,"timestamp":"2023-01-01","status":"other","amount":1})",
      R"({"id":"1","customer_id":1,"vendor_id":2,"timestamp":"2023-01-01","status":"accepted","amount":1})",
      R"({})",
      R"(null)",
      R"(true)",
      R"({"nested":{"a":[1,2,{"b":null}]}})",
  };
  TransactionParser gateway(kMaxMessage);
  TransactionParser bridge(kMaxMessage);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> messages;
    const size_t n = 1 + random() % 40;
    for (size_t i = 0; i < n; ++i) {
      if (random() % 3 == 0) {
        messages.push_back(broken[random() % broken.size()]);
      } else {
        const std::string id = random() % 2 ? std::to_string(1 + random() % 100000) : "12.50";
        messages.push_back(
            Tx(id, static_cast<double>(random() % 1000), random() % 2 ? "accepted" : "pending"));
      }
    }
    std::string body = "[";
    for (size_t i = 0; i < n; ++i) body += (i ? (random() % 2 ? ", " : ",\n ") : "") + messages[i];
    body += "]";
    ScoreItems items;
    ASSERT_FALSE(ParseScoreBody(body, 100, gateway, &items).has_value()) << body;
    ASSERT_EQ(items.count, n);
    size_t valid = 0;
    size_t invalid = 0;
    for (size_t i = 0; i < n; ++i) {
      Result<Transaction> alone = bridge.Parse(messages[i]);
      if (alone.ok()) {
        ASSERT_LT(valid, items.transactions.size());
        EXPECT_EQ(items.positions[valid], i);
        EXPECT_EQ(items.transactions[valid], alone.value());
        ++valid;
      } else {
        ASSERT_LT(invalid, items.invalid.size());
        EXPECT_EQ(items.invalid[invalid].position, i);
        EXPECT_EQ(items.invalid[invalid].reason, alone.status().message());
        ++invalid;
      }
    }
    EXPECT_EQ(valid, items.transactions.size());
    EXPECT_EQ(invalid, items.invalid.size());
  }
}

// Random bytes and cut or changed valid bodies: an error or items, never a crash.
TEST(ParseScoreBodyTest, HostileBodiesGiveAnErrorOrItems) {
  std::mt19937 random(7);
  TransactionParser parser(kMaxMessage);
  const std::string valid = "[" + Tx("1") + "," + Tx("2.5") + "]";
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    if (i % 3 == 0) {
      body.resize(random() % 200);
      for (char& c : body) c = static_cast<char>(random());
    } else if (i % 3 == 1) {
      body = valid.substr(0, random() % valid.size());
    } else {
      body = valid;
      for (int k = 0; k < 3; ++k) body[random() % body.size()] = static_cast<char>(random());
    }
    ScoreItems items;
    std::optional<ApiError> error = ParseScoreBody(body, 100, parser, &items);
    if (error) {
      ++refused;
      EXPECT_TRUE(error->status == 400 || error->status == 413) << error->status;
      EXPECT_FALSE(error->message.empty());
    } else {
      EXPECT_EQ(items.transactions.size() + items.invalid.size(), items.count);
    }
  }
  EXPECT_GT(refused, 1000);
}

TEST(ScoreResponseJsonTest, EachItemIsAResultOrItsErrorAndTheStatusSaysTheWorst) {
  TransactionParser parser(kMaxMessage);
  ScoreItems items;
  ASSERT_FALSE(ParseScoreBody("[" + Tx("1") + ",{}," + Tx("5005.50") + "]", 10, parser, &items).has_value());
  std::vector<ScoreResult> results(2);
  results[0].transaction_id = 1;
  results[0].confidence = 0.75;
  results[1].transaction_id_text = "5005.50";
  results[1].is_fraudulent = 1;
  results[1].confidence = 0.5;
  int status = 0;
  const std::string json =
      ScoreResponseJson(items, results, {"v1", "v2"}, "fraud", "2026-01-01T00:00:00.000Z", &status);
  EXPECT_EQ(status, 422);
  EXPECT_EQ(
      json,
      R"([{"transaction_id":1,"timestamp":"2026-01-01T00:00:00.000Z","is_fraudulent":0,"confidence":0.75,)"
      R"("model":"fraud","model_version":"v1"},{"error":"missing field 'id'","status":422},)"
      R"({"transaction_id":5005.50,"timestamp":"2026-01-01T00:00:00.000Z","is_fraudulent":1,)"
      R"("confidence":0.5,"model":"fraud","model_version":"v2"}])");
  results[1].error = "model failed: boom";
  items.invalid.clear();
  items.count = 2;
  items.positions = {0, 1};
  ScoreResponseJson(items, results, {"v1", "v1"}, "fraud", "t", &status);
  EXPECT_EQ(status, 500);
  results[1].error.clear();
  ScoreResponseJson(items, results, {"v1", "v1"}, "fraud", "t", &status);
  EXPECT_EQ(status, 200);
}

// --- Open Inference Protocol ------------------------------------------------

std::string NamedInputs(size_t rows, const std::string& status = "accepted") {
  auto column = [&](const std::string& name, const std::string& datatype, const std::string& value) {
    std::string data;
    for (size_t i = 0; i < rows; ++i) data += (i ? "," : "") + value;
    return R"({"name":")" + name + R"(","datatype":")" + datatype + R"(","shape":[)" + std::to_string(rows) +
           R"(],"data":[)" + data + "]}";
  };
  return R"({"id":"req-1","inputs":[)" + column("id", "INT64", "7") + "," +
         column("customer_id", "INT64", "1") + "," + column("vendor_id", "FP64", "2.5") + "," +
         column("amount", "FP32", "100") + "," + column("timestamp", "BYTES", R"("2023-01-01T12:00:00Z")") +
         "," + column("status", "BYTES", "\"" + status + "\"") + "]}";
}

TEST(ParseInferRequestTest, AFeatureTensorIsReadFlatOrNestedInRowMajorOrder) {
  TransactionParser parser(kMaxMessage);
  for (const std::string data : {"[1,2,3,4,5,6,7,8]", "[[1,2,3,4],[5,6,7,8]]"}) {
    InferRequest request;
    const std::string body =
        R"({"id":"a","inputs":[{"name":"features","datatype":"FP64","shape":[2,4],"data":)" + data + "}]}";
    ASSERT_FALSE(ParseInferRequest(body, 4, 10, parser, &request).has_value()) << data;
    EXPECT_EQ(request.id, "a");
    EXPECT_EQ(request.feature_width, 4u);
    EXPECT_EQ(request.rows(), 2u);
    EXPECT_THAT(request.features, ::testing::ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  }
}

TEST(ParseInferRequestTest, NamedInputsBecomeTransactionsCheckedAsTheBridgeChecksThem) {
  TransactionParser parser(kMaxMessage);
  InferRequest request;
  ASSERT_FALSE(ParseInferRequest(NamedInputs(3), 4, 10, parser, &request).has_value());
  ASSERT_EQ(request.transactions.size(), 3u);
  EXPECT_EQ(request.feature_width, 0u);
  EXPECT_EQ(request.transactions[0].id, 7);
  EXPECT_EQ(request.transactions[0].vendor_id, 2.5);
  EXPECT_EQ(request.transactions[0].amount, 100);
  EXPECT_EQ(request.transactions[0].status, "accepted");
  InferRequest bad;
  std::optional<ApiError> error = ParseInferRequest(NamedInputs(2, "other"), 4, 10, parser, &bad);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status, 400);
  EXPECT_THAT(error->message, HasSubstr("row 0: field 'status'"));
}

TEST(ParseInferRequestTest, RequestsThatDoNotFitTheModelAreRefusedNamingWhy) {
  TransactionParser parser(kMaxMessage);
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  auto tensor = [](const std::string& datatype, const std::string& shape, const std::string& data) {
    return R"({"inputs":[{"name":"features","datatype":")" + datatype + R"(","shape":)" + shape +
           R"(,"data":)" + data + "}]}";
  };
  std::string without_status = NamedInputs(1);
  without_status = without_status.substr(0, without_status.find(R"(,{"name":"status")")) + "]}";
  const std::vector<Case> cases = {
      {"nope", 400, "not valid JSON"},
      {"[]", 400, "not an inference request object"},
      {R"({"inputs":[]})", 400, "'inputs' is empty"},
      {R"({"inputs":7})", 400, "no array 'inputs'"},
      {R"({"id":7,"inputs":[]})", 400, "'id' is not a string"},
      {tensor("FP32", "[1,3]", "[1,2,3]"), 400, "shape [1, 3]; the model takes [N, 4]"},
      {tensor("INT8", "[1,4]", "[1,2,3,4]"), 400, "datatype INT8"},
      {tensor("FP32", "[2,4]", "[1,2,3,4]"), 400, "must hold 8 numbers"},
      {tensor("FP32", "[1,4]", R"([1,2,"x",4])"), 400, "must hold 4 numbers"},
      {tensor("FP32", "[0,4]", "[]"), 400, "no rows"},
      {tensor("FP32", "[11,4]", "[]"), 413, "over 10"},
      {tensor("FP32", "[1,-4]", "[]"), 400, "'shape' holds something other than sizes"},
      {without_status, 400, "missing input 'status'"},
      {R"({"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],)"
       R"("outputs":[{"name":"nope"}]})",
       400, "unknown output 'nope'"},
  };
  for (const Case& c : cases) {
    InferRequest request;
    std::optional<ApiError> error = ParseInferRequest(c.body, 4, 10, parser, &request);
    ASSERT_TRUE(error.has_value()) << c.body;
    EXPECT_EQ(error->status, c.status) << c.body;
    EXPECT_THAT(error->message, HasSubstr(c.says)) << c.body;
  }
}

TEST(ParseInferRequestTest, GeneratedTensorsArriveAsTheirFloats) {
  std::mt19937 random(11);
  std::uniform_real_distribution<float> value(-1e6f, 1e6f);
  TransactionParser parser(kMaxMessage);
  for (int round = 0; round < 200; ++round) {
    const size_t rows = 1 + random() % 30;
    const uint32_t width = 1 + random() % 12;
    std::vector<float> expected;
    std::string data = "[";
    for (size_t i = 0; i < rows * width; ++i) {
      expected.push_back(value(random));
      char buffer[32];
      const auto r = std::to_chars(buffer, buffer + sizeof buffer, expected.back());
      data += (i ? "," : "") + std::string(buffer, r.ptr);
    }
    data += "]";
    const std::string body = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[)" + std::to_string(rows) +
                             "," + std::to_string(width) + R"(],"data":)" + data + "}]}";
    InferRequest request;
    ASSERT_FALSE(ParseInferRequest(body, width, 1000, parser, &request).has_value()) << body;
    EXPECT_EQ(request.features, expected);
  }
}

TEST(ParseInferRequestTest, HostileBodiesGiveAnErrorOrARequest) {
  std::mt19937 random(5);
  TransactionParser parser(kMaxMessage);
  const std::string valid = NamedInputs(2);
  for (int i = 0; i < 3000; ++i) {
    std::string body = valid;
    if (i % 2 == 0) {
      body = valid.substr(0, random() % valid.size());
    } else {
      for (int k = 0; k < 4; ++k) body[random() % body.size()] = static_cast<char>(random());
    }
    InferRequest request;
    std::optional<ApiError> error = ParseInferRequest(body, 4, 100, parser, &request);
    if (error) {
      EXPECT_TRUE(error->status == 400 || error->status == 413);
    } else {
      EXPECT_GT(request.rows(), 0u);
    }
  }
  // Deep nesting is refused, not recursed into without bound.
  InferRequest request;
  const std::string deep = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":)" +
                           std::string(5000, '[') + "1" + std::string(5000, ']') + "}]}";
  EXPECT_TRUE(ParseInferRequest(deep, 1, 10, parser, &request).has_value());
}

// The answers in the protocol's documented JSON shapes.
TEST(InferResponseJsonTest, HasTheProtocolsShapeAndOnlyTheOutputsAskedFor) {
  InferRequest request;
  request.id = "r-9";
  request.feature_width = 4;
  request.features.assign(8, 0.0f);
  std::vector<ScoreResult> results(2);
  results[0].fraud_probability = 0.25;
  results[0].confidence = 0.75;
  results[1].fraud_probability = 0.875;
  results[1].is_fraudulent = 1;
  results[1].confidence = 0.875;
  EXPECT_EQ(InferResponseJson(request, results, "fraud", "v3"),
            R"({"model_name":"fraud","model_version":"v3","id":"r-9","outputs":[)"
            R"({"name":"fraud_probability","datatype":"FP64","shape":[2],"data":[0.25,0.875]},)"
            R"({"name":"is_fraudulent","datatype":"INT32","shape":[2],"data":[0,1]},)"
            R"({"name":"confidence","datatype":"FP64","shape":[2],"data":[0.75,0.875]}]})");
  request.id.reset();
  request.outputs = {"is_fraudulent"};
  EXPECT_EQ(InferResponseJson(request, results, "fraud", "v3"),
            R"({"model_name":"fraud","model_version":"v3","outputs":[)"
            R"({"name":"is_fraudulent","datatype":"INT32","shape":[2],"data":[0,1]}]})");
}

TEST(MetadataJsonTest, ServerAndModelMetadataHaveTheProtocolsFields) {
  simdjson::dom::parser json;
  simdjson::dom::element server = json.parse(ServerMetadataJson("1.2.3"));
  EXPECT_EQ(std::string_view(server["name"]), "scorepipe");
  EXPECT_EQ(std::string_view(server["version"]), "1.2.3");
  EXPECT_EQ(simdjson::dom::array(server["extensions"]).size(), 0u);
  const std::string model_text =
      ModelMetadataJson("fraud", {"v1", "v2"}, {"timestamp", "status", "vendor_id", "amount"});
  simdjson::dom::element model = json.parse(model_text);
  EXPECT_EQ(std::string_view(model["name"]), "fraud");
  EXPECT_EQ(simdjson::dom::array(model["versions"]).size(), 2u);
  EXPECT_EQ(std::string_view(model["platform"]), "scorepipe");
  simdjson::dom::array inputs = model["inputs"];
  ASSERT_EQ(inputs.size(), 1u + std::size(kTransactionInputs));
  simdjson::dom::element tensor = inputs.at(0);
  EXPECT_EQ(std::string_view(tensor["datatype"]), "FP32");
  simdjson::dom::array shape = tensor["shape"];
  EXPECT_EQ(int64_t(shape.at(0)), -1);
  EXPECT_EQ(int64_t(shape.at(1)), 4);
  for (simdjson::dom::element input : inputs) {
    EXPECT_TRUE(input["name"].is_string());
    EXPECT_TRUE(input["datatype"].is_string());
    EXPECT_TRUE(input["shape"].is_array());
  }
  EXPECT_EQ(simdjson::dom::array(model["outputs"]).size(), std::size(kInferOutputs));
  EXPECT_EQ(ErrorJson("a \"quoted\" reason"), R"({"error":"a \"quoted\" reason"})");
}

}  // namespace
}  // namespace scorepipe
