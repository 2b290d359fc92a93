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
// one with a single class reads fine: what to make of it is the caller's. A
// row (a CSV record after the header, or a JSON line) longer than
// max_row_bytes is an error that says so, whatever else is wrong with it.
//
// Plain functions, and a reader owned by one thread. Writing the files is
// labelled_writer.h.
#ifndef SCOREPIPE_TRAINING_LABELLED_DATA_H_
#define SCOREPIPE_TRAINING_LABELLED_DATA_H_

#include <cstddef>
#include <memory>
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

// Reads a whole labelled file (format by extension): LabelledFileReader's
// rows all at once, without holding the file's text.
Result<LabelledData> ReadLabelledFile(const std::string& path, const LabelledFileOptions& options);

// The same for text already in memory; `name` stands for the file in errors.
Result<LabelledData> ParseLabelledText(const std::string& text, LabelledFileFormat format,
                                       const std::string& name, const LabelledFileOptions& options);

// Reads a labelled file a bounded chunk of rows at a time, in file order, so
// that the caller holds only what it asked for however large the file is:
// the reader itself holds one block of the file and at most one row of up to
// max_row_bytes (only a CSV header, read once, may be longer). Rows, labels
// and errors (the first bad row as "file:line: ...", with the file's real
// line number) are exactly those of ReadLabelledFile, which is this reader
// asked for everything at once.
//
// Owned and used by one thread; movable, not copyable.
class LabelledFileReader {
 public:
  // The bytes read from the file at a time (smaller ones are for tests).
  static constexpr size_t kDefaultBlockBytes = 1 << 20;

  // Opens `path` (format by extension); an error for an unknown extension, a
  // file that cannot be opened, bad options or block_bytes == 0. Nothing is
  // read yet.
  static Result<LabelledFileReader> Open(const std::string& path, const LabelledFileOptions& options,
                                         size_t block_bytes = kDefaultBlockBytes);

  LabelledFileReader(LabelledFileReader&&) noexcept;
  LabelledFileReader& operator=(LabelledFileReader&&) noexcept;
  ~LabelledFileReader();

  // Replaces *out with the next rows, at most `max_rows` (>= 1); returns how
  // many (0: the end of the file). The call that reaches a bad row returns
  // its error and leaves *out empty (the good rows before it in that call are
  // not returned); after an error, every call returns it again. max_rows == 0
  // is an error of the call only.
  Result<size_t> Next(size_t max_rows, LabelledData* out);
  // Back to the first row (the file is read again from its start); clears an
  // earlier error.
  Status Rewind();
  // Rows returned since the start (or the last Rewind).
  size_t rows_read() const;

 private:
  class Impl;  // behind a pointer: it holds simdjson's parser
  friend Result<LabelledData> ParseLabelledText(const std::string&, LabelledFileFormat, const std::string&,
                                                const LabelledFileOptions&);
  explicit LabelledFileReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_TRAINING_LABELLED_DATA_H_
