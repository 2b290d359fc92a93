// TempDir: a fresh directory under the system's temporary directory for one
// test, removed with everything in it when the object goes (kept when
// SCOREPIPE_KEEP_TEST_DIRS is set, for a look after a failure).
//
// Header-only; owned by one test, used from its thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_TEMP_DIR_H_
#define SCOREPIPE_TESTS_SUPPORT_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace scorepipe::testing {

class TempDir {
 public:
  // `prefix` starts the directory's name; path() is empty when it cannot be made.
  explicit TempDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (path_.empty() || std::getenv("SCOREPIPE_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool ok() const { return !path_.empty(); }

 private:
  std::filesystem::path path_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_TEMP_DIR_H_
