// Writing labelled transaction files (the format is labelled_data.h's): row
// by row, for large generated files (`scorepipe dataset`), or all at once.
// What it writes ReadLabelledFile() reads back exactly.
//
// A writer is owned and used by one thread; movable, not copyable.
#ifndef SCOREPIPE_TRAINING_LABELLED_WRITER_H_
#define SCOREPIPE_TRAINING_LABELLED_WRITER_H_

#include <fstream>
#include <string>

#include "proto/messages.h"
#include "proto/status.h"
#include "training/labelled_data.h"

namespace scorepipe {

// Writes a labelled file row by row, in the format of `path`'s extension,
// with the label column last. Numbers are written in the shortest form that
// reads back to the same double, so ReadLabelledFile(path) gives the rows
// back exactly.
class LabelledFileWriter {
 public:
  // Creates or truncates `path`; an error when the extension is unknown or
  // the file cannot be opened.
  static Result<LabelledFileWriter> Open(const std::string& path,
                                         const std::string& label_column = "is_fraudulent");

  LabelledFileWriter(LabelledFileWriter&&) = default;
  LabelledFileWriter& operator=(LabelledFileWriter&&) = default;

  // `label` must be 0 or 1, and the amount, customer_id and vendor_id finite
  // numbers (a reader takes nothing else back); otherwise an error, and
  // nothing is written.
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
  std::string id_;   // reused per row: the id as written (JSON lines)
};

// Writes all of `data` to `path` (format by extension).
Status WriteLabelledFile(const std::string& path, const LabelledData& data,
                         const std::string& label_column = "is_fraudulent");

}  // namespace scorepipe

#endif  // SCOREPIPE_TRAINING_LABELLED_WRITER_H_
