// Reading labelled CSV files (see labelled_data.h for the format): a
// record split into fields by RFC 4180, the header's columns, and each row
// turned into the upstream's JSON message for the bridge's own parser.
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "training/labelled_fields.h"
#include "training/labelled_rows.h"

namespace scorepipe::labelled_internal {
namespace {

// Room for the JSON that a CSV row turns into: every byte may need escaping.
size_t ParserBytes(const LabelledFileOptions& options) { return options.max_row_bytes * 6 + 256; }

// A JSON number literal: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const auto digits = [&s, &i] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Splits one RFC 4180 record (with its line break, if it has one) into
// fields. A field that starts with '"' runs to the next lone '"' ("" inside
// is one quote) and may hold commas and line breaks; after it comes a comma
// or the end of the record. A blank line is a record of one empty field.
// Errors name what is wrong; the caller adds the place.
class CsvRecord {
 public:
  explicit CsvRecord(std::string_view text) : text_(text) {}

  Status Split(std::vector<std::string>* fields) {
    fields->clear();
    while (true) {
      std::string field;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        if (Status s = ReadQuoted(&field); !s.ok()) return s;
      } else {
        const size_t start = pos_;
        for (; pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n'; ++pos_) {
          if (text_[pos_] == '"') return Status::Error("a quote inside an unquoted field");
        }
        field.assign(text_.substr(start, pos_ - start));
        // CRLF: the CR belongs to the line break, not to the field.
        if (!field.empty() && field.back() == '\r' && (pos_ >= text_.size() || text_[pos_] == '\n')) {
          field.pop_back();
        }
      }
      fields->push_back(std::move(field));
      if (pos_ >= text_.size() || text_[pos_] == '\n') break;
      ++pos_;  // the comma
    }
    return Status::Ok();
  }

 private:
  Status ReadQuoted(std::string* field) {
    ++pos_;  // the opening quote
    while (true) {
      if (pos_ >= text_.size())
        return Status::Error("a quoted field is not closed before the end of the file");
      const char c = text_[pos_++];
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          *field += '"';
          ++pos_;
          continue;
        }
        break;
      }
      *field += c;
    }
    if (pos_ < text_.size() && text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n') {
      return Status::Error("after a closing quote comes " + Quoted(text_.substr(pos_, 1)) +
                           ", not a comma or the end of the row");
    }
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

bool IsBlankRecord(const std::vector<std::string>& fields) { return fields.size() == 1 && fields[0].empty(); }

Result<float> ParseCsvLabel(std::string_view text, const std::string& label_column) {
  if (text == "1" || EqualsIgnoringCase(text, "true")) return 1.0f;
  if (text == "0" || EqualsIgnoringCase(text, "false")) return 0.0f;
  return Status::Error(LabelRule(label_column) + Quoted(text));
}

// Where a CSV file's header puts each upstream field and the label.
struct CsvColumns {
  size_t num_columns = 0;
  std::array<size_t, kNumFields + 1> column{};  // the upstream fields, then the label
};

// The columns named by header `fields`; errors say what is wrong.
Result<CsvColumns> CsvColumnsOf(const std::vector<std::string>& fields, const LabelledFileOptions& options) {
  CsvColumns columns;
  columns.num_columns = fields.size();
  for (int f = 0; f <= kNumFields; ++f) {
    const std::string wanted(f < kNumFields ? kFieldNames[f] : std::string_view(options.label_column));
    size_t found = fields.size();
    for (size_t c = 0; c < fields.size(); ++c) {
      if (fields[c] != wanted) continue;
      if (found != fields.size()) return Status::Error("column '" + wanted + "' appears twice in the header");
      found = c;
    }
    if (found == fields.size()) {
      return Status::Error("the header has no column '" + wanted + "'" +
                           (f == kNumFields ? " (the label; --label-column names another)" : ""));
    }
    columns.column[f] = found;
  }
  return columns;
}

std::string RowTooLong(size_t bytes, size_t max_row_bytes) {
  return "the row is " + std::to_string(bytes) + " bytes, over the limit of " + std::to_string(max_row_bytes);
}

class CsvRowParser final : public RowParser {
 public:
  CsvRowParser(std::string name, const LabelledFileOptions& options)
      : name_(std::move(name)), options_(options), parser_(ParserBytes(options)) {}

  bool NextRecordIsARow() const override { return have_header_; }

  Status Parse(const LabelledRecord& record, LabelledData* out) override {
    if (have_header_ && (record.too_long || record.bytes.size() > options_.max_row_bytes)) {
      return RowError(
          name_, record.line,
          RowTooLong(record.too_long ? record.length : record.bytes.size(), options_.max_row_bytes));
    }
    if (Status s = CsvRecord(record.bytes).Split(&fields_); !s.ok())
      return RowError(name_, record.line, s.message());
    if (IsBlankRecord(fields_)) return Status::Ok();
    if (!have_header_) {
      Result<CsvColumns> columns = CsvColumnsOf(fields_, options_);
      if (!columns.ok()) return RowError(name_, record.line, columns.status().message());
      columns_ = *columns;
      have_header_ = true;
      return Status::Ok();
    }
    if (fields_.size() != columns_.num_columns) {
      return RowError(name_, record.line,
                      std::to_string(fields_.size()) + " fields, but the header has " +
                          std::to_string(columns_.num_columns));
    }
    // The row as the upstream's JSON message, so that the bridge's parser
    // judges it: numbers go in as literals when they are JSON numbers, and
    // as strings otherwise, which the parser then rejects with their text.
    json_.clear();
    JsonWriter json(&json_);
    json.BeginObject();
    for (int f = 0; f < kNumFields; ++f) {
      json.Key(kFieldNames[f]);
      const std::string& value = fields_[columns_.column[f]];
      if (IsNumericField(f) && IsJsonNumber(value)) {
        json.Raw(value);
      } else {
        json.String(value);
      }
    }
    json.EndObject();
    Result<Transaction> transaction = parser_.Parse(json_);
    if (!transaction.ok()) return RowError(name_, record.line, transaction.status().message());
    Result<float> label = ParseCsvLabel(fields_[columns_.column[kNumFields]], options_.label_column);
    if (!label.ok()) return RowError(name_, record.line, label.status().message());
    out->transactions.push_back(std::move(transaction).value());
    out->labels.push_back(*label);
    return Status::Ok();
  }

  void Reset() override { have_header_ = false; }

 private:
  const std::string name_;
  const LabelledFileOptions options_;
  bool have_header_ = false;
  CsvColumns columns_;
  std::vector<std::string> fields_;
  std::string json_;
  TransactionParser parser_;
};

}  // namespace

std::unique_ptr<RowParser> NewCsvRowParser(const std::string& name, const LabelledFileOptions& options) {
  return std::make_unique<CsvRowParser>(name, options);
}

}  // namespace scorepipe::labelled_internal
