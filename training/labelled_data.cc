#include "training/labelled_data.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>

#include "training/labelled_fields.h"
#include "training/labelled_rows.h"

namespace scorepipe {
namespace {

using Record = labelled_internal::LabelledRecord;

}  // namespace

// ---------------------------------------------------------------------------
// Reading: records found in blocks of the file, then parsed one by one by
// the format's RowParser (labelled_csv.cc, labelled_jsonl.cc).

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
        rows_(format == LabelledFileFormat::kCsv ? labelled_internal::NewCsvRowParser(name_, options)
                                                 : labelled_internal::NewJsonLinesRowParser(name_, options)) {
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

  void Reset() {
    buffer_.clear();
    data_ = from_file_ ? std::string_view() : text_;
    eof_ = !from_file_;
    begin_ = scan_ = 0;
    in_quotes_ = false;
    newlines_ = 0;
    line_ = 1;
    started_ = false;
    rows_->Reset();
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
      if (Status s = rows_->Parse(record, out); !s.ok()) return s;
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
    const bool limited = rows_->NextRecordIsARow();
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

  // Reads on to the end of a record too long to keep, noting what the row
  // parsers need to know of it.
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
      if (record->blank && !labelled_internal::IsBlankLine(part)) record->blank = false;
      if (!part.empty()) last = part.back();
      if (ended || eof_) break;
      begin_ = scan_;  // let the next block replace it
      if (Status s = ReadMore(); !s.ok()) return s;
    }
    if (last == '\r') --record->text_length;
    EndRecord();
    return true;
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

  // The format's parser of each record.
  const std::unique_ptr<labelled_internal::RowParser> rows_;

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
  for (std::string_view field : labelled_internal::kFieldNames) {
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

}  // namespace scorepipe
