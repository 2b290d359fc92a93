// How the labelled file reader (labelled_data.cc) hands each record to the
// parser of the file's format (internal to training/). The reader finds
// where each record ends in the file, a line, or for CSV a record whose
// quoted fields may hold line breaks; a RowParser (CSV: labelled_csv.cc,
// JSON lines: labelled_jsonl.cc) turns it into a transaction and its label,
// or into the error at its line. Also the wording of the errors both
// formats share.
//
// A RowParser belongs to the reader that made it, and so to one thread.
#ifndef SCOREPIPE_TRAINING_LABELLED_ROWS_H_
#define SCOREPIPE_TRAINING_LABELLED_ROWS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "proto/json_writer.h"
#include "proto/status.h"
#include "training/labelled_data.h"

namespace scorepipe::labelled_internal {

// One record: its bytes with its line break, or for one too long to keep
// (bytes empty) what the parsing needs to know of it.
struct LabelledRecord {
  std::string_view bytes;
  size_t line = 0;         // where it starts, 1-based
  bool too_long = false;   // then:
  size_t length = 0;       // its bytes with its line break
  size_t text_length = 0;  // without the line break and a CR before it
  bool blank = false;      // only spaces, tabs and CRs
};

class RowParser {
 public:
  virtual ~RowParser() = default;

  // Whether the next record is a row, which max_row_bytes bounds: past that
  // the reader need not keep its bytes (a CSV header is not a row).
  virtual bool NextRecordIsARow() const = 0;
  // Appends the record's transaction and label to *out; a blank record (and
  // a CSV header) adds nothing. The error is "name:line: what is wrong".
  virtual Status Parse(const LabelledRecord& record, LabelledData* out) = 0;
  // Back to the start of the file (a CSV header comes first again).
  virtual void Reset() = 0;
};

// `name` stands for the file in errors; `options` are valid.
std::unique_ptr<RowParser> NewCsvRowParser(const std::string& name, const LabelledFileOptions& options);
std::unique_ptr<RowParser> NewJsonLinesRowParser(const std::string& name, const LabelledFileOptions& options);

inline Status RowError(const std::string& name, size_t line, const std::string& what) {
  return Status::Error(name + ":" + std::to_string(line) + ": " + what);
}

// `text` cut to a few dozen bytes and quoted, for error messages.
inline std::string Quoted(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  AppendJsonString(text.substr(0, kMaxShown), &out);
  if (text.size() > kMaxShown) out += "...";
  return out;
}

// The start of the error for a label that is not one: "label 'x': expected
// 0, 1, true or false, got ".
inline std::string LabelRule(const std::string& label_column) {
  return "label '" + label_column + "': expected 0, 1, true or false, got ";
}

inline bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace scorepipe::labelled_internal

#endif  // SCOREPIPE_TRAINING_LABELLED_ROWS_H_
