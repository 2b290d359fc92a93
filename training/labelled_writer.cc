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
using labelled_internal::kStatus;
using labelled_internal::kTimestamp;
using labelled_internal::kVendorId;

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

// The shortest form that reads back to the same double (`value` finite).
void AppendNumber(double value, std::string* out) {
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, r.ptr);
}

// One CSV row: the fields in kFieldNames's order, as the header names them,
// then the label.
void AppendCsvRow(const Transaction& t, float label, std::string* out) {
  AppendTransactionId(t.id, t.id_text, out);
  *out += ',';
  AppendNumber(t.customer_id, out);
  *out += ',';
  AppendNumber(t.vendor_id, out);
  *out += ',';
  AppendCsvField(t.timestamp, out);
  *out += ',';
  AppendCsvField(t.status, out);
  *out += ',';
  AppendNumber(t.amount, out);
  *out += label == 1.0f ? ",1\n" : ",0\n";
}

// One JSON line: the upstream message's fields in kFieldNames's order, then
// the label under `label_column`. `id` is scratch space for the id's text.
void AppendJsonLine(const Transaction& t, float label, const std::string& label_column, std::string* id,
                    std::string* out) {
  id->clear();
  AppendTransactionId(t.id, t.id_text, id);
  JsonWriter w(out);
  w.BeginObject()
      .Key(kFieldNames[kId])
      .Raw(*id)
      .Field(kFieldNames[kCustomerId], t.customer_id)
      .Field(kFieldNames[kVendorId], t.vendor_id)
      .Field(kFieldNames[kTimestamp], t.timestamp)
      .Field(kFieldNames[kStatus], t.status)
      .Field(kFieldNames[kAmount], t.amount)
      .Field(label_column, label == 1.0f ? 1 : 0)
      .EndObject();
  *out += '\n';
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
  // A NaN or an infinity cannot be written as a number the reader takes back.
  for (const auto& [name, value] :
       {std::pair{kFieldNames[kAmount], t.amount}, std::pair{kFieldNames[kCustomerId], t.customer_id},
        std::pair{kFieldNames[kVendorId], t.vendor_id}}) {
    if (!std::isfinite(value)) {
      return Status::Error(path_ + ": transaction " + IdString(t) + ": the " + std::string(name) +
                           " is not finite");
    }
  }
  row_.clear();
  if (format_ == LabelledFileFormat::kCsv) {
    AppendCsvRow(t, label, &row_);
  } else {
    AppendJsonLine(t, label, label_column_, &id_, &row_);
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
