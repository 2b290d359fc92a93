// The labelled file reader (CSV and JSON lines, worker/labelled_data.h) on any
// text: the first byte picks the format (even: CSV, odd: JSON lines; the
// seeds start with '0' or '1'), the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "worker/labelled_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const scorepipe::LabelledFileFormat format =
      data[0] % 2 == 0 ? scorepipe::LabelledFileFormat::kCsv : scorepipe::LabelledFileFormat::kJsonLines;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  scorepipe::LabelledFileOptions options;
  options.max_row_bytes = 4096;
  (void)scorepipe::ParseLabelledText(text, format, "fuzz", options);
  return 0;
}
