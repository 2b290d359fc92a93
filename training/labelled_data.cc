#include "training/labelled_data.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>

#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

// The upstream fields, in the order the writer puts them.
enum UpstreamField { kId, kCustomerId, kVendorId, kTimestamp, kStatus, kAmount, kNumFields };
constexpr std::array<std::string_view, kNumFields> kFieldNames = {"id",        "customer_id", "vendor_id",
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

// TransactionParser::Parse's words for a message over its limit, for a line
// too long to keep in memory (the tests hold the two to the same text).
std::string MessageTooLong(size_t bytes, size_t max_row_bytes) {
  return "message is " + std::to_string(bytes) + " bytes; limit " + std::to_string(max_row_bytes);
}

}  // namespace

// ---------------------------------------------------------------------------
// Reading: records found in blocks of the file, then parsed one by one.

class LabelledFileReader::Impl {
 public:
  // Reads `text` (which must outlive this) when `path` is empty, else the
  // file at `path` (opened by Open()); `name` stands for it in errors.
  Impl(std::string name, LabelledFileFormat format, const LabelledFileOptions& options, size_t block_bytes,
       std::string_view text)
      : name_(std::move(name)),
        format_(format),
        options_(options),
        block_bytes_(block_bytes),
        text_(text),
        parser_(format == LabelledFileFormat::kCsv ? ParserBytes(options) : options.max_row_bytes) {
    Reset();
  }

  Status OpenFile() {
    file_.open(name_, std::ios::binary);
    if (!file_) return Status::Error(name_ + ": cannot open: " + std::strerror(errno));
    from_file_ = true;
    Reset();
    return Status::Ok();
  }

  Result<size_t> Next(size_t max_rows, LabelledData* out) {
    out->transactions.clear();
    out->labels.clear();
    if (!error_.ok()) return error_;
    if (max_rows == 0) return Status::Error(name_ + ": asked for 0 rows; ask for at least 1");
    if (Status s = Fill(max_rows, out); !s.ok()) {
      error_ = s;
      out->transactions.clear();
      out->labels.clear();
      return s;
    }
    rows_read_ += out->labels.size();
    return out->labels.size();
  }

  Status Rewind() {
    if (from_file_) {
      file_.clear();
      file_.seekg(0);
      if (!file_) return Status::Error(name_ + ": cannot go back to the start");
    }
    Reset();
    return Status::Ok();
  }

  size_t rows_read() const { return rows_read_; }

 private:
  // One record: its bytes with its line break, or for one too long to keep
  // (bytes empty) what the parsing needs to know of it.
  struct Record {
    std::string_view bytes;
    size_t line = 0;         // where it starts, 1-based
    bool too_long = false;   // then:
    size_t length = 0;       // its bytes with its line break
    size_t text_length = 0;  // without the line break and a CR before it
    bool blank = false;      // only spaces, tabs and CRs
  };

  void Reset() {
    buffer_.clear();
    data_ = from_file_ ? std::string_view() : text_;
    eof_ = !from_file_;
    begin_ = scan_ = 0;
    in_quotes_ = false;
    newlines_ = 0;
    line_ = 1;
    started_ = have_header_ = false;
    error_ = Status::Ok();
    rows_read_ = 0;
  }

  Status Fill(size_t max_rows, LabelledData* out) {
    if (!started_) {
      if (Status s = SkipByteOrderMark(); !s.ok()) return s;
      started_ = true;
    }
    Record record;
    while (out->labels.size() < max_rows) {
      Result<bool> more = NextRecord(&record);
      if (!more.ok()) return more.status();
      if (!*more) break;
      Status s =
          format_ == LabelledFileFormat::kCsv ? ParseCsvRecord(record, out) : ParseJsonLine(record, out);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // A CSV file may begin with UTF-8's byte order mark, which is not text.
  Status SkipByteOrderMark() {
    constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
    if (format_ != LabelledFileFormat::kCsv) return Status::Ok();
    while (data_.size() < kUtf8Bom.size() && !eof_) {
      if (Status s = ReadMore(); !s.ok()) return s;
    }
    if (data_.substr(0, kUtf8Bom.size()) == kUtf8Bom) begin_ = scan_ = kUtf8Bom.size();
    return Status::Ok();
  }

  // Appends the next block of the file to what is not yet consumed.
  Status ReadMore() {
    buffer_.erase(0, begin_);
    scan_ -= begin_;
    begin_ = 0;
    const size_t kept = buffer_.size();
    buffer_.resize(kept + block_bytes_);
    file_.read(buffer_.data() + kept, static_cast<std::streamsize>(block_bytes_));
    const size_t got = static_cast<size_t>(file_.gcount());
    buffer_.resize(kept + got);
    data_ = buffer_;
    if (got == 0) {
      if (file_.bad()) return Status::Error(name_ + ": cannot read: " + std::strerror(errno));
      eof_ = true;
    }
    return Status::Ok();
  }

  // Moves scan_ on to just past the line break that ends the record at
  // begin_ (for CSV the first one outside quotes: RFC 4180's "" toggles twice,
  // so quote parity from the record's start tells), counting line breaks;
  // false when the data in memory ends first.
  bool ScanToRecordEnd() {
    const char* p = data_.data();
    const size_t n = data_.size();
    while (scan_ < n) {
      const void* found = std::memchr(p + scan_, '\n', n - scan_);
      const size_t end = found == nullptr ? n : static_cast<size_t>(static_cast<const char*>(found) - p);
      if (format_ == LabelledFileFormat::kCsv && std::count(p + scan_, p + end, '"') % 2 == 1) {
        in_quotes_ = !in_quotes_;
      }
      if (found == nullptr) {
        scan_ = n;
        return false;
      }
      scan_ = end + 1;
      ++newlines_;
      if (!in_quotes_) return true;
    }
    return false;
  }

  // The next record into *record; false at the end of the file.
  Result<bool> NextRecord(Record* record) {
    // A row can't be longer than this with its CR and line break; past it
    // the record is too long and its bytes need not be kept.
    const bool limited = have_header_ || format_ == LabelledFileFormat::kJsonLines;
    while (!ScanToRecordEnd()) {
      if (eof_) {
        if (begin_ == data_.size()) return false;
        break;  // the last record, without a line break
      }
      if (limited && scan_ - begin_ > options_.max_row_bytes + 1) return SkipLongRecord(record);
      if (Status s = ReadMore(); !s.ok()) return s;
    }
    *record = Record{};
    record->bytes = data_.substr(begin_, scan_ - begin_);
    record->line = line_;
    EndRecord();
    return true;
  }

  void EndRecord() {
    line_ += newlines_;
    begin_ = scan_;
    newlines_ = 0;
    in_quotes_ = false;
  }

  // Reads on to the end of a record too long to keep, noting what
  // ParseCsvRecord and ParseJsonLine need to know of it.
  Result<bool> SkipLongRecord(Record* record) {
    *record = Record{};
    record->too_long = true;
    record->line = line_;
    record->blank = true;
    char last = 0;
    while (true) {
      const bool ended = ScanToRecordEnd();
      std::string_view part = data_.substr(begin_, scan_ - begin_);
      record->length += part.size();
      if (ended) part.remove_suffix(1);  // the line break
      record->text_length += part.size();
      if (record->blank && !IsBlankLine(part)) record->blank = false;
      if (!part.empty()) last = part.back();
      if (ended || eof_) break;
      begin_ = scan_;  // let the next block replace it
      if (Status s = ReadMore(); !s.ok()) return s;
    }
    if (last == '\r') --record->text_length;
    EndRecord();
    return true;
  }

  Status ParseCsvRecord(const Record& record, LabelledData* out) {
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
    json_ = "{";
    for (int f = 0; f < kNumFields; ++f) {
      if (f > 0) json_ += ',';
      json_ += '"';
      json_ += kFieldNames[f];
      json_ += "\":";
      const std::string& value = fields_[columns_.column[f]];
      if (IsNumericField(f) && IsJsonNumber(value)) {
        json_ += value;
      } else {
        AppendJsonString(value, &json_);
      }
    }
    json_ += '}';
    Result<Transaction> transaction = parser_.Parse(json_);
    if (!transaction.ok()) return RowError(name_, record.line, transaction.status().message());
    Result<float> label = ParseCsvLabel(fields_[columns_.column[kNumFields]], options_.label_column);
    if (!label.ok()) return RowError(name_, record.line, label.status().message());
    out->transactions.push_back(std::move(transaction).value());
    out->labels.push_back(*label);
    return Status::Ok();
  }

  Status ParseJsonLine(const Record& record, LabelledData* out) {
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

  const std::string name_;
  const LabelledFileFormat format_;
  const LabelledFileOptions options_;
  const size_t block_bytes_;
  const std::string_view text_;  // the text itself when not from a file
  bool from_file_ = false;
  std::ifstream file_;

  // The bytes in memory: text_, or buffer_ (a record's unconsumed start and
  // the blocks read after it).
  std::string buffer_;
  std::string_view data_;
  bool eof_ = false;  // nothing more comes after data_
  size_t begin_ = 0;  // where the next record starts in data_
  size_t scan_ = 0;   // how far its end has been looked for
  bool in_quotes_ = false;
  size_t newlines_ = 0;  // line breaks in data_[begin_, scan_)
  size_t line_ = 1;      // the line at begin_
  bool started_ = false;

  bool have_header_ = false;  // CSV
  CsvColumns columns_;
  std::vector<std::string> fields_;
  std::string json_;
  TransactionParser parser_;
  simdjson::dom::parser label_parser_;  // JSON lines

  Status error_ = Status::Ok();
  size_t rows_read_ = 0;
};

LabelledFileReader::LabelledFileReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LabelledFileReader::LabelledFileReader(LabelledFileReader&&) noexcept = default;
LabelledFileReader& LabelledFileReader::operator=(LabelledFileReader&&) noexcept = default;
LabelledFileReader::~LabelledFileReader() = default;

Result<LabelledFileReader> LabelledFileReader::Open(const std::string& path,
                                                    const LabelledFileOptions& options, size_t block_bytes) {
  Result<LabelledFileFormat> format = LabelledFileFormatOf(path);
  if (!format.ok()) return format.status();
  if (Status s = options.Validate(); !s.ok()) return s;
  if (block_bytes == 0) return Status::Error(path + ": block_bytes: 0 is below 1");
  auto impl = std::make_unique<Impl>(path, *format, options, block_bytes, std::string_view());
  if (Status s = impl->OpenFile(); !s.ok()) return s;
  return LabelledFileReader(std::move(impl));
}

Result<size_t> LabelledFileReader::Next(size_t max_rows, LabelledData* out) {
  return impl_->Next(max_rows, out);
}
Status LabelledFileReader::Rewind() { return impl_->Rewind(); }
size_t LabelledFileReader::rows_read() const { return impl_->rows_read(); }

namespace {

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
  for (std::string_view field : kFieldNames) {
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
  LabelledFileReader reader(std::make_unique<LabelledFileReader::Impl>(name, format, options, 1, text));
  LabelledData data;
  if (Result<size_t> rows = reader.Next(std::numeric_limits<size_t>::max(), &data); !rows.ok()) {
    return rows.status();
  }
  return data;
}

Result<LabelledData> ReadLabelledFile(const std::string& path, const LabelledFileOptions& options) {
  Result<LabelledFileReader> reader = LabelledFileReader::Open(path, options);
  if (!reader.ok()) return reader.status();
  LabelledData data;
  if (Result<size_t> rows = reader->Next(std::numeric_limits<size_t>::max(), &data); !rows.ok()) {
    return rows.status();
  }
  return data;
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
    for (std::string_view field : kFieldNames) {
      header += field;
      header += ',';
    }
    AppendCsvField(label_column, &header);
    header += '\n';
    writer.out_ << header;
  }
  return writer;
}

namespace {

std::string IdString(const Transaction& t) {
  std::string out;
  AppendTransactionId(t.id, t.id_text, &out);
  return out;
}

}  // namespace

Status LabelledFileWriter::Append(const Transaction& t, float label) {
  if (label != 0.0f && label != 1.0f) {
    return Status::Error(path_ + ": transaction " + IdString(t) + ": the label must be 0 or 1");
  }
  if (!std::isfinite(t.amount)) {
    return Status::Error(path_ + ": transaction " + IdString(t) + ": the amount is not finite");
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
      f == kId ? AppendTransactionId(t.id, t.id_text, &row_)
               : AppendNumber(f == kCustomerId ? t.customer_id : t.vendor_id, &row_);
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
