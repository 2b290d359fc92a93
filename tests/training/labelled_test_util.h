// Helpers shared by the labelled file tests (tests/training/labelled_*_test.cc):
// the CSV header of the upstream fields, a text's error as the reader gives
// it, and a text read through a file.
//
// Test-only; each test uses its own values.
#ifndef SCOREPIPE_TESTS_TRAINING_LABELLED_TEST_UTIL_H_
#define SCOREPIPE_TESTS_TRAINING_LABELLED_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/scoring/model_test_util.h"
#include "training/labelled_data.h"

namespace scorepipe::testing {

inline constexpr const char* kHeader = "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent\n";

// The error of reading `text` as `name`, without the scratch folder's path.
inline std::string ErrorOf(const std::string& name, const std::string& text,
                           const LabelledFileOptions& options = {}) {
  Result<LabelledFileFormat> format = LabelledFileFormatOf(name);
  if (!format.ok()) return format.status().message();
  Result<LabelledData> data = ParseLabelledText(text, *format, name, options);
  return data.ok() ? "(read fine)" : data.status().message();
}

// Reads `text` through a file called `name`; an error fails the test.
inline LabelledData ReadGood(const std::string& name, const std::string& text) {
  ScratchDir dir;
  Result<LabelledData> data = ReadLabelledFile(dir.Write(name, text), {});
  EXPECT_TRUE(data.ok()) << data.status().message();
  return data.ok() ? std::move(data).value() : LabelledData{};
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_TRAINING_LABELLED_TEST_UTIL_H_
