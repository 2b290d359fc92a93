#include "training/labelled_writer.h"

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>

#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "training/labelled_fields.h"

namespace scorepipe {
namespace {

using labelled_internal::kAmount;
using labelled_internal::kCustomerId;
using labelled_internal::kFieldNames;
using labelled_internal::kId;
using labelled_internal::kNumFields;
using labelled_internal::kStatus;
using labelled_internal::kTimestamp;

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

std::string IdString(const Transaction& t) {
  std::string out;
  AppendTransactionId(t.id, t.id_text, &out);
  return out;
}

}  // namespace

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
