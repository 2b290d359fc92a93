// The labelled file reader (CSV and JSON lines, training/labelled_data.h) on any
// text: the first byte picks the format (even: CSV, odd: JSON lines; the
// seeds start with '0' or '1') and the streaming reader's block (1 to 16
// bytes) and chunk (1 to 4 rows) sizes, the rest is the file. The text parsed
// whole and the same text streamed from a file must give exactly the same
// rows or the same error; a difference aborts.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "training/labelled_data.h"

namespace {

// A file per format in a folder of this process's own, removed at exit.
class ScratchFiles {
 public:
  ScratchFiles()
      : dir_(std::filesystem::temp_directory_path() / ("fuzz_labelled_file_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~ScratchFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Write(scorepipe::LabelledFileFormat format, const std::string& text) const {
    const std::string path =
        (dir_ / (format == scorepipe::LabelledFileFormat::kCsv ? "f.csv" : "f.jsonl")).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }

 private:
  std::filesystem::path dir_;
};

void Check(bool same, const char* what) {
  if (same) return;
  std::fprintf(stderr, "streamed and whole reads differ: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ScratchFiles files;
  if (size == 0) return 0;
  const scorepipe::LabelledFileFormat format =
      data[0] % 2 == 0 ? scorepipe::LabelledFileFormat::kCsv : scorepipe::LabelledFileFormat::kJsonLines;
  const size_t block_bytes = 1 + (data[0] / 2) % 16;
  const size_t chunk_rows = 1 + (data[0] / 32) % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  scorepipe::LabelledFileOptions options;
  options.max_row_bytes = 64 + data[0];
  const std::string path = files.Write(format, text);
  const scorepipe::Result<scorepipe::LabelledData> whole =
      scorepipe::ParseLabelledText(text, format, path, options);

  scorepipe::Result<scorepipe::LabelledFileReader> reader =
      scorepipe::LabelledFileReader::Open(path, options, block_bytes);
  Check(reader.ok(), "the reader does not open");
  scorepipe::LabelledData streamed;
  scorepipe::LabelledData part;
  while (true) {
    scorepipe::Result<size_t> rows = reader->Next(chunk_rows, &part);
    if (!rows.ok()) {
      Check(!whole.ok(), "only the streamed read fails");
      Check(rows.status().message() == whole.status().message(), "the errors");
      return 0;
    }
    if (*rows == 0) break;
    Check(*rows <= chunk_rows && part.labels.size() == *rows, "a chunk's size");
    streamed.transactions.insert(streamed.transactions.end(), part.transactions.begin(),
                                 part.transactions.end());
    streamed.labels.insert(streamed.labels.end(), part.labels.begin(), part.labels.end());
  }
  Check(whole.ok(), "only the whole read fails");
  Check(streamed.transactions == whole->transactions && streamed.labels == whole->labels, "the rows");
  return 0;
}
