#include "worker/labelled_data.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>

#include "proto/upstream_json.h"
#include "worker/file_util.h"

namespace scorepipe {
namespace {

// The upstream fields, in the order the writer puts them.
enum UpstreamField { kId, kCustomerId, kVendorId, kTimestamp, kStatus, kAmount, kNumFields };
constexpr std::array<const char*, kNumFields> kFieldNames = {"id",        "customer_id", "vendor_id",
                                                             "timestamp", "status",      "amount"};

bool IsNumericField(int field) { return field != kTimestamp && field != kStatus; }

// Room for the JSON that a CSV row turns into: every byte may need escaping.
size_t ParserBytes(const LabelledFileOptions& options) { return options.max_row_bytes * 6 + 256; }

Status RowError(const std::string& name, size_t line, const std::string& what) {
  return Status::Error(name + ":" + std::to_string(line) + ": " + what);
}

// `text` cut to a few dozen bytes and quoted, for error messages.
std::string Quoted(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  AppendJsonString(text.substr(0, kMaxShown), &out);
  if (text.size() > kMaxShown) out += "...";
  return out;
}

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

std::string LabelRule(const std::string& label_column) {
  return "label '" + label_column + "': expected 0, 1, true or false, got ";
}

// ---------------------------------------------------------------------------
// CSV

// Splits RFC 4180 text into records of fields. A field that starts with '"'
// runs to the next lone '"' ("" inside is one quote) and may hold commas and
// line breaks; after it comes a comma or the end of the record.
class CsvRecords {
 public:
  explicit CsvRecords(std::string_view text) : text_(text) {
    constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
    if (text_.substr(0, kUtf8Bom.size()) == kUtf8Bom) pos_ = kUtf8Bom.size();
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  // The line on which the last record read started (1-based).
  size_t line() const { return record_line_; }

  // Reads the next record into *fields; *bytes is its length in the file.
  // A blank line is a record of one empty field. Errors name what is wrong;
  // the caller adds the place.
  Status Next(std::vector<std::string>* fields, size_t* bytes) {
    fields->clear();
    record_line_ = line_;
    const size_t start = pos_;
    while (true) {
      std::string field;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        if (Status s = ReadQuoted(&field); !s.ok()) return s;
      } else {
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n') {
          if (text_[pos_] == '"') return Status::Error("a quote inside an unquoted field");
          field += text_[pos_++];
        }
        // CRLF: the CR belongs to the line break, not to the field.
        if (!field.empty() && field.back() == '\r' && (pos_ >= text_.size() || text_[pos_] == '\n')) {
          field.pop_back();
        }
      }
      fields->push_back(std::move(field));
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == '\n') {
        ++pos_;
        ++line_;
        break;
      }
      ++pos_;  // the comma
    }
    *bytes = pos_ - start;
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
      if (c == '\n') ++line_;
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
  size_t line_ = 1;
  size_t record_line_ = 1;
};

bool IsBlankRecord(const std::vector<std::string>& fields) { return fields.size() == 1 && fields[0].empty(); }

Result<float> ParseCsvLabel(std::string_view text, const std::string& label_column) {
  if (text == "1" || EqualsIgnoringCase(text, "true")) return 1.0f;
  if (text == "0" || EqualsIgnoringCase(text, "false")) return 0.0f;
  return Status::Error(LabelRule(label_column) + Quoted(text));
}

Result<LabelledData> ParseCsv(std::string_view text, const std::string& name,
                              const LabelledFileOptions& options) {
  LabelledData data;
  CsvRecords records(text);
  std::vector<std::string> fields;
  size_t bytes = 0;
  // The header: the first record that is not blank.
  bool have_header = false;
  while (!records.AtEnd() && !have_header) {
    if (Status s = records.Next(&fields, &bytes); !s.ok()) return RowError(name, records.line(), s.message());
    have_header = !IsBlankRecord(fields);
  }
  if (!have_header) return data;  // an empty file
  const size_t header_line = records.line();
  const size_t num_columns = fields.size();
  std::array<size_t, kNumFields + 1> column{};  // the upstream fields, then the label
  for (int f = 0; f <= kNumFields; ++f) {
    const std::string wanted = f < kNumFields ? kFieldNames[f] : options.label_column;
    size_t found = num_columns;
    for (size_t c = 0; c < num_columns; ++c) {
      if (fields[c] != wanted) continue;
      if (found != num_columns) {
        return RowError(name, header_line, "column '" + wanted + "' appears twice in the header");
      }
      found = c;
    }
    if (found == num_columns) {
      return RowError(name, header_line,
                      "the header has no column '" + wanted + "'" +
                          (f == kNumFields ? " (the label; --label-column names another)" : ""));
    }
    column[f] = found;
  }

  TransactionParser parser(ParserBytes(options));
  std::string json;
  while (!records.AtEnd()) {
    if (Status s = records.Next(&fields, &bytes); !s.ok()) return RowError(name, records.line(), s.message());
    const size_t line = records.line();
    if (IsBlankRecord(fields)) continue;
    if (bytes > options.max_row_bytes) {
      return RowError(name, line,
                      "the row is " + std::to_string(bytes) + " bytes, over the limit of " +
                          std::to_string(options.max_row_bytes));
    }
    if (fields.size() != num_columns) {
      return RowError(
          name, line,
          std::to_string(fields.size()) + " fields, but the header has " + std::to_string(num_columns));
    }
    // The row as the upstream's JSON message, so that the bridge's parser
    // judges it: numbers go in as literals when they are JSON numbers, and
    // as strings otherwise, which the parser then rejects with their text.
    json = "{";
    for (int f = 0; f < kNumFields; ++f) {
      if (f > 0) json += ',';
      json += '"';
      json += kFieldNames[f];
      json += "\":";
      const std::string& value = fields[column[f]];
      if (IsNumericField(f) && IsJsonNumber(value)) {
        json += value;
      } else {
        AppendJsonString(value, &json);
      }
    }
    json += '}';
    Result<Transaction> transaction = parser.Parse(json);
    if (!transaction.ok()) return RowError(name, line, transaction.status().message());
    Result<float> label = ParseCsvLabel(fields[column[kNumFields]], options.label_column);
    if (!label.ok()) return RowError(name, line, label.status().message());
    data.transactions.push_back(std::move(transaction).value());
    data.labels.push_back(*label);
  }
  return data;
}

// ---------------------------------------------------------------------------
// JSON lines

bool IsBlankLine(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

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

Result<LabelledData> ParseJsonLines(std::string_view text, const std::string& name,
                                    const LabelledFileOptions& options) {
  LabelledData data;
  TransactionParser parser(options.max_row_bytes);
  simdjson::dom::parser label_parser;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (IsBlankLine(line)) continue;
    if (line.back() == '\r') line.remove_suffix(1);
    Result<Transaction> transaction = parser.Parse(line);
    if (!transaction.ok()) return RowError(name, line_number, transaction.status().message());
    Result<float> label = JsonLabel(label_parser, line, options.label_column);
    if (!label.ok()) return RowError(name, line_number, label.status().message());
    data.transactions.push_back(std::move(transaction).value());
    data.labels.push_back(*label);
  }
  return data;
}

// ---------------------------------------------------------------------------
// Writing

// A CSV field, quoted when it must be (or when blank spaces at its ends
// would otherwise be at the mercy of the reader).
void AppendCsvField(std::string_view text, std::string* out) {
  const bool needs_quotes = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                            (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!needs_quotes) {
    out->append(text);
    return;
  }
  *out += '"';
  for (const char c : text) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

template <typename Number>
void AppendNumber(Number value, std::string* out) {
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, r.ptr);
}

}  // namespace

Result<LabelledFileFormat> LabelledFileFormatOf(const std::string& path) {
  const auto ends_with = [&path](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".csv")) return LabelledFileFormat::kCsv;
  if (ends_with(".jsonl") || ends_with(".ndjson")) return LabelledFileFormat::kJsonLines;
  return Status::Error(path + ": unknown labelled file format: the name must end in .csv, .jsonl or .ndjson");
}

Status LabelledFileOptions::Validate() const {
  if (label_column.empty()) return Status::Error("label column: must not be empty");
  for (const char* field : kFieldNames) {
    if (label_column == field) {
      return Status::Error("label column: '" + label_column + "' is an upstream transaction field");
    }
  }
  if (max_row_bytes < 64) {
    return Status::Error("max_row_bytes: " + std::to_string(max_row_bytes) + " is below 64");
  }
  return Status::Ok();
}

Result<LabelledData> ParseLabelledText(const std::string& text, LabelledFileFormat format,
                                       const std::string& name, const LabelledFileOptions& options) {
  if (Status s = options.Validate(); !s.ok()) return s;
  return format == LabelledFileFormat::kCsv ? ParseCsv(text, name, options)
                                            : ParseJsonLines(text, name, options);
}

Result<LabelledData> ReadLabelledFile(const std::string& path, const LabelledFileOptions& options) {
  Result<LabelledFileFormat> format = LabelledFileFormatOf(path);
  if (!format.ok()) return format.status();
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return ParseLabelledText(*text, *format, path, options);
}

LabelledFileWriter::LabelledFileWriter(std::string path, LabelledFileFormat format, std::string label_column)
    : path_(std::move(path)), format_(format), label_column_(std::move(label_column)) {}

Result<LabelledFileWriter> LabelledFileWriter::Open(const std::string& path,
                                                    const std::string& label_column) {
  Result<LabelledFileFormat> format = LabelledFileFormatOf(path);
  if (!format.ok()) return format.status();
  LabelledFileOptions options;
  options.label_column = label_column;
  if (Status s = options.Validate(); !s.ok()) return s;
  LabelledFileWriter writer(path, *format, label_column);
  writer.out_.open(path, std::ios::binary | std::ios::trunc);
  if (!writer.out_) return Status::Error(path + ": cannot open for writing");
  if (writer.format_ == LabelledFileFormat::kCsv) {
    std::string header;
    for (const char* field : kFieldNames) {
      header += field;
      header += ',';
    }
    AppendCsvField(label_column, &header);
    header += '\n';
    writer.out_ << header;
  }
  return writer;
}

Status LabelledFileWriter::Append(const Transaction& t, float label) {
  if (label != 0.0f && label != 1.0f) {
    return Status::Error(path_ + ": transaction " + std::to_string(t.id) + ": the label must be 0 or 1");
  }
  if (!std::isfinite(t.amount)) {
    return Status::Error(path_ + ": transaction " + std::to_string(t.id) + ": the amount is not finite");
  }
  row_.clear();
  const bool csv = format_ == LabelledFileFormat::kCsv;
  for (int f = 0; f < kNumFields; ++f) {
    if (csv) {
      if (f > 0) row_ += ',';
    } else {
      row_ += f == 0 ? "{\"" : ",\"";
      row_ += kFieldNames[f];
      row_ += "\":";
    }
    if (f == kTimestamp || f == kStatus) {
      const std::string& text = f == kTimestamp ? t.timestamp : t.status;
      csv ? AppendCsvField(text, &row_) : AppendJsonString(text, &row_);
    } else if (f == kAmount) {
      AppendNumber(t.amount, &row_);
    } else {
      AppendNumber(f == kId ? t.id : f == kCustomerId ? t.customer_id : t.vendor_id, &row_);
    }
  }
  if (csv) {
    row_ += label == 1.0f ? ",1\n" : ",0\n";
  } else {
    row_ += ',';
    AppendJsonString(label_column_, &row_);
    row_ += label == 1.0f ? ":1}\n" : ":0}\n";
  }
  out_ << row_;
  return out_ ? Status::Ok() : Status::Error(path_ + ": write failed");
}

Status LabelledFileWriter::Close() {
  out_.close();
  return out_ ? Status::Ok() : Status::Error(path_ + ": write failed");
}

Status WriteLabelledFile(const std::string& path, const LabelledData& data, const std::string& label_column) {
  if (data.transactions.size() != data.labels.size()) {
    return Status::Error(path + ": " + std::to_string(data.transactions.size()) + " transactions but " +
                         std::to_string(data.labels.size()) + " labels");
  }
  Result<LabelledFileWriter> writer = LabelledFileWriter::Open(path, label_column);
  if (!writer.ok()) return writer.status();
  for (size_t i = 0; i < data.transactions.size(); ++i) {
    if (Status s = writer->Append(data.transactions[i], data.labels[i]); !s.ok()) return s;
  }
  return writer->Close();
}

}  // namespace scorepipe
