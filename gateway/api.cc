#include "gateway/api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "proto/json_writer.h"

namespace scorepipe {
namespace {

namespace dom = simdjson::dom;
namespace ondemand = simdjson::ondemand;

ApiError BadRequest(std::string message) { return ApiError{400, std::move(message)}; }

std::string NotJson(simdjson::error_code error) {
  return std::string("the body is not valid JSON: ") + simdjson::error_message(error);
}

// Appends the leaves of `data` (a flat or nested array) to `out`; false
// when it holds something other than arrays of `accept` leaves, or more
// than `limit` leaves.
template <typename Accept>
bool Flatten(dom::element data, size_t limit, std::vector<dom::element>* out, const Accept& accept) {
  if (data.type() == dom::element_type::ARRAY) {
    for (dom::element item : dom::array(data)) {
      if (!Flatten(item, limit, out, accept)) return false;
    }
    return true;
  }
  if (!accept(data) || out->size() >= limit) return false;
  out->push_back(data);
  return true;
}

bool IsNumber(dom::element e) {
  const dom::element_type t = e.type();
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 || t == dom::element_type::DOUBLE;
}

double NumberOf(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64:
      return static_cast<double>(int64_t(e));
    case dom::element_type::UINT64:
      return static_cast<double>(uint64_t(e));
    default:
      return double(e);
  }
}

struct Input {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  dom::element data;
};

std::optional<ApiError> ReadInput(dom::element element, size_t index, Input* input) {
  const std::string where = "inputs[" + std::to_string(index) + "]";
  if (element.type() != dom::element_type::OBJECT) return BadRequest(where + " is not an object");
  dom::object object(element);
  std::string_view text;
  if (object["name"].get(text) != simdjson::SUCCESS) return BadRequest(where + " has no string 'name'");
  input->name = std::string(text);
  if (object["datatype"].get(text) != simdjson::SUCCESS) {
    return BadRequest("input '" + input->name + "' has no string 'datatype'");
  }
  input->datatype = std::string(text);
  dom::array shape;
  if (object["shape"].get(shape) != simdjson::SUCCESS) {
    return BadRequest("input '" + input->name + "' has no array 'shape'");
  }
  for (dom::element dim : shape) {
    int64_t value = 0;
    if (dim.get(value) != simdjson::SUCCESS || value < 0) {
      return BadRequest("input '" + input->name + "': 'shape' holds something other than sizes >= 0");
    }
    input->shape.push_back(value);
  }
  if (object["data"].get(input->data) != simdjson::SUCCESS) {
    return BadRequest("input '" + input->name + "' has no 'data'");
  }
  return std::nullopt;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// The feature tensor: [N, width] of FP32 or FP64.
std::optional<ApiError> ReadTensor(const Input& input, uint32_t width, size_t max_rows,
                                   InferRequest* request) {
  if (input.datatype != "FP32" && input.datatype != "FP64") {
    return BadRequest("input '" + input.name + "': datatype " + input.datatype +
                      "; the feature tensor is FP32 or FP64");
  }
  if (input.shape.size() != 2 || input.shape[1] != static_cast<int64_t>(width)) {
    return BadRequest("input '" + input.name + "': shape " + ShapeText(input.shape) +
                      "; the model takes [N, " + std::to_string(width) + "]");
  }
  const auto rows = static_cast<size_t>(input.shape[0]);
  if (rows == 0) return BadRequest("input '" + input.name + "': no rows");
  if (rows > max_rows) {
    return ApiError{413, "input '" + input.name + "': " + std::to_string(rows) + " rows, over " +
                             std::to_string(max_rows) + " (gateway.max_request_items)"};
  }
  const size_t expected = rows * width;
  std::vector<dom::element> leaves;
  leaves.reserve(expected);
  if (!Flatten(input.data, expected, &leaves, IsNumber) || leaves.size() != expected) {
    return BadRequest("input '" + input.name + "': 'data' must hold " + std::to_string(expected) +
                      " numbers (shape " + ShapeText(input.shape) + "), flat or nested");
  }
  request->feature_width = width;
  request->features.resize(expected);
  for (size_t i = 0; i < expected; ++i) request->features[i] = static_cast<float>(NumberOf(leaves[i]));
  return std::nullopt;
}

// One input per raw transaction field, each [N] (or [N, 1]).
std::optional<ApiError> ReadTransactionInputs(const std::vector<Input>& inputs, size_t max_rows,
                                              TransactionParser& parser, InferRequest* request) {
  std::vector<std::vector<dom::element>> columns(std::size(kTransactionInputs));
  size_t rows = 0;
  for (size_t field = 0; field < std::size(kTransactionInputs); ++field) {
    const std::string_view name = kTransactionInputs[field];
    auto input = std::find_if(inputs.begin(), inputs.end(), [&](const Input& i) { return i.name == name; });
    if (input == inputs.end()) {
      std::string names;
      for (std::string_view n : kTransactionInputs) names += (names.empty() ? "" : ", ") + std::string(n);
      return BadRequest("missing input '" + std::string(name) +
                        "': give one FP32/FP64 tensor [N, features], or one input per transaction field (" +
                        names + ")");
    }
    const bool text = name == "timestamp" || name == "status";
    if (text ? input->datatype != "BYTES" : input->datatype == "BYTES" || input->datatype == "BOOL") {
      return BadRequest("input '" + input->name + "': datatype " + input->datatype + "; it takes " +
                        (text ? "BYTES" : "a number type (INT*, UINT*, FP*)"));
    }
    const bool column = input->shape.size() == 1 || (input->shape.size() == 2 && input->shape[1] == 1);
    if (!column) {
      return BadRequest("input '" + input->name + "': shape " + ShapeText(input->shape) + "; it takes [N]");
    }
    const auto n = static_cast<size_t>(input->shape[0]);
    if (n > max_rows) {
      return ApiError{413, "input '" + input->name + "': " + std::to_string(n) + " rows, over " +
                               std::to_string(max_rows) + " (gateway.max_request_items)"};
    }
    if (field == 0) {
      rows = n;
      if (rows == 0) return BadRequest("input 'id': no rows");
    } else if (n != rows) {
      return BadRequest("input '" + input->name + "' has " + std::to_string(n) + " rows, input 'id' " +
                        std::to_string(rows));
    }
    auto accept = [text](dom::element e) {
      return text ? e.type() == dom::element_type::STRING : IsNumber(e);
    };
    if (!Flatten(input->data, rows, &columns[field], accept) || columns[field].size() != rows) {
      return BadRequest("input '" + input->name + "': 'data' must hold " + std::to_string(rows) + " " +
                        (text ? "strings" : "numbers"));
    }
  }
  // Each row as the upstream message it stands for, checked as the bridge
  // checks one.
  request->transactions.reserve(rows);
  std::string message;
  for (size_t row = 0; row < rows; ++row) {
    message.clear();
    JsonWriter json(&message);
    json.BeginObject();
    for (size_t field = 0; field < std::size(kTransactionInputs); ++field) {
      json.Key(kTransactionInputs[field]);
      json.Raw(simdjson::minify(columns[field][row]));
    }
    json.EndObject();
    Result<Transaction> transaction = parser.Parse(message);
    if (!transaction.ok()) {
      return BadRequest("row " + std::to_string(row) + ": " + transaction.status().message());
    }
    request->transactions.push_back(std::move(transaction).value());
  }
  return std::nullopt;
}

}  // namespace

std::string ErrorJson(std::string_view message) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("error").String(message).EndObject();
  return out;
}

std::optional<ApiError> ParseScoreBody(std::string_view body, size_t max_items, TransactionParser& parser,
                                       ScoreItems* items) {
  // The whole body is checked first (the lazy on-demand reader below would
  // not see trailing content or a flaw after the last item it reads); the
  // on-demand reader then gives each item's text as it was written, so an
  // id comes back exactly as sent ("5005.50").
  // The usual case first: one object, read once by the parser that checks
  // it (only a body it refuses is looked at again, to tell bad JSON, 400,
  // from a bad transaction, 422).
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    Result<Transaction> transaction = parser.Parse(body);
    if (transaction.ok()) {
      items->count = 1;
      items->transactions.push_back(std::move(transaction).value());
      items->positions.push_back(0);
      return std::nullopt;
    }
  }
  thread_local dom::parser strict;
  thread_local ondemand::parser lazy;
  const simdjson::padded_string padded(body);
  dom::element whole;
  if (auto error = strict.parse(padded).get(whole); error) return BadRequest(NotJson(error));
  if (whole.type() != dom::element_type::OBJECT && whole.type() != dom::element_type::ARRAY) {
    return BadRequest("the body is neither a transaction object nor an array of them");
  }
  auto take = [&](std::string_view raw, uint32_t position) {
    Result<Transaction> transaction = parser.Parse(raw);
    if (transaction.ok()) {
      items->transactions.push_back(std::move(transaction).value());
      items->positions.push_back(position);
    } else {
      items->invalid.push_back({position, transaction.status().message()});
    }
  };
  ondemand::document doc;
  if (auto error = lazy.iterate(padded).get(doc); error) return BadRequest(NotJson(error));
  if (whole.type() == dom::element_type::OBJECT) {
    std::string_view raw;
    if (auto error = doc.raw_json().get(raw); error) return BadRequest(NotJson(error));
    items->count = 1;
    take(raw, 0);
    return std::nullopt;
  }
  const size_t count = dom::array(whole).size();
  if (count == 0) return BadRequest("the body is an empty array: nothing to score");
  if (count > max_items) {
    return ApiError{413, std::to_string(count) + " transactions in one request, over " +
                             std::to_string(max_items) + " (gateway.max_request_items)"};
  }
  items->array = true;
  items->count = count;
  ondemand::array array;
  if (auto error = doc.get_array().get(array); error) return BadRequest(NotJson(error));
  uint32_t position = 0;
  for (auto element : array) {
    ondemand::value value;
    if (auto error = element.get(value); error) return BadRequest(NotJson(error));
    ondemand::json_type type;
    if (auto error = value.type().get(type); error) return BadRequest(NotJson(error));
    std::string_view raw;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == ondemand::json_type::object) {
      ondemand::object object;
      error = value.get_object().get(object);
      if (!error) error = object.raw_json().get(raw);
    } else if (type == ondemand::json_type::array) {
      ondemand::array inner;
      error = value.get_array().get(inner);
      if (!error) error = inner.raw_json().get(raw);
    } else {
      raw = value.raw_json_token();
    }
    if (error) return BadRequest(NotJson(error));
    take(raw, position++);
  }
  return std::nullopt;
}

std::string ScoreResponseJson(const ScoreItems& items, const std::vector<ScoreResult>& results,
                              const std::vector<std::string_view>& versions, std::string_view model_name,
                              std::string_view scored_at, int* status) {
  bool any_invalid = !items.invalid.empty();
  bool any_failed = false;
  std::string out;
  out.reserve(items.count * 128);
  if (items.array) out.push_back('[');
  size_t valid = 0;
  size_t invalid = 0;
  for (size_t position = 0; position < items.count; ++position) {
    if (position > 0) out.push_back(',');
    if (invalid < items.invalid.size() && items.invalid[invalid].position == position) {
      JsonWriter(&out)
          .BeginObject()
          .Key("error")
          .String(items.invalid[invalid].reason)
          .Key("status")
          .Int(422)
          .EndObject();
      ++invalid;
      continue;
    }
    const ScoreResult& result = results[valid];
    const std::string_view version = versions[valid];
    ++valid;
    if (!result.error.empty()) {
      any_failed = true;
      JsonWriter(&out).BeginObject().Key("error").String(result.error).Key("status").Int(500).EndObject();
      continue;
    }
    const ResultModel model{model_name, version};
    AppendResultJson(result, scored_at, &model, &out);
  }
  if (items.array) out.push_back(']');
  *status = any_invalid ? 422 : any_failed ? 500 : 200;
  return out;
}

std::optional<ApiError> ParseInferRequest(std::string_view body, uint32_t feature_width, size_t max_rows,
                                          TransactionParser& parser, InferRequest* request) {
  thread_local dom::parser json;
  dom::element doc;
  if (auto error = json.parse(body.data(), body.size()).get(doc); error) return BadRequest(NotJson(error));
  if (doc.type() != dom::element_type::OBJECT)
    return BadRequest("the body is not an inference request object");
  dom::object object(doc);
  if (dom::element id; object["id"].get(id) == simdjson::SUCCESS) {
    std::string_view text;
    if (id.get(text) != simdjson::SUCCESS) return BadRequest("'id' is not a string");
    request->id = std::string(text);
  }
  dom::array inputs;
  if (object["inputs"].get(inputs) != simdjson::SUCCESS)
    return BadRequest("the request has no array 'inputs'");
  std::vector<Input> read;
  size_t index = 0;
  for (dom::element element : inputs) {
    Input input;
    if (auto error = ReadInput(element, index++, &input)) return error;
    read.push_back(std::move(input));
  }
  if (read.empty()) return BadRequest("'inputs' is empty");
  if (dom::array outputs; object["outputs"].get(outputs) == simdjson::SUCCESS) {
    for (dom::element output : outputs) {
      std::string_view name;
      if (output.type() != dom::element_type::OBJECT ||
          dom::object(output)["name"].get(name) != simdjson::SUCCESS) {
        return BadRequest("'outputs' holds something other than objects with a 'name'");
      }
      if (std::find(std::begin(kInferOutputs), std::end(kInferOutputs), name) == std::end(kInferOutputs)) {
        return BadRequest("unknown output '" + std::string(name) +
                          "'; this model has fraud_probability, is_fraudulent, confidence");
      }
      request->outputs.emplace_back(name);
    }
  }
  if (read.size() == 1 && read[0].shape.size() == 2 && read[0].datatype != "BYTES") {
    return ReadTensor(read[0], feature_width, max_rows, request);
  }
  return ReadTransactionInputs(read, max_rows, parser, request);
}

std::string InferResponseJson(const InferRequest& request, const std::vector<ScoreResult>& results,
                              std::string_view model_name, std::string_view model_version) {
  std::string out;
  out.reserve(128 + results.size() * 48);
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("model_name").String(model_name);
  json.Key("model_version").String(model_version);
  if (request.id) json.Key("id").String(*request.id);
  json.Key("outputs").BeginArray();
  std::vector<std::string_view> names(std::begin(kInferOutputs), std::end(kInferOutputs));
  if (!request.outputs.empty()) names.assign(request.outputs.begin(), request.outputs.end());
  for (std::string_view name : names) {
    const bool decision = name == "is_fraudulent";
    json.BeginObject();
    json.Key("name").String(name);
    json.Key("datatype").String(decision ? "INT32" : "FP64");
    json.Key("shape").BeginArray().Uint(results.size()).EndArray();
    json.Key("data").BeginArray();
    for (const ScoreResult& r : results) {
      if (decision) {
        json.Int(r.is_fraudulent);
      } else {
        json.Number(name == "confidence" ? r.confidence : r.fraud_probability);
      }
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

std::string ServerMetadataJson(std::string_view version) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("name").String("scorepipe").Key("version").String(version);
  json.Key("extensions").BeginArray().EndArray().EndObject();
  return out;
}

std::string ModelMetadataJson(std::string_view name, const std::vector<std::string>& versions,
                              const std::vector<std::string>& feature_names) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("name").String(name);
  json.Key("versions").BeginArray();
  for (const std::string& version : versions) json.String(version);
  json.EndArray();
  json.Key("platform").String("scorepipe");
  json.Key("inputs").BeginArray();
  // The tensor form: its columns are the features, in this order.
  json.BeginObject().Key("name").String("features").Key("datatype").String("FP32");
  json.Key("shape").BeginArray().Int(-1).Uint(feature_names.size()).EndArray();
  json.Key("parameters").BeginObject().Key("columns").BeginArray();
  for (const std::string& feature : feature_names) json.String(feature);
  json.EndArray().EndObject().EndObject();
  // The named-input form.
  for (std::string_view field : kTransactionInputs) {
    const bool text = field == "timestamp" || field == "status";
    json.BeginObject().Key("name").String(field).Key("datatype").String(text ? "BYTES" : "FP64");
    json.Key("shape").BeginArray().Int(-1).EndArray().EndObject();
  }
  json.EndArray();
  json.Key("outputs").BeginArray();
  for (std::string_view output : kInferOutputs) {
    json.BeginObject()
        .Key("name")
        .String(output)
        .Key("datatype")
        .String(output == "is_fraudulent" ? "INT32" : "FP64");
    json.Key("shape").BeginArray().Int(-1).EndArray().EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

}  // namespace scorepipe
