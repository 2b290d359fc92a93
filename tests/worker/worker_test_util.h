// Helpers shared by the worker tests: where the committed demo model lives,
// and a scratch directory that is removed when the test ends.
//
// Test-only; each test uses its own instances.
#ifndef SCOREPIPE_TESTS_WORKER_WORKER_TEST_UTIL_H_
#define SCOREPIPE_TESTS_WORKER_WORKER_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/topology.h"

namespace scorepipe::testing {

inline std::string DemoDir() { return std::string(SCOREPIPE_SOURCE_DIR) + "/models/demo"; }

inline ModelConfig DemoModelConfig() {
  ModelConfig cfg;
  cfg.path = DemoDir() + "/model.json";
  cfg.format = ModelFormat::kXgboost;
  cfg.features = DemoDir() + "/features.yaml";
  return cfg;
}

// A fresh directory under GoogleTest's temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? info->name() : "test";
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("scorepipe_worker_" + std::to_string(::getpid()) + "_" + name + "_" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

  // Writes `content` to `name` in this directory and returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string file = File(name);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_WORKER_WORKER_TEST_UTIL_H_
