// Reading labelled JSON-lines files (see labelled_data.h for the format):
// each line is judged by the bridge's own parser, and its label read beside.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "proto/upstream_json.h"
#include "training/labelled_rows.h"

namespace scorepipe::labelled_internal {
namespace {

// The label of one JSON object (already known to be an object). Of a repeated
// key the last one counts, as for the transaction's fields.
Result<float> JsonLabel(simdjson::dom::parser& parser, std::string_view line,
                        const std::string& label_column) {
  simdjson::dom::element document;
  simdjson::dom::object object;
  if (parser.parse(line.data(), line.size()).get(document) != simdjson::SUCCESS ||
      document.get(object) != simdjson::SUCCESS) {
    return Status::Error("not a JSON object");
  }
  bool found = false;
  simdjson::dom::element value;
  for (simdjson::dom::key_value_pair field : object) {
    if (field.key == label_column) {
      value = field.value;
      found = true;
    }
  }
  if (!found) return Status::Error("missing label '" + label_column + "'");
  bool flag = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  if (value.get(flag) == simdjson::SUCCESS) return flag ? 1.0f : 0.0f;
  if (value.get(integer) == simdjson::SUCCESS && (integer == 0 || integer == 1)) {
    return static_cast<float>(integer);
  }
  if (value.get(unsigned_integer) == simdjson::SUCCESS && unsigned_integer <= 1) {
    return static_cast<float>(unsigned_integer);
  }
  return Status::Error(LabelRule(label_column) + Quoted(simdjson::minify(value)));
}

// TransactionParser::Parse's words for a message over its limit, for a line
// too long to keep in memory (the tests hold the two to the same text).
std::string MessageTooLong(size_t bytes, size_t max_row_bytes) {
  return "message is " + std::to_string(bytes) + " bytes; limit " + std::to_string(max_row_bytes);
}

class JsonLinesRowParser final : public RowParser {
 public:
  JsonLinesRowParser(std::string name, const LabelledFileOptions& options)
      : name_(std::move(name)), options_(options), parser_(options.max_row_bytes) {}

  bool NextRecordIsARow() const override { return true; }

  Status Parse(const LabelledRecord& record, LabelledData* out) override {
    if (record.too_long) {
      if (record.blank) return Status::Ok();
      return RowError(name_, record.line, MessageTooLong(record.text_length, options_.max_row_bytes));
    }
    std::string_view line = record.bytes;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (IsBlankLine(line)) return Status::Ok();
    if (line.back() == '\r') line.remove_suffix(1);
    Result<Transaction> transaction = parser_.Parse(line);
    if (!transaction.ok()) return RowError(name_, record.line, transaction.status().message());
    Result<float> label = JsonLabel(label_parser_, line, options_.label_column);
    if (!label.ok()) return RowError(name_, record.line, label.status().message());
    out->transactions.push_back(std::move(transaction).value());
    out->labels.push_back(*label);
    return Status::Ok();
  }

  void Reset() override {}

 private:
  const std::string name_;
  const LabelledFileOptions options_;
  TransactionParser parser_;
  simdjson::dom::parser label_parser_;
};

}  // namespace

std::unique_ptr<RowParser> NewJsonLinesRowParser(const std::string& name,
                                                 const LabelledFileOptions& options) {
  return std::make_unique<JsonLinesRowParser>(name, options);
}

}  // namespace scorepipe::labelled_internal
