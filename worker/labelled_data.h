// Labelled transaction files: upstream transactions with a known fraud label,
// which `scorepipe evaluate` scores and compares and training learns from.
//
// A labelled file is the upstream transaction format (/work/shared/UPSTREAM.md)
// plus one label column, in one of two formats chosen by the file's extension:
//
//   .csv             a header row naming the columns (any order; the upstream
//                    fields id, customer_id, vendor_id, timestamp, status,
//                    amount and the label column are required, others are
//                    ignored), then one row per transaction; RFC 4180 quoting
//                    ("a, ""b""" and line breaks inside quotes); LF or CRLF.
//   .jsonl, .ndjson  one upstream transaction object per line with the label
//                    as one more key.
//
// Every transaction is checked against the upstream rules by the bridge's own
// TransactionParser (proto/upstream_json.h), so a file reads exactly as the
// cluster would take it from the queue. A label is 0 or 1 (also true or
// false; in CSV case-insensitively). Blank lines are skipped. The first bad
// row stops reading with an error "file:line: what is wrong". An empty file or
// one with a single class reads fine: what to make of it is the caller's.
//
// Plain functions and a writer owned by one thread.
#ifndef SCOREPIPE_WORKER_LABELLED_DATA_H_
#define SCOREPIPE_WORKER_LABELLED_DATA_H_

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe {

// Transactions and their labels, index by index.
struct LabelledData {
  std::vector<Transaction> transactions;
  std::vector<float> labels;  // 0 or 1, one per transaction
};

enum class LabelledFileFormat {
  kCsv,        // .csv
  kJsonLines,  // .jsonl or .ndjson
};

// The format for `path`'s extension; any other extension is an error that
// names the ones allowed.
Result<LabelledFileFormat> LabelledFileFormatOf(const std::string& path);

struct LabelledFileOptions {
  // The label's column (CSV) or key (JSON lines); not one of the upstream
  // fields' names.
  std::string label_column = "is_fraudulent";
  // A row longer than this (bytes) is an error, as the bridge's
  // queue.max_message_bytes would reject it.
  size_t max_row_bytes = 1 << 20;

  // Non-empty label column, not an upstream field, max_row_bytes >= 64.
  Status Validate() const;
};

// Reads a whole labelled file (format by extension).
Result<LabelledData> ReadLabelledFile(const std::string& path, const LabelledFileOptions& options);

// The same for text already in memory; `name` stands for the file in errors.
Result<LabelledData> ParseLabelledText(const std::string& text, LabelledFileFormat format,
                                       const std::string& name, const LabelledFileOptions& options);

// Writes a labelled file row by row (for large generated files), in the
// format of `path`'s extension, with the label column last. Amounts are
// written in the shortest form that reads back to the same double, so
// ReadLabelledFile(path) gives the rows back exactly.
class LabelledFileWriter {
 public:
  // Creates or truncates `path`; an error when the extension is unknown or
  // the file cannot be opened.
  static Result<LabelledFileWriter> Open(const std::string& path,
                                         const std::string& label_column = "is_fraudulent");

  LabelledFileWriter(LabelledFileWriter&&) = default;
  LabelledFileWriter& operator=(LabelledFileWriter&&) = default;

  // `label` must be 0 or 1.
  Status Append(const Transaction& transaction, float label);
  // Flushes and closes; an error when any write failed.
  Status Close();

 private:
  LabelledFileWriter(std::string path, LabelledFileFormat format, std::string label_column);

  std::string path_;
  LabelledFileFormat format_;
  std::string label_column_;
  std::ofstream out_;
  std::string row_;  // reused per row
};

// Writes all of `data` to `path` (format by extension).
Status WriteLabelledFile(const std::string& path, const LabelledData& data,
                         const std::string& label_column = "is_fraudulent");

}  // namespace scorepipe

#endif  // SCOREPIPE_WORKER_LABELLED_DATA_H_
